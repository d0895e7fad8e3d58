//! The files every computer gets without copying anything, mounted
//! read-only when it boots:
//! - `/rom/modules/main/system/ipc.lua`: `system.ipc` (libsystem's IPC
//!   module, written for this plugin), found by `require "system.ipc"`;
//! - `/rom/programs/phoenix-events/`: the shell programs `kill`, `ps` and
//!   `services`;
//! - `/rom/help/phoenix-events/`: their help pages, and `syscall`'s and
//!   `system.ipc`'s;
//! - `/rom/autorun/phoenix-events.lua`: run by the shell at start-up; puts
//!   the two folders on the shell's and help's paths and registers the
//!   programs' completion. It is a file mount, so the ROM's own
//!   `/rom/autorun` (and anything else in it) stays visible beside it.
//!
//! The trees are built by the shim once, in `plugin_init` (before any
//! computer starts), and freed by it in `plugin_deinit`; the emulator only
//! borrows them. Mounts live in the emulator's `Computer` across reboots,
//! and it refuses an identical second mount at the same place: after a
//! reboot everything is simply still there, once.

use std::ffi::{c_char, c_int, c_uint, CStr};

use super::RawComputer;

/// What is mounted at one place: a folder of files, or a single file.
enum Tree {
    Folder(&'static [(&'static CStr, &'static str)]),
    File(&'static str),
}

/// Every mount, in the order they are made (the autorun file last: it
/// names the folders).
const MOUNTS: &[(&CStr, Tree)] = &[
    (
        c"/rom/modules/main/system",
        Tree::Folder(&[(c"ipc.lua", include_str!("../../lua/system/ipc.lua"))]),
    ),
    (
        c"/rom/programs/phoenix-events",
        Tree::Folder(&[
            (c"kill.lua", include_str!("../../lua/programs/kill.lua")),
            (c"ps.lua", include_str!("../../lua/programs/ps.lua")),
            (
                c"services.lua",
                include_str!("../../lua/programs/services.lua"),
            ),
        ]),
    ),
    (
        c"/rom/help/phoenix-events",
        Tree::Folder(&[
            (c"kill.txt", include_str!("../../lua/help/kill.txt")),
            (c"ps.txt", include_str!("../../lua/help/ps.txt")),
            (c"services.txt", include_str!("../../lua/help/services.txt")),
            (c"syscall.txt", include_str!("../../lua/help/syscall.txt")),
            (
                c"system.ipc.txt",
                include_str!("../../lua/help/system.ipc.txt"),
            ),
        ]),
    ),
    (
        c"/rom/autorun/phoenix-events.lua",
        Tree::File(include_str!("../../lua/autorun/phoenix-events.lua")),
    ),
];

/// The shim holds this many trees (`kPhoenixTrees` in `phoenix_shim.h`).
const SHIM_TREES: usize = 8;
const _: () = assert!(
    MOUNTS.len() <= SHIM_TREES,
    "raise kPhoenixTrees in the shim"
);

extern "C" {
    fn phoenix_tree_add(
        tree: c_uint,
        name: *const c_char,
        data: *const c_char,
        length: usize,
    ) -> bool;
    fn phoenix_tree_mount(computer: *mut RawComputer, tree: c_uint, at: *const c_char) -> c_int;
}

/// Builds every tree; called once, before any computer starts. False when
/// memory ran out (the computers then get what could be built).
pub fn build() -> bool {
    MOUNTS.iter().enumerate().all(|(index, (_, tree))| {
        let index = index as c_uint;
        // SAFETY: the pointers are valid for the call (a null name makes
        // the tree itself the file); the shim copies the bytes.
        unsafe {
            match tree {
                Tree::Folder(files) => files.iter().all(|(name, source)| {
                    phoenix_tree_add(index, name.as_ptr(), source.as_ptr().cast(), source.len())
                }),
                Tree::File(source) => phoenix_tree_add(
                    index,
                    std::ptr::null(),
                    source.as_ptr().cast(),
                    source.len(),
                ),
            }
        }
    })
}

/// Mounts every tree on a booting computer. A refusal (already mounted
/// since an earlier boot) is the normal case after a reboot and says
/// nothing; only an error is reported.
///
/// # Safety
/// `computer` is the emulator's live `Computer`, on its own thread.
pub unsafe fn mount(computer: *mut RawComputer) {
    for (index, (at, _)) in MOUNTS.iter().enumerate() {
        // SAFETY: guaranteed by the caller; the mount point is a static C
        // string; the shim checks the tree index.
        if unsafe { phoenix_tree_mount(computer, index as c_uint, at.as_ptr()) } < 0 {
            eprintln!(
                "phoenix-events: {} could not be mounted on this computer",
                at.to_string_lossy()
            );
        }
    }
}
