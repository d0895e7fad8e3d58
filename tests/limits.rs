//! The limits of config/phoenix-events.json: each one applies, and bad
//! values are reported on stderr and fall back to their defaults.
mod support;

use std::process::{Command, Output};

use support::*;

#[test]
fn configured_limits_bound_the_queue_payloads_and_timers() {
    let config = r#"{"limits": {"queue": 4, "payload": 100, "timers": 3}}"#;
    run_lua_test_as("limits_small.lua", &[0], &[0], 16, Some(config));
}

/// Runs `lua/tests/<file>` (after the check library) on computer 0 of the
/// host's command-line program, with `config` as config/phoenix-events.json.
fn run_host_program(label: &str, config: &str, file: &str) -> (Output, String, String) {
    let data = data_dir(label);
    std::fs::write(data.join("config/phoenix-events.json"), config).unwrap();
    let script = data.join("script.lua");
    let program = format!(
        "{}\n{}",
        lua_test_source("lib/check.lua"),
        lua_test_source(file)
    );
    std::fs::write(&script, program).unwrap();
    let output = Command::new(host_binary())
        .arg("--plugin")
        .arg(plugin_path())
        .arg("--data")
        .arg(&data)
        .args(["--computers", "0", "--timeout", "60", "--script"])
        .arg(&script)
        .output()
        .expect("run craftos-host");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout, stderr)
}

fn assert_checks_passed(stdout: &str, min: usize) {
    let passed = stdout.lines().filter(|l| l.contains("] ok ")).count();
    assert!(
        !stdout.contains("not ok") && stdout.contains("done") && passed >= min,
        "{passed} checks passed (need {min}):\n{stdout}"
    );
}

#[test]
fn bad_limits_are_reported_and_their_defaults_apply_while_the_users_load() {
    let config = r#"{"users": {"0": "alice"},
        "limits": {"queue": "many", "payload": -1, "timers": 0.5, "queues": 2}}"#;
    let (output, stdout, stderr) = run_host_program("bad-limits", config, "limits_default.lua");
    for expected in [
        r#"limits.queue = "many""#,
        "using the default 1024",
        "limits.payload = -1",
        "using the default 1048576",
        "limits.timers = 0.5",
        "using the default 4096",
        r#"unknown limit "queues""#,
    ] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("phoenix-events: ").count(), 4, "{stderr}");
    assert!(
        stdout.contains("user=alice"),
        "the users still load: {stdout}"
    );
    assert_checks_passed(&stdout, 4);
    assert!(output.status.success(), "status {:?}", output.status);
}

#[test]
fn bad_users_are_reported_while_the_limits_apply() {
    let config =
        r#"{"users": {"zero": "root"}, "limits": {"queue": 4, "payload": 100, "timers": 3}}"#;
    let (output, stdout, stderr) = run_host_program("bad-users", config, "limits_small.lua");
    assert!(
        stderr.contains("ignoring malformed users") && stderr.contains("\"zero\""),
        "stderr: {stderr}"
    );
    assert_checks_passed(&stdout, 16);
    assert!(output.status.success(), "status {:?}", output.status);
}
