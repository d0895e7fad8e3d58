//! Builds the C++ half of the host (src/emulator.cpp), links the shared Lua
//! 5.2 the plugins bind to, and builds the throw-away test plugins of
//! tests/fixtures/ (shared objects whose Lua symbols stay unresolved, exactly
//! like a real CraftOS-PC plugin).

use std::path::{Path, PathBuf};
use std::process::Command;

/// (file stem, extra preprocessor definitions) of each fixture plugin.
const FIXTURES: &[(&str, &[&str])] = &[
    ("libtp_main", &["TP_MAIN"]),
    ("libtp_badabi", &["TP_BAD_ABI"]),
    ("libtp_badstruct", &["TP_BAD_STRUCT"]),
    ("libtp_fail", &["TP_FAIL"]),
    ("libtp_throw", &["TP_THROW"]),
    ("libtp_stem", &["TP_STEM"]),
    ("libtp_noopener", &["TP_NO_OPENER"]),
    ("libtp_raise", &["TP_RAISE"]),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let include = manifest.join("../include");
    println!("cargo:rerun-if-changed=src/emulator.cpp");
    println!("cargo:rerun-if-changed=../include/craftos_pc_abi.hpp");
    println!("cargo:rerun-if-changed=tests/fixtures/test_plugin.cpp");
    println!("cargo:rerun-if-changed=build.rs");

    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(&include)
        .flag_if_supported("-Wall")
        .flag_if_supported("-Wextra")
        .flag_if_supported("-Wno-unused-parameter")
        .file("src/emulator.cpp")
        .compile("craftos_host_emulator");

    // The shared liblua5.2: the executable's dependency, loaded in global
    // scope, which is what the plugin's unresolved lua_* symbols bind to.
    println!("cargo:rustc-link-lib=dylib=lua5.2");

    build_fixtures(&manifest, &include);
}

fn build_fixtures(manifest: &Path, include: &Path) {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("fixtures");
    std::fs::create_dir_all(&out).expect("create fixtures dir");
    let compiler = cc::Build::new().cpp(true).get_compiler();
    let source = manifest.join("tests/fixtures/test_plugin.cpp");
    let mut children = Vec::new();
    for (stem, defines) in FIXTURES {
        let target = out.join(format!("{stem}.so"));
        let mut cmd = Command::new(compiler.path());
        cmd.arg("-std=c++17")
            .arg("-shared")
            .arg("-fPIC")
            .arg("-O0")
            .arg("-g0")
            .arg("-Wall")
            .arg("-I")
            .arg(include)
            .arg("-I/usr/include/lua5.2");
        for d in *defines {
            cmd.arg(format!("-D{d}"));
        }
        cmd.arg(&source).arg("-o").arg(&target).arg("-pthread");
        // Two at a time: the machine has two cores.
        if children.len() >= 2 {
            let (c, s): (std::process::Child, &str) = children.remove(0);
            wait_fixture(c, s);
        }
        let child = cmd.spawn().expect("spawn C++ compiler for test fixture");
        children.push((child, *stem));
    }
    for (c, s) in children {
        wait_fixture(c, s);
    }
    println!("cargo:rustc-env=CRAFTOS_HOST_FIXTURES={}", out.display());
}

fn wait_fixture(mut child: std::process::Child, stem: &str) {
    let status = child.wait().expect("wait for C++ compiler");
    assert!(status.success(), "building test fixture {stem} failed");
}
