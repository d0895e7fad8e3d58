//! Phoenix event syscalls for CraftOS-PC: a native plugin that gives every
//! emulated computer a `syscall` table (`kill`, `signal`, `queueEvent`,
//! `peekEvent`, `sendEvent`, `timer`, `alarm`, `cancel`, `getpid`, `getuser`)
//! working between computers.
//!
//! Layers, dependencies pointing inward:
//! - [`core`]: processes, users, queues, timers, the value model; no Lua and
//!   no emulator.
//! - `binding`: the Lua side of one computer, through `mlua`.
//! - `host_adapter`: CraftOS-PC's C/C++ plugin interface (with `shim.cpp`).

pub mod core;

// The unit tests run Lua (fuzz/checks); the host crate links one into the
// test binary (the plugin itself uses the emulator's).
#[cfg(test)]
extern crate craftos_host;

mod binding;
// The checks shared by the fuzz targets and the property tests. They live
// outside src/ because they are not part of the plugin (nor of its build).
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
#[path = "../fuzz/checks/mod.rs"]
pub mod fuzzing;
mod host_adapter;
