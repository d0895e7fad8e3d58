//! Delivery, on the computer's own thread: the next queued item becomes the
//! event the emulator hands to the program, or runs as a signal handler or
//! default action.
//!
//! Lua is reached here only through mlua's protected calls, and through raw
//! calls that cannot raise (pushing onto a stack with room reserved, raw
//! reads): the callers run these functions inside `catch_unwind`, which a
//! LuaJIT error (an unwind) must never cross.

use std::ffi::{c_int, c_void};

use mlua::{ffi, Lua, Table};

use super::fast::Fast;
use super::state::{with_state, Disposition, Handed};
use phoenix_events_core::cluster::GlobalPid;
use phoenix_events_core::kernel::Kernel;
use phoenix_events_core::queue::{Item, TimerId, ALARM_BIT};
use phoenix_events_core::signals::DefaultAction;
use phoenix_events_core::Ticket;

/// An event ready for the program: name, parameter table, and the timer it
/// belongs to (so that `cancel` can still stop it).
pub struct Event {
    pub name: Vec<u8>,
    pub params: Table,
    pub timer: Option<TimerId>,
}

/// A provider's work: delivers the next event of this computer's queue,
/// running the items before it that are not events (handlers, default
/// actions, stop gates). Its parameter table is pushed onto `thread` and
/// its name returned; `None` when the queue ran out first.
pub fn deliver(lua: &Lua, thread: *mut ffi::lua_State) -> mlua::Result<Option<Vec<u8>>> {
    let (kernel, ticket) = with_state(lua, |s| (s.kernel.clone(), s.ticket))?;
    let mut first = true;
    while let Some(item) = kernel.pop_for_provider(ticket, first) {
        first = false;
        let data = item.is_data();
        let delivered = hand_over(lua, thread, &kernel, ticket, item);
        if data && !matches!(delivered, Ok(Some(_))) {
            // It will never be received: stop counting it against the limit.
            kernel.acknowledge(ticket, 1);
        }
        match delivered {
            Ok(Some(name)) => return Ok(Some(name)),
            Ok(None) => {}
            // Go on with the next item: nothing else may come to deliver it.
            Err(error) => eprintln!(
                "phoenix-events: computer {}: event lost: {error}",
                ticket.pid
            ),
        }
    }
    Ok(None)
}

/// Direct delivery (see `fast`): takes the next item if it becomes an event
/// without running Lua code, and pushes its name and parameter table onto
/// `state`. Returns the number of values pushed.
///
/// # Safety
/// `state` is the top-level coroutine of this computer, in a native of a
/// top-level wait, on the computer's thread, with two free stack slots.
pub unsafe fn deliver_direct(state: *mut ffi::lua_State, fast: &Fast) -> Option<c_int> {
    // SAFETY: `Fast` exists only once `install` initialised mlua here.
    let lua = unsafe { Lua::get_or_init_from_ptr(state) };
    let item = with_state(lua, |s| {
        s.kernel.take_direct(s.ticket, |item| match item {
            Item::Remote { .. } | Item::Local { .. } | Item::Timer(_) => true,
            Item::Signal(signal) => s.becomes_event(*signal),
            Item::Terminate | Item::Gate => false,
        })
    })
    .ok()??;
    let pushed = match item {
        Item::Remote { sender, name, data } => push_remote(lua, state, sender, &name, &data),
        Item::Local { name, handle } => match with_state(lua, |s| s.take_local(handle)) {
            Ok(Some(params)) => push_event(lua, state, &name, params),
            _ => return None,
        },
        other => match event_of(lua, &other) {
            Ok(Some(event)) => push_event(lua, state, &event.name, event.params),
            Ok(None) => return None,
            Err(error) => Err(error),
        },
    };
    match pushed {
        Ok(()) => Some(2),
        Err(error) => {
            eprintln!(
                "phoenix-events: computer {}: event lost: {error}",
                fast.ticket.pid
            );
            None
        }
    }
}

