//! One host thread that fires timers at their deadlines (monotonic clock).
//!
//! The pending timers are one binary heap of (deadline, key) behind a mutex,
//! deadlines in nanoseconds since the service started: an entry is 8 bytes
//! plus the key, and arming one is a push (no allocation of its own).
//! Disarming is lazy and exact: the key joins a set of cancelled entries,
//! which the thread skips when their deadline comes; once cancelled entries
//! outweigh the live ones, the heap is rebuilt without them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Below this many cancelled entries the heap is never rebuilt.
const MIN_COMPACTION: usize = 64;
/// The most timers fired per lock: a long burst of expiries does not keep
/// the arming side waiting.
const FIRE_BATCH: usize = 64;

/// A running timer thread. Dropping it stops and joins the thread.
pub struct TimerService<K: Send + 'static> {
    shared: Arc<Shared<K>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared<K> {
    state: Mutex<State<K>>,
    /// Signalled when the earliest deadline moves earlier, or on stop.
    wake: Condvar,
    epoch: Instant,
}

struct State<K> {
    heap: BinaryHeap<Reverse<(u64, K)>>,
    /// Keys whose entry in `heap` is dead. Never holds a live key.
    cancelled: HashSet<K>,
    stopped: bool,
}

impl<K> TimerService<K>
where
    K: Copy + Eq + Hash + Ord + Send + 'static,
{
    /// Starts the thread; `on_expiry` runs on it for every timer that fires.
    pub fn start(name: &str, on_expiry: impl FnMut(K) + Send + 'static) -> TimerService<K> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                heap: BinaryHeap::new(),
                cancelled: HashSet::new(),
                stopped: false,
            }),
            wake: Condvar::new(),
            epoch: Instant::now(),
        });
        let worker = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || worker.run(on_expiry))
            .expect("cannot start the timer thread");
        TimerService {
            shared,
            thread: Some(thread),
        }
    }

    /// Fires `key` at `deadline` (at once if it has passed). A key is armed
    /// once at a time: a pending key must be disarmed before it is armed
    /// again (the kernel never re-arms a pending key).
    pub fn arm(&self, key: K, deadline: Instant) {
        let deadline = self.shared.nanos(deadline);
        let mut state = self.shared.lock();
        if state.cancelled.remove(&key) {
            // Rare (a key reused while its cancelled entry still waits):
            // the dead entry goes now, so it cannot be taken for this one.
            state.heap.retain(|&Reverse((_, k))| k != key);
        }
        let earliest = state.earliest();
        state.heap.push(Reverse((deadline, key)));
        if earliest.is_none_or(|earliest| deadline < earliest) {
            self.shared.wake.notify_one();
        }
    }

    /// Forgets `key`; it will not fire (unless it is firing right now).
    pub fn disarm(&self, key: K) {
        let mut state = self.shared.lock();
        state.cancelled.insert(key);
        state.compact_if_mostly_cancelled();
    }

    /// Entries in the heap, cancelled ones included (for tests).
    #[cfg(test)]
    fn entries(&self) -> usize {
        self.shared.lock().heap.len()
    }
}

impl<K: Send + 'static> Drop for TimerService<K> {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl<K> Shared<K> {
    fn lock(&self) -> MutexGuard<'_, State<K>> {
        // A panicking callback must not stop every timer.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `instant` in nanoseconds since the service started (0 if before).
    fn nanos(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.epoch);
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    }
}

impl<K: Copy + Eq + Hash + Ord> Shared<K> {
    fn run(&self, mut on_expiry: impl FnMut(K)) {
        let mut due = Vec::with_capacity(FIRE_BATCH);
        let mut state = self.lock();
        loop {
            if state.stopped {
                return;
            }
            let now = self.nanos(Instant::now());
            state.take_due(now, &mut due);
            if !due.is_empty() {
                // Fired without the lock: the callback may arm or disarm.
                drop(state);
                due.drain(..).for_each(&mut on_expiry);
                state = self.lock();
                continue;
            }
            state = match state.earliest() {
                None => self.wake.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let wait = Duration::from_nanos(deadline - now);
                    let waited = self.wake.wait_timeout(state, wait);
                    waited.unwrap_or_else(|e| e.into_inner()).0
                }
            };
        }
    }
}

impl<K: Copy + Eq + Hash + Ord> State<K> {
    fn earliest(&self) -> Option<u64> {
        self.heap.peek().map(|&Reverse((deadline, _))| deadline)
    }

    /// Moves up to [`FIRE_BATCH`] live keys due at `now` into `due`, in
    /// deadline order, dropping the cancelled entries met on the way.
    fn take_due(&mut self, now: u64, due: &mut Vec<K>) {
        while due.len() < FIRE_BATCH {
            match self.heap.peek() {
                Some(&Reverse((deadline, key))) if deadline <= now => {
                    self.heap.pop();
                    if !self.cancelled.remove(&key) {
                        due.push(key);
                    }
                }
                _ => return,
            }
        }
    }

