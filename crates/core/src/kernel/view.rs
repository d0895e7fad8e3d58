//! The read-only view of the process table behind Phoenix's `getplist` and
//! `getpinfo` syscalls (and the `ps` and `services` shell programs): which
//! processes exist, and what one process may learn about another.
//!
//! Invariants:
//! - The view never shows a viewer more than the contract already lets it
//!   learn. Which processes exist is public: `kill(pid, 0)` tells any
//!   process whether `pid` exists ("No such process" or not). Everything
//!   else (user, stop state, queue, timers, services owned) is shown only
//!   for processes the viewer may signal, by `kill`'s own rule (same user,
//!   or the viewer is root); others answer `Permission denied`, after the
//!   existence check, as `kill` does.
//! - A process is what `kill` calls one: the current incarnation of a pid
//!   whose computer is on. Each answer is one snapshot under the table lock.
//! - Nothing here is specific to where a process runs: a later cluster mode
//!   can add remote processes to these answers (their pids and
//!   [`ProcessInfo`]s) without changing the types.

use super::{Kernel, KillError, Process};
use crate::users::may_signal;
use crate::{Pid, Ticket};

/// Whether a process receives events now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// Stopped by SIGSTOP, SIGTTIN or SIGTTOU, until SIGCONT or SIGKILL.
    Stopped,
}

impl RunState {
    /// The word `getpinfo` and `ps` show.
    pub fn name(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Stopped => "stopped",
        }
    }
}

/// What a viewer may see of one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: Pid,
    pub user: String,
    pub state: RunState,
    /// Events and signals queued for it and not received yet (see
    /// [`crate::queue::EventQueue::undelivered`]).
    pub events: usize,
    /// Timers and alarms pending (not yet expired or cancelled).
    pub timers: usize,
    /// The service names it owns, in byte order.
    pub services: Vec<Box<[u8]>>,
}

impl Kernel {
    /// `getplist`: the pid of every process, ascending.
    pub fn process_list(&self) -> Vec<Pid> {
        let table = self.lock();
        let mut pids: Vec<Pid> = table
            .processes
            .iter()
            .filter(|(_, p)| p.port.is_running())
            .map(|(&pid, _)| pid)
            .collect();
        pids.sort_unstable();
        pids
    }

    /// `getpinfo`: what `viewer` may see of process `pid`.
    pub fn process_info(&self, viewer: Ticket, pid: Pid) -> Result<ProcessInfo, KillError> {
        let table = self.lock();
        let process: &Process = table
            .processes
            .get(&pid)
            .filter(|p| p.port.is_running())
            .ok_or(KillError::NoSuchProcess)?;
        let user = self.users.user_of(pid);
        if !may_signal(self.users.user_of(viewer.pid), user) {
            return Err(KillError::PermissionDenied);
        }
        let ticket = Ticket {
            pid,
            incarnation: process.incarnation,
        };
        Ok(ProcessInfo {
            pid,
            user: user.to_owned(),
            state: if process.stopped {
                RunState::Stopped
            } else {
                RunState::Running
            },
            events: process.queue.undelivered(),
            timers: process.timers.len(),
            services: table.services.names_of(ticket),
        })
    }
}

#[cfg(test)]
mod tests;
