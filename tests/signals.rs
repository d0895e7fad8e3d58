//! kill, signal, the default actions and users (issue: the contract).
mod support;

use std::time::Duration;
use support::*;

const USERS: &str =
    r#"{"default_user": "guest", "users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#;

/// Starts each `(id, program)`; computer 0 usually drives the others.
fn scenario(label: &str, programs: &[(i32, &str)]) -> TestHost {
    let host = TestHost::new(label, None);
    for (id, program) in programs {
        host.start(*id, program);
    }
    host
}

/// Starts `lua/tests/<file>` on each of `ids`.
fn scenario_file(file: &str, ids: &[i32]) -> TestHost {
    let program = lua_test_source(file);
    let programs: Vec<(i32, &str)> = ids.iter().map(|&id| (id, program.as_str())).collect();
    scenario(file.trim_end_matches(".lua"), &programs)
}

/// Computer `id` printed a line containing `first`, and later one
/// containing `then`.
fn assert_printed_in_order(host: &TestHost, id: i32, first: &str, then: &str, rule: &str) {
    let (a, b) = (line_index(host, id, first), line_index(host, id, then));
    assert!(
        matches!((a, b), (Some(a), Some(b)) if a < b),
        "{rule}: {:?}",
        host.host().output(id)
    );
}

fn line_index(host: &TestHost, id: i32, needle: &str) -> Option<usize> {
    host.host()
        .output(id)
        .iter()
        .position(|l| l.contains(needle))
}

const WAIT_FOR_SIGNALS: &str = r#"
print("up")
while true do
    local name, params = os.pullEventRaw()
    if name == "signal" then print("signal event " .. params.signal) end
end
"#;

#[test]
fn handlers_run_on_the_target_before_its_next_event() {
    let host = scenario_file("signals_handlers.lua", &[0, 1]);
    host.expect_checks(&[0], 3, 20 * SECOND);
    host.expect_checks(&[1], 16, 20 * SECOND);
    assert_printed_in_order(
        &host,
        1,
        "handler failed on purpose",
        "after the failing handler",
        "a failing handler is shown on the computer and the program goes on",
    );
    assert_printed_in_order(
        &host,
        1,
        "cannot yield inside a signal handler",
        "after the yielding handler",
        "a yielding handler gets a clear error",
    );
}

#[test]
fn kill_enforces_users_from_the_host_config() {
    run_lua_test_as(
        "signals_users.lua",
        &[0, 1, 2, 3, 4],
        &[0, 1, 2, 3, 4],
        2,
        Some(USERS),
    );
}

#[test]
fn signal_numbers_are_integers_from_0_to_2_pow_31_minus_1_and_0_sends_nothing() {
    let users = r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#;
    run_lua(
        "signals_numbers.lua",
        &[0, 1, 2],
        &[(0, 40), (1, 1)],
        Some(users),
    );
}

#[test]
fn without_a_config_every_computer_runs_as_user() {
    let host = scenario("no-config", &[(5, "print('user=' .. syscall.getuser())")]);
    assert!(host
        .host()
        .wait_for_line(5, "user=user", 10 * SECOND)
        .is_some());
}

#[test]
fn a_malformed_config_is_reported_and_the_defaults_apply() {
    let data = data_dir("malformed");
    std::fs::write(data.join("config/phoenix-events.json"), "{\"users\": [oops").unwrap();
    let script = data.join("script.lua");
    std::fs::write(&script, "print('user=' .. syscall.getuser()) os.shutdown()").unwrap();
    let output = std::process::Command::new(host_binary())
        .arg("--plugin")
        .arg(plugin_path())
        .arg("--data")
        .arg(&data)
        .args(["--computers", "0", "--timeout", "20", "--script"])
        .arg(&script)
        .output()
        .expect("run craftos-host");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stderr.contains("ignoring malformed") && stderr.contains("phoenix-events.json"),
        "stderr: {stderr}"
    );
    assert!(stdout.contains("user=user"), "stdout: {stdout}");
    assert!(output.status.success(), "status {:?}", output.status);
}

