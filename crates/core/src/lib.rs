//! The core: processes, users, event queues, timers and the value model.
//!
//! Nothing here knows about Lua or about the emulator. The outside world is
//! reached only through [`kernel::ComputerPort`], which the host adapter
//! implements for the emulator's computers.

pub mod cluster;
pub mod config;
pub mod kernel;
pub mod limits;
pub mod queue;
pub mod reply_wait;
pub mod signals;
pub mod timers;
pub mod users;
pub mod value;

/// A process ID: the computer ID of the computer the process runs on.
pub type Pid = i32;

/// One incarnation of a process: a computer between one boot and its next
/// shutdown or reboot. Anything addressed to an older ticket is stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket {
    pub pid: Pid,
    pub incarnation: u32,
}

impl Ticket {
    /// Packs the ticket into one machine word, so it can travel through the
    /// emulator as a provider's `void*` userdata without any allocation.
    pub fn to_bits(self) -> u64 {
        (u64::from(self.incarnation) << 32) | u64::from(self.pid as u32)
    }

    pub fn from_bits(bits: u64) -> Ticket {
        Ticket {
            pid: bits as u32 as i32,
            incarnation: (bits >> 32) as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ticket;

    #[test]
    fn ticket_round_trips_through_bits() {
        for ticket in [
            Ticket {
                pid: 0,
                incarnation: 1,
            },
            Ticket {
                pid: -5,
                incarnation: u32::MAX,
            },
            Ticket {
                pid: i32::MAX,
                incarnation: 7,
            },
        ] {
            assert_eq!(Ticket::from_bits(ticket.to_bits()), ticket);
        }
    }
}
