//! Builds the C++ half of the host adapter with the platform's C++ compiler.
fn main() {
    println!("cargo:rerun-if-changed=src/host_adapter/shim.cpp");
    println!("cargo:rerun-if-changed=include/craftos_pc_abi.hpp");
    println!("cargo:rerun-if-changed=include/phoenix_shim.h");
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("src/host_adapter/shim.cpp")
        .include("include")
        .warnings(true)
        .extra_warnings(true)
        .compile("phoenix_shim");
    export_lua_from_test_executables();
}

/// The integration tests load the plugin into the embedded host
/// (craftos-host, which links its own Lua 5.2 whole): their executables must
/// export the Lua API to the plugin, as the emulator does. Only the tests:
/// the plugin itself never links Lua.
fn export_lua_from_test_executables() {
    match std::env::var("CARGO_CFG_TARGET_OS").as_deref() {
        Ok("linux") => println!("cargo:rustc-link-arg-tests=-rdynamic"),
        Ok("macos") => println!("cargo:rustc-link-arg-tests=-Wl,-export_dynamic"),
        _ => {} // Windows: the Lua API is lua52.dll's (see host/build.rs)
    }
}
