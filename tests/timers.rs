//! timer, alarm and cancel, through the embedded emulator.
mod support;

use support::*;

#[test]
fn timer_returns_unique_ids_and_queues_a_timer_event_at_expiry() {
    run_lua_test("timers_timer.lua", &[0], &[0], 14);
}

#[test]
fn at_most_4096_timers_and_alarms_are_pending() {
    run_lua_test("timers_limit.lua", &[0], &[0], 8);
}

#[test]
fn alarm_fires_when_the_os_time_clock_reaches_its_hour() {
    run_lua_test("timers_alarm.lua", &[0], &[0], 9);
}

#[test]
fn cancel_stops_pending_timers_and_alarms_and_events_already_handed_over() {
    run_lua_test("timers_cancel.lua", &[0], &[0], 14);
}

#[test]
fn cancel_of_unknown_finished_or_foreign_ids_does_nothing() {
    let program = lua_test_source("timers_cancel_others.lua");
    let host = TestHost::new("cancel-others", None);
    host.start(0, &program);
    host.start(1, &program);
    host.expect_checks(&[0], 21, 30 * SECOND);
    host.expect_checks(&[1], 3, 30 * SECOND);
    host.shutdown();
}
