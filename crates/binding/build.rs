//! Picks the waiting path of the top-level coroutine (see src/fast.rs):
//! `cfg(wait_in_lua)` when the Lua API has no continuations (LuaJIT) or a
//! test build asks for that path on Lua 5.2 (feature `wait-in-lua`).
use std::env;

fn main() {
    println!("cargo:rustc-check-cfg=cfg(wait_in_lua)");
    let enabled = |feature: &str| env::var_os(format!("CARGO_FEATURE_{feature}")).is_some();
    match (enabled("LUA52"), enabled("LUAJIT")) {
        (true, true) => {
            panic!("features `lua52` and `luajit` exclude each other: one plugin per emulator")
        }
        (false, false) => panic!(
            "enable one Lua API: feature `lua52` (standard CraftOS-PC) or `luajit` (Accelerated)"
        ),
        _ => {}
    }
    if enabled("LUAJIT") || enabled("WAIT_IN_LUA") {
        println!("cargo:rustc-cfg=wait_in_lua");
    }
}