/// Pushes `name, params` onto `state` (two slots reserved), in one
/// protected call of mlua: an allocation failure is caught there rather than
/// unwinding through Rust frames (the closure only borrows `name`).
fn push_event(
    lua: &Lua,
    state: *mut ffi::lua_State,
    name: &[u8],
    params: Table,
) -> mlua::Result<()> {
    // SAFETY: inside the protected call the stack is `[params]`; the name is
    // pushed and put below it, and both move to `state`, a thread of the
    // same state with the room reserved by the caller.
    unsafe {
        lua.exec_raw::<()>(params, |own| {
            ffi::lua_pushlstring(own, name.as_ptr().cast(), name.len());
            ffi::lua_insert(own, 1);
            ffi::lua_xmove(own, state, 2);
        })
    }
}

/// Pushes `"remote_event", {sender, type, data}` onto `state` (two slots
/// reserved): the table is built in one protected call, then pushed.
fn push_remote(
    lua: &Lua,
    state: *mut ffi::lua_State,
    sender: GlobalPid,
    name: &[u8],
    data: &phoenix_events_core::value::Payload,
) -> mlua::Result<()> {
    let params = super::convert::remote_params(lua, sender, name, data)?;
    push_event(lua, state, b"remote_event", params)
}

/// The program received the table at `params` from the emulator: updates
/// the handed list. Returns false when the program must not see it.
/// Calls no Lua.
///
/// # Safety
/// `state` is a thread of this computer's state, on its thread.
pub unsafe fn receive_handed(
    state: *mut ffi::lua_State,
    fast: &Fast,
    params: *const c_void,
) -> bool {
    // SAFETY: `Fast` exists only once `install` initialised mlua here.
    let lua = unsafe { Lua::get_or_init_from_ptr(state) };
    let Ok(Some((visible, data_events))) = with_state(lua, |s| s.receive(params)) else {
        return true; // not one of ours
    };
    if data_events > 0 {
        fast.kernel.acknowledge(fast.ticket, data_events);
    }
    visible
}

#[cfg(wait_in_lua)]
/// An untracked wait begins (`fast/lua_wait.rs`): every event of ours in
/// the emulator's queue counts as received from now on, and direct delivery
/// waits until an event handed over later is received. Calls no Lua.
///
/// # Safety
/// `state` is a thread of this computer's state, on its thread.
pub unsafe fn settle_handed(state: *mut ffi::lua_State, fast: &Fast) {
    // SAFETY: `Fast` exists only once `install` initialised mlua here.
    let lua = unsafe { Lua::get_or_init_from_ptr(state) };
    if let Ok(data_events) = with_state(lua, |s| s.settle()) {
        if data_events > 0 {
            fast.kernel.acknowledge(fast.ticket, data_events);
        }
    }
}

/// Runs `item` or turns it into an event handed to the program.
fn hand_over(
    lua: &Lua,
    thread: *mut ffi::lua_State,
    kernel: &Kernel,
    ticket: Ticket,
    item: Item,
) -> mlua::Result<Option<Vec<u8>>> {
    let data = item.is_data();
    let event = match item {
        Item::Signal(signal) => {
            if dispatch_signal(lua, signal)? {
                None
            } else {
                Some(signal_event(lua, signal)?)
            }
        }
        Item::Terminate => return Ok(Some(b"terminate".to_vec())),
        Item::Gate => {
            kernel.wait_while_stopped(ticket);
            None
        }
        Item::Local { name, handle } => {
            with_state(lua, |s| s.take_local(handle))?.map(|params| Event {
                name: name.into_vec(),
                params,
                timer: None,
            })
        }
        other => event_of(lua, &other)?,
    };
    let Some(event) = event else {
        return Ok(None);
    };
    push_onto(lua, thread, &event.params)?;
    let untracked = with_state(lua, |s| {
        let untracked = s.fast.untracked.get();
        if untracked {
            // What an untracked wait receives cannot be seen: received now.
            s.fast.unsure.set(true);
        } else {
            s.hand(Handed {
                name: event.name.clone(),
                params: event.params,
                timer: event.timer,
                data,
                cancelled: false,
            });
        }
        untracked
    })?;
    if untracked && data {
        kernel.acknowledge(ticket, 1);
    }
    Ok(Some(event.name))
}

