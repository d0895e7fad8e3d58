//! The Accelerated build's waiting path: a Lua frame around the yield.
//!
//! LuaJIT has no continuations. A C function may only `return
//! lua_yield(L, n)`, and when the emulator resumes the coroutine the values
//! go straight to that function's Lua caller: nothing of ours runs between
//! the emulator handing an event over and the program having it. So the
//! waits of the top-level coroutine get a Lua frame in which the step after
//! the yield can run. The prelude (lua/prelude.lua) replaces the BIOS's
//! `os.pullEventRaw` — defined by bios.lua, after the openers, as
//! `return coroutine.yield(filter)` — as the BIOS defines it, by a loop of
//! tail calls around three natives:
//!
//! ```text
//! pullEventRaw(f): not top-level? -> coroutine.yield(f)     (Lua; wait_top until
//!                                                            the top is known)
//!   wait(f):    event <- a direct delivery passing f, or else
//!                        a yield to the emulator and its event   (wait_next)
//!   resumed(f, event...): after a yield, the bookkeeping;
//!               f -> event, or wait(f) again                     (wait_resumed)
//! ```
//!
//! The decisions are the standard build's own functions (`deliver_directly`,
//! `before_yield`, `after_resume` in `fast.rs`); only the yield differs.
//! `os.pullEvent`, `sleep`, `read`, `parallel`, the shell and multishell all
//! wait through `os.pullEventRaw`, so every wait of the ROM is followed, and
//! `peekEvent`, `cancel` of a handed-over timer and "nothing after
//! shutdown" are exact as in the standard build. `coroutine.yield` stays a
//! C function: the switches of other coroutines cost what they cost in the
//! standard build (measured in performance/figures.md).
//!
//! A top-level `coroutine.yield` that bypasses `os.pullEventRaw` (the
//! BIOS's loops after `os.shutdown`/`os.reboot`, or a program that drives
//! the top-level coroutine itself) is an *untracked* wait
//! ([`untracked_yield`]):
//! - direct delivery first, exact, with the filter the emulator would use
//!   (the last value yielded);
//! - otherwise the yield goes to the emulator with the program's own values,
//!   filter included: the emulator applies it, as it would without the
//!   plugin, discarding events (ours too) that do not match;
//! - every event of ours in the emulator's queue, and every event a provider
//!   hands over while the wait lasts, counts as received when handed over
//!   (the handed list is settled: it stops counting against the queue limit,
//!   `peekEvent` no longer shows it, `cancel` no longer stops it);
//! - to keep the order of our events, direct delivery then stays off
//!   ([`Fast::unsure`]) until a tracked wait receives an event of ours handed
//!   over after them.
//!
//! Lua errors: as in `fast.rs`; `wait_top` raises the handler error, the
//! others raise nothing of their own.

