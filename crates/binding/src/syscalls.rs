//! The natives behind the `syscall` table. The prelude has checked argument
//! types already; errors a user can cause come back as messages for the
//! prelude to raise at the caller's level.

use std::time::Duration;

use mlua::{Function, Lua, MultiValue, Table, Value};

use super::convert::copy_table;
use super::delivery::{dispatch_signal, event_of, Event};
use super::state::{with_state, Disposition};
use phoenix_events_core::kernel::Kill;
use phoenix_events_core::queue::{Item, TimerId};
use phoenix_events_core::{signals, Ticket};

/// Real seconds per in-game hour (one in-game day lasts 20 real minutes).
const SECONDS_PER_GAME_HOUR: f64 = 50.0;
/// Longer timeouts are clamped (a century), so deadlines cannot overflow.
const MAX_TIMEOUT_SECONDS: f64 = 100.0 * 365.0 * 86_400.0;

type Message = Option<&'static str>;

/// The prelude checks signal numbers first; this is the natives' own guard.
const INVALID_SIGNAL: &str = "invalid signal";

/// Handlers run inside handlers only through a signal a handler sends its
/// own computer; a 33rd level is refused. Each level nests native frames
/// (about 1.5 KB in a release build, 7 KB in a debug one): Lua 5.2 would
/// stop such a recursion at 200 C calls, LuaJIT only when the native stack
/// overflows, which crashes the emulator.
pub const MAX_HANDLER_DEPTH: u32 = 32;
const TOO_DEEP: &str = "signal handlers nested more than 32 deep";
const _: () = assert!(MAX_HANDLER_DEPTH == 32, "TOO_DEEP names the limit");

pub fn natives(lua: &Lua) -> mlua::Result<Table> {
    let natives = lua.create_table()?;
    natives.set(
        "getpid",
        lua.create_function(|lua, ()| ids(lua).map(|(_, t)| t.pid))?,
    )?;
    natives.set("getuser", lua.create_function(getuser)?)?;
    natives.set("kill", lua.create_function(kill)?)?;
    natives.set("signal", lua.create_function(signal)?)?;
    natives.set("queue_event", lua.create_function(queue_event)?)?;
    natives.set("peek_event", lua.create_function(peek_event)?)?;
    natives.set("timer", lua.create_function(timer)?)?;
    natives.set("alarm", lua.create_function(alarm)?)?;
    natives.set("cancel", lua.create_function(cancel)?)?;
    natives.set(
        "handler_depth",
        lua.create_function(|lua, change: i32| {
            with_state(lua, |s| {
                let depth = &s.fast.handler_depth;
                depth.set(depth.get().saturating_add_signed(change));
            })
        })?,
    )?;
    natives.set(
        "stderr",
        lua.create_function(|_, message: String| {
            eprintln!("{message}");
            Ok(())
        })?,
    )?;
    Ok(natives)
}

fn ids(lua: &Lua) -> mlua::Result<(std::sync::Arc<phoenix_events_core::kernel::Kernel>, Ticket)> {
    with_state(lua, |s| (s.kernel.clone(), s.ticket))
}

fn getuser(lua: &Lua, (): ()) -> mlua::Result<String> {
    with_state(lua, |s| s.kernel.user_of(s.ticket.pid).to_owned())
}

fn kill(lua: &Lua, (pid, signal): (f64, f64)) -> mlua::Result<Message> {
    let (kernel, ticket) = ids(lua)?;
    let Some(target) = kernel.address(pid) else {
        return Ok(Some("No such process"));
    };
    let Some(signal) = signals::from_number(signal) else {
        return Ok(Some(INVALID_SIGNAL));
    };
    match kernel.kill_address(ticket, target, signal) {
        Err(error) => Ok(Some(error.message())),
        Ok(Kill::ToSelf) => {
            let too_deep = with_state(lua, |s| {
                s.fast.handler_depth.get() >= MAX_HANDLER_DEPTH
                    && matches!(s.disposition(signal), Disposition::Handler(_))
            })?;
            if too_deep {
                return Ok(Some(TOO_DEEP));
            }
            if !dispatch_signal(lua, signal)? {
                // No handler: an event, like any other signal.
                let _ = kernel.push(ticket, Item::Signal(signal));
            }
            Ok(None)
        }
        Ok(Kill::Killed | Kill::Queued | Kill::Checked) => Ok(None),
    }
}

