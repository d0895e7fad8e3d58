//! `plugin_init` facing an emulator of another plugin ABI — a Windows Debug
//! build (100012) or another release line — must answer so that the emulator
//! rejects it on `abi_version` alone, before it reads any C++ string of ours
//! (whose layout such an emulator may not share), and must disturb nothing:
//! here the plugin is already running in the embedded host, and keeps
//! working after the rejected answers are handed back to `plugin_deinit`.
mod support;

use std::ffi::c_void;
use support::*;

type PluginInit = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut c_void;
type PluginDeinit = unsafe extern "C" fn(*mut c_void);

/// A `PluginFunctions` of which only the first field may be read: every
/// other word is NULL, so calling through one would crash the test.
#[repr(C)]
struct OnlyAbiVersion {
    abi_version: u32,
    rest: [usize; 40],
}

/// What the plugin answers in `PluginInfo::abi_version` to an emulator of
/// `abi_version` (then hands the answer back, as the emulator does).
fn answer_to(abi_version: u32) -> u32 {
    // SAFETY: the plugin is already loaded by the host (so this is the same
    // library, its Lua symbols bound); its entry points have these C ABIs.
    unsafe {
        let library = libloading::Library::new(plugin_path()).expect("the plugin loads");
        let init: libloading::Symbol<PluginInit> = library.get(b"plugin_init").unwrap();
        let deinit: libloading::Symbol<PluginDeinit> = library.get(b"plugin_deinit").unwrap();
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

#[test]
fn an_emulator_of_another_abi_rejects_the_plugin_without_reading_its_strings() {
    let host = TestHost::new("abi", None);
    for host_abi in [100_012, 13, 10, 0] {
        assert_eq!(answer_to(host_abi), 12, "facing ABI {host_abi}");
    }
    // The running plugin was not stopped by those rejected answers.
    host.start(3, r#"print("pid=" .. syscall.getpid())"#);
    let line = host.host().wait_for_line(3, "pid=", 10 * SECOND);
    assert_eq!(line.as_deref(), Some("pid=3"));
}
