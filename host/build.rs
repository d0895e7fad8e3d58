//! Builds the host's own Lua 5.2.4 (the sources the `lua-src` crate ships)
//! and exposes its C API to loaded plugins the way each platform's emulator
//! does; builds the C++ half of the host (src/emulator.cpp); and builds the
//! throw-away test plugins of tests/fixtures/ (linked like a real CraftOS-PC
//! plugin: Lua symbols left to the host on Linux and macOS, imported from
//! `lua52.dll` on Windows).
//!
//! - Linux, macOS: a static `liblua52.a` linked whole (`+whole-archive`,
//!   `-force_load` on macOS) into every executable of this package, which
//!   exports its symbols (`-rdynamic` / `-export_dynamic`), so that a plugin
//!   opened with `RTLD_NOW | RTLD_LOCAL` binds its `lua_*` symbols to them.
//!   The root package's tests link this host too: its build script adds the
//!   same export flag for its tests.
//! - Windows: `lua52.dll` (and its import library), copied beside every
//!   executable of the build (`target/<profile>/` and `deps/`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The Lua version the sources of `lua-src` are taken from.
const LUA_DIR: &str = "lua-5.2.4";
/// The library's name: `lua52.dll` on Windows, as CraftOS-PC ships it.
const LUA_LIB: &str = "lua52";

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

/// The target as the build script sees it.
struct Target {
    triple: String,
    os: String,
    msvc: bool,
    out: PathBuf,
}

impl Target {
    fn from_env() -> Target {
        let var = |k: &str| env::var(k).unwrap_or_else(|_| panic!("{k} is not set"));
        Target {
            triple: var("TARGET"),
            os: var("CARGO_CFG_TARGET_OS"),
            msvc: var("CARGO_CFG_TARGET_ENV") == "msvc",
            out: PathBuf::from(var("OUT_DIR")),
        }
    }

    fn windows(&self) -> bool {
        self.os == "windows"
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let include = manifest.join("../include");
    println!("cargo:rerun-if-changed=src/emulator.cpp");
    println!("cargo:rerun-if-changed=../include/craftos_pc_abi.hpp");
    println!("cargo:rerun-if-changed=tests/fixtures/test_plugin.cpp");
    println!("cargo:rerun-if-changed=build.rs");

    let target = Target::from_env();
    let lua_src = lua_source_dir(&manifest);
    build_lua(&target, &lua_src);

    let mut emulator = cc::Build::new();
    emulator.cpp(true).std("c++17").include(&include);
    if emulator.get_compiler().is_like_msvc() {
        // Standard C++ exceptions: the host catches what plugins throw.
        emulator.flag("/EHsc").flag("/W3");
    } else {
        emulator.flags(["-Wall", "-Wextra", "-Wno-unused-parameter"]);
    }
    emulator
        .file("src/emulator.cpp")
        .compile("craftos_host_emulator");

    build_fixtures(
        &target,
        &manifest.join("tests/fixtures/test_plugin.cpp"),
        &include,
        &lua_src,
    );
}

/// Where the `lua-src` dependency keeps the Lua 5.2 sources (its crate
/// exposes no path, so ask Cargo where the package is).
fn lua_source_dir(manifest: &Path) -> PathBuf {
    // Offline first: every package of a normal build is downloaded already.
    // A build of this package alone (`-p craftos-host`) may lack the other
    // workspace members' dependencies: then let Cargo fetch them.
    let metadata = cargo_metadata(manifest, true).unwrap_or_else(|offline| {
        cargo_metadata(manifest, false)
            .unwrap_or_else(|online| panic!("cargo metadata failed: {offline}\n{online}"))
    });
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "lua-src")
        .expect("the lua-src package in cargo metadata");
    let lua_src_manifest = package["manifest_path"]
        .as_str()
        .expect("lua-src manifest_path");
    let dir = Path::new(lua_src_manifest)
        .parent()
        .expect("lua-src directory")
        .join(LUA_DIR);
    assert!(dir.join("lua.h").exists(), "{} has no lua.h", dir.display());
    dir
}

