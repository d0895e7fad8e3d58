//! Library modules every computer can `require` without copying files:
//! `system.ipc` (Phoenix's libsystem IPC module, written for this plugin),
//! mounted read-only at `/rom/modules/main/system/` when a computer boots.
//!
//! The tree is built by the shim once, in `plugin_init` (before any
//! computer starts), and freed by it in `plugin_deinit`; the emulator only
//! borrows it. Mounts live in the emulator's `Computer` across reboots, and
//! it refuses an identical second mount: after a reboot the module is
//! simply still there.

use std::ffi::{c_char, c_int, CStr};

use super::RawComputer;

/// Where the modules appear in each computer's file system (`require`
/// searches `/rom/modules/main/?.lua`).
const MOUNT_POINT: &CStr = c"/rom/modules/main/system";

/// (file name, source) of each module under [`MOUNT_POINT`].
const MODULES: &[(&CStr, &str)] = &[(c"ipc.lua", include_str!("../../lua/system/ipc.lua"))];

extern "C" {
    fn phoenix_modules_add(name: *const c_char, data: *const c_char, length: usize) -> bool;
    fn phoenix_modules_mount(computer: *mut RawComputer, at: *const c_char) -> c_int;
}

/// Builds the module tree; called once, before any computer starts.
pub fn build() -> bool {
    MODULES.iter().all(|(name, source)| {
        // SAFETY: both pointers are valid for the call; the shim copies them.
        unsafe { phoenix_modules_add(name.as_ptr(), source.as_ptr().cast(), source.len()) }
    })
}

/// Mounts the modules on a booting computer. A refusal (already mounted
/// since an earlier boot) is the normal case after a reboot and says
/// nothing; only an error is reported.
///
/// # Safety
/// `computer` is the emulator's live `Computer`, on its own thread.
pub unsafe fn mount(computer: *mut RawComputer) {
    // SAFETY: guaranteed by the caller; the mount point is a static C string.
    if unsafe { phoenix_modules_mount(computer, MOUNT_POINT.as_ptr()) } < 0 {
        eprintln!("phoenix-events: system.ipc could not be mounted on this computer");
    }
}
