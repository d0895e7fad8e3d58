//! Runs Lua programs on computers of the embedded CraftOS-PC host, with the
//! built plugin loaded the way the emulator loads it.
#![allow(dead_code)] // each test binary uses its own part of this

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

pub use craftos_host::{Host, HostConfig};

/// The host keeps emulator-wide globals, as CraftOS-PC does: one at a time.
static ONE_HOST: Mutex<()> = Mutex::new(());

/// Where the check library and the Lua tests live.
pub fn lua_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("lua")
}

/// The plugin under test: `$PHOENIX_PLUGIN`, else the cdylib Cargo built
/// next to this test binary (the standard build).
pub fn plugin_path() -> PathBuf {
    if let Some(path) = std::env::var_os("PHOENIX_PLUGIN") {
        return PathBuf::from(path);
    }
    checked_build(
        &profile_dir().join(plugin_file_name()),
        "cargo build -p phoenix-events",
    )
}

/// `target/<profile>/` (or `target/<triple>/<profile>/`) of this test binary.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .to_path_buf()
}

/// Cargo's target directory of this test binary.
fn target_dir() -> PathBuf {
    let profile = profile_dir();
    let mut dir = profile.parent().expect("target/").to_path_buf();
    // target/<triple>/<profile>: the target directory is one more up.
    if dir.join("CACHEDIR.TAG").exists() || dir.join(".rustc_info.json").exists() {
        return dir;
    }
    if let Some(parent) = dir.parent() {
        dir = parent.to_path_buf();
    }
    dir
}

/// The plugin for CraftOS-PC Accelerated (feature `accelerated`), built by
/// ci/test (ci/common.sh `build_variant accelerated`) into
/// `<target>/accelerated/<profile>/`, or `$PHOENIX_PLUGIN_ACCELERATED`.
/// `None` when it was not built: the tests that need it then say so
/// ([`not_run`]).
pub fn accelerated_plugin_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PHOENIX_PLUGIN_ACCELERATED") {
        return Some(PathBuf::from(path));
    }
    let profile = profile_dir();
    let path = target_dir()
        .join("accelerated")
        .join(profile.file_name().expect("profile name"))
        .join(plugin_file_name());
    path.exists().then(|| {
        checked_build(
            &path,
            "cargo build -p phoenix-events --no-default-features --features accelerated,cluster --target-dir <target>/accelerated",
        )
    })
}

/// Says, on the test's standard error past the test harness's capture, that
/// `count` checks did not run and why. ci/test gathers these lines into its
/// closing summary: a test that ran nothing passes in cargo's count, and
/// this line keeps that visible.
pub fn not_run(count: usize, what: &str, why: &str) {
    say_past_capture(&format!("NOT RUN: {count} {what}: {why}"));
}

/// Writes `line` to standard error in one write (stderr is unbuffered: a
/// formatted write would go out in pieces, between the test harness's own
/// lines), past the test harness's capture of `eprintln!`.
pub fn say_past_capture(line: &str) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}

/// `path`, checked to be newer than every source of the plugin: `cargo
/// test` does not rebuild a cdylib-only package, so never test a plugin
/// older than its sources.
fn checked_build(path: &Path, build: &str) -> PathBuf {
    let built = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `{build}` first (ci/test does)",
                path.display()
            )
        });
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for source in [
        "src",
        "crates",
        "include",
        "lua/prelude.lua",
        "lua/system",
        "lua/programs",
        "lua/help",
        "lua/autorun",
        "build.rs",
    ] {
        if let Some(newer) = newer_than(&root.join(source), built) {
            panic!(
                "{} is older than {}: run `{build}` first (ci/test does)",
                path.display(),
                newer.display()
            );
        }
    }
    path.to_path_buf()
}

/// The plugin's file name on this platform: libphoenix_events.so,
/// libphoenix_events.dylib, phoenix_events.dll.
pub fn plugin_file_name() -> String {
    use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
    format!("{DLL_PREFIX}phoenix_events{DLL_SUFFIX}")
}

/// A file under `path` modified after `time`, if any.
fn newer_than(path: &Path, time: std::time::SystemTime) -> Option<PathBuf> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_dir() {
        std::fs::read_dir(path)
            .ok()?
            .flatten()
            .find_map(|entry| newer_than(&entry.path(), time))
    } else {
        (meta.modified().ok()? > time).then(|| path.to_path_buf())
    }
}