/// The workspace's packages for the platform this build script runs on
/// (where build dependencies are resolved).
fn cargo_metadata(manifest: &Path, offline: bool) -> Result<serde_json::Value, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let host = env::var("HOST").expect("HOST is not set");
    let mut cmd = Command::new(cargo);
    cmd.args(["metadata", "--format-version", "1"])
        .args(["--filter-platform", &host, "--manifest-path"])
        .arg(manifest.join("Cargo.toml"));
    if offline {
        cmd.arg("--offline");
    }
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata output: {e}"))
}

/// Compiles Lua with its own flags (as its makefile does: `LUA_COMPAT_ALL`
/// and the platform's `LUA_USE_*`) and links it the platform's way.
fn build_lua(target: &Target, src: &Path) {
    let mut build = cc::Build::new();
    build
        .include(src)
        .define("LUA_COMPAT_ALL", None)
        .warnings(false)
        .cargo_metadata(false)
        .out_dir(target.out.join("lua"));
    match target.os.as_str() {
        "linux" => build.define("LUA_USE_LINUX", None),
        "macos" => build.define("LUA_USE_MACOSX", None),
        "windows" => build.define("LUA_BUILD_AS_DLL", None),
        _ => build.define("LUA_USE_POSIX", None),
    };
    let mut sources: Vec<PathBuf> = std::fs::read_dir(src)
        .expect("read the Lua sources")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    build.files(&sources);
    println!(
        "cargo:rustc-link-search=native={}",
        target.out.join("lua").display()
    );
    if target.windows() {
        link_lua_dll(target, &build);
    } else {
        link_lua_exported(target, &build);
    }
}

/// Linux and macOS: the whole static library in every executable, exported.
fn link_lua_exported(target: &Target, build: &cc::Build) {
    build.compile(LUA_LIB);
    println!("cargo:rustc-link-lib=static:+whole-archive={LUA_LIB}");
    if target.os == "linux" {
        // loadlib.c (LUA_USE_DLOPEN) calls dlopen.
        println!("cargo:rustc-link-lib=dylib=dl");
    }
    let export = export_dynamic_flag(&target.os);
    println!("cargo:rustc-link-arg-bins={export}");
    println!("cargo:rustc-link-arg-tests={export}");
}

/// The linker flag that puts an executable's symbols in its dynamic symbol
/// table (and keeps them from being garbage-collected).
fn export_dynamic_flag(os: &str) -> &'static str {
    if os == "macos" || os == "ios" {
        "-Wl,-export_dynamic"
    } else {
        "-rdynamic"
    }
}

/// Windows: `lua52.dll` plus its import library, linked by name.
fn link_lua_dll(target: &Target, build: &cc::Build) {
    let dir = target.out.join("lua");
    let objects = build.compile_intermediates();
    let dll = dir.join(format!("{LUA_LIB}.dll"));
    let mut link = if target.msvc {
        let mut link = cc::windows_registry::find(&target.triple, "link.exe")
            .expect("link.exe of the MSVC tools");
        link.arg("/NOLOGO")
            .arg("/DLL")
            .arg(format!("/OUT:{}", dll.display()))
            .arg(format!(
                "/IMPLIB:{}",
                dir.join(format!("{LUA_LIB}.lib")).display()
            ));
        link
    } else {
        // A GNU toolchain (MinGW): the compiler driver links the DLL.
        let mut link = build.get_compiler().to_command();
        link.arg("-shared").arg("-o").arg(&dll).arg(format!(
            "-Wl,--out-implib,{}",
            dir.join(format!("lib{LUA_LIB}.dll.a")).display()
        ));
        link
    };
    let status = link
        .args(&objects)
        .status()
        .expect("run the linker for lua52.dll");
    assert!(status.success(), "linking {} failed", dll.display());
    println!("cargo:rustc-link-lib=dylib={LUA_LIB}");
    copy_beside_executables(target, &dll);
}

/// Copies `file` into `target/<profile>/` and `target/<profile>/deps/`,
/// where Cargo puts the executables that load plugins (the host program and
/// the test binaries), so that Windows finds it when they start.
fn copy_beside_executables(target: &Target, file: &Path) {
    // OUT_DIR is target/<profile>/build/<package>-<hash>/out.
    let Some(profile_dir) = target.out.ancestors().nth(3) else {
        return;
    };
    let name = file.file_name().expect("a file name");
    for dir in [profile_dir.to_path_buf(), profile_dir.join("deps")] {
        std::fs::create_dir_all(&dir).expect("create the executables' directory");
        std::fs::copy(file, dir.join(name))
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", file.display(), dir.display()));
    }
}

