//! Declarations of the extern "C" API of `emulator.cpp`, the C++ half of the
//! host (provider queues, computer list, PluginFunctions, PluginInfo).

use crate::lua_ffi::lua_State;
use std::ffi::{c_char, c_int, c_uint, c_void};

/// `ccpc::Computer`: only the stable prefix is visible; the object is the
/// C++ `HostComputer` behind it.
#[repr(C)]
pub struct Computer {
    pub id: c_int,
    pub running: c_int,
    pub l: *mut lua_State,
}

#[repr(C)]
pub struct HcPluginInfo {
    pub abi_version: c_uint,
    pub minimum_structure_version: c_uint,
    pub luaopen_name: *mut c_char,
    pub failure_reason: *mut c_char,
    pub api_name: *mut c_char,
    pub exception: *mut c_char,
}

#[repr(C)]
pub struct HcString {
    pub ptr: *mut c_char,
    pub len: usize,
}

pub type StartComputerCb = unsafe extern "C" fn(ctx: *mut c_void, id: c_int) -> *mut Computer;
pub type RustProvider =
    unsafe extern "C" fn(l: *mut lua_State, ctx: *mut c_void, data: i64) -> *const c_char;

extern "C" {
    pub fn hc_free(p: *mut c_void);
    pub fn hc_configure(base_path: *const c_char, rom_path: *const c_char);
    pub fn hc_set_start_callback(cb: Option<StartComputerCb>, ctx: *mut c_void);
    pub fn hc_call_plugin_load(
        f: *mut c_void,
        path: *const c_char,
        exception: *mut HcString,
    ) -> c_int;
    pub fn hc_call_plugin_init(
        f: *mut c_void,
        path: *const c_char,
        out: *mut HcPluginInfo,
    ) -> *mut c_void;
    pub fn hc_call_plugin_deinit(f: *mut c_void, info: *mut c_void);
    pub fn hc_call_plugin_unload(f: *mut c_void);

    pub fn hc_computer_new(id: c_int, rust: *mut c_void) -> *mut Computer;
    pub fn hc_computer_free(comp: *mut Computer);
    pub fn hc_reset();
    pub fn hc_get_running(comp: *const Computer) -> c_int;
    pub fn hc_set_running(comp: *mut Computer, value: c_int);
    pub fn hc_set_L(comp: *mut Computer, l: *mut lua_State);
    pub fn hc_set_running_by_id(id: c_int, value: c_int) -> c_int;
    pub fn hc_computer_count() -> usize;
    pub fn hc_shutdown_all();
    pub fn hc_queue_rust_event(comp: *mut Computer, f: RustProvider, ctx: *mut c_void, data: i64);
    pub fn hc_queue_rust_event_by_id(
        id: c_int,
        f: RustProvider,
        ctx: *mut c_void,
        data: i64,
    ) -> c_int;
    pub fn hc_has_provider(comp: *mut Computer) -> c_int;
    pub fn hc_run_provider(
        comp: *mut Computer,
        param: *mut lua_State,
        name: *mut HcString,
    ) -> c_int;
    pub fn hc_wait(comp: *mut Computer, timeout_ms: c_uint) -> c_int;
}

/// Takes ownership of a malloc'd C string from the C++ side (NULL → empty).
///
/// # Safety
/// `p` must be NULL or a NUL-terminated string allocated by `emulator.cpp`
/// and not used afterwards.
pub unsafe fn take_cstring(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: per the contract, `p` is a valid NUL-terminated malloc'd string
    // that we own; it is freed exactly once here.
    unsafe {
        let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
        hc_free(p.cast());
        s
    }
}

/// Takes ownership of an `HcString` filled by the C++ side.
///
/// # Safety
/// `s` must have been filled by `emulator.cpp` (or hold a NULL pointer) and
/// must not be used afterwards.
pub unsafe fn take_hcstring(s: &mut HcString) -> Vec<u8> {
    if s.ptr.is_null() {
        return Vec::new();
    }
    // SAFETY: ptr/len describe a malloc'd buffer we own; freed once here.
    unsafe {
        let v = std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.len).to_vec();
        hc_free(s.ptr.cast());
        s.ptr = std::ptr::null_mut();
        v
    }
}
