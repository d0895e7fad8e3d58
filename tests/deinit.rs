//! plugin_deinit stops every thread the plugin started. Alone in its test
//! binary, so no other test's host is running beside it.
mod support;

use craftos_host::{live_thread_names, wait_for_thread_names};
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
    // plugin_deinit has returned: its threads must have ended (joined), not
    // merely been told to stop.
    assert_eq!(plugin_threads(&live_thread_names()), Vec::<String>::new());
}
