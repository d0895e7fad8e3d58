//! `coroutine.yield`, `coroutine.create` and `coroutine.wrap` of every
//! computer, in native code, so that programs that never call `syscall` pay
//! (almost) nothing for the plugin.
//!
//! Only the yields of the top-level coroutine (the one the emulator resumes)
//! are waits for events; every other yield is a plain `lua_yield`. The
//! top-level coroutine is recognised by its pointer: threads created by Lua
//! code are marked by `create`/`wrap` (a weak-keyed table), and the first
//! yield of an unmarked thread other than the main one is the top-level
//! coroutine's. (The pointer is only compared, never followed; the emulator
//! keeps that coroutine alive for the whole incarnation, so no other thread
//! can take its address.)
//!
//! A top-level yield waits for the next event:
//! 1. If none of this computer's events wait in the emulator's queue (the
//!    handed list is empty) and its kernel queue has an event ready, that
//!    event is delivered straight from the yield ("direct delivery"), at most
//!    [`DIRECT_BUDGET`] times in a row, so native events, `terminate` and the
//!    emulator's watchdog still get their turn.
//! 2. Otherwise it yields to the emulator with no filter (the emulator would
//!    drop events of ours that do not match it): the filter stays on this
//!    function's stack and the continuation [`resumed`] applies it, after the
//!    bookkeeping of what the program received (cancelled timer events and
//!    events after shutdown are swallowed), then waits again if the event is
//!    not for the program.
//!
//! Invariants (see also `Mailbox` in the kernel):
//! - Our events reach the program in kernel-queue order: providers and direct
//!   delivery both pop from the front, and direct delivery happens only when
//!   no popped event is still in the emulator's queue.
//! - Before yielding to the emulator with items waiting, a provider is
//!   queued for them (`Kernel::take_direct`/`prepare_wait`); with none
//!   waiting, the mailbox is armed so the next push queues one.
//! - Items that need Lua code (handlers, default actions), `terminate` and
//!   stop gates are never delivered directly: providers run them inside the
//!   emulator's wait, where a stop may block and a handler may not yield.
//! - Direct delivery needs the computer on and the process not stopped.
//!
//! Lua errors raised here unwind by `longjmp`: every frame that may raise or
//! yield holds nothing that needs dropping.

use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mlua::{ffi, Function, Lua};

use super::{delivery, send, syscall_yield};
use phoenix_events_core::kernel::{Kernel, Mailbox};
use phoenix_events_core::reply_wait::ReplyWait;
use phoenix_events_core::Ticket;

/// Direct deliveries in a row before a real yield to the emulator.
const DIRECT_BUDGET: u32 = 64;

/// The per-incarnation state the natives here read on every yield.
pub struct Fast {
    pub kernel: Arc<Kernel>,
    pub ticket: Ticket,
    pub mailbox: Arc<Mailbox>,
    /// The top-level coroutine, once it has yielded.
    top: Cell<*mut ffi::lua_State>,
    /// The last thread found not to be the top-level coroutine while that
    /// was still unknown (see [`classify`]).
    not_top: Cell<*mut ffi::lua_State>,
    /// Signal handlers running (they cannot wait for events).
    pub handler_depth: Cell<u32>,
    /// Length of the handed list (events of ours in the emulator's queue).
    pub handed: Cell<usize>,
    direct_run: Cell<u32>,
    /// Watching the mailbox for a reply after a send (see `reply_wait`).
    pub reply: ReplyWait,
}

impl Fast {
    pub fn new(kernel: Arc<Kernel>, ticket: Ticket, mailbox: Arc<Mailbox>) -> Fast {
        let window = Duration::from_micros(kernel.limits().reply_wait_us as u64);
        Fast {
            reply: ReplyWait::new(window),
            kernel,
            ticket,
            mailbox,
            top: Cell::new(ptr::null_mut()),
            not_top: Cell::new(ptr::null_mut()),
            handler_depth: Cell::new(0),
            handed: Cell::new(0),
            direct_run: Cell::new(0),
        }
    }
}

/// The userdata behind the natives' first upvalue; its `__gc` drops the
/// `Fast` (later calls, from other finalizers, then yield plainly).
struct Slot(Option<Rc<Fast>>);

/// The natives sharing one `Fast`.
pub struct Natives {
    pub wrap: Function,
    pub create: Function,
    pub yield_: Function,
    pub send_event: Function,
}

