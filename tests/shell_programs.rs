//! The shell programs `kill`, `ps` and `services`, their help pages and the
//! autorun file that puts them on the shell's path, mounted read-only into
//! every computer (`lua/tests/shell_programs.lua`). The embedded host has no
//! shell: the programs run there as Lua with `arg` and a `shell` stand-in;
//! `tests/real_emulator.rs` runs the same checks through CraftOS-PC's shell.
mod support;

use support::*;

/// The users of `shell_programs.lua`.
pub const USERS: &str = r#"{"users": {"0": "alice", "1": "alice", "2": "bob", "3": "root"}}"#;

#[test]
fn kill_ps_and_services_run_with_their_usage_errors_completion_and_permissions() {
    run_each(
        "shell_programs.lua",
        &[(0, 53), (1, 1), (2, 7), (3, 4)],
        Some(USERS),
    );
}
