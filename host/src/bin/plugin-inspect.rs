//! `plugin-inspect FILE...`: prints a built plugin's format, exports and
//! imports. With `--check`, also runs the plugin checks and prints each as
//! PASS/FAIL; the exit status is non-zero if any fails (or a file cannot be
//! read).
use craftos_host::artifact;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut check = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("usage: plugin-inspect [--check] FILE...");
                return ExitCode::SUCCESS;
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        eprintln!("usage: plugin-inspect [--check] FILE...");
        return ExitCode::from(2);
    }
    let mut failed = false;
    for file in &files {
        failed |= !report(Path::new(file), check);
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints one file; false if it cannot be read or a check fails.
fn report(path: &Path, check: bool) -> bool {
    let artifacts = match artifact::inspect_all(path) {
        Ok(a) => a,
        Err(e) => {
            println!("FAIL {}: {e}", path.display());
            return false;
        }
    };
    let mut ok = true;
    for artifact in artifacts {
        println!("== {}", path.display());
        print!("{artifact}");
        if check {
            for c in artifact.plugin_checks() {
                let verdict = if c.passed { "PASS" } else { "FAIL" };
                println!(
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
    }
    ok
}
