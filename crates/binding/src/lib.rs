//! The Lua binding: the `syscall` table of one computer incarnation, and
//! delivery of queued items on that computer's thread.
//!
//! Everything here runs on the computer's own thread, with its Lua state.
//! The core is reached through [`Kernel`]; the emulator only through the
//! [`ComputerPort`] the host adapter passes in.

pub(crate) mod convert;
mod delivery;
mod fast;
mod processes;
mod send;
mod services;
mod state;
mod syscall_yield;
mod syscalls;

// The checks shared by the fuzz targets and the property tests. They live
// outside src/ because they are not part of the plugin (nor of its build).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[path = "../../../fuzz/checks/mod.rs"]
pub mod fuzzing;

// The unit tests run Lua (fuzz/checks); the host crate links one into the
// test binary (the plugin itself uses the emulator's).
#[cfg(test)]
extern crate craftos_host;

/// The binding's Lua API, re-exported so that the plugin uses exactly this
/// build of it.
pub use mlua;

use std::ffi::c_int;
use std::rc::Rc;
use std::sync::Arc;

use mlua::{ffi, Function, Lua, Table};

use phoenix_events_core::kernel::{ComputerPort, Kernel};
use phoenix_events_core::{Pid, Ticket};
use state::ProcessState;

const PRELUDE: &str = include_str!("../../../lua/prelude.lua");
/// Registry key of the incarnation this state belongs to; written last, so a
/// provider finding it knows the state is fully set up.
const INCARNATION_KEY: &std::ffi::CStr = c"phoenix_events.incarnation";
const EXIT_GUARD_KEY: &str = "phoenix_events.exit_guard";

/// Ends the process when its Lua state closes (shutdown, reboot, crash).
struct ExitGuard {
    kernel: Arc<Kernel>,
    ticket: Ticket,
}

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.kernel.exit(self.ticket);
    }
}

/// Starts process `pid` on this (freshly booted) state and returns its
/// `syscall` table.
pub fn install(
    lua: &Lua,
    pid: Pid,
    kernel: Arc<Kernel>,
    port: Box<dyn ComputerPort>,
) -> mlua::Result<Table> {
    let ticket = kernel.spawn(pid, port);
    let guard = ExitGuard {
        kernel: kernel.clone(),
        ticket,
    };
    lua.set_named_registry_value(EXIT_GUARD_KEY, lua.create_any_userdata(guard)?)?;
    let os_time = lua
        .globals()
        .get::<Table>("os")
        .and_then(|os| os.get::<Function>("time"))
        .ok();
    let mailbox = kernel
        .mailbox(ticket)
        .ok_or_else(|| mlua::Error::runtime("the process ended while starting"))?;
    let fast = Rc::new(fast::Fast::new(kernel.clone(), ticket, mailbox));
    let natives = syscalls::natives(lua)?;
    let fast_natives = fast::natives(lua, fast.clone())?;
    natives.set("yield", fast_natives.yield_)?;
    natives.set("create", fast_natives.create)?;
    natives.set("wrap", fast_natives.wrap)?;
    natives.set("send_event", fast_natives.send_event)?;
    services::add_natives(lua, &natives)?;
    processes::add_natives(lua, &natives)?;
    let (syscall, run_handler, show_error, dispatcher): (Table, Function, Function, Function) = lua
        .load(PRELUDE)
        .set_name("=phoenix-events")
        .call(natives)?;
    syscall_yield::set_dispatcher(lua, dispatcher)?;
    lua.set_app_data(ProcessState::new(
        kernel,
        ticket,
        run_handler,
        show_error,
        os_time,
        fast,
    ));
    lua.set_named_registry_value(
        INCARNATION_KEY.to_str().expect("ASCII key"),
        f64::from(ticket.incarnation),
    )?;
    Ok(syscall)
}

/// Pushes `table` onto `thread` (a thread of the same state).
pub fn push_table(lua: &Lua, thread: *mut ffi::lua_State, table: &Table) -> mlua::Result<()> {
    delivery::push_onto(lua, thread, table)
}

/// The provider's work: delivers the next item for `ticket`, pushing the
/// event's parameter table onto `thread`. `None` means no event (stale
/// ticket, handler ran, nothing queued).
///
/// # Safety
/// `thread` must be a live Lua thread of the computer's state, and this must
/// run on that computer's thread.
pub unsafe fn provide(thread: *mut ffi::lua_State, ticket: Ticket) -> Option<Vec<u8>> {
    // SAFETY: guaranteed by the caller.
    if unsafe { incarnation_of(thread) } != Some(ticket.incarnation) {
        return None; // for an older incarnation, or the state was never set up
    }
    // SAFETY: the marker proves `install` initialised mlua on this state.
    let lua = unsafe { Lua::get_or_init_from_ptr(thread) };
    match delivery::deliver(lua, thread) {
        Ok(name) => name,
        Err(error) => {
            eprintln!(
                "phoenix-events: computer {}: event lost: {error}",
                ticket.pid
            );
            None
        }
    }
}

/// The incarnation whose `install` completed on this state, if any.
///
/// # Safety
/// `thread` must be a live Lua thread, used on its computer's thread.
unsafe fn incarnation_of(thread: *mut ffi::lua_State) -> Option<u32> {
    // SAFETY: reading a registry field with a string key calls no
    // metamethod; one stack slot is reserved and popped again.
    unsafe {
        if ffi::lua_checkstack(thread, 1) == 0 {
            return None;
        }
        ffi::lua_getfield(thread, ffi::LUA_REGISTRYINDEX, INCARNATION_KEY.as_ptr());
        let mut is_number: c_int = 0;
        let value = ffi::lua_tonumberx(thread, -1, &mut is_number);
        ffi::lua_settop(thread, -2);
        (is_number != 0).then_some(value as u32)
    }
}
