//! `coroutine.yield`, `coroutine.create` and `coroutine.wrap` of every
//! computer, in native code, so that programs that never call `syscall` pay
//! (almost) nothing for the plugin; and the decisions of a top-level wait,
//! shared by both builds.
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
//! A top-level wait waits for the next event:
//! 1. If none of this computer's events wait in the emulator's queue (the
//!    handed list is empty) and its kernel queue has an event ready, that
//!    event is delivered straight from the wait ("direct delivery",
//!    [`next_direct`]), at most [`DIRECT_BUDGET`] times in a row, so native
//!    events, `terminate` and the emulator's watchdog still get their turn.
//! 2. Otherwise it yields to the emulator with no filter (the emulator would
//!    drop events of ours that do not match it) and, once resumed, does the
//!    bookkeeping of what the program received ([`after_resume`]: cancelled
//!    timer events and events after shutdown are swallowed), applies the
//!    program's filter, and waits again if the event is not for the program.
//!
//! How step 2 runs again after the yield is the one thing the two builds do
//! differently (`cfg(wait_in_lua)`, set by build.rs):
//! - Lua 5.2 (the standard CraftOS-PC) has continuations: the native
//!   `coroutine.yield` yields with `lua_yieldk`, and its continuation does
//!   step 2 (`fast/continuation.rs`).
//! - LuaJIT (CraftOS-PC Accelerated) has none: a C function can only
//!   `return lua_yield(..)`, and the resumed values go straight to its Lua
//!   caller. So the waits get a Lua frame around the yield: the ROM's
//!   `os.pullEventRaw` is replaced by a small Lua loop that calls the same
//!   decisions as natives (`fast/lua_wait.rs`). A top-level
//!   `coroutine.yield` that bypasses `os.pullEventRaw` still gets exact
//!   direct delivery, but what the emulator then hands it cannot be
//!   followed: see that module for what it means.
//!
//! Invariants (see also `Mailbox` in the kernel):
//! - Our events reach the program in kernel-queue order: providers and direct
//!   delivery both pop from the front, and direct delivery happens only when
//!   no popped event is (or may still be, [`Fast::unsure`]) in the
//!   emulator's queue.
//! - Before yielding to the emulator with items waiting, a provider is
//!   queued for them (`Kernel::take_direct`/`prepare_wait`); with none
//!   waiting, the mailbox is armed so the next push queues one.
//! - Items that need Lua code (handlers, default actions), `terminate` and
//!   stop gates are never delivered directly: providers run them inside the
//!   emulator's wait, where a stop may block and a handler may not yield.
//! - Direct delivery needs the computer on and the process not stopped.
//!
//! Lua errors: the natives here are `extern "C-unwind"` and are never inside
//! `catch_unwind` when they call a Lua function that may raise. Lua 5.2
//! raises by `longjmp` (frames are skipped without running destructors),
//! LuaJIT on x64 by unwinding (through `C-unwind` frames; `catch_unwind`
//! would abort on it): so every frame a Lua error may cross holds nothing
//! that needs dropping, and Rust code that might panic runs inside
//! `catch_unwind` with no raising Lua call inside it. The natives use fewer
//! than `LUA_MINSTACK` stack slots, which Lua guarantees to a C function:
//! their `lua_checkstack` calls never have to grow the stack, so never raise.

use std::cell::Cell;
use std::ffi::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mlua::{ffi, Lua, Table};

use super::{delivery, send, syscall_yield};
use phoenix_events_core::kernel::{Kernel, Mailbox};
use phoenix_events_core::reply_wait::ReplyWait;
use phoenix_events_core::Ticket;

