//! Waiting for a reply by watching the mailbox for a few microseconds before
//! sleeping.
//!
//! A computer that sent an event and then waits is usually waiting for the
//! answer (ping-pong, a request to a service). Sleeping in the emulator
//! costs two thread wake-ups per round trip (the sender wakes the sleeper,
//! the OS schedules it), most of a round trip's time; a computer that keeps
//! watching its mailbox instead picks the answer up as soon as it is queued,
//! and the answering side need not wake it at all (see `Mailbox`: an
//! unarmed mailbox is never notified).
//!
//! The watch is short and pays only where it must:
//! - only after this computer sent an event since its last wait;
//! - at most [`ReplyWait::window`] (50 µs by default, `"reply_wait_us"` in
//!   the configuration; 0 turns it off), so native events, which the
//!   watch cannot see, are late by at most that;
//! - after [`MAX_MISSES`] watches in a row that saw nothing, none until a
//!   wait after a send ends within the window again (the peer answers
//!   quickly again);
//! - never on a machine with a single CPU, where the peer cannot run while
//!   this thread watches.
//!
//! The watch does not give the CPU away (`yield_now`) while it spins: on a
//! loaded machine a thread that yielded lost the scheduler's preference for
//! a woken thread, and round trips came out slower than sleeping.

use std::cell::Cell;
use std::hint;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// Watches in a row that saw nothing before watching stops.
pub const MAX_MISSES: u32 = 4;
/// Spins between two clock reads.
const SPINS_PER_CHECK: u32 = 32;

/// One computer's watching state; lives on the computer's own thread.
pub struct ReplyWait {
    window: Duration,
    /// This computer sent an event since its last wait.
    sent: Cell<bool>,
    misses: Cell<u32>,
    /// When a wait after a send began, if watching was skipped or missed:
    /// a reply within the window re-enables watching.
    unwatched_since: Cell<Option<Instant>>,
}

impl ReplyWait {
    /// `window` zero, or a single CPU, turns watching off.
    pub fn new(window: Duration) -> ReplyWait {
        // Asked once: on Linux the answer reads the cgroup's CPU quota.
        static CPUS: OnceLock<usize> = OnceLock::new();
        let cpus = *CPUS.get_or_init(|| thread::available_parallelism().map_or(1, |n| n.get()));
        ReplyWait::with_cpus(window, cpus)
    }

    fn with_cpus(window: Duration, cpus: usize) -> ReplyWait {
        ReplyWait {
            window: if cpus > 1 { window } else { Duration::ZERO },
            sent: Cell::new(false),
            misses: Cell::new(0),
            unwatched_since: Cell::new(None),
        }
    }

    /// How long a watch lasts (zero: never).
    pub fn window(&self) -> Duration {
        self.window
    }

    /// The computer sent an event.
    pub fn sent(&self) {
        self.sent.set(true);
    }

    /// The computer waits for an event and nothing is queued: watches until
    /// `arrived` holds or the window has passed. Returns whether it held.
    pub fn watch(&self, arrived: impl Fn() -> bool) -> bool {
        if !self.sent.replace(false) || self.window.is_zero() {
            return false;
        }
        if self.misses.get() >= MAX_MISSES {
            self.unwatched_since.set(Some(Instant::now()));
            return false;
        }
        if spin_until(self.window, &arrived) {
            self.misses.set(0);
            return true;
        }
        self.misses.set(self.misses.get() + 1);
        self.unwatched_since.set(Some(Instant::now()));
        false
    }

    /// The wait ended with an event from the emulator: if it began unwatched
    /// after a send and a reply (`is_reply`) came within the window,
    /// watching pays again.
    pub fn woke(&self, is_reply: impl FnOnce() -> bool) {
        if self.unwatched_since.get().is_some() {
            self.woke_at(Instant::now(), is_reply);
        }
    }

    fn woke_at(&self, now: Instant, is_reply: impl FnOnce() -> bool) {
        if let Some(since) = self.unwatched_since.take() {
            if now.saturating_duration_since(since) < self.window && is_reply() {
                self.misses.set(0);
            }
        }
    }
}

