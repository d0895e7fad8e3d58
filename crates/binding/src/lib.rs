//! The Lua binding: the `syscall` table of one computer incarnation, and
//! delivery of queued items on that computer's thread.
//!
//! Everything here runs on the computer's own thread, with its Lua state.
//! The core is reached through [`Kernel`]; the emulator only through the
//! [`ComputerPort`] the host adapter passes in.
//!
//! One crate for both emulators: feature `lua52` binds the standard
//! CraftOS-PC's Lua 5.2, feature `luajit` CraftOS-PC Accelerated's LuaJIT
//! (with its Lua 5.2 compatibility). The two differ only in how a wait of
//! the top-level coroutine continues after the emulator resumes it (see
//! `fast.rs`) and in a few API details, each marked with its `cfg`.

pub(crate) mod convert;
mod delivery;
mod fast;
#[doc(hidden)]
pub mod luajit_imports;
mod processes;
mod send;
mod services;
mod state;
mod syscall_yield;
mod syscalls;

// The checks shared by the fuzz targets and the property tests. They live
// outside src/ because they are not part of the plugin (nor of its build).
// They run Lua 5.2 (the embedded host's).
#[cfg(all(any(test, feature = "fuzzing"), feature = "lua52"))]
#[doc(hidden)]
#[path = "../../../fuzz/checks/mod.rs"]
pub mod fuzzing;

// The unit tests run Lua (fuzz/checks); the host crate links one into the
// test binary (the plugin itself uses the emulator's).
#[cfg(all(test, feature = "lua52"))]
extern crate craftos_host;

/// The binding's Lua API, re-exported so that the plugin uses exactly this
/// build of it.
pub use mlua;

use std::ffi::{c_int, c_void};
use std::rc::Rc;
use std::sync::Arc;

use mlua::{ffi, Function, Lua, Table};

use phoenix_events_core::kernel::{ComputerPort, Kernel};
use phoenix_events_core::{Pid, Ticket};
use state::ProcessState;

const PRELUDE: &str = include_str!("../../../lua/prelude.lua");
/// Its address is the registry key (a light userdata: reading it allocates
/// nothing, so cannot raise) of the incarnation this state belongs to;
/// written last, so a provider finding it knows the state is fully set up.
static INCARNATION_KEY: u8 = 0;
const EXIT_GUARD_KEY: &str = "phoenix_events.exit_guard";

fn incarnation_key() -> *mut c_void {
    std::ptr::addr_of!(INCARNATION_KEY).cast_mut().cast()
}

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
    fast::add_natives(lua, &natives, fast.clone())?;
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
    // SAFETY: in a protected call: pushes a number and raw-sets it into the
    // registry under a light userdata key.
    unsafe {
        lua.exec_raw::<()>((), |state| {
            ffi::lua_pushnumber(state, f64::from(ticket.incarnation));
            ffi::lua_rawsetp(state, ffi::LUA_REGISTRYINDEX, incarnation_key());
        })?;
    }
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
    // SAFETY: a raw read of the registry with a light userdata key calls no
    // metamethod and allocates nothing; one stack slot is reserved (the
    // emulator reserved four for a provider, so it never grows: no raise)
    // and popped again.
    unsafe {
        if ffi::lua_checkstack(thread, 1) == 0 {
            return None;
        }
        ffi::lua_rawgetp(thread, ffi::LUA_REGISTRYINDEX, incarnation_key());
        let mut is_number: c_int = 0;
        let value = ffi::lua_tonumberx(thread, -1, &mut is_number);
        ffi::lua_settop(thread, -2);
        (is_number != 0).then_some(value as u32)
    }
}
