//! The service registry (Phoenix's `register` / `lookup`): service names
//! mapped to the incarnation that owns them, shared by every computer.
//!
//! The map lives in the process table, under its lock, so that ownership
//! changes atomically with the processes themselves: a name is released when
//! its owner's incarnation exits or is replaced by a reboot, and an owner
//! whose computer is switched off (SIGKILL, power button) no longer counts
//! as live even before its Lua state has closed.

use std::collections::HashMap;

use super::{Kernel, Table};
use crate::{Pid, Ticket};

/// Longest service name, in bytes (Phoenix sets none; this keeps one
/// program from pinning unbounded memory under a single name).
pub const MAX_SERVICE_NAME: usize = 4096;
/// Names one incarnation may own at once.
pub const MAX_SERVICES_PER_PROCESS: usize = 1024;

/// Why `register` said no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A live process (maybe the caller) owns the name.
    Taken,
    /// The caller is no longer a live process (stale ticket, shutting down).
    NotAProcess,
    /// The name is longer than [`MAX_SERVICE_NAME`].
    NameTooLong,
    /// The caller already owns [`MAX_SERVICES_PER_PROCESS`] names.
    TooMany,
}

/// Service name → owner.
#[derive(Default)]
pub(super) struct Services {
    owners: HashMap<Box<[u8]>, Ticket>,
}

impl Services {
    /// Forgets every name `ticket` owns (its incarnation ended).
    pub(super) fn release(&mut self, ticket: Ticket) {
        self.owners.retain(|_, owner| *owner != ticket);
    }

    pub(super) fn clear(&mut self) {
        self.owners.clear();
    }

    fn owned_by(&self, ticket: Ticket) -> usize {
        self.owners.values().filter(|&&o| o == ticket).count()
    }

    /// The names `ticket` owns, in byte order (for the process view).
    pub(super) fn names_of(&self, ticket: Ticket) -> Vec<Box<[u8]>> {
        let mut names: Vec<Box<[u8]>> = self
            .owners
            .iter()
            .filter(|(_, &owner)| owner == ticket)
            .map(|(name, _)| name.clone())
            .collect();
        names.sort_unstable();
        names
    }
}

impl Table {
    /// Whether `ticket` is the current incarnation and its computer is on.
    fn is_live(&mut self, ticket: Ticket) -> bool {
        self.current(ticket).is_some_and(|p| p.port.is_running())
    }

    /// The live owner of `name`; a dead owner's entry is dropped on the way.
    fn live_owner(&mut self, name: &[u8]) -> Option<Ticket> {
        let owner = *self.services.owners.get(name)?;
        if self.is_live(owner) {
            return Some(owner);
        }
        self.services.owners.remove(name);
        None
    }
}

impl Kernel {
    /// `register`: makes `caller` the owner of `name` unless a live process
    /// (the caller included) already owns it.
    pub fn register(&self, caller: Ticket, name: &[u8]) -> Result<(), Refused> {
        if name.len() > MAX_SERVICE_NAME {
            return Err(Refused::NameTooLong);
        }
        let mut table = self.lock();
        if !table.is_live(caller) {
            return Err(Refused::NotAProcess);
        }
        if table.live_owner(name).is_some() {
            return Err(Refused::Taken);
        }
        if table.services.owned_by(caller) >= MAX_SERVICES_PER_PROCESS {
            return Err(Refused::TooMany);
        }
        table.services.owners.insert(name.into(), caller);
        Ok(())
    }

    /// How many names the registry holds, live or not (for tests).
    #[cfg(test)]
    pub(crate) fn service_entries(&self) -> usize {
        self.lock().services.owners.len()
    }

    /// `lookup`: the pid of `name`'s live owner.
    pub fn lookup(&self, name: &[u8]) -> Option<Pid> {
        self.lock().live_owner(name).map(|owner| owner.pid)
    }
}

#[cfg(test)]
mod tests;
