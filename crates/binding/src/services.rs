//! The natives behind `syscall.register` and `syscall.lookup`. The prelude
//! has checked that the name is a string.

use mlua::{Lua, LuaString, Table};

use super::state::with_state;
use phoenix_events_core::cluster::GlobalPid;

pub fn add_natives(lua: &Lua, natives: &Table) -> mlua::Result<()> {
    natives.set("register", lua.create_function(register)?)?;
    natives.set("lookup", lua.create_function(lookup)?)?;
    Ok(())
}

/// True when this process now owns `name`; false when a live process owns
/// it already (or this one is going down, or a limit is reached).
fn register(lua: &Lua, name: LuaString) -> mlua::Result<bool> {
    with_state(lua, |s| {
        s.kernel.register(s.ticket, &name.as_bytes()).is_ok()
    })
}

fn lookup(lua: &Lua, name: LuaString) -> mlua::Result<Option<GlobalPid>> {
    with_state(lua, |s| s.kernel.lookup(&name.as_bytes()))
}
