//! Phoenix event syscalls for CraftOS-PC: a native plugin that gives every
//! emulated computer a `syscall` table (`kill`, `signal`, `queueEvent`,
//! `peekEvent`, `sendEvent`, `timer`, `alarm`, `cancel`, `getpid`, `getuser`)
//! working between computers.
//!
//! Layers, one crate each, dependencies pointing inward:
//! - `phoenix-events-core` (crates/core): processes, users, queues, timers,
//!   the value model; no Lua and no emulator.
//! - `phoenix-events-binding` (crates/binding): the Lua side of one
//!   computer, through `mlua`.
//! - this crate, the plugin: CraftOS-PC's C/C++ plugin interface
//!   (`host_adapter`, with `shim.cpp`). It exports the emulator's entry
//!   points and nothing else.

mod host_adapter;
