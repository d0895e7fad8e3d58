//! The same Lua test programs in the real CraftOS-PC, when one is named:
//! `CRAFTOS_PC=/path/to/craftos CRAFTOS_ROM=/path/to/rom cargo test --test real_emulator`.
//! Without them these tests only say that they did not run (CI has no
//! emulator); the embedded host runs the same programs in the other tests.
mod support;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Runs on every computer after check.lua, before the test program: clean output lines with
/// the computer's ID, and computer 0 starts the others — one at a time:
/// CraftOS-PC v2.8.3 itself crashes when computers are created back to back
/// (seen without any plugin: BIOS parse errors, then a segfault).
const PRELUDE: &str = r##"
local native_term = term.native()
function print(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    native_term.write(("[%d] %s\n"):format(os.getComputerID(), table.concat(parts, "\t")))
end
printError = print
if os.getComputerID() == 0 then
    for _, id in ipairs(__OTHERS__) do periphemu.create(id, "computer") check.sleep(0.3) end
end
"##;

fn emulator() -> Option<(PathBuf, PathBuf)> {
    let binary = std::env::var_os("CRAFTOS_PC")?;
    let rom = std::env::var_os("CRAFTOS_ROM").expect("CRAFTOS_ROM must name the ROM folder");
    Some((binary.into(), rom.into()))
}

/// Runs `lua/tests/<file>` on `computers` in the real emulator; every
/// computer must report `done` with no failed check.
fn run_real(file: &str, computers: &[i32], users: Option<&str>) {
    run_real_as(file, computers, computers, users)
}

fn run_real_reporting(file: &str, computers: &[i32], reporters: &[i32]) {
    run_real_as(file, computers, reporters, None)
}

fn run_real_as(file: &str, computers: &[i32], reporters: &[i32], users: Option<&str>) {
    let script = lua_test_source(file);
    let label = file.trim_end_matches(".lua");
    let finished = |text: &str| {
        reporters
            .iter()
            .all(|&id| lines_anywhere(text, id).contains(&"done"))
    };
    let Some((stdout, stderr)) = run_in_emulator(label, &script, computers, users, finished) else {
        eprintln!("{file}: not run in the real emulator (set CRAFTOS_PC and CRAFTOS_ROM)");
        return;
    };
    for &id in reporters {
        let lines = lines_anywhere(&stdout, id);
        let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok")).collect();
        assert!(
            lines.contains(&"done") && failed.is_empty(),
            "{file}, computer {id}: failed {failed:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
}

/// Runs `program` (after check.lua and the prelude) on `computers` of the
/// real emulator until `finished(stdout)` or 60 s; returns its stdout and
/// stderr, or None when no emulator is named.
fn run_in_emulator(
    label: &str,
    program: &str,
    computers: &[i32],
    users: Option<&str>,
    finished: impl Fn(&str) -> bool,
) -> Option<(String, String)> {
    run_in_emulator_with_files(label, program, computers, users, &[], finished)
}

/// A file put into a computer's own folder before the emulator starts:
/// (computer, path in its file system, contents).
type ComputerFile = (i32, String, Vec<u8>);

/// [`run_in_emulator`], with `files` in the computers' folders first.
fn run_in_emulator_with_files(
    label: &str,
    program: &str,
    computers: &[i32],
    users: Option<&str>,
    files: &[ComputerFile],
    finished: impl Fn(&str) -> bool,
) -> Option<(String, String)> {
    let (binary, rom) = emulator()?;
    let data = data_dir(&format!("real-{label}"));
    if let Some(users) = users {
        std::fs::write(data.join("config/phoenix-events.json"), users).unwrap();
    }
    for (id, path, contents) in files {
        let path = data.join("computer").join(id.to_string()).join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    let others: Vec<String> = computers
        .iter()
        .filter(|&&id| id != 0)
        .map(i32::to_string)
        .collect();
    let script = [
        lua_test_source("lib/check.lua"),
        PRELUDE.replace("__OTHERS__", &format!("{{{}}}", others.join(","))),
        program.to_owned(),
    ]
    .join("\n");
    let script_path = data.join("test.lua");
    std::fs::write(&script_path, script).unwrap();
    let mut child = Command::new(&binary)
        .arg("--headless")
        .arg("--rom")
        .arg(&rom)
        .arg("--directory")
        .arg(&data)
        .arg("--plugin")
        .arg(plugin_path())
        .arg("--script")
        .arg(&script_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the emulator");
    // Computers stay on after their checks (other computers may still need
    // them): read the output as it comes, and stop the emulator once the
    // run is finished. It ignores SIGTERM at a prompt, hence kill.
    let stdout = Arc::new(Mutex::new(String::new()));
    let reader = {
        let stdout = stdout.clone();
        let mut pipe = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                stdout
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    };
    let done = || finished(&stdout.lock().unwrap().replace('\r', ""));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() && child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let stdout = stdout.lock().unwrap().replace('\r', "");
    Some((stdout, String::from_utf8_lossy(&output.stderr).into_owned()))
}

#[test]
fn pipe_in_the_real_emulator() {
    run_real("pipe.lua", &[0, 1], None);
}

#[test]
fn signal_handlers_in_the_real_emulator() {
    run_real("signals_handlers.lua", &[0, 1], None);
}

#[test]
fn stop_and_continue_in_the_real_emulator() {
    run_real("signals_stop.lua", &[0, 1], None);
}

#[test]
fn users_in_the_real_emulator() {
    run_real(
        "signals_users.lua",
        &[0, 1, 2, 3, 4],
        Some(
            r#"{"default_user": "guest", "users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#,
        ),
    );
}

#[test]
fn default_actions_in_the_real_emulator() {
    run_real_reporting("signals_defaults.lua", &[0, 1, 2, 3, 4, 5, 6, 7, 8], &[0]);
}

#[test]
fn hostile_programs_in_the_real_emulator() {
    run_real("hostile.lua", &[0, 1], None);
}

#[test]
fn service_registry_in_the_real_emulator() {
    run_real("ipc_registry.lua", &[0, 1], None);
}

#[test]
fn system_ipc_library_in_the_real_emulator() {
    run_real("ipc_library.lua", &[0, 1], None);
}

#[test]
fn system_ipc_sockets_in_the_real_emulator() {
    run_real("ipc_socket.lua", &[0, 1, 2], None);
}

/// The lines computer `id` printed, even where a shell prompt of a computer
/// whose program ended shares the line (headless output).
fn lines_anywhere(stdout: &str, id: i32) -> Vec<&str> {
    let prefix = format!("[{id}] ");
    stdout
        .lines()
        .filter_map(|l| l.find(prefix.as_str()).map(|at| &l[at + prefix.len()..]))
        .collect()
}

/// Runs `lua/examples/<file>` on `computers`; each computer of `expected`
/// must print its lines (substrings), in order.
fn run_real_example(file: &str, computers: &[i32], expected: &[(i32, &[&str])]) {
    let program = std::fs::read_to_string(lua_dir().join("examples").join(file)).unwrap();
    let in_order = |text: &str, id: i32, lines: &[&str]| {
        let output = lines_anywhere(text, id);
        let mut from = 0;
        lines.iter().all(|line| {
            let found = output[from..].iter().position(|l| l.contains(line));
            found.map(|i| from += i + 1).is_some()
        })
    };
    let finished = |text: &str| {
        expected
            .iter()
            .all(|(id, lines)| in_order(text, *id, lines))
    };
    let label = file.trim_end_matches(".lua");
    let Some((stdout, stderr)) = run_in_emulator(label, &program, computers, None, finished) else {
        eprintln!("{file}: not run in the real emulator (set CRAFTOS_PC and CRAFTOS_ROM)");
        return;
    };
    for (id, lines) in expected {
        assert!(
            in_order(&stdout, *id, lines),
            "{file}, computer {id}: expected {lines:?} in order\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
}

#[test]
fn supervisor_example_in_the_real_emulator() {
    run_real_example("ipc-supervisor.lua", &[0, 1, 2], &[(0, SUPERVISOR_LINES)]);
}

#[test]
fn service_example_in_the_real_emulator() {
    run_real_example(
        "ipc-service.lua",
        &[0, 1, 2],
        &[
            (0, &["serving calc", "served 4 requests; stopping"]),
            (1, &["1 + 10 = 11", "1 * 7 = 7", "pow: no answer", "done"]),
            (2, &["2 + 10 = 12", "2 * 7 = 14", "pow: no answer", "done"]),
        ],
    );
}

#[test]
fn chat_example_in_the_real_emulator() {
    run_real_example(
        "ipc-chat.lua",
        &[0, 1],
        &[
            (
                0,
                &["<1> hi 0, this is 1", "<1> fine, thanks", "closed (closed)"],
            ),
            (
                1,
                &["<0> hello from 0", "<0> how are you?", "closed (closed)"],
            ),
        ],
    );
}

/// The receiving, peeking, sending and timer rules in CraftOS-PC itself:
/// these exercise the native `coroutine.yield` and direct delivery against
/// the emulator's own event loop and BIOS.
#[test]
fn receiving_rules_in_the_real_emulator() {
    for file in [
        "receive_values.lua",
        "receive_filter.lua",
        "receive_sleep_parallel.lua",
        "receive_native.lua",
        "receive_coroutines.lua",
    ] {
        run_real(file, &[0], None);
    }
    run_real_reporting("receive_fifo.lua", &[0, 1], &[0, 1]);
}

#[test]
fn queue_and_peek_rules_in_the_real_emulator() {
    for file in [
        "events_queue.lua",
        "events_queue_handed.lua",
        "peek_basic.lua",
    ] {
        run_real(file, &[0], None);
    }
    run_real_reporting("peek_batch.lua", &[0, 1], &[0, 1]);
}

#[test]
fn send_rules_in_the_real_emulator() {
    for file in ["send_data.lua", "send_order.lua", "send_full.lua"] {
        run_real_reporting(file, &[0, 1], &[0, 1]);
    }
}

#[test]
fn timer_and_argument_rules_in_the_real_emulator() {
    for file in ["timers_timer.lua", "timers_cancel.lua", "args_errors.lua"] {
        run_real(file, &[0], None);
    }
}

#[test]
fn signal_numbers_and_limits_in_the_real_emulator() {
    run_real_as(
        "signals_numbers.lua",
        &[0, 1, 2],
        &[0, 1],
        Some(r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#),
    );
    run_real(
        "limits_small.lua",
        &[0],
        Some(r#"{"limits": {"queue": 4, "payload": 100, "timers": 3}}"#),
    );
}

// The tests below are ignored, with the reason, when no emulator is named
// (CRAFTOS_PC; see build.rs): never passed without running.

/// Runs `program` (after check.lua and the prelude) on `computers`, with
/// `files` in their folders; each `(computer, n)` of `checks` must print
/// `done`, at least `n` distinct passed checks and no failed one.
fn run_real_checks(
    label: &str,
    program: &str,
    computers: &[i32],
    checks: &[(i32, usize)],
    users: Option<&str>,
    files: &[ComputerFile],
) {
    let finished = |text: &str| {
        checks
            .iter()
            .all(|&(id, _)| lines_anywhere(text, id).contains(&"done"))
    };
    let (stdout, stderr) =
        run_in_emulator_with_files(label, program, computers, users, files, finished)
            .expect("CRAFTOS_PC and CRAFTOS_ROM must name the emulator and its ROM");
    for &(id, min) in checks {
        let lines = lines_anywhere(&stdout, id);
        let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok")).collect();
        let passed: std::collections::HashSet<_> =
            lines.iter().filter(|l| l.starts_with("ok ")).collect();
        assert!(
            lines.contains(&"done") && failed.is_empty() && passed.len() >= min,
            "{label}, computer {id}: passed {} (need {min}), failed {failed:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            passed.len()
        );
    }
}

/// kill, ps and services through CraftOS-PC's own shell: on its path after
/// start-up (the autorun file), run by name, completed, with help pages;
/// still mounted once after a reboot (`shell_programs.lua`).
#[test]
#[cfg_attr(not(craftos_pc), ignore = "needs CRAFTOS_PC and CRAFTOS_ROM")]
fn shell_programs_in_the_real_emulator() {
    run_real_checks(
        "shell_programs",
        &lua_test_source("shell_programs.lua"),
        &[0, 1, 2, 3],
        &[(0, 53), (1, 1), (2, 7), (3, 4)],
        Some(r#"{"users": {"0": "alice", "1": "alice", "2": "bob", "3": "root"}}"#),
        &[],
    );
}

/// The users of `syscall_conventions.lua`.
const CONVENTION_USERS: &str = r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#;

/// `syscall_conventions.lua` with `CONVENTION = convention`.
fn conventions_in_the_real_emulator(convention: &str, checks: usize, files: &[ComputerFile]) {
    let program = format!(
        "CONVENTION = {convention:?}\n{}",
        lua_test_source("syscall_conventions.lua")
    );
    run_real_checks(
        &format!("conventions-{convention}"),
        &program,
        &[0, 1, 2],
        &[(0, checks), (1, 1), (2, 0)],
        Some(CONVENTION_USERS),
        files,
    );
}

#[test]
#[cfg_attr(not(craftos_pc), ignore = "needs CRAFTOS_PC and CRAFTOS_ROM")]
fn syscall_table_checks_in_the_real_emulator() {
    conventions_in_the_real_emulator("table", 54, &[]);
}

/// Phoenix's `coroutine.yield("syscall", ...)` against CraftOS-PC's own
/// BIOS, parallel and coroutines: the same checks as the table.
#[test]
#[cfg_attr(not(craftos_pc), ignore = "needs CRAFTOS_PC and CRAFTOS_ROM")]
fn coroutine_yield_syscalls_in_the_real_emulator() {
    conventions_in_the_real_emulator("yield", 69, &[]);
}

/// Where `require "system.ipc"` finds each module in CraftOS-PC.
const MOUNTED_IPC: &str = "@/rom/modules/main/system/ipc.lua";
const REAL_IPC: &str = "@/system/ipc.lua";

/// `phoenix_programs.lua` on computers 0, 1 and 2, each told which
/// `system.ipc` it must get.
fn phoenix_programs_in_the_real_emulator(label: &str, real: &[i32], files: &[ComputerFile]) {
    let expected: Vec<String> = [0, 1, 2]
        .iter()
        .map(|id| {
            let source = if real.contains(id) {
                REAL_IPC
            } else {
                MOUNTED_IPC
            };
            format!("[{id}] = {source:?}")
        })
        .collect();
    let program = format!(
        "EXPECT_IPC = ({{ {} }})[os.getComputerID()]\n{}",
        expected.join(", "),
        lua_test_source("phoenix_programs.lua")
    );
    run_real_checks(
        label,
        &program,
        &[0, 1, 2],
        &[(0, 10), (1, 7), (2, 2)],
        None,
        files,
    );
}

#[test]
#[cfg_attr(not(craftos_pc), ignore = "needs CRAFTOS_PC and CRAFTOS_ROM")]
fn phoenix_style_programs_in_the_real_emulator() {
    phoenix_programs_in_the_real_emulator("phoenix-programs", &[], &[]);
}

// Real libsystem (GPL-3.0, not in this repository): its files are copied
// next to the program, as a user would copy them — `util.lua` and
// `expect.lua` beside it, `ipc.lua` in a `system` folder beside it — where
// CraftOS's `require` (which searches the program's folder first) finds
// them, before the plugin's mount.

const NEEDS_LIBSYSTEM: &str = "needs PHOENIX_LIBSYSTEM (libsystem's ipc.lua, util.lua, \
expect.lua) and CRAFTOS_PC, CRAFTOS_ROM";

/// The libsystem files for each of `computers` (`with_ipc`: ipc.lua too).
fn libsystem_files(computers: &[i32], with_ipc: &[i32]) -> Vec<ComputerFile> {
    let dir = std::env::var_os("PHOENIX_LIBSYSTEM")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| panic!("this test {NEEDS_LIBSYSTEM}"));
    let read = |file: &str| {
        std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("PHOENIX_LIBSYSTEM={}: {file}: {e}", dir.display()))
    };
    let mut files = Vec::new();
    for &id in computers {
        files.push((id, "util.lua".to_owned(), read("util.lua")));
        files.push((id, "expect.lua".to_owned(), read("expect.lua")));
        if with_ipc.contains(&id) {
            files.push((id, "system/ipc.lua".to_owned(), read("ipc.lua")));
        }
    }
    files
}

#[test]
#[cfg_attr(
    not(all(craftos_pc, phoenix_libsystem)),
    ignore = "needs PHOENIX_LIBSYSTEM, CRAFTOS_PC and CRAFTOS_ROM"
)]
fn real_libsystem_util_syscall_in_the_real_emulator() {
    let files = libsystem_files(&[0, 1, 2], &[]);
    conventions_in_the_real_emulator("libsystem", 68, &files);
}

#[test]
#[cfg_attr(
    not(all(craftos_pc, phoenix_libsystem)),
    ignore = "needs PHOENIX_LIBSYSTEM, CRAFTOS_PC and CRAFTOS_ROM"
)]
fn phoenix_style_programs_with_real_libsystem_in_the_real_emulator() {
    let files = libsystem_files(&[0, 1, 2], &[0, 1, 2]);
    phoenix_programs_in_the_real_emulator("libsystem-programs", &[0, 1, 2], &files);
}

#[test]
#[cfg_attr(
    not(all(craftos_pc, phoenix_libsystem)),
    ignore = "needs PHOENIX_LIBSYSTEM, CRAFTOS_PC and CRAFTOS_ROM"
)]
fn real_libsystem_and_the_mounted_system_ipc_in_the_real_emulator() {
    let files = libsystem_files(&[0, 1, 2], &[0, 2]);
    phoenix_programs_in_the_real_emulator("libsystem-mixed", &[0, 2], &files);
}

/// Phoenix baseutils' own `kill.lua` (PHOENIX_BASEUTILS names its folder;
/// GPL-3.0, not in this repository), copied as `/kill.lua`, run by
/// CraftOS-PC's shell: with the plugin's `system.ipc`, and with real
/// libsystem's when PHOENIX_LIBSYSTEM names it too.
fn baseutils_kill(label: &str, with_libsystem: bool) {
    let dir = std::env::var_os("PHOENIX_BASEUTILS")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .expect("this test needs PHOENIX_BASEUTILS=<folder holding baseutils' kill.lua>");
    let kill = std::fs::read(dir.join("kill.lua"))
        .unwrap_or_else(|e| panic!("PHOENIX_BASEUTILS={}: kill.lua: {e}", dir.display()));
    let mut files = vec![(0, "kill.lua".to_owned(), kill)];
    let expected = if with_libsystem {
        files.extend(libsystem_files(&[0], &[0]));
        REAL_IPC
    } else {
        MOUNTED_IPC
    };
    let program = format!(
        "EXPECT_IPC = {expected:?}\n{}",
        lua_test_source("baseutils_kill.lua")
    );
    run_real_checks(label, &program, &[0, 1], &[(0, 9), (1, 0)], None, &files);
}

#[test]
#[cfg_attr(
    not(all(craftos_pc, phoenix_baseutils)),
    ignore = "needs PHOENIX_BASEUTILS, CRAFTOS_PC and CRAFTOS_ROM"
)]
fn baseutils_kill_in_the_real_emulator() {
    baseutils_kill("baseutils-kill", false);
}

