//! `plugin_init` facing an emulator of another plugin ABI — a Windows Debug
//! build (100012) or another release line — must answer so that the emulator
//! rejects it on `abi_version` alone, before it reads any C++ string of ours
//! (whose layout such an emulator may not share), and must start nothing.
//!
//! Its own test program: the plugin's globals are process-wide, so no other
//! host may run beside these calls.
#![cfg(unix)]
mod support;

use std::ffi::c_void;
use support::plugin_path;

type PluginInit = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut c_void;
type PluginDeinit = unsafe extern "C" fn(*mut c_void);

/// A `PluginFunctions` of which only the first field may be read: every
/// other word is NULL, so touching one would crash the test.
#[repr(C)]
struct OnlyAbiVersion {
    abi_version: u32,
    rest: [usize; 40],
}

fn answer_to(abi_version: u32) -> u32 {
    // SAFETY: loads the plugin lazily (its Lua symbols stay unbound: none is
    // called on this path) and calls its entry points with their C ABI.
    unsafe {
        let library = libloading::os::unix::Library::open(
            Some(plugin_path()),
            libloading::os::unix::RTLD_LAZY | libloading::os::unix::RTLD_LOCAL,
        )
        .expect("the plugin loads");
        let init: libloading::os::unix::Symbol<PluginInit> = library.get(b"plugin_init").unwrap();
        let deinit: libloading::os::unix::Symbol<PluginDeinit> =
            library.get(b"plugin_deinit").unwrap();
        let functions = OnlyAbiVersion {
            abi_version,
            rest: [0; 40],
        };
        let info = init(std::ptr::addr_of!(functions).cast(), std::ptr::null());
        assert!(!info.is_null(), "the emulator dereferences the answer");
        let answered = *info.cast::<u32>();
        // The emulator hands a rejected plugin's info back to plugin_deinit.
        deinit(info);
        answered
    }
}

#[test]
fn an_emulator_of_another_abi_rejects_the_plugin_without_reading_its_strings() {
    for host_abi in [100_012, 13, 10, 0] {
        assert_eq!(answer_to(host_abi), 12, "facing ABI {host_abi}");
    }
}
