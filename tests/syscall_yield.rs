//! Phoenix's calling convention, `coroutine.yield("syscall", name, ...)`,
//! on every computer: the same checks of every syscall through the syscall
//! table and through the yield (`lua/tests/syscall_conventions.lua`), and
//! programs written the way Phoenix's are, with the mounted `system.ipc`
//! (`lua/tests/phoenix_programs.lua`). Real libsystem's own files run the
//! same programs in `tests/libsystem.rs`.
mod support;

use std::time::Duration;
use support::*;

/// The users of `syscall_conventions.lua`.
const USERS: &str = r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#;

/// Runs `syscall_conventions.lua` with `CONVENTION = convention`.
fn conventions(convention: &str, checks: usize) {
    let program = format!(
        "CONVENTION = {convention:?}\n{}",
        lua_test_source("syscall_conventions.lua")
    );
    let host = TestHost::new(&format!("conventions-{convention}"), Some(USERS));
    for id in [0, 1, 2] {
        host.start(id, &program);
    }
    host.expect_checks(&[0], checks, Duration::from_secs(60));
    host.expect_checks(&[1, 2], 0, Duration::from_secs(10));
    host.shutdown();
}

#[test]
fn every_syscall_answers_through_the_syscall_table() {
    conventions("table", 54);
}

#[test]
fn every_syscall_answers_the_same_through_coroutine_yield() {
    conventions("yield", 68);
}

/// Where `require "system.ipc"` finds the plugin's module.
pub const MOUNTED_IPC: &str = "@/rom/modules/main/system/ipc.lua";

#[test]
fn phoenix_style_programs_run_with_the_mounted_system_ipc() {
    let program = format!(
        "EXPECT_IPC = {MOUNTED_IPC:?}\n{}",
        lua_test_source("phoenix_programs.lua")
    );
    let host = TestHost::new("phoenix-programs", None);
    for id in [0, 1, 2] {
        host.start(id, &program);
    }
    host.expect_checks(&[0], 10, Duration::from_secs(60));
    host.expect_checks(&[1], 7, Duration::from_secs(10));
    host.expect_checks(&[2], 2, Duration::from_secs(10));
    host.shutdown();
}