#[cfg(not(wait_in_lua))]
mod continuation;
#[cfg(wait_in_lua)]
mod lua_wait;

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
    /// The program's current wait in the emulator cannot be followed when it
    /// is resumed (Accelerated only: a top-level `coroutine.yield` that
    /// bypassed `os.pullEventRaw`): providers count what they hand over as
    /// received at once.
    pub untracked: Cell<bool>,
    /// Events of ours counted as received at hand-over may still wait in the
    /// emulator's queue (after an untracked wait): no direct delivery, which
    /// would overtake them, until an event of ours handed later is received
    /// by a tracked wait.
    pub unsure: Cell<bool>,
    /// The Lua wait loop yielded to the emulator: the next values it checks
    /// are the emulator's, not a direct delivery's (`fast/lua_wait.rs`).
    #[cfg(wait_in_lua)]
    yielded: Cell<bool>,
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
            untracked: Cell::new(false),
            unsure: Cell::new(false),
            #[cfg(wait_in_lua)]
            yielded: Cell::new(false),
        }
    }
}

/// The userdata behind the natives' first upvalue; its `__gc` drops the
/// `Fast` (later calls, from other finalizers, then yield plainly).
struct Slot(Option<Rc<Fast>>);

/// Creates the coroutine natives and `sendEvent` for this state, sharing
/// `fast`, as fields of `natives`: `yield`, `create`, `wrap`, `send_event`,
/// and with `cfg(wait_in_lua)` the natives of the Lua wait loop
/// (`wait_top`, `wait_next`, `wait_resumed`).
pub fn add_natives(lua: &Lua, natives: &Table, fast: Rc<Fast>) -> mlua::Result<()> {
    let original_wrap: mlua::Function = lua.globals().get::<Table>("coroutine")?.get("wrap")?;
    // SAFETY: runs in a protected call with `[original_wrap, natives]` on the
    // stack; only pushes values, sets their metatables and raw-sets fields of
    // the plain `natives` table; at most 8 slots are used, which a C
    // function always has (LUA_MINSTACK).
    unsafe {
        lua.exec_raw::<()>((original_wrap, natives), move |state| {
            let slot = ffi::lua_newuserdata(state, std::mem::size_of::<Slot>()).cast::<Slot>();
            ptr::write(slot, Slot(Some(fast)));
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_pushcfunction(state, slot_gc);
            ffi::lua_setfield(state, -2, c"__gc".as_ptr());
            ffi::lua_setmetatable(state, -2); // [wrap, natives, slot]
            ffi::lua_createtable(state, 0, 0);
            ffi::lua_createtable(state, 0, 1);
            ffi::lua_pushstring(state, c"k".as_ptr());
            ffi::lua_setfield(state, -2, c"__mode".as_ptr());
            ffi::lua_setmetatable(state, -2); // [wrap, natives, slot, marks]
            let field = |name: &std::ffi::CStr| ffi::lua_setfield(state, 2, name.as_ptr());
            ffi::lua_pushvalue(state, 3);
            ffi::lua_pushvalue(state, 4);
            syscall_yield::push_upvalues(state); // upvalues 3 and 4
            ffi::lua_pushcclosure(state, co_yield, 2 + syscall_yield::UPVALUES);
            field(c"yield");
            ffi::lua_pushvalue(state, 4);
            ffi::lua_pushcclosure(state, co_create, 1);
            field(c"create");
            ffi::lua_pushvalue(state, 4);
            ffi::lua_pushvalue(state, 1);
            ffi::lua_pushcclosure(state, co_wrap, 2);
            field(c"wrap");
            ffi::lua_pushvalue(state, 3);
            ffi::lua_pushcclosure(state, send::send_event, 1);
            field(c"send_event");
            #[cfg(wait_in_lua)]
            lua_wait::add_natives(state, 2, 3, 4);
            ffi::lua_settop(state, 0);
        })
    }
}

unsafe extern "C-unwind" fn slot_gc(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the only metatable with this __gc is the Slot's, so index 1 is
    // a live Slot; taking the Rc leaves a valid `None`. Dropping it calls no
    // Lua; a panic in a destructor is caught here rather than reaching Lua.
    unsafe {
        let slot = ffi::lua_touserdata(state, 1).cast::<Slot>();
        if let Some(slot) = slot.as_mut() {
            let fast = slot.0.take();
            let _ = catch_unwind(AssertUnwindSafe(move || drop(fast)));
        }
    }
    0
}

