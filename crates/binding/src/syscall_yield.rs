//! Phoenix's syscall convention on every computer: `coroutine.yield("syscall",
//! name, ...)` calls the syscall `name` and returns Phoenix's answer at once
//! (`true, results...`, or `false, message`), instead of waiting for an
//! event named "syscall". Programs written for Phoenix, and libsystem's
//! `util.syscall` (on which its `ipc.lua` is built), call the kernel this way.
//!
//! The native `coroutine.yield` (`fast.rs`) calls [`dispatch`] before
//! anything else, so every coroutine at any depth gets it — the top-level
//! one, `parallel`'s, a multishell tab's, a program's own — and so do signal
//! handlers: nothing really yields, so nothing waits.
//!
//! Invariants:
//! - A yield that is not a syscall costs one `lua_gettop` (most yields pass
//!   at most one value: `os.pullEventRaw(filter)`), or with two values or
//!   more a `lua_rawequal` of the first against the interned "syscall"
//!   string kept as an upvalue: strings are interned, so that is a pointer
//!   comparison, with no conversion and no allocation.
//! - A syscall needs two values at least: `coroutine.yield("syscall")` alone
//!   (what `os.pullEvent("syscall")` does) stays a wait for an event named
//!   "syscall", as without the plugin.
//! - The syscall runs in a protected call of the prelude's dispatcher, which
//!   calls this computer's own syscall functions (captured when it booted,
//!   not the global `syscall` table, which a program may replace). No Lua
//!   error escapes: the dispatcher turns each into `false, message`, and an
//!   error of the dispatcher itself (out of memory, C stack overflow) is
//!   answered the same way. No Rust code here can panic: it only calls the
//!   Lua C API.

use std::ffi::{c_int, CStr};

use mlua::{ffi, Function, Lua, Table};

/// How many upvalues [`push_upvalues`] pushes for the native yield.
pub const UPVALUES: c_int = 2;

/// Registry key of the table that holds the prelude's dispatcher (at index
/// 1), the second of the upvalues: the yield is created before the prelude
/// runs, and [`set_dispatcher`] fills it in after.
const HOLDER_KEY: &CStr = c"phoenix_events.syscall_yield";

/// Pushes the upvalues [`dispatch`] reads, in order: the string "syscall"
/// and the holder of the dispatcher (also kept in the registry).
///
/// # Safety
/// `state` is a Lua state with 3 free stack slots, in a protected call (the
/// pushes allocate).
pub unsafe fn push_upvalues(state: *mut ffi::lua_State) {
    // SAFETY: guaranteed by the caller; every push is balanced below.
    unsafe {
        ffi::lua_pushstring(state, c"syscall".as_ptr());
        ffi::lua_createtable(state, 1, 0);
        ffi::lua_pushvalue(state, -1);
        ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, HOLDER_KEY.as_ptr());
    }
}

/// Hands the prelude's dispatcher (`dispatch(name, ...) -> true, ... |
/// false, message`) to the yields of this state.
pub fn set_dispatcher(lua: &Lua, dispatcher: Function) -> mlua::Result<()> {
    let key = HOLDER_KEY.to_str().expect("ASCII key");
    let holder: Table = lua.named_registry_value(key)?;
    holder.raw_set(1, dispatcher)
}

/// If the running `coroutine.yield` was called as `coroutine.yield("syscall",
/// name, ...)`, performs the syscall and returns how many values to return
/// from the yield (without yielding). `None`: an ordinary yield, left as it
/// is. `first` is the index of the first of the [`UPVALUES`] of the running
/// C closure.
///
/// # Safety
/// Called from the native yield, a C closure whose upvalues `first` and
/// `first + 1` were pushed by [`push_upvalues`], on its own stack.
#[inline(always)]
pub unsafe fn dispatch(state: *mut ffi::lua_State, first: c_int) -> Option<c_int> {
    // SAFETY: reads the stack size and compares two valid indices raw (no
    // metamethod, no conversion).
    unsafe {
        if ffi::lua_gettop(state) < 2
            || ffi::lua_rawequal(state, 1, ffi::lua_upvalueindex(first)) == 0
        {
            return None;
        }
        Some(call(state, ffi::lua_upvalueindex(first + 1)))
    }
}

/// Calls the dispatcher on the stack `["syscall", name, args...]`, which it
/// leaves holding the answer; returns its size.
///
/// # Safety
/// As for [`dispatch`]; `holder` is the holder's pseudo-index.
#[cold]
unsafe fn call(state: *mut ffi::lua_State, holder: c_int) -> c_int {
    // SAFETY: a C function has LUA_MINSTACK free slots above its arguments,
    // and at most two are used at once here. Raw reads call no metamethod.
    // lua_pcall catches every Lua error of the call; what may still raise is
    // pushing the fallback message when memory is exhausted, which unwinds
    // (longjmp) through this frame, which owns nothing.
    unsafe {
        ffi::lua_rawgeti(state, holder, 1);
        if ffi::lua_type(state, -1) != ffi::LUA_TFUNCTION {
            // Only before the prelude finished, when no program runs yet.
            return answer_error(state, c"No such syscall");
        }
        ffi::lua_replace(state, 1); // [dispatcher, name, args...]
        let arguments = ffi::lua_gettop(state) - 1;
        if ffi::lua_pcall(state, arguments, ffi::LUA_MULTRET, 0) == ffi::LUA_OK {
            return ffi::lua_gettop(state);
        }
        // [error]: the dispatcher answers every error of a syscall itself;
        // this is an error of the dispatcher (no memory, no C stack).
        if ffi::lua_type(state, -1) == ffi::LUA_TSTRING {
            ffi::lua_pushboolean(state, 0);
            ffi::lua_insert(state, -2);
            return 2;
        }
        answer_error(state, c"syscall failed")
    }
}

/// Leaves `false, message` as the whole stack; returns 2.
///
/// # Safety
/// `state` is the running C function's own stack.
unsafe fn answer_error(state: *mut ffi::lua_State, message: &CStr) -> c_int {
    // SAFETY: two pushes on an emptied stack.
    unsafe {
        ffi::lua_settop(state, 0);
        ffi::lua_pushboolean(state, 0);
        ffi::lua_pushstring(state, message.as_ptr());
    }
    2
}
