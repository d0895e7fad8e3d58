//! plugin_deinit stops every thread the plugin started. Alone in its test
//! binary, so no other test's host is running beside it.
mod support;

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