/// Creates the coroutine natives and `sendEvent` for this state, sharing
/// `fast`.
pub fn natives(lua: &Lua, fast: Rc<Fast>) -> mlua::Result<Natives> {
    let original_wrap: Function = lua.globals().get::<mlua::Table>("coroutine")?.get("wrap")?;
    // SAFETY: runs in a protected call with `original_wrap` at index 1; only
    // pushes values and sets their metatables; at most 8 slots are used, and
    // exec_raw reserves them (check_stack) — LUA_MINSTACK covers the rest.
    let (wrap, create, yield_, send_event) = unsafe {
        lua.exec_raw(original_wrap, move |state| {
            ffi::lua_checkstack(state, 10);
            let slot = ffi::lua_newuserdata(state, std::mem::size_of::<Slot>()).cast::<Slot>();
            ptr::write(slot, Slot(Some(fast)));
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_pushcfunction(state, slot_gc);
            ffi::lua_setfield(state, -2, c"__gc".as_ptr());
            ffi::lua_setmetatable(state, -2); // [wrap, slot]
            ffi::lua_createtable(state, 0, 0);
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_pushstring(state, c"k".as_ptr());
            ffi::lua_setfield(state, -2, c"__mode".as_ptr());
            ffi::lua_setmetatable(state, -2); // [wrap, slot, marks]
            ffi::lua_pushvalue(state, 2);
            ffi::lua_pushvalue(state, 3);
            syscall_yield::push_upvalues(state); // upvalues 3 and 4
            ffi::lua_pushcclosure(state, co_yield, 2 + syscall_yield::UPVALUES);
            ffi::lua_pushvalue(state, 3);
            ffi::lua_pushcclosure(state, co_create, 1);
            ffi::lua_pushvalue(state, 3);
            ffi::lua_pushvalue(state, 1);
            ffi::lua_pushcclosure(state, co_wrap, 2);
            ffi::lua_pushvalue(state, 2);
            ffi::lua_pushcclosure(state, send::send_event, 1); // [wrap, slot, marks, y, c, w, s]
            for index in 1..=3 {
                ffi::lua_replace(state, index); // s to 1, w to 2, c to 3: [s, w, c, y]
            }
            ffi::lua_pushvalue(state, 1);
            ffi::lua_remove(state, 1); // [w, c, y, s]
        })
    }?;
    Ok(Natives {
        wrap,
        create,
        yield_,
        send_event,
    })
}

unsafe extern "C-unwind" fn slot_gc(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the only metatable with this __gc is the Slot's, so index 1 is
    // a live Slot; taking the Rc leaves a valid `None`.
    unsafe {
        let slot = ffi::lua_touserdata(state, 1).cast::<Slot>();
        if let Some(slot) = slot.as_mut() {
            drop(slot.0.take());
        }
    }
    0
}

/// The `Fast` of the running closure (upvalue 1), unless finalized.
///
/// # Safety
/// Called from `co_yield` or `resumed`, whose upvalue 1 is a Slot; the slot
/// lives as long as the closure, which is running.
pub(super) unsafe fn fast_of<'a>(state: *mut ffi::lua_State) -> Option<&'a Fast> {
    // SAFETY: per the function's contract.
    unsafe {
        let slot = ffi::lua_touserdata(state, ffi::lua_upvalueindex(1)).cast::<Slot>();
        slot.as_ref()?.0.as_deref()
    }
}

/// Whether `state` is a thread created by Lua code (`create`/`wrap`); the
/// marks table is upvalue `marks` of the running closure.
///
/// # Safety
/// A C function of this module is running on `state` with free stack slots.
unsafe fn is_marked(state: *mut ffi::lua_State, marks: c_int) -> bool {
    // SAFETY: pushes the thread, reads a raw field of a plain table, pops.
    unsafe {
        ffi::lua_pushthread(state);
        ffi::lua_rawget(state, ffi::lua_upvalueindex(marks));
        let marked = ffi::lua_toboolean(state, -1) != 0;
        ffi::lua_settop(state, -2);
        marked
    }
}

/// # Safety
/// As for [`is_marked`].
unsafe fn is_main(state: *mut ffi::lua_State) -> bool {
    // SAFETY: pushes the running thread and pops it.
    unsafe {
        let main = ffi::lua_pushthread(state) == 1;
        ffi::lua_settop(state, -2);
        main
    }
}

enum Kind {
    /// A coroutine resumed from Lua: a plain yield.
    Plain,
    /// A yield that would reach the emulator from inside a handler.
    InHandler,
    /// A wait of the top-level coroutine.
    Top,
}

