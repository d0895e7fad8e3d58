//! One process's FIFO of undelivered items: events of every kind, signals
//! waiting for their handler, and stop gates, in the order they were queued.
//!
//! Event names are bytes: Lua strings need not be UTF-8.

use std::collections::VecDeque;

use super::cluster::GlobalPid;
use super::limits::Limits;
use super::value::Payload;

/// Timer and alarm IDs; alarms have [`ALARM_BIT`] set.
pub type TimerId = u32;
pub const ALARM_BIT: TimerId = 1 << 31;

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `sendEvent`: arrives as `"remote_event", {sender, type, data}`;
    /// `sender` is a computer ID, or another node's pid (node × 2^32 + ID).
    Remote {
        sender: GlobalPid,
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
    /// Bounds: data events (`queueEvent`, `sendEvent`) waiting, queued here
    /// or handed to the emulator and not yet received; payload bytes; items
    /// of any kind (signals, terminate, gates and timer events count here;
    /// timers are bounded by their own limit).
    limits: Limits,
    /// Signals, terminates and gates waiting (items that may need Lua code
    /// or a stop before the next event).
    specials: usize,
}

impl EventQueue {
    pub fn new(limits: Limits) -> EventQueue {
        EventQueue {
            limits,
            ..EventQueue::default()
        }
    }

    /// Queues `item` behind everything else, unless a limit refuses it.
    pub fn push(&mut self, item: Item) -> Result<(), Full> {
        let bytes = item.bytes();
        let refused = self.items.len() >= self.limits.queued_items()
            || (item.is_data()
                && (self.data_events + self.in_flight >= self.limits.queue
                    || self.bytes + bytes > self.limits.queued_bytes()));
        if refused {
            return Err(Full);
        }
        self.account(&item, true);
        self.items.push_back(item);
        Ok(())
    }

    /// Whether a signal, terminate or gate is waiting.
    /// Whether at most half of the event and byte bounds are taken: room
    /// again for a sender that was refused (see `Kernel::has_room`).
    pub fn is_half_empty(&self) -> bool {
        (self.data_events + self.in_flight) * 2 <= self.limits.queue
            && self.bytes * 2 <= self.limits.queued_bytes()
    }

    /// Whether three quarters of the event or byte bound are taken: senders
    /// on other emulators are asked to stop, leaving the last quarter for
    /// what is already on its way (see `Kernel::remote_send`).
    pub fn is_nearly_full(&self) -> bool {
        (self.data_events + self.in_flight) * 4 >= self.limits.queue * 3
            || self.bytes * 4 >= self.limits.queued_bytes() * 3
    }

    pub fn has_specials(&self) -> bool {
        self.specials != 0
    }

    /// A timer event is never refused: timers are bounded where they are set.
    pub fn push_timer(&mut self, id: TimerId) {
        self.items.push_back(Item::Timer(id));
    }

    /// A stop gate goes ahead of everything waiting (a stopped process
    /// receives nothing more, whenever it was queued) and is never refused.
    pub fn push_gate_first(&mut self) {
        self.account(&Item::Gate, true);
        self.items.push_front(Item::Gate);
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

    /// Events and signals not received yet: the items waiting here (stop
    /// gates aside, which are no events), plus the data events handed over
    /// for delivery and not yet received (those the queue limit counts).
    /// Timer events and signal events already handed over are not tracked
    /// here, so they are not counted.
    pub fn undelivered(&self) -> usize {
        let gates = self.items.iter().filter(|i| **i == Item::Gate).count();
        self.items.len() - gates + self.in_flight
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
    use crate::value::Payload;

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
        for i in 0..1024 {
            q.push(local(i)).unwrap();
        }
        assert_eq!(q.push(local(9999)), Err(Full));
        assert_eq!(q.waiting(), 1024);
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
        let fits = (16 << 20) / big.bytes();
        for _ in 0..fits {
            q.push(remote()).unwrap();
        }
        assert_eq!(q.push(remote()), Err(Full));
        q.pop();
        q.acknowledge(1);
        q.push(remote()).unwrap();
    }

    #[test]
    fn configured_limits_apply() {
        let limits = Limits {
            queue: 4,
            payload: 100,
            timers: 3,
            ..Limits::default()
        };
        let mut q = EventQueue::new(limits);
        for i in 0..4 {
            q.push(local(i)).unwrap();
        }
        assert_eq!(q.push(local(4)), Err(Full), "4 events waiting");
        for _ in 0..limits.queued_items() - 4 {
            q.push(Item::Signal(10)).unwrap();
        }
        assert_eq!(q.push(Item::Signal(10)), Err(Full), "items of any kind");

        let mut q = EventQueue::new(limits);
        let payload = Payload::text(&[0; 84]);
        let remote = || Item::Remote {
            sender: 1,
            name: b""[..].into(),
            data: payload.clone(),
        };
        assert_eq!(payload.bytes(), 100);
        q.push(remote()).unwrap();
        q.push(remote()).unwrap();
        q.push(remote()).unwrap();
        q.push(remote()).unwrap();
        // 16 payloads of the largest size may wait: here the event limit
        // binds first; with a larger one the bytes do.
        let mut q = EventQueue::new(Limits {
            queue: 100,
            ..limits
        });
        for _ in 0..16 {
            q.push(remote()).unwrap();
        }
        assert_eq!(q.push(remote()), Err(Full), "1600 bytes waiting");
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