/// The `Fast` of the running closure (upvalue 1), unless finalized.
///
/// # Safety
/// Called from a native of this module whose upvalue 1 is a Slot; the slot
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
    // SAFETY: pushes the thread, reads a raw field of a plain table (no
    // metamethod, no allocation), pops.
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

/// What a yield on `state` is. The marks table is upvalue 2 of the running
/// closure.
///
/// # Safety
/// As for [`is_marked`].
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
/// As for [`is_marked`].
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
    // SAFETY: called by Lua as a C closure made in `add_natives` (upvalue 1
    // the Slot, 2 the marks). Nothing owned here is alive when Lua raises
    // or yields.
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
            Kind::InHandler => raise_in_handler(state),
            #[cfg(not(wait_in_lua))]
            Kind::Top => continuation::top_yield(state, fast),
            #[cfg(wait_in_lua)]
            Kind::Top => lua_wait::untracked_yield(state, fast),
        }
    }
}

/// Raises the error of a wait inside a signal handler.
///
/// # Safety
/// On a native's own stack, owning nothing.
unsafe fn raise_in_handler(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: as the caller guarantees.
    unsafe { ffi::luaL_error(state, c"cannot yield inside a signal handler".as_ptr()) }
}

/// Makes the value at `index` a filter as the emulator reads one: a string
/// stays, a number becomes its text, anything else becomes nil (no filter).
///
/// # Safety
/// `index` is a valid index of a native's own stack.
unsafe fn normalise_filter(state: *mut ffi::lua_State, index: c_int) {
    // SAFETY: as the caller guarantees; lua_tolstring converts a number in
    // place, which is what the emulator's filter does (it may raise only
    // when out of memory, and nothing here needs dropping).
    unsafe {
        match ffi::lua_type(state, index) {
            ffi::LUA_TSTRING => {}
            ffi::LUA_TNUMBER => {
                ffi::lua_tolstring(state, index, ptr::null_mut());
            }
            _ => {
                ffi::lua_pushnil(state);
                ffi::lua_replace(state, index);
            }
        }
    }
}

/// The delivery loop of a top-level wait, before any yield to the emulator:
/// direct deliveries while they are possible, skipping those the filter at
/// `filter` rejects (the program has received them). Returns the number of
/// values to return, the event's name and table pushed on top of the stack,
/// or `None` with the stack as it was: the caller yields to the emulator.
///
/// # Safety
/// A native running on the top-level coroutine; `filter` is a valid index
/// of its stack, holding a normalised filter.
unsafe fn deliver_directly(
    state: *mut ffi::lua_State,
    fast: &Fast,
    filter: c_int,
) -> Option<c_int> {
    // SAFETY: as the caller guarantees; `next_direct` pushes exactly the two
    // values it reports, dropped again when the filter rejects them.
    unsafe {
        let top = ffi::lua_gettop(state);
        while let Some(count) = next_direct(state, fast) {
            if passes_filter(state, filter, top + 1) {
                return Some(count);
            }
            ffi::lua_settop(state, top);
        }
    }
    None
}

/// One direct delivery, pushed onto `state`, or `None`: yield to the emulator.
///
/// # Safety
/// A native running on the top-level coroutine with two free stack slots
/// (always: see the module's notes on the stack).
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
    if fast.direct_run.get() >= DIRECT_BUDGET || fast.unsure.get() {
        fast.kernel.prepare_wait(fast.ticket);
        return None;
    }
    // SAFETY: as the caller guarantees: the stack never grows here, so
    // lua_checkstack cannot raise.
    if unsafe { ffi::lua_checkstack(state, 2) } == 0 {
        return None;
    }
    // Panics are caught here so that none unwinds into Lua. Inside, Lua is
    // only reached through mlua's protected calls.
    // SAFETY: as the caller guarantees, with the two slots reserved.
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