#[test]
fn terminating_defaults_shut_the_target_down() {
    let host = scenario(
        "terminate",
        &[
            (
                0,
                r#"
                for pid = 1, 4 do check.wait_up(pid) end
                syscall.kill(1, 1)  syscall.kill(2, 13)  syscall.kill(3, 15)  syscall.kill(4, 10)
                check.done()"#,
            ),
            (1, WAIT_FOR_SIGNALS),
            (2, WAIT_FOR_SIGNALS),
            (3, WAIT_FOR_SIGNALS),
            (4, WAIT_FOR_SIGNALS),
        ],
    );
    host.expect_checks(&[0], 0, 10 * SECOND);
    for (id, signal) in [(1, "SIGHUP"), (2, "SIGPIPE"), (3, "SIGTERM")] {
        assert!(
            host.host().wait_until_off(id, 10 * SECOND),
            "{signal} shuts down"
        );
        assert_eq!(host.host().boot_count(id), 1, "{signal} does not reboot");
    }
    assert!(host
        .host()
        .wait_for_line(4, "signal event 10", 10 * SECOND)
        .is_some());
    assert!(host.host().is_on(4), "SIGUSR1 has no default action");
}

#[test]
fn default_actions_end_the_process_as_seen_from_another_computer() {
    run_lua_test(
        "signals_defaults.lua",
        &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        &[0],
        16,
    );
}

#[test]
fn sigint_delivers_a_craftos_terminate_event() {
    let host = scenario(
        "sigint",
        &[
            (
                0,
                r#"check.wait_up(1) syscall.kill(1, 2) sleep(0.2) syscall.kill(1, 2) check.done()"#,
            ),
            (
                1,
                r#"
                local ok, err = pcall(os.pullEvent, "never_sent")
                print("pullEvent: " .. tostring(err))
                local event = table.pack(os.pullEventRaw())
                print(("raw: %s n=%d"):format(event[1], event.n))"#,
            ),
        ],
    );
    host.expect_checks(&[0], 0, 10 * SECOND);
    assert!(
        host.host()
            .wait_for_line(1, "raw: terminate n=1", 10 * SECOND)
            .is_some(),
        "{:?}",
        host.host().output(1)
    );
    assert!(line_index(&host, 1, "pullEvent: Terminated").is_some());
    assert!(host.host().is_on(1), "an interrupted program may go on");
}

#[test]
fn sigquit_and_sigabrt_print_then_shut_down() {
    let host = scenario(
        "quit-abort",
        &[
            (
                0,
                "check.wait_up(1) check.wait_up(2) syscall.kill(1, 3) syscall.kill(2, 6) check.done()",
            ),
            (1, WAIT_FOR_SIGNALS),
            (2, WAIT_FOR_SIGNALS),
        ],
    );
    host.expect_checks(&[0], 0, 10 * SECOND);
    assert!(host.host().wait_until_off(1, 10 * SECOND));
    assert!(host.host().wait_until_off(2, 10 * SECOND));
    assert!(
        line_index(&host, 1, "Quit").is_some(),
        "{:?}",
        host.host().output(1)
    );
    assert!(
        line_index(&host, 2, "Aborted").is_some(),
        "{:?}",
        host.host().output(2)
    );
}

const STOP_MYSELF: &str = r#"
print("booted")
syscall.kill(syscall.getpid(), 19)
print("stopping")
while true do
    local name = os.pullEventRaw()
    print("received " .. tostring(name))
end
"#;

#[test]
fn sigkill_cannot_be_caught_and_stops_stopped_and_busy_targets() {
    let host = scenario(
        "sigkill",
        &[
            (
                0,
                r#"
                check.wait_up(1) check.wait_up(2) check.wait_up(3)
                check.ok(check.await_remote("ready"), "computer 1 installed its handlers")
                check.ok(check.await_remote("busy"), "computer 3 is computing")
                sleep(0.2)
                syscall.kill(1, 9) syscall.kill(2, 9) syscall.kill(3, 9)
                check.done()"#,
            ),
            (
                1,
                r#"
                syscall.signal(9, function() print("SIGKILL HANDLER RAN") end)
                check.wait_up(0)
                syscall.sendEvent(0, "ready", {})
                while true do os.pullEventRaw() end"#,
            ),
            (2, STOP_MYSELF),
            (
                3,
                r#"
                check.wait_up(0)
                syscall.sendEvent(0, "busy", {})
                -- Computes without yielding until killed: signal 0 to
                -- itself fails once this computer is no longer running.
                while pcall(syscall.kill, syscall.getpid(), 0) do end
                print("computation finished")
                local name = os.pullEventRaw()
                print("received " .. tostring(name))"#,
            ),
        ],
    );
    host.expect_checks(&[0], 2, 10 * SECOND);
    assert!(
        host.host().wait_until_off(1, 10 * SECOND),
        "SIGKILL shuts down"
    );
    assert!(
        host.host().wait_until_off(2, 10 * SECOND),
        "also a stopped computer"
    );
    assert!(
        host.host().wait_until_off(3, 10 * SECOND),
        "also a busy computer"
    );
    assert!(
        line_index(&host, 3, "computation finished").is_some()
            && line_index(&host, 3, "received").is_none(),
        "a busy computer stops at its next yield, receiving nothing more: {:?}",
        host.host().output(3)
    );
    assert!(line_index(&host, 1, "SIGKILL HANDLER RAN").is_none());
    assert!(
        line_index(&host, 2, "received").is_none(),
        "{:?}",
        host.host().output(2)
    );
}