/// # Safety
/// As for [`is_marked`], from `co_yield`.
unsafe fn classify(fast: &Fast, state: *mut ffi::lua_State) -> Kind {
    let in_handler = fast.handler_depth.get() > 0;
    let top = fast.top.get();
    if state == top {
        return if in_handler {
            Kind::InHandler
        } else {
            Kind::Top
        };
    }
    // SAFETY: guaranteed by the caller.
    unsafe {
        if in_handler {
            return if is_marked(state, 2) {
                Kind::Plain
            } else {
                Kind::InHandler
            };
        }
        if top.is_null() {
            return first_yields(fast, state);
        }
    }
    Kind::Plain
}

/// A yield while the top-level coroutine is still unknown: a program that
/// computes before it first waits for an event (a startup program run by
/// the shell, say) may switch coroutines a million times first. The marks
/// lookup is done once per thread in a row: the last thread found not to be
/// the top-level one is remembered. That is sound because the top-level
/// coroutine exists before any Lua code runs and lives for the whole
/// incarnation: no thread seen here can ever share its address.
///
/// # Safety
/// As for [`is_marked`], from `co_yield`.
unsafe fn first_yields(fast: &Fast, state: *mut ffi::lua_State) -> Kind {
    if state == fast.not_top.get() {
        return Kind::Plain;
    }
    // SAFETY: guaranteed by the caller.
    if unsafe { is_main(state) || is_marked(state, 2) } {
        fast.not_top.set(state);
        return Kind::Plain;
    }
    fast.top.set(state);
    Kind::Top
}

/// `coroutine.yield(...)`.
unsafe extern "C-unwind" fn co_yield(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a C closure made in `natives`.
    unsafe {
        // Phoenix's `coroutine.yield("syscall", name, ...)`, answered at once
        // in any coroutine (syscall_yield.rs); upvalues 3 and 4 are its own.
        if let Some(count) = syscall_yield::dispatch(state, 3) {
            return count;
        }
        let Some(fast) = fast_of(state) else {
            return ffi::lua_yield(state, ffi::lua_gettop(state));
        };
        match classify(fast, state) {
            Kind::Plain => ffi::lua_yield(state, ffi::lua_gettop(state)),
            Kind::InHandler => {
                ffi::luaL_error(state, c"cannot yield inside a signal handler".as_ptr())
            }
            Kind::Top => {
                keep_filter(state);
                wait(state, fast)
            }
        }
    }
}

/// Leaves the stack as `[filter or nil, nil]`: what the emulator treats as
/// a filter (a string, or a number as text), and a non-string on top, where
/// the emulator looks for one (so it filters nothing itself).
///
/// # Safety
/// Called from `co_yield` on its own stack.
unsafe fn keep_filter(state: *mut ffi::lua_State) {
    // SAFETY: index 1 exists after settop(1); tolstring converts a number in
    // place, which is what the emulator's filter does.
    unsafe {
        ffi::lua_settop(state, 1);
        match ffi::lua_type(state, 1) {
            ffi::LUA_TSTRING => {}
            ffi::LUA_TNUMBER => {
                ffi::lua_tolstring(state, 1, ptr::null_mut());
            }
            _ => {
                ffi::lua_pushnil(state);
                ffi::lua_replace(state, 1);
            }
        }
        ffi::lua_pushnil(state);
    }
}

/// Waits for the next event that passes the filter: direct deliveries while
/// they are possible, then a yield to the emulator continued by [`resumed`].
/// The stack is `[filter, nil]`; on return the event's values follow it.
///
/// # Safety
/// Called on the top-level coroutine from `co_yield` or `resumed`.
unsafe fn wait(state: *mut ffi::lua_State, fast: &Fast) -> c_int {
    // SAFETY: the stack discipline above; lua_yieldk does not return (it
    // unwinds by longjmp), and no local here needs dropping.
    unsafe {
        while let Some(count) = next_direct(state, fast) {
            if passes_filter(state) {
                return count;
            }
            ffi::lua_settop(state, 2);
        }
        fast.mailbox.set_waiting(true);
        ffi::lua_yieldk(state, 0, 0, Some(resumed))
    }
}