/// The event a remote or timer item becomes (a fresh parameter table).
pub fn event_of(lua: &Lua, item: &Item) -> mlua::Result<Option<Event>> {
    Ok(match item {
        Item::Remote { sender, name, data } => Some(Event {
            name: b"remote_event".to_vec(),
            params: remote_params(lua, *sender, name, data)?,
            timer: None,
        }),
        Item::Timer(id) => {
            let params = lua.create_table()?;
            params.raw_set("id", i64::from(*id))?;
            let name: &[u8] = if id & ALARM_BIT != 0 {
                b"alarm"
            } else {
                b"timer"
            };
            Some(Event {
                name: name.to_vec(),
                params,
                timer: Some(*id),
            })
        }
        Item::Signal(signal) => Some(signal_event(lua, *signal)?),
        Item::Local { .. } | Item::Terminate | Item::Gate => None,
    })
}

fn signal_event(lua: &Lua, signal: i32) -> mlua::Result<Event> {
    let params = lua.create_table()?;
    params.raw_set("signal", signal)?;
    Ok(Event {
        name: b"signal".to_vec(),
        params,
        timer: None,
    })
}

fn remote_params(
    lua: &Lua,
    sender: GlobalPid,
    name: &[u8],
    data: &phoenix_events_core::value::Payload,
) -> mlua::Result<Table> {
    super::convert::remote_params(lua, sender, name, data)
}

/// Runs signal `signal`'s handler or default action on this computer.
/// Returns false when it has neither: the caller turns it into an event.
pub fn dispatch_signal(lua: &Lua, signal: i32) -> mlua::Result<bool> {
    let (disposition, run_handler) =
        with_state(lua, |s| (s.disposition(signal), s.run_handler.clone()))?;
    match disposition {
        Disposition::Event => return Ok(false),
        Disposition::Handler(handler) => run_handler.call::<()>((handler, signal))?,
        Disposition::Default(action) => perform(lua, action)?,
    }
    Ok(true)
}

fn perform(lua: &Lua, action: DefaultAction) -> mlua::Result<()> {
    let (kernel, ticket, show_error) =
        with_state(lua, |s| (s.kernel.clone(), s.ticket, s.show_error.clone()))?;
    match action {
        DefaultAction::Terminate => kernel.power_off(ticket),
        DefaultAction::Interrupt => {
            if kernel.push(ticket, Item::Terminate).is_err() {
                eprintln!(
                    "phoenix-events: computer {}: queue full, SIGINT lost",
                    ticket.pid
                );
            }
        }
        DefaultAction::Quit => {
            show_error.call::<()>("Quit (SIGQUIT)")?;
            kernel.power_off(ticket);
        }
        DefaultAction::Abort => {
            show_error.call::<()>("Aborted (SIGABRT)")?;
            kernel.power_off(ticket);
        }
        DefaultAction::Stop => kernel.stop(ticket),
    }
    Ok(())
}

/// Pushes `table` onto another thread of the same Lua state.
pub fn push_onto(lua: &Lua, thread: *mut ffi::lua_State, table: &Table) -> mlua::Result<()> {
    let key = lua.create_registry_value(table)?;
    // SAFETY: `thread` is the live thread of this computer's state that the
    // emulator passed to the provider now running on this computer's thread
    // (or the main state in the opener); a stack slot is reserved before
    // pushing, and rawgeti on the registry invokes no metamethod. The
    // emulator reserved 4 slots on a provider's thread (a C function, the
    // opener, has LUA_MINSTACK): lua_checkstack never grows the stack here,
    // so it cannot raise.
    let pushed = unsafe {
        ffi::lua_checkstack(thread, 1) != 0 && {
            ffi::lua_rawgeti(thread, ffi::LUA_REGISTRYINDEX, key.id().into());
            true
        }
    };
    lua.remove_registry_value(key)?;
    if pushed {
        Ok(())
    } else {
        Err(mlua::Error::runtime("no stack space for the event"))
    }
}
