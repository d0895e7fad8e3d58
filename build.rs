//! Builds the C++ half of the host adapter with the target platform's C++
//! toolchain (libstdc++ on Linux, libc++ on macOS, MSVC's STL on Windows: the
//! emulator's own), for the plugin ABI of the emulator the build is for
//! (feature `standard`: 12, `accelerated`: 11), and limits the plugin's
//! exports to the emulator's entry points whatever linker is used.
use std::env;
use std::fs;
use std::path::PathBuf;

/// The only symbols the plugin exports: what the emulator looks up.
const ENTRY_POINTS: [&str; 3] = ["plugin_init", "plugin_deinit", "luaopen_syscall"];

fn main() {
    println!("cargo:rerun-if-changed=src/host_adapter/shim.cpp");
    println!("cargo:rerun-if-changed=include/craftos_pc_abi.hpp");
    println!("cargo:rerun-if-changed=include/phoenix_shim.h");
    println!("cargo:rerun-if-env-changed=PHOENIX_CXX_WERROR");
    optional_test_inputs();
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    build_shim(&target_env);
    export_lua_from_test_executables(&os);
    match (os.as_str(), target_env.as_str()) {
        ("macos", _) => link_macos(),
        ("windows", "gnu") => link_windows_gnu(),
        // Linux: rustc's version script already keeps only the #[no_mangle]
        // entry points global. Windows MSVC: rustc's .def file exports them
        // alone, and the shim has no __declspec(dllexport).
        _ => {}
    }
}

fn build_shim(target_env: &str) {
    // CraftOS-PC v2.8 takes ABI 12; CraftOS-PC Accelerated v2.8 takes 11.
    let accelerated = env::var_os("CARGO_FEATURE_ACCELERATED").is_some();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .file("src/host_adapter/shim.cpp")
        .include("include")
        .define("PHOENIX_PLUGIN_ABI", if accelerated { "11" } else { "12" })
        .define("PHOENIX_ACCELERATED", if accelerated { "1" } else { "0" })
        .warnings(true)
        .extra_warnings(true)
        // CI sets it, so that a warning of any platform's compiler fails
        // there; users' other compiler versions only warn.
        .warnings_into_errors(env::var_os("PHOENIX_CXX_WERROR").is_some());
    if target_env == "msvc" {
        // Standard C++ exception handling (the shim catches everything
        // before it reaches the emulator); cc does not add it by itself.
        build.flag("/EHsc");
    } else {
        // Nothing of the shim is part of the plugin's surface.
        build.flag("-fvisibility=hidden");
        build.flag("-fvisibility-inlines-hidden");
    }
    build.compile("phoenix_shim");
}

/// Lua's symbols are the emulator's, bound when it loads the plugin; the
/// exported-symbols list is explicit so that zig's linker (cross-check)
/// exports no more than Apple's with rustc's own list.
fn link_macos() {
    let list = out_file("exported_symbols.txt");
    let names: String = ENTRY_POINTS.iter().map(|n| format!("_{n}\n")).collect();
    fs::write(&list, names).expect("write the exported-symbols list");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-undefined,dynamic_lookup");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,-exported_symbols_list,{}",
        list.display()
    );
}

/// A GNU-ABI DLL (a compile and link check of the Windows code): a .def
/// file, so that the linker exports the entry points alone instead of
/// every global symbol.
fn link_windows_gnu() {
    let def = out_file("exports.def");
    let names: String = ENTRY_POINTS.iter().map(|n| format!("    {n}\n")).collect();
    fs::write(&def, format!("EXPORTS\n{names}")).expect("write the .def file");
    println!("cargo:rustc-cdylib-link-arg={}", def.display());
}

fn out_file(name: &str) -> PathBuf {
    PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join(name)
}

/// The integration tests load the plugin into the embedded host
/// (craftos-host, which links its own Lua 5.2 whole): their executables must
/// export the Lua API to the plugin, as the emulator does. Only the tests:
/// the plugin itself never links Lua.
fn export_lua_from_test_executables(os: &str) {
    match os {
        "linux" => println!("cargo:rustc-link-arg-tests=-rdynamic"),
        "macos" => println!("cargo:rustc-link-arg-tests=-Wl,-export_dynamic"),
        _ => {} // Windows: the Lua API is lua52.dll's (see host/build.rs)
    }
}

/// The embedded-host tests of real libsystem (tests/libsystem.rs) are
/// ignored, and say why, unless PHOENIX_LIBSYSTEM names a folder of its
/// files (GPL-3.0: never vendored), so that they are never counted as passed
/// without running. (The real-emulator programs that need them say `NOT
/// RUN` instead, at run time.)
fn optional_test_inputs() {
    println!("cargo::rustc-check-cfg=cfg(phoenix_libsystem)");
    println!("cargo:rerun-if-env-changed=PHOENIX_LIBSYSTEM");
    if env::var_os("PHOENIX_LIBSYSTEM").is_some_and(|v| !v.is_empty()) {
        println!("cargo:rustc-cfg=phoenix_libsystem");
    }
}
