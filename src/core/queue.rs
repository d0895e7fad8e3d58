//! One process's FIFO of undelivered items: events of every kind, signals
//! waiting for their handler, and stop gates, in the order they were queued.
//!
//! Event names are bytes: Lua strings need not be UTF-8.

use std::collections::VecDeque;

use super::value::Payload;
use super::Pid;

/// Timer and alarm IDs; alarms have [`ALARM_BIT`] set.
pub type TimerId = u32;
pub const ALARM_BIT: TimerId = 1 << 31;

/// Data events (`queueEvent`, `sendEvent`) a process may have waiting:
/// queued here, or handed to the emulator and not yet received.
pub const MAX_QUEUED_EVENTS: usize = 1024;
/// Payload bytes a process may have waiting.
pub const MAX_QUEUED_BYTES: usize = 16 << 20;
/// Items of any kind a process may have waiting (signals, terminate, gates
/// and timer events count here; timers are bounded by their own limit).
pub const MAX_QUEUED_ITEMS: usize = 4096;

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `sendEvent`: arrives as `"remote_event", {sender, type, data}`.
    Remote {
        sender: Pid,
        name: Box<[u8]>,
        data: Payload,
    },
    /// `queueEvent`: the parameter table stays in the process's own Lua state;
    /// `handle` names it there.
    Local { name: Box<[u8]>, handle: u64 },
    /// An expired timer or alarm: `"timer"`/`"alarm", {id = ID}`.
    Timer(TimerId),
    /// A signal: its handler runs, or it arrives as `"signal", {signal = n}`.
    Signal(i32),
    /// A CraftOS `terminate` event (SIGINT's default action).
    Terminate,
    /// A stop gate: the process waits here while it is stopped.
    Gate,
}

impl Item {
    /// A `queueEvent`/`sendEvent` event (counted against the event limit).
    pub fn is_data(&self) -> bool {
        matches!(self, Item::Remote { .. } | Item::Local { .. })
    }

    fn is_special(&self) -> bool {
        matches!(self, Item::Signal(_) | Item::Terminate | Item::Gate)
    }

    fn bytes(&self) -> usize {
        match self {
            Item::Remote { name, data, .. } => name.len() + data.bytes(),
            Item::Local { name, .. } => name.len(),
            _ => 0,
        }
    }
}

/// Why a queue refused an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

#[derive(Debug, Default)]
pub struct EventQueue {
    items: VecDeque<Item>,
    data_events: usize,
    /// Data events popped for delivery that the program has not received yet.
    in_flight: usize,
    bytes: usize,
    /// Signals, terminates and gates waiting (items that may need Lua code
    /// or a stop before the next event).
    specials: usize,
}

impl EventQueue {
    /// Queues `item` behind everything else, unless a limit refuses it.
    pub fn push(&mut self, item: Item) -> Result<(), Full> {
        let bytes = item.bytes();
        let refused = self.items.len() >= MAX_QUEUED_ITEMS
            || (item.is_data()
                && (self.data_events + self.in_flight >= MAX_QUEUED_EVENTS
                    || self.bytes + bytes > MAX_QUEUED_BYTES));
        if refused {
            return Err(Full);
        }
        self.account(&item, true);
        self.items.push_back(item);
        Ok(())
    }

    /// Whether a signal, terminate or gate is waiting.
    pub fn has_specials(&self) -> bool {
        self.specials != 0
    }

    /// A timer event is never refused: timers are bounded where they are set.
    pub fn push_timer(&mut self, id: TimerId) {
        self.items.push_back(Item::Timer(id));
    }

    /// Takes the next item for delivery. A data event stays counted against
    /// the limit until [`EventQueue::acknowledge`] says it was received.
    pub fn pop(&mut self) -> Option<Item> {
        let item = self.items.pop_front()?;
        self.account(&item, false);
        if item.is_data() {
            self.in_flight += 1;
        }
        Some(item)
    }

