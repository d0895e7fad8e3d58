//! Minimal hand-written declarations of the Lua 5.2 C API used by the host,
//! matching the stock Lua 5.2.4 that host/build.rs builds (`lua_Number` is
//! `double`, `lua_Integer` is `ptrdiff_t`, `LUAI_MAXSTACK` is 1000000).
//! Linked into the host (Linux, macOS) or imported from `lua52.dll`
//! (Windows).
#![allow(non_camel_case_types, non_snake_case, dead_code)]

use std::ffi::{c_char, c_int, c_void};

/// Opaque Lua state (a thread).
#[repr(C)]
pub struct lua_State {
    _private: [u8; 0],
}

pub type lua_CFunction = unsafe extern "C" fn(L: *mut lua_State) -> c_int;
pub type lua_Number = f64;
pub type lua_Integer = isize;

pub const LUA_OK: c_int = 0;
pub const LUA_YIELD: c_int = 1;
pub const LUA_ERRRUN: c_int = 2;

pub const LUA_TNONE: c_int = -1;
pub const LUA_TNIL: c_int = 0;
pub const LUA_TBOOLEAN: c_int = 1;
pub const LUA_TLIGHTUSERDATA: c_int = 2;
pub const LUA_TNUMBER: c_int = 3;
pub const LUA_TSTRING: c_int = 4;
pub const LUA_TTABLE: c_int = 5;
pub const LUA_TFUNCTION: c_int = 6;
pub const LUA_TUSERDATA: c_int = 7;
pub const LUA_TTHREAD: c_int = 8;

pub const LUAI_MAXSTACK: c_int = 1_000_000;
pub const LUA_REGISTRYINDEX: c_int = -LUAI_MAXSTACK - 1000;
/// Lua 5.2 keeps its main thread here; CraftOS-PC overwrites it with the
/// `Computer*`.
pub const LUA_RIDX_MAINTHREAD: c_int = 1;
pub const LUA_MULTRET: c_int = -1;

