//! `syscall.sendEvent` as a C function: the hottest call between computers
//! goes from the program to the kernel without a Lua facade or mlua's
//! callback machinery (argument packing, a protected call, app data
//! lookups). It shares the coroutine natives' `Fast` (upvalue 1).

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::{ffi, Lua};

use super::convert::{scalar_payload_at, table_payload, SendError};
use super::fast::{fast_of, Fast};

/// `syscall.sendEvent(pid, name, params) -> boolean`.
pub unsafe extern "C-unwind" fn send_event(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure whose upvalue 1 is the Slot (see
    // `fast::add_natives`). Nothing owned by this frame is alive when Lua may
    // raise: argument errors raise first, then `luaL_ref` (out of memory);
    // `send`, inside `catch_unwind`, calls Lua only through mlua's protected
    // call and returns with everything it owned dropped; `raise` takes the
    // message into Lua before raising.
    unsafe {
        let count = ffi::lua_gettop(state);
        expect(state, count, 1, ffi::LUA_TNUMBER, c"number");
        expect(state, count, 2, ffi::LUA_TSTRING, c"string");
        ffi::lua_settop(state, 3); // params: nil when absent
        ffi::luaL_checkstack(state, 4, c"sendEvent".as_ptr());
        let Some(fast) = fast_of(state) else {
            ffi::lua_pushboolean(state, 0); // the computer is going away
            return 1;
        };
        let lua = Lua::get_or_init_from_ptr(state);
        // A table is walked in a protected call, which reaches it through
        // the registry (see `convert::table_payload`).
        let table = (ffi::lua_type(state, 3) == ffi::LUA_TTABLE).then(|| {
            ffi::lua_pushvalue(state, 3);
            ffi::luaL_ref(state, ffi::LUA_REGISTRYINDEX)
        });
        let outcome = catch_unwind(AssertUnwindSafe(|| send(lua, state, fast, table)));
        if let Some(reference) = table {
            // A raw write of an existing registry slot: raises nothing.
            ffi::luaL_unref(state, ffi::LUA_REGISTRYINDEX, reference);
        }
        match outcome {
            Ok(Ok(sent)) => {
                ffi::lua_pushboolean(state, c_int::from(sent));
                1
            }
            Ok(Err(message)) => raise(lua, state, message),
            Err(panic) => {
                drop(panic);
                make_current(state);
                ffi::luaL_error(state, c"sendEvent: internal error".as_ptr())
            }
        }
    }
}

/// Raises `bad argument #i to 'sendEvent' (T expected, got U)` at the
/// caller's level, as the rest of the `syscall` table words it.
///
/// # Safety
/// Inside `send_event`, before it owns anything.
unsafe fn expect(state: *mut ffi::lua_State, count: c_int, index: c_int, kind: c_int, name: &CStr) {
    // SAFETY: reads the type at a valid or absent index; luaL_error raises.
    unsafe {
        if index <= count && ffi::lua_type(state, index) == kind {
            return;
        }
        let got: *const c_char = if index > count {
            c"no value".as_ptr()
        } else {
            ffi::lua_typename(state, ffi::lua_type(state, index))
        };
        ffi::luaL_error(
            state,
            c"bad argument #%d to 'sendEvent' (%s expected, got %s)".as_ptr(),
            index,
            name.as_ptr(),
            got,
        );
    }
}

/// Copies the payload at index 3 (a table: at registry reference `table`)
/// and queues the event: whether it was queued (`false`: no such running
/// process, its queue is full, or the payload is over the size limit), or
/// the error to raise.
///
/// # Safety
/// Stack `[pid, name, params]` with free slots, on the computer's thread.
unsafe fn send(
    lua: &Lua,
    state: *mut ffi::lua_State,
    fast: &Fast,
    table: Option<c_int>,
) -> Result<bool, String> {
    let limit = fast.kernel.limits().payload;
    let converted = match table {
        Some(reference) => table_payload(lua, reference, limit),
        // SAFETY: index 3 exists (see `send_event`).
        None => unsafe { scalar_payload_at(state, 3, limit) },
    };
    let payload = match converted {
        Ok(payload) => payload,
        Err(SendError::TooLarge) => return Ok(false),
        Err(error) => return Err(error.message()),
    };
    // SAFETY: the types were checked; lua_tolstring on a string converts
    // nothing and raises nothing.
    let (pid, name) = unsafe {
        let mut length = 0;
        let name = ffi::lua_tolstring(state, 2, &mut length);
        let name: Box<[u8]> = std::slice::from_raw_parts(name.cast::<u8>(), length).into();
        (ffi::lua_tonumber(state, 1), name)
    };
    let kernel = &fast.kernel;
    let sent = kernel
        .address(pid)
        .is_some_and(|target| kernel.send_address(fast.ticket.pid, target, name, payload));
    if sent {
        fast.reply.sent();
    }
    Ok(sent)
}

/// Raises `message` at the caller's level.
///
/// # Safety
/// Inside `send_event`, with free stack slots; `message` is the only value
/// this frame owns, and it is dropped before anything may raise.
unsafe fn raise(lua: &Lua, state: *mut ffi::lua_State, message: String) -> c_int {
    // SAFETY: the string is made inside mlua's protected call and moved to
    // `state` (a thread of the same state); afterwards nothing is owned.
    unsafe {
        let top = ffi::lua_gettop(state);
        let moved = lua
            .exec_raw::<()>((), |own| {
                ffi::lua_pushlstring(own, message.as_ptr().cast(), message.len());
                ffi::lua_xmove(own, state, 1);
            })
            .is_ok();
        drop(message);
        if !moved || ffi::lua_gettop(state) != top + 1 {
            ffi::lua_settop(state, top);
            ffi::lua_pushstring(state, c"sendEvent failed".as_ptr());
        }
        ffi::luaL_where(state, 1);
        ffi::lua_insert(state, -2);
        ffi::lua_concat(state, 2);
        make_current(state);
        ffi::lua_error(state)
    }
}

/// Makes `state` LuaJIT's running thread again, before raising on it.
///
/// LuaJIT remembers which thread runs (`global_State.cur_L`); a trace exit
/// takes it as the thread to go on with. A protected call that mlua runs on
/// its own thread (walking the payload, pushing the message) makes that
/// thread current. A normal return from this C function makes `state`
/// current again, but an error does not: LuaJIT's landing pad of a Lua
/// `pcall` leaves `cur_L` as it is, and the next trace exit on `state` then
/// writes into another thread's C frame, which crashed CraftOS-PC
/// Accelerated (`lj_trace_exit`; 1 run in 7 of `send_unsendable.lua`).
/// Calling a C function on `state` makes it current. Lua 5.2 has no such
/// field: nothing to do.
///
/// # Safety
/// In a C function running on `state`, with a free stack slot.
unsafe fn make_current(state: *mut ffi::lua_State) {
    #[cfg(feature = "luajit")]
    // SAFETY: a C function that returns nothing, called where a slot is
    // free: it raises nothing (the stack needs no growing).
    unsafe {
        unsafe extern "C-unwind" fn nothing(_: *mut ffi::lua_State) -> c_int {
            0
        }
        ffi::lua_pushcfunction(state, nothing);
        ffi::lua_call(state, 0, 0);
    }
    #[cfg(not(feature = "luajit"))]
    let _ = state;
}