    /// The next item, without taking it.
    pub fn front(&self) -> Option<&Item> {
        self.items.front()
    }

    /// Takes the next item, handed straight to the program (received at once).
    pub fn pop_received(&mut self) -> Option<Item> {
        let item = self.items.pop_front()?;
        self.account(&item, false);
        Some(item)
    }

    /// The program received (or will never receive) `count` delivered data events.
    pub fn acknowledge(&mut self, count: usize) {
        self.in_flight = self.in_flight.saturating_sub(count);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Item> {
        self.items.iter()
    }

    /// How many items are waiting.
    pub fn waiting(&self) -> usize {
        self.items.len()
    }

    /// Removes the waiting event of timer `id`, if any.
    pub fn remove_timer(&mut self, id: TimerId) -> bool {
        let before = self.items.len();
        self.items.retain(|item| *item != Item::Timer(id));
        before != self.items.len()
    }

    /// Discards pending stop signals, as SIGCONT does on Unix, so that a
    /// SIGCONT sent after a SIGSTOP always leaves the process running.
    pub fn drop_pending_stops(&mut self) {
        self.items
            .retain(|item| !matches!(item, Item::Signal(s) if super::signals::is_stop(*s)));
        self.specials = self.items.iter().filter(|i| i.is_special()).count();
    }

    fn account(&mut self, item: &Item, added: bool) {
        if item.is_special() {
            if added {
                self.specials += 1;
            } else {
                self.specials -= 1;
            }
        }
        if item.is_data() {
            let bytes = item.bytes();
            if added {
                self.data_events += 1;
                self.bytes += bytes;
            } else {
                self.data_events -= 1;
                self.bytes -= bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Payload;

    fn local(n: u64) -> Item {
        Item::Local {
            name: b"e"[..].into(),
            handle: n,
        }
    }

    #[test]
    fn items_come_out_in_fifo_order() {
        let mut q = EventQueue::default();
        q.push(local(1)).unwrap();
        q.push(Item::Signal(10)).unwrap();
        q.push_timer(3);
        assert_eq!(q.pop(), Some(local(1)));
        assert_eq!(q.pop(), Some(Item::Signal(10)));
        assert_eq!(q.pop(), Some(Item::Timer(3)));
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn data_events_are_refused_when_full_and_nothing_is_dropped() {
        let mut q = EventQueue::default();
        for i in 0..MAX_QUEUED_EVENTS as u64 {
            q.push(local(i)).unwrap();
        }
        assert_eq!(q.push(local(9999)), Err(Full));
        assert_eq!(q.waiting(), MAX_QUEUED_EVENTS);
        assert_eq!(q.pop(), Some(local(0)));
        assert_eq!(
            q.push(local(9999)),
            Err(Full),
            "delivered, not yet received"
        );
        q.acknowledge(1);
        q.push(local(9999)).unwrap();
    }

    #[test]
    fn payload_bytes_are_bounded() {
        let mut q = EventQueue::default();
        let big = Payload::text(&[0; 900_000]);
        let remote = || Item::Remote {
            sender: 1,
            name: b"x"[..].into(),
            data: big.clone(),
        };
        let fits = MAX_QUEUED_BYTES / big.bytes();
        for _ in 0..fits {
            q.push(remote()).unwrap();
        }
        assert_eq!(q.push(remote()), Err(Full));
        q.pop();
        q.acknowledge(1);
        q.push(remote()).unwrap();
    }

    #[test]
    fn timers_can_be_removed_and_stops_dropped() {
        let mut q = EventQueue::default();
        q.push_timer(1);
        q.push(Item::Signal(19)).unwrap();
        q.push(Item::Signal(10)).unwrap();
        q.push(Item::Signal(22)).unwrap();
        assert!(q.remove_timer(1));
        assert!(!q.remove_timer(1));
        q.drop_pending_stops();
        assert_eq!(
            q.iter().cloned().collect::<Vec<_>>(),
            vec![Item::Signal(10)]
        );
    }
}
