//! The service registry (Phoenix's `register` / `lookup`): service names
//! mapped to the incarnation that owns them, shared by every computer.
//!
//! The map lives in the process table, under its lock, so that ownership
//! changes atomically with the processes themselves: a name is released when
//! its owner's incarnation exits or is replaced by a reboot, and an owner
//! whose computer is switched off (SIGKILL, power button) no longer counts
//! as live even before its Lua state has closed.
//!
//! In a cluster, this map holds the names of this node's processes, and
//! every claim is first won cluster-wide through [`Cluster::claim`] (outside
//! the lock: it may wait for the broker); names of other nodes' processes
//! are the cluster adapter's. A name this node holds is in both, or is being
//! given back: the adapter hears of every release through
//! [`Cluster::process_ended`] or [`Cluster::release`].

use std::collections::HashMap;

use super::{Kernel, Table};
#[cfg(doc)]
use crate::cluster::Cluster;
use crate::cluster::{global_pid, GlobalPid};
use crate::Ticket;

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
    /// Forgets every name `ticket` owns (its incarnation ended), and
    /// returns them.
    pub(super) fn release(&mut self, ticket: Ticket) -> Vec<Box<[u8]>> {
        let mut released = Vec::new();
        self.owners.retain(|name, owner| {
            let keep = *owner != ticket;
            if !keep {
                released.push(name.clone());
            }
            keep
        });
        released
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
        let Some(cluster) = self.cluster() else {
            table.services.owners.insert(name.into(), caller);
            return Ok(());
        };
        drop(table);
        cluster.claim(caller, name)?;
        let mut table = self.lock();
        if !table.is_live(caller) || table.live_owner(name).is_some() {
            // Ended (or lost a local race) while the claim was out: give it back.
            drop(table);
            cluster.release(caller, vec![name.into()]);
            return Err(Refused::NotAProcess);
        }
        table.services.owners.insert(name.into(), caller);
        Ok(())
    }

    /// The cluster no longer counts `owner`'s claim on `name` (another node
    /// won it while this one was cut off from the broker): forgets it here.
    pub fn revoke(&self, owner: Ticket, name: &[u8]) {
        let mut table = self.lock();
        if table.services.owners.get(name) == Some(&owner) {
            table.services.owners.remove(name);
        }
    }

    /// Every name a live process of this node owns, with its owner (for the
    /// cluster adapter to re-claim after a reconnection).
    pub fn services(&self) -> Vec<(Box<[u8]>, Ticket)> {
        let mut table = self.lock();
        let names: Vec<Box<[u8]>> = table.services.owners.keys().cloned().collect();
        names
            .into_iter()
            .filter_map(|name| table.live_owner(&name).map(|owner| (name, owner)))
            .collect()
    }

    /// How many names the registry holds, live or not (for tests).
    #[cfg(test)]
    pub(crate) fn service_entries(&self) -> usize {
        self.lock().services.owners.len()
    }

    /// `lookup`: the pid of `name`'s live owner: a computer ID, or another
    /// node's pid (node × 2^32 + ID).
    pub fn lookup(&self, name: &[u8]) -> Option<GlobalPid> {
        if let Some(owner) = self.lock().live_owner(name) {
            return Some(GlobalPid::from(owner.pid));
        }
        let cluster = self.cluster()?;
        let (node, pid) = cluster.lookup(name)?;
        (node != cluster.node()).then(|| global_pid(node, pid))
    }
}

#[cfg(test)]
mod tests;
