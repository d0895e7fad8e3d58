//! The Lua test programs in the real CraftOS-PC, one test per emulator:
//!
//! | test | emulator | plugin |
//! |---|---|---|
//! | `every_program_in_the_standard_craftos_pc` | `CRAFTOS_PC`, `CRAFTOS_ROM` (v2.8) | the standard build |
//! | `every_program_in_craftos_pc_accelerated` | `CRAFTOS_PC_ACCELERATED`, `CRAFTOS_ROM_ACCELERATED` | the Accelerated build |
//!
//! Each runs every program of [`PROGRAMS`] in its emulator, headless, one
//! emulator process per program, and reports every program that failed.
//! When the ROM's plugins folder (`plugins`, `plugins-luajit`) holds the
//! plugin (`ci/install --rom DIR`), it must be the plugin under test, byte
//! for byte, and the emulator is started without `--plugin`: it loads it
//! from there, as users' emulators do. Otherwise the plugin is given with
//! `--plugin`.
//!
//! `PHOENIX_REAL_ONLY=a.lua,b.lua` runs only those programs.
//!
//! Without the two variables of an emulator its test runs nothing and says
//! so on standard error (`NOT RUN: …`, past cargo's capture); ci/test
//! repeats those lines in its closing summary. The embedded host runs the
//! same programs in the other tests.
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Runs on every computer after check.lua, before the test program: clean output lines with
/// the computer's ID, flushed at once, and computer 0 starts the others — one at a time:
/// CraftOS-PC v2.8.3 itself crashes when computers are created back to back
/// (seen without any plugin: BIOS parse errors, then a segfault).
const PRELUDE: &str = r##"
local native_term = term.native()
function print(...)
    local parts = {}
    for i = 1, select("#", ...) do parts[#parts + 1] = tostring((select(i, ...))) end
    native_term.write(("[%d] %s\n"):format(os.getComputerID(), table.concat(parts, "\t")))
    -- Headless CraftOS-PC writes to a buffered stdout and flushes it only in
    -- setCursorPos: without this, a computer's last lines can stay in the
    -- buffer until the emulator is killed.
    native_term.setCursorPos(native_term.getCursorPos())
end
printError = print
if os.getComputerID() == 0 then
    for _, id in ipairs(__OTHERS__) do periphemu.create(id, "computer") check.sleep(0.3) end
end
"##;

/// How long one program may take in the emulator.
const PROGRAM_LIMIT: Duration = Duration::from_secs(60);

/// One program and how it runs.
struct Program {
    /// Its name in reports: the file's, or its own where one file runs in
    /// several ways.
    name: &'static str,
    /// `lua/tests/<file>` (a test program) or `lua/examples/<file>`.
    file: &'static str,
    computers: &'static [i32],
    expect: Expect,
    /// `config/phoenix-events.json`.
    config: Option<&'static str>,
    /// Run with the ROM's multishell off (`bios.use_multishell = false`): the
    /// program then runs in the top-level coroutine, whose yields are waits.
    no_multishell: bool,
    /// Lua run before the program: the globals that say which way it runs.
    setup: &'static str,
    /// Files from outside this repository, copied into computers' folders.
    files: Files,
}

/// Files of Phoenix's own (GPL-3.0, never in this repository) that a program
/// runs with, copied as a user would copy them: libsystem's `util.lua` and
/// `expect.lua` beside the program, its `ipc.lua` in a `system` folder
/// beside it — where CraftOS's `require` (which searches the program's
/// folder first) finds them before the plugin's mount — and baseutils'
/// `kill.lua` as `/kill.lua`. Without the variables naming their folders the
/// program does not run, and the summary says so.
#[derive(Clone, Copy)]
enum Files {
    None,
    /// `PHOENIX_LIBSYSTEM`: util.lua and expect.lua on every computer of the
    /// program, ipc.lua too on `with_ipc`.
    Libsystem {
        with_ipc: &'static [i32],
    },
    /// `PHOENIX_BASEUTILS`: kill.lua on computer 0; with `libsystem`, all
    /// of libsystem there too.
    BaseutilsKill {
        libsystem: bool,
    },
}

impl Files {
    /// The variables these files need.
    fn variables(self) -> &'static [&'static str] {
        match self {
            Files::None => &[],
            Files::Libsystem { .. } => &["PHOENIX_LIBSYSTEM"],
            Files::BaseutilsKill { libsystem: false } => &["PHOENIX_BASEUTILS"],
            Files::BaseutilsKill { libsystem: true } => &["PHOENIX_BASEUTILS", "PHOENIX_LIBSYSTEM"],
        }
    }

    /// The variables these files need that are not set.
    fn missing(self) -> Vec<&'static str> {
        self.variables()
            .iter()
            .copied()
            .filter(|v| std::env::var_os(v).is_none_or(|v| v.is_empty()))
            .collect()
    }

    /// (computer, path in its file system, contents), read now.
    fn read(self, computers: &[i32]) -> Vec<(i32, String, Vec<u8>)> {
        let read = |variable: &str, file: &str| {
            let dir = PathBuf::from(std::env::var_os(variable).unwrap());
            std::fs::read(dir.join(file))
                .unwrap_or_else(|e| panic!("{variable}={}: {file}: {e}", dir.display()))
        };
        let libsystem = |id: i32, ipc: bool| {
            let mut files = vec![
                (
                    id,
                    "util.lua".to_owned(),
                    read("PHOENIX_LIBSYSTEM", "util.lua"),
                ),
                (
                    id,
                    "expect.lua".to_owned(),
                    read("PHOENIX_LIBSYSTEM", "expect.lua"),
                ),
            ];
            if ipc {
                files.push((
                    id,
                    "system/ipc.lua".to_owned(),
                    read("PHOENIX_LIBSYSTEM", "ipc.lua"),
                ));
            }
            files
        };
        match self {
            Files::None => Vec::new(),
            Files::Libsystem { with_ipc } => computers
                .iter()
                .flat_map(|&id| libsystem(id, with_ipc.contains(&id)))
                .collect(),
            Files::BaseutilsKill { libsystem: with } => {
                let mut files = vec![(
                    0,
                    "kill.lua".to_owned(),
                    read("PHOENIX_BASEUTILS", "kill.lua"),
                )];
                if with {
                    files.extend(libsystem(0, true));
                }
                files
            }
        }
    }
}

