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
//!
//! Two builds, one per emulator: feature `standard` (the default) for
//! CraftOS-PC v2.8 (plugin ABI 12, Lua 5.2), `accelerated` for CraftOS-PC
//! Accelerated (plugin ABI 11, LuaJIT 2.1).

#[cfg(all(feature = "standard", feature = "accelerated"))]
compile_error!("features `standard` and `accelerated` exclude each other: one plugin per emulator");
#[cfg(not(any(feature = "standard", feature = "accelerated")))]
compile_error!(
    "enable feature `standard` (CraftOS-PC v2.8) or `accelerated` (CraftOS-PC Accelerated)"
);

mod host_adapter;
