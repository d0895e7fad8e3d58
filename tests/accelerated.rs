//! The build for CraftOS-PC Accelerated, as a file: it exports exactly the
//! entry points, binds LuaJIT's API (from `luajit51.dll` on Windows), every
//! Lua function it needs is one the Windows import list names, and it
//! answers plugin ABI 11 to an emulator of any other ABI without reading
//! its strings. (Its behaviour is tested in the real Accelerated emulator,
//! tests/real_emulator.rs: the embedded host runs Lua 5.2.)
//!
//! ci/test builds it (ci/common.sh `cargo_variant accelerated build`);
//! without it these tests say NOT RUN.
mod support;

use std::path::PathBuf;

use craftos_host::artifact::{self, Variant};
use phoenix_events_binding::luajit_imports::LUAJIT_API;
use support::*;

fn plugin(checks: usize) -> Option<PathBuf> {
    let path = accelerated_plugin_path();
    if path.is_none() {
        not_run(
            checks,
            "checks of the Accelerated plugin",
            "build it first (ci/test does)",
        );
    }
    path
}

#[test]
fn the_accelerated_plugin_exports_only_the_entry_points_and_binds_luajit() {
    let Some(path) = plugin(6) else { return };
    let plugin = artifact::inspect(&path).expect("the plugin is a readable library");
    assert_eq!(plugin.own_exports(), artifact::ENTRY_POINTS);
    for check in plugin.plugin_checks_for(Variant::Accelerated) {
        assert!(check.passed, "{}: {}", check.name, check.detail);
    }
    // And it is not mistaken for the standard build.
    let standard = plugin.plugin_checks_for(Variant::Standard);
    assert!(standard.iter().any(|c| !c.passed), "{standard:?}");
}

#[test]
fn every_lua_function_the_accelerated_plugin_needs_is_in_the_windows_import_list() {
    let Some(path) = plugin(1) else { return };
    let plugin = artifact::inspect(&path).expect("the plugin is a readable library");
    let missing: Vec<&str> = plugin
        .lua_imports()
        .iter()
        .map(|i| i.name.as_str())
        .filter(|name| !LUAJIT_API.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "crates/binding/src/luajit_imports.rs does not name {missing:?}: \
         the Windows build would not import them from luajit51.dll"
    );
}

/// Stand-ins for the functions LuaJIT has and Lua 5.2 has not: the loader
/// binds function addresses the plugin takes at load time, even lazily, and
/// this process has only the embedded host's Lua 5.2. Never called: the
/// plugin's answer to another ABI calls no Lua.
#[cfg(target_os = "linux")]
mod luajit_stand_ins {
    macro_rules! stand_ins {
        ($($name:ident)*) => {
            $(
                #[no_mangle]
                pub extern "C" fn $name() {
                    std::process::abort()
                }
            )*
        };
    }
    stand_ins! {
        luaL_findtable luaL_loadbuffer luaL_loadfile luaL_prepbuffer luaL_register
        luaL_typerror lua_call lua_cpcall lua_equal lua_getfenv lua_lessthan lua_loadx
        lua_objlen lua_pcall lua_setfenv lua_tointeger lua_tonumber lua_yield
    }
}

/// Loads the plugin lazily (its LuaJIT functions stay unbound: this
/// process has Lua 5.2) and asks for its answer to an emulator of
/// `abi_version` whose interface holds nothing else, then hands the answer
/// back as the emulator does.
#[cfg(target_os = "linux")]
fn answer_to(path: &std::path::Path, abi_version: u32) -> u32 {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL};
    use std::ffi::c_void;
    type PluginInit = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut c_void;
    type PluginDeinit = unsafe extern "C" fn(*mut c_void);
    #[repr(C)]
    struct OnlyAbiVersion {
        abi_version: u32,
        rest: [usize; 40],
    }
    // SAFETY: plugin_init and plugin_deinit have these C ABIs and call no
    // Lua; the interface's other words are NULL, so reading one would crash.
    unsafe {
        let library = Library::open(Some(path), RTLD_LAZY | RTLD_LOCAL).expect("the plugin loads");
        let init = library.get::<PluginInit>(b"plugin_init").unwrap();
        let deinit = library.get::<PluginDeinit>(b"plugin_deinit").unwrap();
        let functions = OnlyAbiVersion {
            abi_version,
            rest: [0; 40],
        };
        let info = init(std::ptr::addr_of!(functions).cast(), std::ptr::null());
        assert!(!info.is_null(), "the emulator dereferences the answer");
        let answered = *info.cast::<u32>();
        deinit(info);
        answered
    }
}

#[cfg(target_os = "linux")]
#[test]
fn an_emulator_of_another_abi_rejects_the_accelerated_plugin_without_reading_its_strings() {
    let Some(path) = plugin(5) else { return };
    // The standard CraftOS-PC (12), Accelerated's Debug build (100011),
    // and others.
    for host_abi in [12, 100_011, 13, 10, 0] {
        assert_eq!(answer_to(&path, host_abi), 11, "facing ABI {host_abi}");
    }
}
