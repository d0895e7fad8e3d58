//! plugin_deinit stops every thread the plugin started. Alone in its test
//! binary, so no other test's host is running beside it.
mod support;

use support::*;

fn plugin_threads() -> Vec<String> {
    craftos_host::live_thread_names()
        .into_iter()
        .filter(|name| name.starts_with("phoenix"))
        .collect()
}

#[test]
fn deinit_leaves_no_plugin_thread_running() {
    let host = TestHost::new("deinit", None);
    host.start(0, "syscall.timer(3600) syscall.alarm(12) print('armed')");
    assert!(host.host().wait_for_line(0, "armed", 10 * SECOND).is_some());
    assert!(
        !plugin_threads().is_empty(),
        "the timer thread should be running while the plugin is loaded"
    );
    host.shutdown();
    assert_eq!(plugin_threads(), Vec::<String>::new());
}