// On Windows the functions are imported from lua52.dll (so that their
// addresses are the DLL's, as the plugin sees them).
#[cfg_attr(windows, link(name = "lua52", kind = "dylib"))]
extern "C" {
    pub fn luaL_newstate() -> *mut lua_State;
    pub fn luaL_openlibs(L: *mut lua_State);
    pub fn lua_close(L: *mut lua_State);
    pub fn lua_atpanic(L: *mut lua_State, panicf: lua_CFunction) -> Option<lua_CFunction>;
    pub fn lua_newthread(L: *mut lua_State) -> *mut lua_State;
    pub fn lua_resume(L: *mut lua_State, from: *mut lua_State, narg: c_int) -> c_int;
    pub fn lua_status(L: *mut lua_State) -> c_int;

    pub fn lua_gettop(L: *mut lua_State) -> c_int;
    pub fn lua_settop(L: *mut lua_State, idx: c_int);
    pub fn lua_pushvalue(L: *mut lua_State, idx: c_int);
    pub fn lua_remove(L: *mut lua_State, idx: c_int);
    pub fn lua_insert(L: *mut lua_State, idx: c_int);
    pub fn lua_checkstack(L: *mut lua_State, sz: c_int) -> c_int;
    pub fn lua_xmove(from: *mut lua_State, to: *mut lua_State, n: c_int);

    pub fn lua_type(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_typename(L: *mut lua_State, tp: c_int) -> *const c_char;
    pub fn lua_isstring(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_isnumber(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_tonumberx(L: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Number;
    pub fn lua_tointegerx(L: *mut lua_State, idx: c_int, isnum: *mut c_int) -> lua_Integer;
    pub fn lua_toboolean(L: *mut lua_State, idx: c_int) -> c_int;
    pub fn lua_tolstring(L: *mut lua_State, idx: c_int, len: *mut usize) -> *const c_char;
    pub fn lua_touserdata(L: *mut lua_State, idx: c_int) -> *mut c_void;
    pub fn lua_tothread(L: *mut lua_State, idx: c_int) -> *mut lua_State;

    pub fn lua_pushnil(L: *mut lua_State);
    pub fn lua_pushnumber(L: *mut lua_State, n: lua_Number);
    pub fn lua_pushinteger(L: *mut lua_State, n: lua_Integer);
    pub fn lua_pushlstring(L: *mut lua_State, s: *const c_char, len: usize) -> *const c_char;
    pub fn lua_pushstring(L: *mut lua_State, s: *const c_char) -> *const c_char;
    pub fn lua_pushcclosure(L: *mut lua_State, f: lua_CFunction, n: c_int);
    pub fn lua_pushboolean(L: *mut lua_State, b: c_int);
    pub fn lua_pushlightuserdata(L: *mut lua_State, p: *mut c_void);

    pub fn lua_getglobal(L: *mut lua_State, name: *const c_char);
    pub fn lua_setglobal(L: *mut lua_State, name: *const c_char);
    pub fn lua_getfield(L: *mut lua_State, idx: c_int, k: *const c_char);
    pub fn lua_setfield(L: *mut lua_State, idx: c_int, k: *const c_char);
    pub fn lua_rawgeti(L: *mut lua_State, idx: c_int, n: c_int);
    pub fn lua_rawseti(L: *mut lua_State, idx: c_int, n: c_int);
    pub fn lua_createtable(L: *mut lua_State, narr: c_int, nrec: c_int);
    pub fn lua_settable(L: *mut lua_State, idx: c_int);

    pub fn lua_callk(
        L: *mut lua_State,
        nargs: c_int,
        nresults: c_int,
        ctx: c_int,
        k: Option<lua_CFunction>,
    );
    pub fn lua_error(L: *mut lua_State) -> c_int;
    pub fn luaL_loadbufferx(
        L: *mut lua_State,
        buff: *const c_char,
        sz: usize,
        name: *const c_char,
        mode: *const c_char,
    ) -> c_int;
    pub fn luaL_where(L: *mut lua_State, lvl: c_int);
    pub fn lua_concat(L: *mut lua_State, n: c_int);
}

// The C API's macros, as functions.

/// `lua_pop`
///
/// # Safety
/// `L` must be a valid state with at least `n` values on its stack.
pub unsafe fn lua_pop(L: *mut lua_State, n: c_int) {
    // SAFETY: forwarded precondition of the caller.
    unsafe { lua_settop(L, -n - 1) }
}

/// `lua_newtable`
///
/// # Safety
/// `L` must be a valid state with room for one value.
pub unsafe fn lua_newtable(L: *mut lua_State) {
    // SAFETY: forwarded precondition of the caller.
    unsafe { lua_createtable(L, 0, 0) }
}

/// `lua_pushcfunction`
///
/// # Safety
/// `L` must be a valid state with room for one value.
pub unsafe fn lua_pushcfunction(L: *mut lua_State, f: lua_CFunction) {
    // SAFETY: forwarded precondition of the caller.
    unsafe { lua_pushcclosure(L, f, 0) }
}

/// `lua_call`
///
/// # Safety
/// `L` must be valid with the function and `nargs` arguments on top. An
/// error raised by the callee is not caught here.
pub unsafe fn lua_call(L: *mut lua_State, nargs: c_int, nresults: c_int) {
    // SAFETY: forwarded precondition of the caller.
    unsafe { lua_callk(L, nargs, nresults, 0, None) }
}

/// `lua_tostring` as owned, lossily decoded text (None unless a string or a
/// number).
///
/// # Safety
/// `L` must be a valid state and `idx` an acceptable index.
pub unsafe fn to_string_lossy(L: *mut lua_State, idx: c_int) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: valid state and index per the caller; lua_tolstring returns a
    // pointer to `len` bytes owned by Lua (or NULL), valid while the value
    // stays on the stack, which it does during this call.
    unsafe {
        let p = lua_tolstring(L, idx, &mut len);
        if p.is_null() {
            return None;
        }
        let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len);
        Some(String::from_utf8_lossy(bytes).into_owned())
    }
}

/// Pushes a Rust string (any bytes) onto the stack.
///
/// # Safety
/// `L` must be a valid state with room for one value.
pub unsafe fn push_str(L: *mut lua_State, s: &str) {
    // SAFETY: pointer and length describe `s`, which Lua copies.
    unsafe {
        lua_pushlstring(L, s.as_ptr().cast::<c_char>(), s.len());
    }
}

/// The Lua type name of the value at `idx`.
///
/// # Safety
/// `L` must be a valid state and `idx` an acceptable index.
pub unsafe fn type_name(L: *mut lua_State, idx: c_int) -> String {
    // SAFETY: valid state per the caller; lua_typename returns a static C
    // string for any type tag, including LUA_TNONE.
    unsafe {
        let t = lua_type(L, idx);
        let p = lua_typename(L, t);
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
