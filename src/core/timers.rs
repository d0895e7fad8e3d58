//! One host thread that fires timers at their deadlines (monotonic clock).
//!
//! Arming and disarming are messages on a channel, so the thread owns its
//! deadline map outright; expiry calls back into whoever created the service.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};

enum Command<K> {
    Arm(K, Instant),
    Disarm(K),
    Stop,
}

/// A running timer thread. Dropping it stops and joins the thread.
pub struct TimerService<K: Send + 'static> {
    commands: Sender<Command<K>>,
    thread: Option<JoinHandle<()>>,
    /// Set when stopping: the thread returns without working through the
    /// commands still queued (thousands of disarms when many computers
    /// with many timers went off just before the plugin unloads).
    stopping: Arc<AtomicBool>,
}

impl<K> TimerService<K>
where
    K: Copy + Eq + Hash + Ord + Send + 'static,
{
    /// Starts the thread; `on_expiry` runs on it for every timer that fires.
    pub fn start(name: &str, on_expiry: impl FnMut(K) + Send + 'static) -> TimerService<K> {
        let (commands, inbox) = unbounded();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop_seen = stopping.clone();
        let thread = thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || run(inbox, &stop_seen, on_expiry))
            .expect("cannot start the timer thread");
        TimerService {
            commands,
            thread: Some(thread),
            stopping,
        }
    }

    /// Fires `key` at `deadline` (at once if it has passed). Re-arming a key
    /// replaces its deadline.
    pub fn arm(&self, key: K, deadline: Instant) {
        let _ = self.commands.send(Command::Arm(key, deadline));
    }

    /// Forgets `key`; it will not fire (unless it is firing right now).
    pub fn disarm(&self, key: K) {
        let _ = self.commands.send(Command::Disarm(key));
    }
}

impl<K: Send + 'static> Drop for TimerService<K> {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.commands.send(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run<K: Copy + Eq + Hash + Ord>(
    inbox: Receiver<Command<K>>,
    stopping: &AtomicBool,
    mut on_expiry: impl FnMut(K),
) {
    let mut by_deadline: BTreeMap<(Instant, K), ()> = BTreeMap::new();
    let mut deadline_of: HashMap<K, Instant> = HashMap::new();
    while !stopping.load(Ordering::Relaxed) {
        let command = match by_deadline.keys().next() {
            None => inbox.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(&(deadline, _)) => inbox.recv_deadline(deadline),
        };
        match command {
            Ok(Command::Arm(key, deadline)) => {
                if let Some(old) = deadline_of.insert(key, deadline) {
                    by_deadline.remove(&(old, key));
                }
                by_deadline.insert((deadline, key), ());
            }
            Ok(Command::Disarm(key)) => {
                if let Some(old) = deadline_of.remove(&key) {
                    by_deadline.remove(&(old, key));
                }
            }
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                while let Some(entry) = by_deadline.first_entry() {
                    let (deadline, key) = *entry.key();
                    if deadline > now {
                        break;
                    }
                    entry.remove();
                    deadline_of.remove(&key);
                    on_expiry(key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timers_fire_in_deadline_order_and_disarmed_ones_do_not() {
        let (tx, rx) = unbounded();
        let service = TimerService::start("test-timers", move |k: u32| {
            tx.send(k).unwrap();
        });
        let now = Instant::now();
        service.arm(3, now + Duration::from_millis(60));
        service.arm(1, now + Duration::from_millis(20));
        service.arm(2, now + Duration::from_millis(40));
        service.disarm(2);
        service.arm(4, now);
        let fired: Vec<u32> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(2)).unwrap())
            .collect();
        assert_eq!(fired, vec![4, 1, 3]);
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
    }

    pub(crate) fn no_thread_named(name: &str) -> bool {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        !tasks.flatten().any(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
    }

    #[test]
    fn dropping_the_service_joins_its_thread() {
        let service = TimerService::start("test-timers-drop", |_: u32| {});
        service.arm(1, Instant::now() + Duration::from_secs(3600));
        drop(service); // would hang here if the thread waited for the hour
        assert!(crate::core::timers::tests::no_thread_named(
            "test-timers-drop"
        ));
    }
}