use std::ffi::{c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::ffi;

use super::{
    after_resume, before_yield, classify, deliver_directly, fast_of, normalise_filter,
    raise_in_handler, Fast, Kind,
};
use crate::delivery;

/// Adds the natives of the Lua wait loop (`wait_top`, `wait_next`,
/// `wait_resumed`) to the table at `natives`, sharing the Slot at `slot`
/// and the marks table at `marks`.
///
/// # Safety
/// Inside `fast::add_natives`'s protected call, with four free slots.
pub(super) unsafe fn add_natives(
    state: *mut ffi::lua_State,
    natives: c_int,
    slot: c_int,
    marks: c_int,
) {
    // SAFETY: as the caller guarantees.
    unsafe {
        let field = |name: &CStr| ffi::lua_setfield(state, natives, name.as_ptr());
        ffi::lua_pushvalue(state, slot);
        ffi::lua_pushvalue(state, marks);
        ffi::lua_pushcclosure(state, wait_top, 2);
        field(c"wait_top");
        ffi::lua_pushvalue(state, slot);
        ffi::lua_pushcclosure(state, wait_next, 1);
        field(c"wait_next");
        ffi::lua_pushvalue(state, slot);
        ffi::lua_pushcclosure(state, wait_resumed, 1);
        field(c"wait_resumed");
    }
}

/// `wait_top() -> boolean`: whether the running coroutine is the top-level
/// one, whose waits go to the emulator. Raises inside a signal handler, as
/// `coroutine.yield` does.
unsafe extern "C-unwind" fn wait_top(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `add_natives` (upvalue 1
    // the Slot, 2 the marks); nothing owned is alive when it raises.
    unsafe {
        let top = match fast_of(state) {
            None => false,
            Some(fast) => match classify(fast, state) {
                Kind::Top => true,
                Kind::Plain => false,
                Kind::InHandler => return raise_in_handler(state),
            },
        };
        ffi::lua_pushboolean(state, c_int::from(top));
        1
    }
}

/// `wait_next(filter) -> name, params...`: a direct delivery that passes the
/// filter, or else a yield to the emulator with no value, so with no filter
/// (the emulator would drop events of ours that do not match it); then the
/// values are those the emulator resumes the coroutine with, which
/// `wait_resumed` checks.
unsafe extern "C-unwind" fn wait_next(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `add_natives`; the stack
    // holds the filter and at most the two values pushed by a direct
    // delivery. The yield returns normally with LuaJIT (its value must be
    // returned) and does not return with Lua 5.2; nothing here needs
    // dropping.
    unsafe {
        let Some(fast) = fast_of(state) else {
            return ffi::lua_yield(state, 0);
        };
        ffi::lua_settop(state, 1);
        normalise_filter(state, 1);
        if let Some(count) = deliver_directly(state, fast, 1) {
            return count;
        }
        fast.yielded.set(true);
        before_yield(fast, true);
        ffi::lua_yield(state, 0)
    }
}

/// `wait_resumed(filter, event...) -> boolean`: whether the program sees
/// the event (else it waits again). After a direct delivery there is
/// nothing to do; after a yield to the emulator, the bookkeeping.
unsafe extern "C-unwind" fn wait_resumed(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `add_natives`, with the
    // filter at index 1 (nil when absent) and the event after it.
    unsafe {
        let seen = match fast_of(state) {
            Some(fast) if fast.yielded.replace(false) => {
                if ffi::lua_gettop(state) == 0 {
                    ffi::lua_pushnil(state);
                }
                normalise_filter(state, 1);
                after_resume(state, fast, 1, 2)
            }
            _ => true,
        };
        ffi::lua_pushboolean(state, c_int::from(seen));
        1
    }
}

/// A top-level `coroutine.yield(...)` that bypassed `os.pullEventRaw`: an
/// untracked wait (see the module's notes).
///
/// # Safety
/// From `co_yield` on the top-level coroutine, on its own stack, whose
/// values are those yielded.
pub(super) unsafe fn untracked_yield(state: *mut ffi::lua_State, fast: &Fast) -> c_int {
    // SAFETY: as the caller guarantees: the stack holds the `count` yielded
    // values, then the filter copy and at most two pushed values. The yield
    // itself returns normally with LuaJIT (its value is returned) and does
    // not return with Lua 5.2; nothing here needs dropping.
    unsafe {
        let count = ffi::lua_gettop(state);
        settle_handed(state, fast);
        if count > 0 {
            ffi::lua_pushvalue(state, count);
        } else {
            ffi::lua_pushnil(state);
        }
        normalise_filter(state, count + 1);
        if let Some(pushed) = deliver_directly(state, fast, count + 1) {
            return pushed;
        }
        ffi::lua_settop(state, count);
        fast.direct_run.set(0);
        before_yield(fast, false);
        ffi::lua_yield(state, count)
    }
}

/// Counts every event of ours still in the emulator's queue as received.
///
/// # Safety
/// On the computer's thread, with `state` a thread of its Lua state.
unsafe fn settle_handed(state: *mut ffi::lua_State, fast: &Fast) {
    if fast.handed.get() == 0 {
        return;
    }
    // The bookkeeping calls no Lua; a panic in it must not reach Lua.
    // SAFETY: as the caller guarantees.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        delivery::settle_handed(state, fast)
    }));
}
