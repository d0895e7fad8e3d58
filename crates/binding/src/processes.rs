//! The natives behind `syscall.getplist` and `syscall.getpinfo`: Phoenix's
//! read-only view of the processes, as the core's process view
//! (`phoenix_events_core::kernel::view`) gives it to this computer. The
//! prelude has checked the argument types. In cluster mode both show this
//! emulator's processes only: another emulator's pid is `No such process`
//! to `getpinfo`.

use mlua::{Lua, MultiValue, Table, Value};

use super::state::with_state;
use phoenix_events_core::cluster::Address;
use phoenix_events_core::kernel::view::ProcessInfo;
use phoenix_events_core::kernel::KillError;
use phoenix_events_core::Pid;

pub fn add_natives(lua: &Lua, natives: &Table) -> mlua::Result<()> {
    natives.set("getplist", lua.create_function(getplist)?)?;
    natives.set("getpinfo", lua.create_function(getpinfo)?)?;
    Ok(())
}

/// Every process's pid, ascending, as an array.
fn getplist(lua: &Lua, (): ()) -> mlua::Result<Vec<Pid>> {
    with_state(lua, |s| s.kernel.process_list())
}

/// A table describing process `pid`, or `nil, message` (Phoenix's
/// `getpinfo` returns its error as values, and so does this).
fn getpinfo(lua: &Lua, pid: f64) -> mlua::Result<MultiValue> {
    let info = with_state(lua, |s| match s.kernel.address(pid) {
        Some(Address::Local(pid)) => s.kernel.process_info(s.ticket, pid),
        Some(Address::Remote { .. }) | None => Err(KillError::NoSuchProcess),
    })?;
    match info {
        Ok(info) => Ok(MultiValue::from_vec(vec![Value::Table(to_table(
            lua, info,
        )?)])),
        Err(error) => Ok(MultiValue::from_vec(vec![
            Value::Nil,
            Value::String(lua.create_string(error.message())?),
        ])),
    }
}

/// `{id = pid, user = ..., state = "running" | "stopped", events = n,
/// timers = n, services = {names...}}`.
fn to_table(lua: &Lua, info: ProcessInfo) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, 6)?;
    table.raw_set("id", info.pid)?;
    table.raw_set("user", info.user)?;
    table.raw_set("state", info.state.name())?;
    table.raw_set("events", info.events)?;
    table.raw_set("timers", info.timers)?;
    let services = lua.create_table_with_capacity(info.services.len(), 0)?;
    for (index, name) in info.services.iter().enumerate() {
        services.raw_set(index + 1, lua.create_string(&name[..])?)?;
    }
    table.raw_set("services", services)?;
    Ok(table)
}
