//! Real libsystem — Phoenix's own `ipc.lua`, `util.lua` and `expect.lua`,
//! unchanged — on computers with the plugin, through Phoenix's syscall
//! convention (`util.syscall` yields `"syscall"`). libsystem is GPL-3.0, so
//! its files are not in this repository: set `PHOENIX_LIBSYSTEM` to a folder
//! holding them to run these tests. Without it they are ignored, with that
//! reason, never passed. `tests/real_emulator.rs` runs the same programs in
//! CraftOS-PC, with the files copied next to the program as a user would.
//!
//! On the embedded host (which has no writable file system) the files are
//! found through `package.preload`, under the chunk names they have in
//! CraftOS-PC (`@/system/ipc.lua`, `@/util.lua`, `@/expect.lua`).
mod support;

use std::path::PathBuf;
use std::time::Duration;
use support::*;

const IGNORED: &str = "needs PHOENIX_LIBSYSTEM=<folder holding libsystem's ipc.lua, util.lua and \
expect.lua> (GPL-3.0: not in this repository)";

/// The users of `syscall_conventions.lua`.
const USERS: &str = r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#;

/// The folder named by `PHOENIX_LIBSYSTEM`.
pub fn libsystem_dir() -> PathBuf {
    let dir = std::env::var_os("PHOENIX_LIBSYSTEM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("this test {IGNORED}"));
    for file in ["ipc.lua", "util.lua", "expect.lua"] {
        assert!(
            dir.join(file).is_file(),
            "PHOENIX_LIBSYSTEM={}: {file} is missing",
            dir.display()
        );
    }
    dir
}

/// `bytes` as a Lua string literal.
fn lua_literal(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'"' | b'\\' => out.push_str(&format!("\\{}", b as char)),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03}")),
        }
    }
    out.push('"');
    out
}

/// Lua code making `require "system.ipc"`, `"util"` and `"expect"` load
/// real libsystem's files (`with_ipc`: also `system.ipc`; else that one
/// stays the plugin's mount).
fn preload(with_ipc: bool) -> String {
    let dir = libsystem_dir();
    let mut modules = vec![
        ("util", "util.lua", "/util.lua"),
        ("expect", "expect.lua", "/expect.lua"),
    ];
    if with_ipc {
        modules.push(("system.ipc", "ipc.lua", "/system/ipc.lua"));
    }
    modules
        .iter()
        .map(|(module, file, chunk)| {
            let source = std::fs::read(dir.join(file)).unwrap();
            format!(
                "package.preload[{module:?}] = function(...) return assert(load({}, \"@{chunk}\"))(...) end\n",
                lua_literal(&source)
            )
        })
        .collect()
}

/// The source the programs check `system.ipc` against.
const REAL_IPC: &str = "@/system/ipc.lua";
const MOUNTED_IPC: &str = "@/rom/modules/main/system/ipc.lua";

#[test]
#[cfg_attr(
    not(phoenix_libsystem),
    ignore = "needs PHOENIX_LIBSYSTEM (see the file's header)"
)]
fn real_libsystem_util_syscall_passes_the_same_checks_as_the_syscall_table() {
    let program = format!(
        "{}CONVENTION = \"libsystem\"\n{}",
        preload(false),
        lua_test_source("syscall_conventions.lua")
    );
    let host = TestHost::new("libsystem-conventions", Some(USERS));
    for id in [0, 1, 2] {
        host.start(id, &program);
    }
    host.expect_checks(&[0], 68, Duration::from_secs(60));
    host.expect_checks(&[1, 2], 0, Duration::from_secs(10));
    host.shutdown();
}

/// `phoenix_programs.lua` with real libsystem's `system.ipc` on the
/// computers of `real` and the plugin's on the others.
fn phoenix_programs(label: &str, real: &[i32]) {
    let source = lua_test_source("phoenix_programs.lua");
    let host = TestHost::new(label, None);
    for id in [0, 1, 2] {
        let with_real = real.contains(&id);
        let expected = if with_real { REAL_IPC } else { MOUNTED_IPC };
        let program = format!("{}EXPECT_IPC = {expected:?}\n{source}", preload(with_real));
        host.start(id, &program);
    }
    host.expect_checks(&[0], 10, Duration::from_secs(60));
    host.expect_checks(&[1], 7, Duration::from_secs(10));
    host.expect_checks(&[2], 2, Duration::from_secs(10));
    host.shutdown();
}

#[test]
#[cfg_attr(
    not(phoenix_libsystem),
    ignore = "needs PHOENIX_LIBSYSTEM (see the file's header)"
)]
fn phoenix_style_programs_run_with_real_libsystem() {
    phoenix_programs("libsystem-programs", &[0, 1, 2]);
}

#[test]
#[cfg_attr(
    not(phoenix_libsystem),
    ignore = "needs PHOENIX_LIBSYSTEM (see the file's header)"
)]
fn real_libsystem_and_the_mounted_system_ipc_talk_to_each_other() {
    // The service and the socket's first end are real libsystem, the
    // client and the forwarder the plugin's module, the child real again.
    phoenix_programs("libsystem-mixed", &[0, 2]);
}