fn signal(lua: &Lua, (signal, handler): (f64, Option<Function>)) -> mlua::Result<Message> {
    let Some(signal) = signals::from_number(signal) else {
        return Ok(Some(INVALID_SIGNAL));
    };
    with_state(lua, |s| s.set_handler(signal, handler))?;
    Ok(None)
}

fn queue_event(lua: &Lua, (name, params): (mlua::LuaString, Table)) -> mlua::Result<Message> {
    let (kernel, ticket) = ids(lua)?;
    let handle = with_state(lua, |s| s.keep_local(params))?;
    let name = name.as_bytes().as_ref().into();
    if kernel.push(ticket, Item::Local { name, handle }).is_ok() {
        return Ok(None);
    }
    with_state(lua, |s| s.take_local(handle))?;
    Ok(Some("Queue full"))
}

fn peek_event(lua: &Lua, (): ()) -> mlua::Result<MultiValue> {
    let handed = with_state(lua, |s| {
        s.handed
            .iter()
            .find(|e| !e.cancelled)
            .map(|e| (e.name.clone(), e.params.clone()))
    })?;
    let event = match handed {
        Some((name, params)) => Some((name, copy_table(lua, &params)?)),
        None => next_queued_event(lua)?,
    };
    match event {
        Some((name, params)) => Ok(MultiValue::from_vec(vec![
            Value::String(lua.create_string(name)?),
            Value::Table(params),
        ])),
        None => Ok(MultiValue::from_vec(vec![Value::Nil])),
    }
}

/// The first item still in the kernel queue that will reach the program as
/// an event, as a fresh copy.
fn next_queued_event(lua: &Lua) -> mlua::Result<Option<(Vec<u8>, Table)>> {
    let item = with_state(lua, |s| {
        s.kernel.peek(s.ticket, |item| match item {
            Item::Signal(signal) => s.becomes_event(*signal),
            Item::Terminate | Item::Gate => false,
            Item::Remote { .. } | Item::Local { .. } | Item::Timer(_) => true,
        })
    })?;
    match item {
        None => Ok(None),
        Some(Item::Local { name, handle }) => {
            let original = with_state(lua, |s| s.local(handle).cloned())?;
            match original {
                Some(table) => Ok(Some((name.into_vec(), copy_table(lua, &table)?))),
                None => Ok(None),
            }
        }
        Some(item) => Ok(event_of(lua, &item)?.map(|Event { name, params, .. }| (name, params))),
    }
}

fn timer(lua: &Lua, timeout: f64) -> mlua::Result<(Option<TimerId>, Option<String>)> {
    if !timeout.is_finite() {
        let got = if timeout.is_nan() {
            "nan"
        } else if timeout > 0.0 {
            "inf"
        } else {
            "-inf"
        };
        let message = format!("bad argument #1 to 'timer' (finite number expected, got {got})");
        return Ok((None, Some(message)));
    }
    start(lua, timeout, false)
}

fn alarm(lua: &Lua, time: f64) -> mlua::Result<(Option<TimerId>, Option<String>)> {
    if !(0.0..24.0).contains(&time) {
        return Ok((None, Some("Number out of range".to_owned())));
    }
    let os_time = with_state(lua, |s| s.os_time.clone())?
        .ok_or_else(|| mlua::Error::runtime("os.time is not available"))?;
    let now: f64 = os_time.call(())?;
    let mut hours = time - now;
    if hours < 0.0 {
        hours += 24.0;
    }
    start(lua, hours * SECONDS_PER_GAME_HOUR, true)
}

fn start(lua: &Lua, seconds: f64, alarm: bool) -> mlua::Result<(Option<TimerId>, Option<String>)> {
    let delay = Duration::from_secs_f64(seconds.clamp(0.0, MAX_TIMEOUT_SECONDS));
    let (kernel, ticket) = ids(lua)?;
    match kernel.start_timer(ticket, delay, alarm) {
        Ok(id) => Ok((Some(id), None)),
        Err(_) => Ok((None, Some("Too many timers".to_owned()))),
    }
}

fn cancel(lua: &Lua, id: f64) -> mlua::Result<()> {
    if id.fract() != 0.0 || !(1.0..=f64::from(u32::MAX)).contains(&id) {
        return Ok(());
    }
    let id = id as TimerId;
    let (kernel, ticket) = ids(lua)?;
    with_state(lua, |s| s.cancel_handed(id))?;
    kernel.cancel(ticket, id);
    Ok(())
}
