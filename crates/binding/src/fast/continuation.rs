//! The standard build's waiting path: Lua 5.2 continuations.
//!
//! A top-level `coroutine.yield` keeps its filter on its own stack, waits
//! (direct deliveries, then a yield to the emulator with no filter), and
//! its continuation [`resumed`] does the bookkeeping of what the program
//! received and applies the filter ([`super::after_resume`]), waiting again
//! when the event is not for the program. So every top-level yield is
//! followed, however the program reached it.
//!
//! `lua_yieldk` does not return: it unwinds by `longjmp`. No frame between
//! it and the native's entry owns anything that needs dropping.

use std::ffi::c_int;

use mlua::ffi;

use super::{after_resume, before_yield, deliver_directly, fast_of, normalise_filter, Fast};

/// The stack of a wait: `[filter, nil]`, the event's values after them.
const FILTER: c_int = 1;
const EVENT: c_int = 3;

/// A top-level `coroutine.yield(filter, ...)`: waits for the next event that
/// passes the filter.
///
/// # Safety
/// From `co_yield` on the top-level coroutine, on its own stack.
pub(super) unsafe fn top_yield(state: *mut ffi::lua_State, fast: &Fast) -> c_int {
    // SAFETY: as the caller guarantees. The stack becomes `[filter, nil]`:
    // the filter as the emulator would read it, and a non-string on top,
    // where the emulator looks for one (so it filters nothing itself).
    unsafe {
        ffi::lua_settop(state, FILTER);
        normalise_filter(state, FILTER);
        ffi::lua_pushnil(state);
        wait(state, fast)
    }
}

/// Waits for the next event that passes the filter: direct deliveries while
/// they are possible, then a yield to the emulator continued by [`resumed`].
/// The stack is `[filter, nil]`; on return the event's values follow it.
///
/// # Safety
/// On the top-level coroutine from `top_yield` or `resumed`.
unsafe fn wait(state: *mut ffi::lua_State, fast: &Fast) -> c_int {
    // SAFETY: the stack discipline above; lua_yieldk does not return (it
    // unwinds by longjmp), and no local here needs dropping.
    unsafe {
        if let Some(count) = deliver_directly(state, fast, FILTER) {
            return count;
        }
        before_yield(fast, true);
        ffi::lua_yieldk(state, 0, 0, Some(resumed))
    }
}

/// The continuation of a top-level yield to the emulator: stack
/// `[filter, nil, event...]`.
unsafe extern "C-unwind" fn resumed(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as the continuation of `co_yield`'s closure.
    unsafe {
        let Some(fast) = fast_of(state) else {
            return ffi::lua_gettop(state) - 2;
        };
        if after_resume(state, fast, FILTER, EVENT) {
            return ffi::lua_gettop(state) - 2;
        }
        ffi::lua_settop(state, EVENT - 1);
        wait(state, fast)
    }
}