/// What every fixture plugin is built from.
struct FixtureInputs<'a> {
    source: &'a Path,
    /// The plugin interface's headers and Lua's.
    includes: [&'a Path; 2],
    /// Where lua52.lib is (Windows).
    lua_lib_dir: PathBuf,
}

/// The fixture plugins, compiled two at a time (the machine has two cores).
fn build_fixtures(target: &Target, source: &Path, include: &Path, lua_src: &Path) {
    let out = target.out.join("fixtures");
    std::fs::create_dir_all(&out).expect("create fixtures dir");
    let inputs = FixtureInputs {
        source,
        includes: [include, lua_src],
        lua_lib_dir: target.out.join("lua"),
    };
    let compiler = cc::Build::new().cpp(true).get_compiler();
    let mut children: Vec<(Child, &str)> = Vec::new();
    for (stem, defines) in FIXTURES {
        let file = out.join(format!("{stem}.{}", plugin_suffix(&target.os)));
        let mut cmd = compiler.to_command();
        if compiler.is_like_msvc() {
            msvc_fixture(&mut cmd, &inputs, defines, &file);
        } else {
            gnu_fixture(&mut cmd, target, &inputs, defines, &file);
        }
        if children.len() >= 2 {
            let (child, stem) = children.remove(0);
            wait_fixture(child, stem);
        }
        let child = cmd.spawn().expect("spawn C++ compiler for test fixture");
        children.push((child, *stem));
    }
    for (child, stem) in children {
        wait_fixture(child, stem);
    }
    println!("cargo:rustc-env=CRAFTOS_HOST_FIXTURES={}", out.display());
    println!(
        "cargo:rustc-env=CRAFTOS_HOST_FIXTURE_SUFFIX={}",
        plugin_suffix(&target.os)
    );
}

fn plugin_suffix(os: &str) -> &'static str {
    match os {
        "windows" => "dll",
        "macos" | "ios" => "dylib",
        _ => "so",
    }
}

/// cl.exe: a DLL that imports the Lua API from lua52.dll, as a real plugin.
fn msvc_fixture(cmd: &mut Command, inputs: &FixtureInputs, defines: &[&str], file: &Path) {
    cmd.args(["/nologo", "/LD", "/EHsc", "/std:c++17", "/Od", "/W3"])
        .arg("/DLUA_BUILD_AS_DLL");
    for dir in inputs.includes {
        cmd.arg("/I").arg(dir);
    }
    for d in defines {
        cmd.arg(format!("/D{d}"));
    }
    cmd.arg(format!("/Fo{}", file.with_extension("obj").display()))
        .arg(format!("/Fe{}", file.display()))
        .arg(inputs.source)
        .arg("/link")
        .arg(format!("/LIBPATH:{}", inputs.lua_lib_dir.display()))
        .arg(format!("{LUA_LIB}.lib"));
}

/// GCC or Clang: the Lua symbols are left undefined for the host (Linux),
/// bound when the plugin is loaded (macOS), imported from lua52.dll (MinGW).
fn gnu_fixture(
    cmd: &mut Command,
    target: &Target,
    inputs: &FixtureInputs,
    defines: &[&str],
    file: &Path,
) {
    cmd.args(["-std=c++17", "-shared", "-O0", "-g0", "-Wall"]);
    for dir in inputs.includes {
        cmd.arg("-I").arg(dir);
    }
    for d in defines {
        cmd.arg(format!("-D{d}"));
    }
    cmd.arg(inputs.source).arg("-o").arg(file);
    match target.os.as_str() {
        "macos" | "ios" => {
            cmd.arg("-Wl,-undefined,dynamic_lookup");
        }
        "windows" => {
            cmd.arg("-DLUA_BUILD_AS_DLL")
                .arg("-L")
                .arg(&inputs.lua_lib_dir)
                .arg(format!("-l{LUA_LIB}"));
        }
        _ => {
            cmd.args(["-fPIC", "-pthread"]);
        }
    }
}

fn wait_fixture(mut child: Child, stem: &str) {
    let status = child.wait().expect("wait for C++ compiler");
    assert!(status.success(), "building test fixture {stem} failed");
}