#[test]
#[cfg_attr(
    not(all(craftos_pc, phoenix_baseutils, phoenix_libsystem)),
    ignore = "needs PHOENIX_BASEUTILS, PHOENIX_LIBSYSTEM, CRAFTOS_PC and CRAFTOS_ROM"
)]
fn baseutils_kill_with_real_libsystem_in_the_real_emulator() {
    baseutils_kill("baseutils-kill-libsystem", true);
}

/// Two real CraftOS-PC processes joined by a local nats-server pass the
/// cross-computer checks of tests/cluster.rs's pair test: send, signals with
/// users and permissions, the registry, a full queue, SIGKILL.
#[test]
#[cfg_attr(not(craftos_pc), ignore = "needs CRAFTOS_PC and CRAFTOS_ROM")]
fn two_real_emulators_through_nats() {
    if emulator().is_none() {
        eprintln!(
            "cluster_pair.lua: not run in the real emulator (set CRAFTOS_PC and CRAFTOS_ROM)"
        );
        return;
    }
    let Some(nats) = support::cluster::Nats::start("two_real_emulators_through_nats") else {
        return;
    };
    let url = nats.url();
    let config = |node: u32, rest: &str| {
        format!(r#"{{"cluster": {{"url": "{url}", "node": {node}}}, {rest}}}"#)
    };
    let nodes = [
        (
            1,
            vec![0, 1],
            vec![0, 1],
            config(1, r#""users": {"0": "root", "1": "alice"}"#),
        ),
        (
            2,
            vec![0, 1, 2],
            vec![0, 2],
            config(
                2,
                r#""users": {"0": "alice", "1": "bob"}, "limits": {"queue": 512}"#,
            ),
        ),
    ];
    let runs: Vec<_> = nodes
        .into_iter()
        .map(|(node, computers, reporters, config)| {
            std::thread::spawn(move || {
                let program = format!("NODE = {node}\n{}", lua_test_source("cluster_pair.lua"));
                let finished = |text: &str| {
                    reporters
                        .iter()
                        .all(|&id| lines_anywhere(text, id).contains(&"done"))
                };
                let label = format!("cluster-node{node}");
                let (stdout, stderr) =
                    run_in_emulator(&label, &program, &computers, Some(&config), finished)
                        .expect("the emulator is named");
                (node, reporters, stdout, stderr)
            })
        })
        .collect();
    for run in runs {
        let (node, reporters, stdout, stderr) = run.join().unwrap();
        for id in reporters {
            let lines = lines_anywhere(&stdout, id);
            let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok")).collect();
            assert!(
                lines.contains(&"done") && failed.is_empty(),
                "node {node}, computer {id}: failed {failed:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
            );
            let passed = lines.iter().filter(|l| l.starts_with("ok ")).count();
            println!("real emulator, node {node}, computer {id}: {passed} checks passed");
        }
    }
}