    /// Rebuilds the heap without its dead entries once they are the
    /// majority, so cancelled timers cost memory only for a while.
    fn compact_if_mostly_cancelled(&mut self) {
        let dead = self.cancelled.len();
        if dead < MIN_COMPACTION || dead * 2 <= self.heap.len() {
            return;
        }
        let cancelled = std::mem::take(&mut self.cancelled);
        self.heap
            .retain(|&Reverse((_, key))| !cancelled.contains(&key));
        self.heap.shrink_to(self.heap.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, Receiver};

    /// A service whose expiries arrive on a channel.
    fn service(name: &str) -> (TimerService<u32>, Receiver<u32>) {
        let (tx, rx) = channel();
        let service = TimerService::start(name, move |k: u32| {
            let _ = tx.send(k);
        });
        (service, rx)
    }

    fn next(rx: &Receiver<u32>) -> u32 {
        rx.recv_timeout(Duration::from_secs(10))
            .expect("no timer fired within 10 s")
    }

    fn nothing_more(rx: &Receiver<u32>) -> bool {
        rx.recv_timeout(Duration::from_millis(100)).is_err()
    }

    #[test]
    fn timers_fire_in_deadline_order_and_disarmed_ones_do_not() {
        let (service, rx) = service("test-timers");
        let now = Instant::now();
        service.arm(3, now + Duration::from_millis(60));
        service.arm(1, now + Duration::from_millis(20));
        service.arm(2, now + Duration::from_millis(40));
        service.disarm(2);
        service.arm(4, now);
        let fired: Vec<u32> = (0..3).map(|_| next(&rx)).collect();
        assert_eq!(fired, vec![4, 1, 3]);
        assert!(nothing_more(&rx));
    }

    #[test]
    fn a_key_cancelled_then_armed_again_fires_once_at_its_new_deadline() {
        let (service, rx) = service("test-timers-rearm");
        let now = Instant::now();
        service.arm(7, now + Duration::from_millis(30));
        service.disarm(7);
        // Armed again later than its old deadline: the old entry must not
        // fire it early, and it must fire exactly once.
        service.arm(7, now + Duration::from_millis(150));
        service.arm(8, now + Duration::from_millis(60));
        assert_eq!(next(&rx), 8);
        assert!(Instant::now() >= now + Duration::from_millis(60));
        assert_eq!(next(&rx), 7);
        assert!(Instant::now() >= now + Duration::from_millis(150));
        assert!(nothing_more(&rx));
    }

    #[test]
    fn an_earlier_timer_armed_while_the_thread_waits_fires_first() {
        let (service, rx) = service("test-timers-earlier");
        let now = Instant::now();
        service.arm(1, now + Duration::from_secs(3600));
        std::thread::sleep(Duration::from_millis(20)); // the thread waits for the hour
        service.arm(2, Instant::now());
        assert_eq!(next(&rx), 2);
    }

    #[test]
    fn thousands_of_timers_fire_once_each_in_deadline_order() {
        let (service, rx) = service("test-timers-many");
        let start = Instant::now() + Duration::from_millis(50);
        // Keys armed in a scrambled order; key k is due at start + k µs.
        let keys: Vec<u32> = (0..5000u32).map(|i| (i * 7919) % 5000).collect();
        for &k in &keys {
            service.arm(k, start + Duration::from_micros(u64::from(k)));
        }
        let fired: Vec<u32> = (0..5000).map(|_| next(&rx)).collect();
        assert_eq!(fired, (0..5000).collect::<Vec<u32>>());
        assert!(nothing_more(&rx));
    }

    #[test]
    fn cancelled_entries_are_compacted_away_and_the_rest_still_fire() {
        let (service, rx) = service("test-timers-compact");
        let later = Instant::now() + Duration::from_secs(3600);
        for k in 0..1000 {
            service.arm(k, later);
        }
        for k in 0..900 {
            service.disarm(k);
        }
        let left = service.entries();
        assert!(
            left < 1000,
            "no compaction: {left} entries for 100 live timers"
        );
        assert!(left >= 100);
        // The 100 live ones still fire, when re-armed earlier (after a disarm).
        let soon = Instant::now();
        for k in 900..1000 {
            service.disarm(k);
            service.arm(k, soon);
        }
        let mut fired: Vec<u32> = (0..100).map(|_| next(&rx)).collect();
        fired.sort_unstable();
        assert_eq!(fired, (900..1000).collect::<Vec<u32>>());
        assert!(nothing_more(&rx));
    }

    /// Sets its flag when dropped; kept in a thread-local, it is dropped as
    /// its thread exits, before a join of that thread returns.
    struct FlagOnThreadExit(Arc<AtomicBool>);

    impl Drop for FlagOnThreadExit {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    thread_local! {
        static ON_EXIT: RefCell<Option<FlagOnThreadExit>> = const { RefCell::new(None) };
    }

    #[test]
    fn dropping_the_service_joins_its_thread() {
        let ended = Arc::new(AtomicBool::new(false));
        let (fired_tx, fired) = channel();
        let flag = Arc::clone(&ended);
        let service = TimerService::start("test-timers-drop", move |_: u32| {
            ON_EXIT.with(|slot| *slot.borrow_mut() = Some(FlagOnThreadExit(Arc::clone(&flag))));
            let _ = fired_tx.send(());
        });
        // A first timer puts the exit flag in the timer thread.
        service.arm(1, Instant::now());
        fired
            .recv_timeout(Duration::from_secs(30))
            .expect("the first timer fires");
        service.arm(2, Instant::now() + Duration::from_secs(3600));
        drop(service); // would hang here if the thread waited for the hour
        assert!(
            ended.load(Ordering::SeqCst),
            "drop returned before the timer thread ended"
        );
    }
}