/// Spins until `arrived` holds (true) or `window` has passed (false).
fn spin_until(window: Duration, arrived: &impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..SPINS_PER_CHECK {
            if arrived() {
                return true;
            }
            hint::spin_loop();
        }
        if start.elapsed() >= window {
            return arrived();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const WINDOW: Duration = Duration::from_millis(20);

    #[test]
    fn no_watch_without_a_send() {
        let wait = ReplyWait::with_cpus(WINDOW, 2);
        let calls = Cell::new(0);
        assert!(!wait.watch(|| {
            calls.set(calls.get() + 1);
            true
        }));
        assert_eq!(calls.get(), 0, "watched although nothing was sent");
    }

    #[test]
    fn a_send_allows_one_watch_which_sees_an_arrival() {
        let wait = ReplyWait::with_cpus(WINDOW, 2);
        wait.sent();
        assert!(wait.watch(|| true));
        // The send was used up by that wait.
        assert!(!wait.watch(|| true));
    }

    #[test]
    fn a_watch_ends_when_another_thread_queues() {
        let window = Duration::from_secs(30);
        let wait = ReplyWait::with_cpus(window, 2);
        wait.sent();
        let flag = Arc::new(AtomicBool::new(false));
        let setter = {
            let flag = flag.clone();
            thread::spawn(move || flag.store(true, Ordering::SeqCst))
        };
        let start = Instant::now();
        assert!(wait.watch(|| flag.load(Ordering::SeqCst)));
        assert!(start.elapsed() < window);
        setter.join().unwrap();
    }

    #[test]
    fn a_watch_gives_up_after_the_window() {
        let wait = ReplyWait::with_cpus(Duration::from_millis(2), 2);
        wait.sent();
        let start = Instant::now();
        assert!(!wait.watch(|| false));
        assert!(start.elapsed() >= Duration::from_millis(2));
    }

    #[test]
    fn misses_in_a_row_stop_watching_until_a_quick_wake() {
        let wait = ReplyWait::with_cpus(Duration::from_millis(1), 2);
        for _ in 0..MAX_MISSES {
            wait.sent();
            assert!(!wait.watch(|| false));
        }
        let calls = Cell::new(0);
        wait.sent();
        assert!(!wait.watch(|| {
            calls.set(calls.get() + 1);
            true
        }));
        assert_eq!(calls.get(), 0, "watched after {MAX_MISSES} misses");
        // An answer that is not a reply does not count.
        let since = wait.unwatched_since.get().expect("an unwatched wait");
        wait.woke_at(since, || false);
        wait.sent();
        assert!(!wait.watch(|| true));
        // The wait after that send ends at once with a reply: watching pays again.
        let since = wait.unwatched_since.get().expect("an unwatched wait");
        wait.woke_at(since, || true);
        wait.sent();
        assert!(wait.watch(|| true));
    }

    #[test]
    fn a_slow_wake_keeps_watching_off() {
        let wait = ReplyWait::with_cpus(Duration::from_millis(1), 2);
        for _ in 0..MAX_MISSES {
            wait.sent();
            wait.watch(|| false);
        }
        wait.sent();
        wait.watch(|| true);
        let since = wait.unwatched_since.get().expect("an unwatched wait");
        wait.woke_at(since + Duration::from_millis(3), || true);
        let calls = Cell::new(0);
        wait.sent();
        wait.watch(|| {
            calls.set(calls.get() + 1);
            true
        });
        assert_eq!(calls.get(), 0);
    }

    #[test]
    fn one_cpu_or_a_zero_window_never_watches() {
        for wait in [
            ReplyWait::with_cpus(WINDOW, 1),
            ReplyWait::with_cpus(Duration::ZERO, 8),
        ] {
            wait.sent();
            let calls = Cell::new(0);
            assert!(!wait.watch(|| {
                calls.set(calls.get() + 1);
                true
            }));
            assert_eq!(calls.get(), 0);
        }
    }
}
