//! Receiving: the one FIFO per process, exactly two values per event,
//! filters, sleep/parallel, native events, and reboot isolation.
mod support;

use support::*;

#[test]
fn one_fifo_per_process_across_all_kinds_of_event() {
    run_each("receive_fifo.lua", &[(0, 4), (1, 1)], None);
}

#[test]
fn every_event_arrives_as_exactly_two_values() {
    run_lua_test("receive_values.lua", &[0], &[0], 17);
}

#[test]
fn pull_event_filter_skips_other_events() {
    run_lua_test("receive_filter.lua", &[0], &[0], 10);
}

#[test]
fn sleep_and_parallel_keep_working_beside_syscall_events() {
    run_lua_test("receive_sleep_parallel.lua", &[0], &[0], 9);
}

#[test]
fn native_events_still_flow_interleaved() {
    run_lua_test("receive_native.lua", &[0], &[0], 6);
}

#[test]
fn coroutines_behave_as_lua_s_and_native_events_are_not_starved() {
    run_lua_test("receive_coroutines.lua", &[0], &[0], 9);
}

#[test]
fn events_keep_their_order_through_waits_that_bypass_os_pull_event_raw() {
    run_each(
        "receive_untracked.lua",
        &[(0, 6), (1, 2)],
        Some(r#"{"limits": {"queue": 8}}"#),
    );
}

#[test]
fn reboot_isolates_the_new_incarnation_from_the_old_one() {
    let program = lua_test_source("receive_reboot.lua");
    let host = TestHost::new("reboot", None);
    host.start(0, &program);
    host.start(1, &program);
    let h = host.host();
    assert!(
        h.wait_for_line(0, "old ready", 10 * SECOND).is_some(),
        "{:?}",
        h.output(0)
    );
    assert!(
        h.wait_for_line(1, "sent to old", 10 * SECOND).is_some(),
        "{:?}",
        h.output(1)
    );
    // Computer 0 computes without yielding until rebooted: reboot it now.
    h.reboot_computer(0);
    assert!(
        h.wait_for_line(0, "new incarnation", 10 * SECOND).is_some(),
        "{:?}",
        h.output(0)
    );
    assert_eq!(h.boot_count(0), 2);
    host.expect_checks(&[0], 8, 20 * SECOND);
    host.expect_checks(&[1], 2, 5 * SECOND);
    let output = h.output(0);
    for forbidden in ["OLD HANDLER", "OLD INCARNATION STILL RECEIVING"] {
        assert!(
            !output.iter().any(|l| l.contains(forbidden)),
            "{forbidden}: {output:?}"
        );
    }
    host.shutdown();
}
