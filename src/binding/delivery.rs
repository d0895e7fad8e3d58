//! Delivery, on the computer's own thread: the next queued item becomes the
//! event the emulator hands to the program, or runs as a signal handler or
//! default action.

use mlua::{ffi, Lua, Table};

use super::state::{with_state, Disposition, Handed};
use crate::core::kernel::Kernel;
use crate::core::queue::{Item, TimerId, ALARM_BIT};
use crate::core::signals::DefaultAction;
use crate::core::{Pid, Ticket};

/// An event ready for the program: name, parameter table, and the timer it
/// belongs to (so that `cancel` can still stop it).
pub struct Event {
    pub name: Vec<u8>,
    pub params: Table,
    pub timer: Option<TimerId>,
}

/// Delivers the next item of this computer's queue. When it becomes an
/// event, its parameter table is pushed onto `thread` and its name returned.
pub fn deliver(lua: &Lua, thread: *mut ffi::lua_State) -> mlua::Result<Option<Vec<u8>>> {
    let (kernel, ticket) = with_state(lua, |s| (s.kernel.clone(), s.ticket))?;
    let Some(item) = kernel.pop(ticket) else {
        return Ok(None);
    };
    let data = item.is_data();
    let delivered = hand_over(lua, thread, &kernel, ticket, item);
    if data && !matches!(delivered, Ok(Some(_))) {
        // It will never be received: stop counting it against the limit.
        kernel.acknowledge(ticket, 1);
    }
    delivered
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
    with_state(lua, |s| {
        s.handed.push_back(Handed {
            name: event.name.clone(),
            params: event.params,
            timer: event.timer,
            data,
            cancelled: false,
        })
    })?;
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
    sender: Pid,
    name: &[u8],
    data: &crate::core::value::Payload,
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
    // emulator passed to the provider now running on this computer's thread;
    // a stack slot is reserved before pushing, and rawgeti on the registry
    // invokes no metamethod.
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
