//! queueEvent, peekEvent, sendEvent and the argument errors of every call,
//! through the embedded emulator (several computers, each on its own thread).
mod support;

use support::*;

#[test]
fn queue_event_queues_behind_what_waits_returns_nothing_and_refuses_when_full() {
    run_lua_test("events_queue.lua", &[0], &[0], 19);
}

#[test]
fn queue_full_counts_events_handed_over_but_not_yet_received() {
    run_lua_test("events_queue_handed.lua", &[0], &[0], 5);
}

#[test]
fn peek_event_shows_the_next_unreceived_event_as_a_copy_or_nil() {
    run_lua_test("peek_basic.lua", &[0], &[0], 20);
}

#[test]
fn peek_event_is_right_after_several_events_were_handed_over_in_one_batch() {
    run_each("peek_batch.lua", &[(0, 12), (1, 1)], None);
}

const ALICE_AND_BOB: &str = r#"{"users": {"0": "alice", "1": "bob"}}"#;

#[test]
fn send_event_goes_from_any_process_to_any_as_remote_event_without_user_check() {
    run_each("send_basic.lua", &[(0, 19), (1, 5)], Some(ALICE_AND_BOB));
}

#[test]
fn send_event_copies_every_plain_value_with_its_shape() {
    run_each("send_data.lua", &[(0, 37), (1, 1)], None);
}

#[test]
fn event_names_are_kept_byte_for_byte() {
    run_lua_test("events_names.lua", &[0], &[0], 15);
}

#[test]
fn send_event_refuses_functions_coroutines_and_userdata_naming_the_place() {
    run_lua_test("send_unsendable.lua", &[0], &[0], 10);
    run_lua_test("send_errors_hot.lua", &[0], &[0], 2);
}

#[test]
fn send_event_returns_false_when_the_target_has_1024_events_waiting() {
    run_each("send_full.lua", &[(0, 10), (1, 3)], None);
}

#[test]
fn send_event_returns_false_for_a_payload_over_1_mib() {
    run_each("send_size.lua", &[(0, 8), (1, 1)], None);
}

#[test]
fn send_event_returns_false_for_a_computer_that_is_off() {
    let host = TestHost::new("send-off", None);
    host.host().start_computer(2, "print('target up')").unwrap();
    assert!(host
        .host()
        .wait_for_line(2, "target up", 10 * SECOND)
        .is_some());
    host.start(0, &lua_test_source("send_off.lua"));
    assert!(
        host.host()
            .wait_for_line(0, "saw target", 10 * SECOND)
            .is_some(),
        "{:?}",
        host.host().output(0)
    );
    host.host().shutdown_computer(2);
    assert!(
        host.host().wait_until_off(2, 10 * SECOND),
        "computer 2 did not switch off"
    );
    host.host().queue_terminate(0);
    host.expect_checks(&[0], 2, 10 * SECOND);
    host.shutdown();
}

#[test]
fn send_event_keeps_the_order_of_each_sender_target_pair() {
    run_each("send_order.lua", &[(0, 3), (1, 3)], None);
}

#[test]
fn every_call_raises_craftos_style_argument_errors() {
    run_lua_test("args_errors.lua", &[0], &[0], 51);
}
