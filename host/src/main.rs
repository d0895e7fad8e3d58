//! `craftos-host`: runs a Lua script on one or more computers of the embedded
//! CraftOS-PC host with a plugin loaded, like
//! `craftos --headless --plugin PATH --script FILE.lua`.

use craftos_host::{Host, HostConfig};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Ends the process at once: no atexit handlers and no static destructors,
/// not even a loaded plugin's (which may still own running threads).
fn exit_now(code: u8) -> ! {
    #[cfg(unix)]
    {
        extern "C" {
            fn _exit(status: std::ffi::c_int) -> !;
        }
        // SAFETY: _exit ends the process immediately; nothing runs after it.
        unsafe { _exit(code.into()) }
    }
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::Threading::{GetCurrentProcess, TerminateProcess};
        // SAFETY: ends this process without running DLL detach handlers
        // (which would run the plugin's static destructors, as ExitProcess
        // and _exit do on Windows).
        unsafe { TerminateProcess(GetCurrentProcess(), code.into()) };
        // TerminateProcess on the current process does not return.
        std::process::abort()
    }
}

const USAGE: &str = "usage: craftos-host --plugin PATH [--data DIR] [--computers 0,1,2] \
--script FILE.lua [--timeout SECS] [--quiet]";

struct Args {
    plugin: PathBuf,
    data: Option<PathBuf>,
    computers: Vec<i32>,
    script: PathBuf,
    timeout: Option<f64>,
    quiet: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut plugin = None;
    let mut data = None;
    let mut computers = vec![0];
    let mut script = None;
    let mut timeout = None;
    let mut quiet = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--plugin" => plugin = Some(PathBuf::from(value("--plugin")?)),
            "--data" => data = Some(PathBuf::from(value("--data")?)),
            "--script" => script = Some(PathBuf::from(value("--script")?)),
            "--computers" => {
                computers = value("--computers")?
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| {
                        s.trim()
                            .parse::<i32>()
                            .map_err(|e| format!("bad computer ID {s:?}: {e}"))
                    })
                    .collect::<Result<_, _>>()?;
                if computers.is_empty() {
                    return Err("--computers needs at least one ID".into());
                }
            }
            "--timeout" => {
                let v = value("--timeout")?;
                let secs: f64 = v.parse().map_err(|e| format!("bad timeout {v:?}: {e}"))?;
                if !(secs > 0.0 && secs.is_finite()) {
                    return Err(format!("bad timeout {v:?}"));
                }
                timeout = Some(secs);
            }
            "--quiet" => quiet = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        plugin: plugin.ok_or("--plugin is required")?,
        data,
        computers,
        script: script.ok_or("--script is required")?,
        timeout,
        quiet,
    })
}

fn fresh_temp_dir() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("craftos-host-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("craftos-host: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let program = match std::fs::read_to_string(&args.script) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("craftos-host: cannot read {}: {e}", args.script.display());
            return ExitCode::from(2);
        }
    };
    let (data_dir, temp) = match args.data {
        Some(d) => (d, false),
        None => match fresh_temp_dir() {
            Ok(d) => (d, true),
            Err(e) => {
                eprintln!("craftos-host: cannot create a data directory: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let host = match Host::load(HostConfig {
        plugin: args.plugin,
        data_dir: data_dir.clone(),
        echo: !args.quiet,
    }) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("craftos-host: {e}");
            return ExitCode::from(1);
        }
    };
    for &id in &args.computers {
        if let Err(e) = host.start_computer(id, &program) {
            eprintln!("craftos-host: cannot start computer {id}: {e}");
            return ExitCode::from(1);
        }
    }
    let started = Instant::now();
    loop {
        let ids = host.computer_ids();
        if ids.iter().all(|&id| !host.is_on(id)) {
            break;
        }
        if let Some(t) = args.timeout {
            if started.elapsed() >= Duration::from_secs_f64(t) {
                let on: Vec<i32> = ids.into_iter().filter(|&id| host.is_on(id)).collect();
                eprintln!("craftos-host: timeout after {t} s; computers still on: {on:?}");
                // A computer stuck in a busy loop could never be joined, and
                // exit() would run the static destructors of a plugin whose
                // threads still run (which can hang): leave at once, like
                // `timeout -s KILL` around the real emulator.
                use std::io::Write;
                let _ = std::io::stdout().flush();
                let _ = std::io::stderr().flush();
                exit_now(124)
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = host
        .computer_ids()
        .into_iter()
        .filter_map(|id| host.exit_code(id))
        .max()
        .unwrap_or(0);
    host.shutdown();
    if temp {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    ExitCode::from(code.clamp(0, 255) as u8)
}
