//! plugin_deinit stops every thread the plugin started. In a test binary of
//! its own; its tests take turns (WHOLE_TEST), so no other host is running
//! while one of them lists the threads.
mod support;

use std::sync::Mutex;

/// Held for a whole test: the thread listing is process-wide.
static WHOLE_TEST: Mutex<()> = Mutex::new(());

use craftos_host::wait_for_thread_names;
use support::*;

fn plugin_threads(names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| name.starts_with("phoenix"))
        .cloned()
        .collect()
}

#[test]
fn deinit_leaves_no_plugin_thread_running() {
    let _turn = WHOLE_TEST.lock().unwrap_or_else(|e| e.into_inner());
    let host = TestHost::new("deinit", None);
    host.start(0, "syscall.timer(3600) syscall.alarm(12) print('armed')");
    assert!(host.host().wait_for_line(0, "armed", 10 * SECOND).is_some());
    // A thread names itself once it runs: wait until the timer thread has.
    if let Err(names) =
        wait_for_thread_names(30 * SECOND, |names| !plugin_threads(names).is_empty())
    {
        panic!("no plugin thread while the plugin is loaded: {names:?}");
    }
    host.shutdown();
    // plugin_deinit has returned, having joined its threads. The system may
    // still list a joined thread for a moment: a join returns as soon as the
    // thread has left its code (Linux clears its thread ID then), a little
    // before the kernel drops the thread's task entry. So the listing is
    // given a few seconds to catch up; a thread that was never stopped
    // stays in it.
    if let Err(names) = wait_for_thread_names(10 * SECOND, |names| plugin_threads(names).is_empty())
    {
        panic!(
            "plugin threads left after plugin_deinit: {:?}",
            plugin_threads(&names)
        );
    }
}

#[test]
fn deinit_stops_the_cluster_thread_too() {
    let _turn = WHOLE_TEST.lock().unwrap_or_else(|e| e.into_inner());
    // With a broker when nats-server is installed (the thread then also says
    // goodbye to it), else with a port nobody listens on.
    let nats = support::cluster::Nats::start("deinit_stops_the_cluster_thread_too (with a broker)");
    let url = nats.as_ref().map_or_else(
        || format!("nats://127.0.0.1:{}", support::cluster::free_port()),
        |n| n.url(),
    );
    let config = format!(r#"{{"cluster": {{"url": "{url}", "node": 1}}}}"#);
    let host = TestHost::new("deinit-cluster", Some(&config));
    host.start(0, "print('up')");
    assert!(host.host().wait_for_line(0, "up", 10 * SECOND).is_some());
    if let Err(names) = wait_for_thread_names(30 * SECOND, |names| {
        names.iter().any(|n| n == "phoenix-cluster")
    }) {
        panic!("no phoenix-cluster thread in cluster mode: {names:?}");
    }
    host.shutdown();
    if let Err(names) = wait_for_thread_names(10 * SECOND, |names| plugin_threads(names).is_empty())
    {
        panic!(
            "plugin threads left after plugin_deinit: {:?}",
            plugin_threads(&names)
        );
    }
}
