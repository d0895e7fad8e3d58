//! Phoenix event syscalls for CraftOS-PC.
pub mod core;
