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

/// The lines computer `id` printed (the prelude prefixes them with `[id] `).
fn reporter_lines(stdout: &str, id: i32) -> Vec<&str> {
    let prefix = format!("[{id}] ");
    stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix(prefix.as_str()))
        .collect()
}

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
    let Some((binary, rom)) = emulator() else {
        eprintln!("{file}: not run in the real emulator (set CRAFTOS_PC and CRAFTOS_ROM)");
        return;
    };
    let data = data_dir(&format!("real-{}", file.trim_end_matches(".lua")));
    if let Some(users) = users {
        std::fs::write(data.join("config/phoenix-events.json"), users).unwrap();
    }
    let others: Vec<String> = computers
        .iter()
        .filter(|&&id| id != 0)
        .map(i32::to_string)
        .collect();
    let script = [
        lua_test_source("lib/check.lua"),
        PRELUDE.replace("__OTHERS__", &format!("{{{}}}", others.join(","))),
        lua_test_source(file),
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
    // them): read the output as it comes, and stop the emulator once every
    // reporter is done. It ignores SIGTERM at a prompt, hence kill.
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
    let all_done = || {
        let text = stdout.lock().unwrap().replace('\r', "");
        reporters
            .iter()
            .all(|&id| reporter_lines(&text, id).contains(&"done"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !all_done() && child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    reader.join().unwrap();
    let stdout = stdout.lock().unwrap().replace('\r', "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for &id in reporters {
        let lines = reporter_lines(&stdout, id);
        let failed: Vec<_> = lines.iter().filter(|l| l.starts_with("not ok")).collect();
        assert!(
            lines.contains(&"done") && failed.is_empty(),
            "{file}, computer {id}: failed {failed:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        );
    }
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