/// The embedded host's command-line program, built beside the test binaries.
pub fn host_binary() -> PathBuf {
    let binary = profile_dir().join(format!("craftos-host{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --workspace` first (ci/test does)",
        binary.display()
    );
    binary
}

/// A fresh, empty data directory (the emulator's base path).
pub fn data_dir(label: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "phoenix-events-test-{}-{label}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("config")).expect("create data dir");
    dir
}

/// A host with the plugin loaded, held exclusively for one test.
pub struct TestHost {
    pub host: Option<Host>,
    _turn: MutexGuard<'static, ()>,
}

impl TestHost {
    /// Loads the plugin; `users` (JSON) becomes config/phoenix-events.json.
    pub fn new(label: &str, users: Option<&str>) -> TestHost {
        let turn = ONE_HOST.lock().unwrap_or_else(|e| e.into_inner());
        let data_dir = data_dir(label);
        if let Some(users) = users {
            std::fs::write(data_dir.join("config/phoenix-events.json"), users).unwrap();
        }
        let host = Host::load(HostConfig {
            plugin: plugin_path(),
            data_dir,
            echo: std::env::var_os("PHOENIX_ECHO").is_some(),
        })
        .unwrap_or_else(|e| panic!("the host rejected the plugin: {e}"));
        TestHost {
            host: Some(host),
            _turn: turn,
        }
    }

    pub fn host(&self) -> &Host {
        self.host.as_ref().unwrap()
    }

    /// Starts computer `id` running the check library plus `program`.
    pub fn start(&self, id: i32, program: &str) {
        let library = lua_test_source("lib/check.lua");
        self.host()
            .start_computer(id, &format!("{library}\n{program}"))
            .unwrap();
    }

    /// Waits until every computer in `reporters` printed `done`, then
    /// requires that no check failed and that at least `min_checks` passed.
    pub fn expect_checks(&self, reporters: &[i32], min_checks: usize, timeout: Duration) {
        for &id in reporters {
            let done = self.host().wait_for_line(id, "done", timeout);
            let output = self.host().output(id);
            let failed: Vec<_> = output.iter().filter(|l| l.starts_with("not ok")).collect();
            let passed = output.iter().filter(|l| l.starts_with("ok ")).count();
            assert!(
                done.is_some() && failed.is_empty() && passed >= min_checks,
                "computer {id}: done={} passed={passed} (need {min_checks}) failed={failed:?}\n--- output ---\n{}",
                done.is_some(),
                output.join("\n")
            );
        }
    }

    pub fn shutdown(mut self) {
        if let Some(host) = self.host.take() {
            host.shutdown();
        }
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(host) = self.host.take() {
            host.shutdown();
        }
    }
}

/// The source of `lua/tests/<file>`.
pub fn lua_test_source(file: &str) -> String {
    std::fs::read_to_string(lua_dir().join("tests").join(file))
        .unwrap_or_else(|e| panic!("lua/tests/{file}: {e}"))
}

/// Runs `lua/tests/<file>` on `computers`; every computer named in `checks`
/// must print `done` with at least its number of passing checks and none
/// failing (the others may be targets that never finish, e.g. killed).
pub fn run_lua(file: &str, computers: &[i32], checks: &[(i32, usize)], users: Option<&str>) {
    let program = lua_test_source(file);
    let host = TestHost::new(file.trim_end_matches(".lua"), users);
    for &id in computers {
        host.start(id, &program);
    }
    for &(id, min) in checks {
        host.expect_checks(&[id], min, Duration::from_secs(30));
    }
    host.shutdown();
}

/// [`run_lua`] where every reporter needs the same number of checks.
pub fn run_lua_test(file: &str, computers: &[i32], reporters: &[i32], min_checks: usize) {
    run_lua_test_as(file, computers, reporters, min_checks, None)
}

pub fn run_lua_test_as(
    file: &str,
    computers: &[i32],
    reporters: &[i32],
    min_checks: usize,
    users: Option<&str>,
) {
    let checks: Vec<(i32, usize)> = reporters.iter().map(|&id| (id, min_checks)).collect();
    run_lua(file, computers, &checks, users)
}

/// [`run_lua`] on exactly the computers of `checks`.
pub fn run_each(file: &str, checks: &[(i32, usize)], users: Option<&str>) {
    let computers: Vec<i32> = checks.iter().map(|&(id, _)| id).collect();
    run_lua(file, &computers, checks, users)
}

pub const SECOND: Duration = Duration::from_secs(1);

/// What the supervisor example (lua/examples/ipc-supervisor.lua) prints on
/// computer 0, in order, in the embedded host and in CraftOS-PC alike.
pub const SUPERVISOR_LINES: &[&str] = &[
    "workers started",
    "worker 1 died; restarting it",
    "restarted worker 1",
    "results: 1 4 9 16 25 36 (1 restart)",
    "worker 1 stopped by SIGTERM",
    "worker 2 ignored SIGTERM; sending SIGKILL",
    "worker 2 stopped by SIGKILL",
    "all workers stopped",
];
pub mod cluster;