#[test]
fn stop_signals_hold_every_event_until_sigcont() {
    run_lua_test("signals_stop.lua", &[0, 1], &[0, 1], 3);
}

#[test]
fn a_stop_holds_back_the_events_that_were_already_waiting() {
    run_each("signals_stop_first.lua", &[(0, 2), (1, 3)], None);
}

#[test]
fn sigttin_and_sigttou_stop_too_and_sigcont_then_runs_its_handler() {
    let target = |signal: i32| {
        format!(
            r#"
            syscall.signal(18, function() print("continue handler ran") end)
            check.wait_up(0)
            syscall.kill(syscall.getpid(), {signal})
            syscall.sendEvent(0, "stopping", {{}})
            local name = os.pullEventRaw()
            print("first event after stop: " .. name)"#
        )
    };
    let host = scenario(
        "ttin-ttou",
        &[
            (
                0,
                r#"
                check.wait_up(1) check.wait_up(2)
                check.await_remote("stopping") check.await_remote("stopping")
                sleep(0.3)
                syscall.sendEvent(1, "held", {}) syscall.sendEvent(2, "held", {})
                sleep(0.3)
                print("continuing")
                syscall.kill(1, 18) syscall.kill(2, 18)
                check.done()"#,
            ),
            (1, &target(21)),
            (2, &target(22)),
        ],
    );
    host.expect_checks(&[0], 0, 10 * SECOND);
    for id in [1, 2] {
        assert!(
            host.host()
                .wait_for_line(id, "first event after stop: remote_event", 10 * SECOND)
                .is_some(),
            "computer {id}: {:?}",
            host.host().output(id)
        );
        assert!(line_index(&host, id, "continue handler ran").is_some());
    }
}

#[test]
fn a_stopped_computer_can_still_be_shut_down_rebooted_and_quit() {
    let host = scenario(
        "stopped-host",
        &[(1, STOP_MYSELF), (2, STOP_MYSELF), (3, STOP_MYSELF)],
    );
    for id in [1, 2, 3] {
        assert!(host
            .host()
            .wait_for_line(id, "stopping", 10 * SECOND)
            .is_some());
    }
    std::thread::sleep(Duration::from_millis(200));
    host.host().shutdown_computer(1);
    assert!(
        host.host().wait_until_off(1, 10 * SECOND),
        "shut down while stopped"
    );
    host.host().reboot_computer(2);
    let rebooted = (0..400).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        host.host()
            .output(2)
            .iter()
            .filter(|l| *l == "booted")
            .count()
            == 2
    });
    assert!(
        rebooted,
        "rebooted while stopped: {:?}",
        host.host().output(2)
    );
    // Computer 3 is still stopped: quitting the emulator must not wait for it.
    host.shutdown();
}

#[test]
fn hostile_programs_cannot_crash_the_emulator_or_disturb_others() {
    let host = scenario_file("hostile.lua", &[0, 1]);
    host.expect_checks(&[1], 11, 60 * SECOND);
    host.expect_checks(&[0], 3, 30 * SECOND);
    assert!(
        host.host().is_on(1),
        "misbehaving is no reason to be shut down"
    );
    assert_printed_in_order(
        &host,
        1,
        "(table error value that cannot be shown)",
        "after the odd handler errors",
        "an error whose __tostring fails is still reported",
    );
}
