//! What the kernel needs from a cluster of emulators, and the pid scheme
//! that names the computers of other emulators.
//!
//! The core knows no broker: [`Cluster`] is the narrow interface a cluster
//! adapter (crate `phoenix-events-cluster`, over NATS) implements, and the
//! kernel's `remote_*` methods are how operations arriving from other nodes
//! enter it. Without an attached cluster nothing here is used and every pid
//! is a local computer ID, as before.
//!
//! Pid scheme (invariants):
//! - a local computer's pid is its computer ID, as without a cluster; `getpid`
//!   returns it and local senders appear with it;
//! - the computer with ID `id` (0 ≤ id < 2^31) on node `n` (1 ≤ n ≤
//!   [`MAX_NODE`]) is, everywhere else, pid `n × 2^32 + id`. Such numbers are
//!   at least 2^32, so never a computer ID, and below 10^14, so exact in a
//!   Lua number (a double) and printed exactly by `tostring` (14 significant
//!   digits);
//! - a pid naming the node's own number is its local computer `id`.

use crate::kernel::registry::Refused;
use crate::kernel::KillError;
use crate::value::Payload;
use crate::{Pid, Ticket};

/// A node (one emulator process) of a cluster, numbered 1 to [`MAX_NODE`].
pub type Node = u32;

/// The highest node number: node × 2^32 + ID stays below 10^14, so Lua's
/// `tostring` (`%.14g`) prints every pid exactly.
pub const MAX_NODE: Node = 9999;

/// A pid as programs see it: a local computer ID, or a remote computer's
/// `node × 2^32 + id`.
pub type GlobalPid = i64;

const NODE_UNIT: i64 = 1 << 32;

/// Where a pid points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A computer of this emulator.
    Local(Pid),
    /// Computer `pid` of node `node` (another emulator).
    Remote { node: Node, pid: Pid },
}

impl Address {
    /// Reads a pid given by a program. `own` is this node's number (none
    /// without a cluster). `None`: no process can have that number
    /// (fractional, out of range, a remote ID of 2^31 or more).
    pub fn from_number(number: f64, own: Option<Node>) -> Option<Address> {
        if number.fract() != 0.0 {
            return None;
        }
        if (f64::from(Pid::MIN)..=f64::from(Pid::MAX)).contains(&number) {
            return Some(Address::Local(number as Pid));
        }
        if !(NODE_UNIT as f64..((i64::from(MAX_NODE) + 1) * NODE_UNIT) as f64).contains(&number) {
            return None;
        }
        let number = number as i64;
        let node = (number / NODE_UNIT) as Node;
        let id = number % NODE_UNIT;
        let pid = Pid::try_from(id).ok()?;
        Some(if Some(node) == own {
            Address::Local(pid)
        } else {
            Address::Remote { node, pid }
        })
    }

    /// The number programs see.
    pub fn to_number(self) -> GlobalPid {
        match self {
            Address::Local(pid) => GlobalPid::from(pid),
            Address::Remote { node, pid } => global_pid(node, pid),
        }
    }
}

/// Computer `pid` of `node` as seen from other nodes.
pub fn global_pid(node: Node, pid: Pid) -> GlobalPid {
    i64::from(node) * NODE_UNIT + i64::from(pid)
}

/// A cluster of emulators, as the kernel sees it. Implemented by the
/// cluster adapter; every method is called on computer threads (or the
/// kernel's own), so none may block on the network except [`Cluster::claim`],
/// which waits for the broker's answer for a bounded time.
pub trait Cluster: Send + Sync {
    /// This emulator's node number.
    fn node(&self) -> Node;

    /// Incarnation `ticket` started, running as `user`. Called under the
    /// kernel lock, in the order processes start and end: must not block.
    fn process_started(&self, ticket: Ticket, user: &str);

    /// Incarnation `ticket` ended; `names` are the services it owned. Called
    /// under the kernel lock: must not block.
    fn process_ended(&self, ticket: Ticket, names: Vec<Box<[u8]>>);

    /// `sendEvent` to a computer of another node: whether the event was
    /// accepted for delivery. Never blocks.
    fn send(&self, sender: Pid, node: Node, target: Pid, name: Box<[u8]>, data: Payload) -> bool;

    /// `kill` to a computer of another node, `sender_user` being the
    /// caller's user: the existence and permission checks as this node
    /// knows them, then the signal is sent. Never blocks.
    fn kill(
        &self,
        sender: Pid,
        sender_user: &str,
        node: Node,
        target: Pid,
        signal: i32,
    ) -> Result<(), KillError>;

    /// Claims `name` for `owner` cluster-wide: `Ok` when this node's claim
    /// won, or when this node is cut off from the other nodes (the adapter
    /// then claims it once they are back, and [`crate::kernel::Kernel::revoke`]s
    /// it if another owner won meanwhile); [`Refused::Taken`] when another
    /// owner holds it or the broker did not answer in time. May wait for
    /// the broker, for a bounded time.
    fn claim(&self, owner: Ticket, name: &[u8]) -> Result<(), Refused>;

    /// Gives back names claimed by `owner` that it does not keep (its claim
    /// raced its end). Must not block.
    fn release(&self, owner: Ticket, names: Vec<Box<[u8]>>);

    /// The owner of `name` on another node, as this node last heard.
    fn lookup(&self, name: &[u8]) -> Option<(Node, Pid)>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ids_stay_what_they_are() {
        for id in [0, 1, 5, 65535, i32::MAX] {
            assert_eq!(
                Address::from_number(f64::from(id), Some(3)),
                Some(Address::Local(id))
            );
            assert_eq!(Address::Local(id).to_number(), i64::from(id));
        }
        assert_eq!(Address::from_number(-1.0, None), Some(Address::Local(-1)));
    }

    #[test]
    fn remote_pids_round_trip_and_are_exact_doubles() {
        for (node, pid) in [(1, 0), (2, 7), (MAX_NODE, i32::MAX)] {
            let number = global_pid(node, pid);
            assert!((1 << 32..100_000_000_000_000).contains(&number), "{number}");
            assert_eq!(number as f64 as i64, number);
            assert_eq!(
                Address::from_number(number as f64, Some(5000)),
                Some(Address::Remote { node, pid })
            );
            assert_eq!(Address::Remote { node, pid }.to_number(), number);
        }
    }

    #[test]
    fn the_own_node_means_local_and_nonsense_is_refused() {
        assert_eq!(
            Address::from_number(global_pid(4, 12) as f64, Some(4)),
            Some(Address::Local(12))
        );
        for bad in [
            0.5,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            2_147_483_648.0,                      // above a computer ID, below node 1
            (1u64 << 32) as f64 - 1.0,            // likewise
            ((1u64 << 32) + (1u64 << 31)) as f64, // node 1, ID 2^31
            (10_000u64 << 32) as f64,             // node 10000
            -2_147_483_649.0,
        ] {
            assert_eq!(Address::from_number(bad, Some(1)), None, "{bad}");
        }
    }
}