/// Just before a top-level yield to the emulator. `tracked`: the program
/// will do [`after_resume`] when the emulator resumes it.
fn before_yield(fast: &Fast, tracked: bool) {
    fast.untracked.set(!tracked);
    fast.mailbox.set_waiting(true);
}

/// The emulator resumed a tracked top-level wait with the event at `event`
/// (its name; the rest follow): the bookkeeping of what the program
/// received. Whether the program sees it: false when it was cancelled, the
/// computer is going down, or the filter at `filter` rejects it — then it
/// waits again.
///
/// # Safety
/// A native's own stack, with valid indices `filter` and `event - 1`.
unsafe fn after_resume(
    state: *mut ffi::lua_State,
    fast: &Fast,
    filter: c_int,
    event: c_int,
) -> bool {
    fast.mailbox.set_waiting(false);
    fast.direct_run.set(0);
    fast.mailbox.disarm();
    // SAFETY: as the caller guarantees.
    unsafe {
        fast.reply.woke(|| is_remote_event(state, event));
        ffi::lua_gettop(state) >= event
            && received(state, fast, event + 1)
            && passes_filter(state, filter, event)
    }
}

/// Bookkeeping of an event the emulator handed to the program, its table at
/// `params`; false when the program must not see it (cancelled, or the
/// computer is going down).
///
/// # Safety
/// As for [`after_resume`].
unsafe fn received(state: *mut ffi::lua_State, fast: &Fast, params: c_int) -> bool {
    // SAFETY: reads a type and a pointer on the native's own stack; the
    // bookkeeping itself calls no Lua.
    unsafe {
        if fast.handed.get() != 0 && ffi::lua_type(state, params) == ffi::LUA_TTABLE {
            let params = ffi::lua_topointer(state, params);
            let visible = catch_unwind(AssertUnwindSafe(|| {
                delivery::receive_handed(state, fast, params)
            }));
            return visible.unwrap_or(true) && fast.mailbox.is_open();
        }
    }
    fast.mailbox.is_open()
}

/// Whether the value at `index` is the string `name`.
///
/// # Safety
/// `index` is a valid index of `state`.
unsafe fn is_string(state: *mut ffi::lua_State, index: c_int, name: &[u8]) -> bool {
    // SAFETY: reads the index only if it is a string (no conversion).
    unsafe {
        if ffi::lua_type(state, index) != ffi::LUA_TSTRING {
            return false;
        }
        let mut len = 0;
        let text = ffi::lua_tolstring(state, index, &mut len);
        std::slice::from_raw_parts(text.cast::<u8>(), len) == name
    }
}

/// Whether the event at `event` is a `remote_event`.
///
/// # Safety
/// As for [`is_string`].
unsafe fn is_remote_event(state: *mut ffi::lua_State, event: c_int) -> bool {
    // SAFETY: as the caller guarantees.
    unsafe { is_string(state, event, b"remote_event") }
}

/// Whether the event named at `event` passes the (normalised) filter at
/// `filter`: no filter, the same name, or `terminate`, as in the emulator.
///
/// # Safety
/// `filter` and `event` are valid indices of `state`.
unsafe fn passes_filter(state: *mut ffi::lua_State, filter: c_int, event: c_int) -> bool {
    // SAFETY: reads indices that exist; raw equality converts nothing.
    unsafe {
        ffi::lua_type(state, filter) == ffi::LUA_TNIL
            || ffi::lua_rawequal(state, filter, event) != 0
            || is_string(state, event, b"terminate")
    }
}

/// `coroutine.create(f)`: marks the new thread as created by Lua code.
unsafe extern "C-unwind" fn co_create(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the same steps as Lua's own coroutine.create, then a raw set
    // into the marks table (upvalue 1). Errors (a bad argument, memory) may
    // be raised; nothing here needs dropping.
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
    // the first upvalue of the C closure it returns. Errors may be raised;
    // nothing here needs dropping.
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