/// One direct delivery, pushed onto `state`, or `None`: yield to the emulator.
///
/// # Safety
/// As for [`wait`].
unsafe fn next_direct(state: *mut ffi::lua_State, fast: &Fast) -> Option<c_int> {
    if fast.handed.get() != 0 {
        return None; // ours in the emulator's queue come first
    }
    if fast.mailbox.queued() == 0 {
        fast.reply.watch(|| fast.mailbox.queued() != 0);
    }
    if !fast.mailbox.arm() {
        return None; // nothing waiting; a push will now notify
    }
    if fast.direct_run.get() >= DIRECT_BUDGET {
        fast.kernel.prepare_wait(fast.ticket);
        return None;
    }
    // SAFETY: guaranteed by the caller; panics are caught here so that none
    // unwinds into Lua.
    let pushed = catch_unwind(AssertUnwindSafe(|| unsafe {
        delivery::deliver_direct(state, fast)
    }));
    match pushed {
        Ok(Some(count)) => {
            fast.direct_run.set(fast.direct_run.get() + 1);
            fast.mailbox.disarm();
            Some(count)
        }
        _ => None,
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
        fast.mailbox.set_waiting(false);
        fast.direct_run.set(0);
        fast.mailbox.disarm();
        fast.reply.woke(|| is_remote_event(state));
        if ffi::lua_gettop(state) > 2 && received(state, fast) && passes_filter(state) {
            return ffi::lua_gettop(state) - 2;
        }
        ffi::lua_settop(state, 2);
        wait(state, fast)
    }
}

/// Bookkeeping of an event the emulator handed to the program; false when
/// the program must not see it (cancelled, or the computer is going down).
///
/// # Safety
/// As for [`resumed`].
unsafe fn received(state: *mut ffi::lua_State, fast: &Fast) -> bool {
    // SAFETY: reads types and a pointer on the continuation's own stack.
    unsafe {
        if fast.handed.get() != 0 && ffi::lua_type(state, 4) == ffi::LUA_TTABLE {
            let params = ffi::lua_topointer(state, 4);
            let visible = catch_unwind(AssertUnwindSafe(|| {
                delivery::receive_handed(state, fast, params)
            }));
            return visible.unwrap_or(true) && fast.mailbox.is_open();
        }
    }
    fast.mailbox.is_open()
}

/// Whether the event at index 3 is a `remote_event`.
///
/// # Safety
/// Stack `[filter, nil, name?, ...]`.
unsafe fn is_remote_event(state: *mut ffi::lua_State) -> bool {
    // SAFETY: reads index 3 only if it is a string (no conversion).
    unsafe {
        if ffi::lua_type(state, 3) != ffi::LUA_TSTRING {
            return false;
        }
        let mut len = 0;
        let name = ffi::lua_tolstring(state, 3, &mut len);
        std::slice::from_raw_parts(name.cast::<u8>(), len) == b"remote_event"
    }
}

/// Whether the event at index 3 passes the filter at index 1.
///
/// # Safety
/// Stack `[filter, nil, name, ...]`.
unsafe fn passes_filter(state: *mut ffi::lua_State) -> bool {
    // SAFETY: reads indices that exist; no conversion of the name in place
    // (lua_tolstring on a string returns it as is).
    unsafe {
        if ffi::lua_type(state, 1) == ffi::LUA_TNIL || ffi::lua_rawequal(state, 1, 3) != 0 {
            return true;
        }
        if ffi::lua_type(state, 3) != ffi::LUA_TSTRING {
            return false;
        }
        let mut len = 0;
        let name = ffi::lua_tolstring(state, 3, &mut len);
        std::slice::from_raw_parts(name.cast::<u8>(), len) == b"terminate"
    }
}

/// `coroutine.create(f)`: marks the new thread as created by Lua code.
unsafe extern "C-unwind" fn co_create(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the same steps as Lua's own coroutine.create, then a raw set
    // into the marks table (upvalue 1).
    unsafe {
        ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
        let thread = ffi::lua_newthread(state);
        ffi::lua_pushvalue(state, 1);
        ffi::lua_xmove(state, thread, 1);
        ffi::lua_pushvalue(state, -1);
        ffi::lua_pushboolean(state, 1);
        ffi::lua_rawset(state, ffi::lua_upvalueindex(1));
    }
    1
}

/// `coroutine.wrap(f)`: Lua's own wrap (upvalue 2), whose thread — the
/// wrapper's first upvalue — is marked.
unsafe extern "C-unwind" fn co_wrap(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: checks the argument as Lua's wrap does, calls it, and reads
    // the first upvalue of the C closure it returns.
    unsafe {
        ffi::luaL_checktype(state, 1, ffi::LUA_TFUNCTION);
        ffi::lua_settop(state, 1);
        ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2));
        ffi::lua_pushvalue(state, 1);
        ffi::lua_call(state, 1, 1);
        if !ffi::lua_getupvalue(state, -1, 1).is_null() {
            if ffi::lua_type(state, -1) == ffi::LUA_TTHREAD {
                ffi::lua_pushboolean(state, 1);
                ffi::lua_rawset(state, ffi::lua_upvalueindex(1));
            } else {
                ffi::lua_settop(state, -2);
            }
        }
    }
    1
}
