//! Clusters of embedded hosts for the tests: a local `nats-server` on a free
//! port of 127.0.0.1, and emulators as separate `craftos-host` processes
//! (one host per process, as one CraftOS-PC per process), each with its
//! own data folder naming the broker in `config/phoenix-events.json`.
//!
//! Where `nats-server` is not installed the tests print
//! `NOT RUN: 1 cluster test (…): nats-server not found` and return: they never pass silently
//! in CI, where `.ci/run` installs it.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{data_dir, host_binary, lua_test_source, plugin_path};

/// `nats-server` on PATH or in Debian's /usr/sbin.
pub fn nats_server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join(format!("nats-server{}", std::env::consts::EXE_SUFFIX)))
        .find(|candidate| candidate.is_file())
}

/// A free TCP port of 127.0.0.1 (free when asked).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `nats-server -js` on 127.0.0.1, stopped when dropped.
pub struct Nats {
    binary: PathBuf,
    pub port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl Nats {
    /// Starts one, or says why the test does not run.
    pub fn start(test: &str) -> Option<Nats> {
        let Some(binary) = nats_server_binary() else {
            super::not_run(
                1,
                &format!("cluster test ({test})"),
                "nats-server not found",
            );
            return None;
        };
        let mut nats = Nats {
            binary,
            port: free_port(),
            store: data_dir("nats"),
            child: None,
        };
        nats.restart();
        Some(nats)
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it (again) on the same port and waits until it accepts
    /// connections.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new(&self.binary)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.store);
    }
}

/// Lines a process printed, shared with the threads that read them.
#[derive(Default)]
struct Lines {
    lines: Mutex<Vec<String>>,
    grew: Condvar,
}

/// One emulator: a `craftos-host` process running a Lua program on its
/// computers, as node `node` of the cluster at `url`.
pub struct Emulator {
    pub node: u32,
    child: Child,
    output: Arc<Lines>,
    started: Instant,
}

impl Emulator {
    /// Starts node `node` with `computers`, each running the check library,
    /// `NODE = node` and `lua/tests/<program>`. `extra` is more of the
    /// `cluster` object (e.g. `"heartbeat_ms": 200`), `config` more
    /// top-level keys of the configuration (e.g. users).
    pub fn start(
        url: &str,
        node: u32,
        computers: &[i32],
        program: &str,
        extra: &str,
        config: &str,
    ) -> Emulator {
        let cluster = format!(r#""cluster": {{"url": "{url}", "node": {node}{extra}}}"#);
        let json = if config.is_empty() {
            format!("{{{cluster}}}")
        } else {
            format!("{{{cluster}, {config}}}")
        };
        Emulator::with_config(&json, node, computers, program)
    }

    /// The same with the whole configuration file given.
    pub fn with_config(json: &str, node: u32, computers: &[i32], program: &str) -> Emulator {
        let data = data_dir(&format!("node{node}"));
        std::fs::write(data.join("config/phoenix-events.json"), json).unwrap();
        let script = data.join("program.lua");
        let source = format!(
            "{}\nNODE = {node}\n{}",
            lua_test_source("lib/check.lua"),
            lua_test_source(program)
        );
        std::fs::write(&script, source).unwrap();
        let ids: Vec<String> = computers.iter().map(i32::to_string).collect();
        let mut child = Command::new(host_binary())
            .arg("--plugin")
            .arg(plugin_path())
            .arg("--data")
            .arg(&data)
            .arg("--computers")
            .arg(ids.join(","))
            .arg("--script")
            .arg(&script)
            .args(["--timeout", "240"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start craftos-host");
        let output = Arc::new(Lines::default());
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            let echo = std::env::var_os("PHOENIX_ECHO").is_some();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[node {node}] {line}");
                    }
                    output.lines.lock().unwrap().push(line);
                    output.grew.notify_all();
                }
            });
        }
        Emulator {
            node,
            child,
            output,
            started: Instant::now(),
        }
    }

    pub fn output(&self) -> Vec<String> {
        self.output.lines.lock().unwrap().clone()
    }

    /// Waits until a line containing `text` was printed; the time it took
    /// from now, or `None` after `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> Option<Duration> {
        let start = Instant::now();
        let deadline = start + timeout;
        let mut lines = self.output.lines.lock().unwrap();
        loop {
            if lines.iter().any(|l| l.contains(text)) {
                return Some(start.elapsed());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            lines = self
                .output
                .grew
                .wait_timeout(lines, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Like [`Emulator::wait_for`], failing the test with the output.
    pub fn expect(&self, text: &str, timeout: Duration) -> Duration {
        self.wait_for(text, timeout).unwrap_or_else(|| {
            panic!(
                "node {}: no line with {text:?} within {timeout:?} (running {:?})\n--- output ---\n{}",
                self.node,
                self.started.elapsed(),
                self.output().join("\n")
            )
        })
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to end by itself; its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Requires that every computer in `reporters` printed `done`, with no
    /// failed check and at least `min_checks` passed checks in all.
    pub fn expect_checks(&self, reporters: &[i32], min_checks: usize, timeout: Duration) {
        for id in reporters {
            self.expect(&format!("[{id}] done"), timeout);
        }
        let output = self.output();
        let failed: Vec<_> = output.iter().filter(|l| l.contains("] not ok")).collect();
        let passed = output.iter().filter(|l| l.contains("] ok ")).count();
        assert!(
            failed.is_empty() && passed >= min_checks,
            "node {}: passed={passed} (need {min_checks}) failed={failed:?}\n--- output ---\n{}",
            self.node,
            output.join("\n")
        );
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.kill();
    }
}