enum Expect {
    /// These computers each print `done` and no `not ok` (a test program).
    Done(&'static [i32]),
    /// Each computer prints these lines (substrings), in order (an example).
    Lines(&'static [(i32, &'static [&'static str])]),
    /// These computers each print `done`, at least this many distinct
    /// passed checks, and no `not ok`.
    Checks(&'static [(i32, usize)]),
}

const fn test(file: &'static str, computers: &'static [i32]) -> Program {
    Program {
        name: file,
        file,
        computers,
        expect: Expect::Done(computers),
        config: None,
        no_multishell: false,
        setup: "",
        files: Files::None,
    }
}

/// The users of `syscall_conventions.lua`.
const CONVENTION_USERS: &str = r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#;

/// `syscall_conventions.lua`, the calls made one way (`CONVENTION`).
const fn conventions(
    name: &'static str,
    setup: &'static str,
    checks: &'static [(i32, usize)],
) -> Program {
    Program {
        name,
        expect: Expect::Checks(checks),
        config: Some(CONVENTION_USERS),
        setup,
        ..test("syscall_conventions.lua", &[0, 1, 2])
    }
}

/// Where `require "system.ipc"` finds each module in CraftOS-PC: the
/// plugin's mount, or real libsystem's copy beside the program.
macro_rules! mounted_ipc {
    () => {
        "\"@/rom/modules/main/system/ipc.lua\""
    };
}
macro_rules! real_ipc {
    () => {
        "\"@/system/ipc.lua\""
    };
}

/// `phoenix_programs.lua` on computers 0, 1 and 2, each told (`setup`) which
/// `system.ipc` it must get.
const fn phoenix_programs(name: &'static str, setup: &'static str, files: Files) -> Program {
    Program {
        name,
        expect: Expect::Checks(&[(0, 10), (1, 7), (2, 2)]),
        setup,
        files,
        ..test("phoenix_programs.lua", &[0, 1, 2])
    }
}

/// Phoenix baseutils' own `kill.lua`, run by CraftOS-PC's shell, with the
/// plugin's `system.ipc` or real libsystem's.
const fn baseutils_kill(name: &'static str, setup: &'static str, libsystem: bool) -> Program {
    Program {
        name,
        expect: Expect::Checks(&[(0, 9), (1, 0)]),
        setup,
        files: Files::BaseutilsKill { libsystem },
        ..test("baseutils_kill.lua", &[0, 1])
    }
}

const USERS: &str =
    r#"{"default_user": "guest", "users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#;

/// Every program run in the real emulators.
const PROGRAMS: &[Program] = &[
    test("pipe.lua", &[0, 1]),
    test("signals_handlers.lua", &[0, 1]),
    test("signals_stop.lua", &[0, 1]),
    Program {
        config: Some(USERS),
        ..test("signals_users.lua", &[0, 1, 2, 3, 4])
    },
    Program {
        expect: Expect::Done(&[0]),
        ..test("signals_defaults.lua", &[0, 1, 2, 3, 4, 5, 6, 7, 8])
    },
    Program {
        expect: Expect::Done(&[0, 1]),
        config: Some(r#"{"users": {"0": "alice", "1": "alice", "2": "bob"}}"#),
        ..test("signals_numbers.lua", &[0, 1, 2])
    },
    test("hostile.lua", &[0, 1]),
    test("ipc_registry.lua", &[0, 1]),
    test("ipc_library.lua", &[0, 1]),
    test("ipc_socket.lua", &[0, 1, 2]),
    Program {
        expect: Expect::Lines(&[(0, SUPERVISOR_LINES)]),
        ..test("ipc-supervisor.lua", &[0, 1, 2])
    },
    Program {
        expect: Expect::Lines(&[
            (0, &["serving calc", "served 4 requests; stopping"]),
            (1, &["1 + 10 = 11", "1 * 7 = 7", "pow: no answer", "done"]),
            (2, &["2 + 10 = 12", "2 * 7 = 14", "pow: no answer", "done"]),
        ]),
        ..test("ipc-service.lua", &[0, 1, 2])
    },
    Program {
        expect: Expect::Lines(&[
            (
                0,
                &["<1> hi 0, this is 1", "<1> fine, thanks", "closed (closed)"],
            ),
            (
                1,
                &["<0> hello from 0", "<0> how are you?", "closed (closed)"],
            ),
        ]),
        ..test("ipc-chat.lua", &[0, 1])
    },
    // The receiving, peeking, sending and timer rules: these exercise the
    // native coroutine functions and direct delivery against the emulator's
    // own event loop and BIOS.
    test("receive_values.lua", &[0]),
    test("receive_filter.lua", &[0]),
    test("receive_sleep_parallel.lua", &[0]),
    test("receive_native.lua", &[0]),
    test("receive_coroutines.lua", &[0]),
    test("receive_fifo.lua", &[0, 1]),
    Program {
        config: Some(r#"{"limits": {"queue": 8}}"#),
        no_multishell: true,
        ..test("receive_untracked.lua", &[0, 1])
    },
    test("events_queue.lua", &[0]),
    test("events_queue_handed.lua", &[0]),
    test("peek_basic.lua", &[0]),
    test("peek_batch.lua", &[0, 1]),
    Program {
        config: Some(r#"{"users": {"0": "alice", "1": "bob"}}"#),
        ..test("send_basic.lua", &[0, 1])
    },
    test("send_data.lua", &[0, 1]),
    test("send_size.lua", &[0, 1]),
    test("send_unsendable.lua", &[0]),
    test("send_errors_hot.lua", &[0]),
    test("events_names.lua", &[0]),
    test("send_order.lua", &[0, 1]),
    test("send_full.lua", &[0, 1]),
    test("timers_timer.lua", &[0]),
    test("timers_cancel.lua", &[0]),
    test("timers_cancel_others.lua", &[0, 1]),
    test("timers_alarm.lua", &[0]),
    test("timers_limit.lua", &[0]),
    test("signals_stop_first.lua", &[0, 1]),
    test("args_errors.lua", &[0]),
    Program {
        config: Some(r#"{"limits": {"queue": 4, "payload": 100, "timers": 3}}"#),
        ..test("limits_small.lua", &[0])
    },
    // kill, ps and services through CraftOS-PC's own shell: on its path
    // after start-up (the autorun file), run by name, completed, with help
    // pages; still mounted once after a reboot.
    Program {
        expect: Expect::Checks(&[(0, 53), (1, 1), (2, 7), (3, 4)]),
        config: Some(r#"{"users": {"0": "alice", "1": "alice", "2": "bob", "3": "root"}}"#),
        ..test("shell_programs.lua", &[0, 1, 2, 3])
    },
    // The same checks through the syscall table, Phoenix's
    // `coroutine.yield("syscall", ...)` (against the emulator's own BIOS,
    // parallel and coroutines) and real libsystem's `util.syscall`.
    conventions(
        "conventions-table",
        r#"CONVENTION = "table""#,
        &[(0, 54), (1, 1), (2, 0)],
    ),
    conventions(
        "conventions-yield",
        r#"CONVENTION = "yield""#,
        &[(0, 69), (1, 1), (2, 0)],
    ),
    Program {
        files: Files::Libsystem { with_ipc: &[] },
        ..conventions(
            "conventions-libsystem",
            r#"CONVENTION = "libsystem""#,
            &[(0, 68), (1, 1), (2, 0)],
        )
    },
    // Programs written the way Phoenix's are, on the mounted system.ipc, on
    // real libsystem's, and on both side by side.
    phoenix_programs(
        "phoenix-programs",
        concat!("EXPECT_IPC = ", mounted_ipc!()),
        Files::None,
    ),
    phoenix_programs(
        "libsystem-programs",
        concat!("EXPECT_IPC = ", real_ipc!()),
        Files::Libsystem {
            with_ipc: &[0, 1, 2],
        },
    ),
    phoenix_programs(
        "libsystem-mixed",
        concat!(
            "EXPECT_IPC = ({ [0] = ",
            real_ipc!(),
            ", [1] = ",
            mounted_ipc!(),
            ", [2] = ",
            real_ipc!(),
            " })[os.getComputerID()]"
        ),
        Files::Libsystem { with_ipc: &[0, 2] },
    ),
    baseutils_kill(
        "baseutils-kill",
        concat!("EXPECT_IPC = ", mounted_ipc!()),
        false,
    ),
    baseutils_kill(
        "baseutils-kill-libsystem",
        concat!("EXPECT_IPC = ", real_ipc!()),
        true,
    ),
];

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Standard,
    Accelerated,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Standard => "the standard CraftOS-PC",
            Variant::Accelerated => "CraftOS-PC Accelerated",
        }
    }

    /// The variables naming the emulator's binary and its ROM folder.
    fn variables(self) -> (&'static str, &'static str) {
        match self {
            Variant::Standard => ("CRAFTOS_PC", "CRAFTOS_ROM"),
            Variant::Accelerated => ("CRAFTOS_PC_ACCELERATED", "CRAFTOS_ROM_ACCELERATED"),
        }
    }

    /// Where in its ROM folder the emulator looks for plugins.
    fn plugins_folder(self) -> &'static str {
        match self {
            Variant::Standard => "plugins",
            Variant::Accelerated => "plugins-luajit",
        }
    }

    fn plugin(self) -> PathBuf {
        match self {
            Variant::Standard => plugin_path(),
            Variant::Accelerated => accelerated_plugin_path().unwrap_or_else(|| {
                panic!(
                    "{} is named but its plugin is not built: run ci/test \
                     (or ci/install --accelerated --debug --rom DIR)",
                    Variant::Accelerated.name()
                )
            }),
        }
    }
}

/// A real emulator, and the plugin it runs the programs with.
struct Emulator {
    variant: Variant,
    binary: PathBuf,
    rom: PathBuf,
    plugin: PathBuf,
    /// The plugin is installed in the ROM's plugins folder: no `--plugin`.
    installed: bool,
}

impl Emulator {
    /// The emulator of `variant`, or None when its variables are not set.
    fn of(variant: Variant) -> Option<Emulator> {
        let (binary_var, rom_var) = variant.variables();
        let binary = PathBuf::from(std::env::var_os(binary_var)?);
        let rom = PathBuf::from(
            std::env::var_os(rom_var)
                .unwrap_or_else(|| panic!("{rom_var} must name the ROM folder of {binary_var}")),
        );
        let plugin = variant.plugin();
        let installed_copy = rom.join(variant.plugins_folder()).join(plugin_file_name());
        let installed = installed_copy.exists();
        if installed {
            let same = std::fs::read(&installed_copy).ok() == std::fs::read(&plugin).ok();
            assert!(
                same,
                "{} is not the plugin under test ({}): install it again or use a ROM without it",
                installed_copy.display(),
                plugin.display()
            );
        }
        Some(Emulator {
            variant,
            binary,
            rom,
            plugin,
            installed,
        })
    }

    fn loading(&self) -> String {
        if self.installed {
            format!(
                "loaded from {}",
                self.rom.join(self.variant.plugins_folder()).display()
            )
        } else {
            format!("--plugin {}", self.plugin.display())
        }
    }

    /// Runs `program` (after check.lua and the prelude) on `computers` until
    /// `finished(stdout)` or [`PROGRAM_LIMIT`]; returns its stdout and
    /// stderr.
    fn run(
        &self,
        label: &str,
        program: &Program,
        source: &str,
        finished: impl Fn(&str) -> bool,
    ) -> (String, String) {
        let data = data_dir(&format!("real-{label}"));
        if let Some(config) = program.config {
            std::fs::write(data.join("config/phoenix-events.json"), config).unwrap();
        }
        for (id, path, contents) in program.files.read(program.computers) {
            let path = data.join("computer").join(id.to_string()).join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, contents).unwrap();
        }
        if program.no_multishell {
            for id in program.computers {
                let dir = data.join("computer").join(id.to_string());
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(
                    dir.join(".settings"),
                    "{ [ \"bios.use_multishell\" ] = false, }\n",
                )
                .unwrap();
            }
        }
        let others: Vec<String> = program
            .computers
            .iter()
            .filter(|&&id| id != 0)
            .map(i32::to_string)
            .collect();
        let script = [
            lua_test_source("lib/check.lua"),
            PRELUDE.replace("__OTHERS__", &format!("{{{}}}", others.join(","))),
            source.to_owned(),
        ]
        .join("\n");
        let script_path = data.join("test.lua");
        std::fs::write(&script_path, script).unwrap();
        let mut command = Command::new(&self.binary);
        command
            .arg("--headless")
            .arg("--rom")
            .arg(&self.rom)
            .arg("--directory")
            .arg(&data);
        if !self.installed {
            command.arg("--plugin").arg(&self.plugin);
        }
        let mut child = command
            .arg("--script")
            .arg(&script_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.binary.display()));
        // Computers stay on after their checks (other computers may still
        // need them): read the output as it comes, and stop the emulator once
        // the run is finished. It ignores SIGTERM at a prompt, hence kill.
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
        let deadline = Instant::now() + PROGRAM_LIMIT;
        while !done() && child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        reader.join().unwrap();
        let _ = std::fs::remove_dir_all(&data);
        let stdout = stdout.lock().unwrap().replace('\r', "");
        (stdout, String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// Runs one program; `Err` says why it failed.
    fn check(&self, program: &Program) -> Result<(), String> {
        let example = program.file.contains('-');
        let source = if example {
            std::fs::read_to_string(lua_dir().join("examples").join(program.file)).unwrap()
        } else {
            lua_test_source(program.file)
        };
        let source = format!("{}\n{source}", program.setup);
        let label = program.name.trim_end_matches(".lua");
        let failures = |stdout: &str| -> Vec<String> {
            match &program.expect {
                Expect::Done(reporters) => reporters
                    .iter()
                    .filter_map(|&id| {
                        let lines = lines_anywhere(stdout, id);
                        let failed: Vec<_> =
                            lines.iter().filter(|l| l.starts_with("not ok")).collect();
                        (!lines.contains(&"done") || !failed.is_empty()).then(|| {
                            format!(
                                "computer {id}: done={} failed {failed:?}",
                                lines.contains(&"done")
                            )
                        })
                    })
                    .collect(),
                Expect::Checks(checks) => checks
                    .iter()
                    .filter_map(|&(id, min)| {
                        let lines = lines_anywhere(stdout, id);
                        let failed: Vec<_> =
                            lines.iter().filter(|l| l.starts_with("not ok")).collect();
                        let passed: std::collections::HashSet<_> =
                            lines.iter().filter(|l| l.starts_with("ok ")).collect();
                        (!lines.contains(&"done") || !failed.is_empty() || passed.len() < min)
                            .then(|| {
                                format!(
                                    "computer {id}: done={}, passed {} (need {min}), failed {failed:?}",
                                    lines.contains(&"done"),
                                    passed.len()
                                )
                            })
                    })
                    .collect(),
                Expect::Lines(expected) => expected
                    .iter()
                    .filter(|(id, lines)| !in_order(stdout, *id, lines))
                    .map(|(id, lines)| format!("computer {id}: expected {lines:?} in order"))
                    .collect(),
            }
        };
        let finished = |stdout: &str| match &program.expect {
            Expect::Done(reporters) => reporters
                .iter()
                .all(|&id| lines_anywhere(stdout, id).contains(&"done")),
            Expect::Checks(checks) => checks
                .iter()
                .all(|&(id, _)| lines_anywhere(stdout, id).contains(&"done")),
            Expect::Lines(_) => failures(stdout).is_empty(),
        };
        let (stdout, stderr) = self.run(label, program, &source, finished);
        let failed = failures(&stdout);
        if failed.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{}: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
            program.name,
            failed.join("; ")
        ))
    }
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

/// Whether computer `id` printed lines containing `lines`, in order.
fn in_order(stdout: &str, id: i32, lines: &[&str]) -> bool {
    let output = lines_anywhere(stdout, id);
    let mut from = 0;
    lines.iter().all(|line| {
        let found = output[from..].iter().position(|l| l.contains(line));
        found.map(|i| from += i + 1).is_some()
    })
}

/// Runs every program in `variant`'s emulator, if one is named.
fn run_every_program(variant: Variant) {
    let Some(emulator) = Emulator::of(variant) else {
        let (binary, rom) = variant.variables();
        not_run(
            PROGRAMS.len(),
            &format!("real-emulator programs in {}", variant.name()),
            &format!("set {binary} and {rom}"),
        );
        return;
    };
    let only = std::env::var("PHOENIX_REAL_ONLY").ok();
    let chosen = PROGRAMS.iter().filter(|p| {
        only.as_deref()
            .is_none_or(|only| only.split(',').any(|f| f == p.file || f == p.name))
    });
    // Programs that need Phoenix's own files run only where they are named.
    let (programs, without_files): (Vec<&Program>, Vec<&Program>) =
        chosen.partition(|p| p.files.missing().is_empty());
    for program in &without_files {
        not_run(
            1,
            &format!(
                "real-emulator program in {} ({})",
                variant.name(),
                program.name
            ),
            &format!("set {}", program.files.missing().join(" and ")),
        );
    }
    let started = Instant::now();
    let failures: Vec<String> = programs
        .iter()
        .filter_map(|program| emulator.check(program).err())
        .collect();
    let summary = format!(
        "{} of {} real-emulator programs passed in {} ({}; plugin {}) in {:.0} s",
        programs.len() - failures.len(),
        programs.len(),
        variant.name(),
        emulator.binary.display(),
        emulator.loading(),
        started.elapsed().as_secs_f64()
    );
    ran(&summary);
    assert!(
        failures.is_empty(),
        "{summary}; failed:\n{}",
        failures.join("\n\n")
    );
}

/// Says on standard error, past cargo's capture, what ran (for ci/test's
/// summary).
fn ran(summary: &str) {
    say_past_capture(&format!("RAN: {summary}"));
}

#[test]
fn every_program_in_the_standard_craftos_pc() {
    run_every_program(Variant::Standard);
}

#[test]
fn every_program_in_craftos_pc_accelerated() {
    run_every_program(Variant::Accelerated);
}

/// Two real CraftOS-PC processes, node 1 of `variants[0]` and node 2 of
/// `variants[1]`, joined by a local nats-server, pass the cross-computer
/// checks of tests/cluster.rs's pair test: send, signals with users and
/// permissions, the registry, a full queue, SIGKILL.
fn two_emulators_through_nats(variants: [Variant; 2]) {
    let what = if variants[0] == variants[1] {
        format!(
            "cluster pair program in two processes of {}",
            variants[0].name()
        )
    } else {
        format!(
            "cluster pair program in {} and {}",
            variants[0].name(),
            variants[1].name()
        )
    };
    let Some(emulators) = variants
        .iter()
        .map(|&variant| Emulator::of(variant))
        .collect::<Option<Vec<_>>>()
    else {
        let missing: Vec<String> = variants
            .iter()
            .map(|v| {
                let (binary, rom) = v.variables();
                format!("{binary} and {rom}")
            })
            .collect();
        not_run(1, &what, &format!("set {}", missing.join(", ")));
        return;
    };
    let Some(nats) = support::cluster::Nats::start("two_emulators_through_nats") else {
        return;
    };
    let url = nats.url();
    // Program's configuration is static: each run's is leaked (a few
    // hundred bytes, once per test).
    let config = |node: u32, rest: &str| -> &'static str {
        let json = format!(r#"{{"cluster": {{"url": "{url}", "node": {node}}}, {rest}}}"#);
        Box::leak(json.into_boxed_str())
    };
    let node = |setup, computers, reporters, config, name| Program {
        name,
        expect: Expect::Done(reporters),
        config: Some(config),
        setup,
        ..test("cluster_pair.lua", computers)
    };
    let nodes = [
        node(
            "NODE = 1",
            &[0, 1],
            &[0, 1],
            config(1, r#""users": {"0": "root", "1": "alice"}"#),
            "cluster-node1",
        ),
        node(
            "NODE = 2",
            &[0, 1, 2],
            &[0, 2],
            config(
                2,
                r#""users": {"0": "alice", "1": "bob"}, "limits": {"queue": 512}"#,
            ),
            "cluster-node2",
        ),
    ];
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> = nodes
            .iter()
            .zip(&emulators)
            .map(|(program, emulator)| scope.spawn(move || emulator.check(program).err()))
            .collect();
        runs.into_iter()
            .filter_map(|run| run.join().unwrap())
            .collect()
    });
    let plugins: Vec<String> = emulators.iter().map(Emulator::loading).collect();
    let summary = format!(
        "{what} through nats-server (plugin {}): {} in {:.0} s",
        plugins.join("; "),
        if failures.is_empty() {
            "passed"
        } else {
            "FAILED"
        },
        started.elapsed().as_secs_f64()
    );
    ran(&summary);
    assert!(failures.is_empty(), "{summary}:\n{}", failures.join("\n\n"));
}

#[test]
fn two_standard_craftos_pc_processes_through_nats() {
    two_emulators_through_nats([Variant::Standard; 2]);
}

#[test]
fn two_craftos_pc_accelerated_processes_through_nats() {
    two_emulators_through_nats([Variant::Accelerated; 2]);
}

/// One cluster, both builds: the wire between nodes knows nothing of Lua.
#[test]
fn a_standard_and_an_accelerated_craftos_pc_through_nats() {
    two_emulators_through_nats([Variant::Standard, Variant::Accelerated]);
}

#[test]
fn every_program_named_exists_and_runs_on_computer_0() {
    for program in PROGRAMS {
        let dir = if program.file.contains('-') {
            "examples"
        } else {
            "tests"
        };
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("lua")
            .join(dir)
            .join(program.file);
        assert!(path.exists(), "{}", path.display());
        assert_eq!(program.computers.first(), Some(&0), "{}", program.file);
    }
}
