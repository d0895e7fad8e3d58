//! `plugin-inspect [--check] [--accelerated] [--extra-exports-known] FILE...`:
//! prints a built plugin's format, exports and imports. With `--check`, only
//! runs the plugin checks and prints each as PASS/FAIL; the exit status is
//! non-zero if any fails (or a file cannot be read). `--accelerated`: the
//! plugin is the build for CraftOS-PC Accelerated (LuaJIT's API, from
//! `luajit51.dll` on Windows), not the standard one (Lua 5.2, `lua52.dll`).
//! `--extra-exports-known`: the linker ignores export lists (zig's Mach-O
//! linker), so besides the entry points the toolchain's runtime symbols
//! (C++ operator new/delete, Rust's std) may be exported too; nothing else.
use craftos_host::artifact::{self, Variant};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str =
    "usage: plugin-inspect [--check] [--accelerated] [--extra-exports-known] FILE...";

fn main() -> ExitCode {
    let mut check = false;
    let mut exact = true;
    let mut variant = Variant::Standard;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "--extra-exports-known" => exact = false,
            "--accelerated" => variant = Variant::Accelerated,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for file in &files {
        failed |= !report(Path::new(file), check, exact, variant);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints one file; false if it cannot be read or a check fails.
/// Prints a line; a closed stdout (`| head`) just ends the output.
macro_rules! out {
    ($($arg:tt)*) => {
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(if cfg!(unix) { 141 } else { 1 });
        }
    };
}

fn report(path: &Path, check: bool, exact: bool, variant: Variant) -> bool {
    let artifacts = match artifact::inspect_all(path) {
        Ok(a) => a,
        Err(e) => {
            out!("FAIL {}: {e}", path.display());
            return false;
        }
    };
    let mut ok = true;
    for artifact in artifacts {
        if !check {
            out!("== {}", path.display());
            out!("{}", artifact.to_string().trim_end());
            continue;
        }
        let checks = if exact {
            artifact.plugin_checks_for(variant)
        } else {
            artifact.plugin_checks_ignoring_extra_exports(variant)
        };
        for c in checks {
            let verdict = if c.passed { "PASS" } else { "FAIL" };
            out!(
                "{verdict} {} [{:?} {}]: {} ({})",
                path.display(),
                artifact.format,
                artifact.architecture,
                c.name,
                c.detail
            );
            ok &= c.passed;
        }
    }
    ok
}
