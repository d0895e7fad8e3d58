//! The read-only file system of the host's computers: what plugins mounted
//! with `addVirtualMount` (the trees live in `emulator.cpp`). Two natives,
//! handed to the BIOS in the global `_HOST_VFS` (which it removes); the
//! BIOS builds CraftOS's `fs` functions and `require` on them.

use std::ffi::{c_char, c_int, c_void};

use crate::emu::{Computer, HcString};
use crate::lua_ffi::{self as lua, lua_State};

extern "C" {
    fn hc_vfs_stat(
        comp: *const Computer,
        path: *const c_char,
        len: usize,
        data: *mut HcString,
    ) -> c_int;
    fn hc_vfs_list(
        comp: *const Computer,
        path: *const c_char,
        len: usize,
        names: *mut HcString,
    ) -> c_int;
}

/// Sets the global `_HOST_VFS = {stat = ..., list = ...}`.
///
/// # Safety
/// `l` is a computer's main state, on its thread.
pub(crate) unsafe fn install(l: *mut lua_State) {
    // SAFETY: valid state per the caller; balanced stack operations.
    unsafe {
        lua::lua_createtable(l, 0, 2);
        lua::lua_pushcfunction(l, vfs_stat);
        lua::lua_setfield(l, -2, c"stat".as_ptr());
        lua::lua_pushcfunction(l, vfs_list);
        lua::lua_setfield(l, -2, c"list".as_ptr());
        lua::lua_setglobal(l, c"_HOST_VFS".as_ptr());
    }
}

/// The computer (registry slot 1, as the emulator's `get_comp`) and the
/// string argument 1, if it is one.
///
/// # Safety
/// `l` is a thread of a computer's state, on its thread.
unsafe fn args(l: *mut lua_State) -> Option<(*const Computer, *const c_char, usize)> {
    // SAFETY: valid state; the slot is read and popped again; the string
    // stays on the stack (argument 1) while the caller uses it.
    unsafe {
        if lua::lua_type(l, 1) != lua::LUA_TSTRING {
            return None;
        }
        let mut len = 0;
        let path = lua::lua_tolstring(l, 1, &mut len);
        lua::lua_rawgeti(l, lua::LUA_REGISTRYINDEX, lua::LUA_RIDX_MAINTHREAD);
        let comp = if lua::lua_type(l, -1) == lua::LUA_TLIGHTUSERDATA {
            lua::lua_touserdata(l, -1).cast_const().cast::<Computer>()
        } else {
            std::ptr::null()
        };
        lua::lua_pop(l, 1);
        (!comp.is_null()).then_some((comp, path, len))
    }
}

/// Pushes the bytes of a malloc'd string and frees it.
///
/// # Safety
/// `s` was filled by emulator.cpp (or is empty); `l` has a free slot.
unsafe fn push_owned(l: *mut lua_State, s: HcString) {
    // SAFETY: `s.ptr` holds `s.len` bytes; Lua copies them before the free.
    unsafe {
        lua::lua_pushlstring(l, s.ptr, s.len);
        crate::emu::hc_free(s.ptr.cast::<c_void>());
    }
}

/// `stat(path)` -> nil | "dir" | "file", contents.
unsafe extern "C" fn vfs_stat(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua on the computer's thread.
    let Some((comp, path, len)) = (unsafe { args(l) }) else {
        return 0;
    };
    let mut data = HcString {
        ptr: std::ptr::null_mut(),
        len: 0,
    };
    // SAFETY: `path` has `len` bytes (argument 1 on the stack); `comp` is
    // this computer, alive while its Lua code runs.
    match unsafe { hc_vfs_stat(comp, path, len, &mut data) } {
        // SAFETY: two free stack slots are guaranteed to a C function.
        1 => unsafe {
            lua::push_str(l, "file");
            push_owned(l, data);
            2
        },
        // SAFETY: as above.
        2 => unsafe {
            lua::push_str(l, "dir");
            1
        },
        _ => 0,
    }
}

/// `list(path)` -> a sorted array of names, or nil if not a directory.
unsafe extern "C" fn vfs_list(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua on the computer's thread.
    let Some((comp, path, len)) = (unsafe { args(l) }) else {
        return 0;
    };
    let mut names = HcString {
        ptr: std::ptr::null_mut(),
        len: 0,
    };
    // SAFETY: as in vfs_stat.
    let count = unsafe { hc_vfs_list(comp, path, len, &mut names) };
    if count < 0 {
        return 0;
    }
    // SAFETY: `names` holds `names.len` bytes from emulator.cpp; copied into
    // Lua strings, then freed once.
    unsafe {
        let bytes = std::slice::from_raw_parts(names.ptr.cast::<u8>(), names.len);
        lua::lua_createtable(l, count, 0);
        if lua::lua_checkstack(l, 1) != 0 {
            for (i, name) in bytes
                .split(|&b| b == 0)
                .filter(|n| !n.is_empty())
                .enumerate()
            {
                lua::lua_pushlstring(l, name.as_ptr().cast(), name.len());
                lua::lua_rawseti(l, -2, i as c_int + 1);
            }
        }
        crate::emu::hc_free(names.ptr.cast::<c_void>());
    }
    1
}
