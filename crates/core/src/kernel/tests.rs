use super::*;
use crate::signals::{SIGSTOP, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

/// A computer that records what the kernel asked of it.
#[derive(Default)]
struct FakeComputer {
    running: AtomicBool,
    notified: AtomicUsize,
    powered_off: AtomicBool,
}

struct Port(Arc<FakeComputer>);

impl ComputerPort for Port {
    fn is_running(&self) -> bool {
        self.0.running.load(Ordering::SeqCst)
    }
    fn notify(&self, _: Ticket) {
        self.0.notified.fetch_add(1, Ordering::SeqCst);
    }
    fn power_off(&self) {
        self.0.powered_off.store(true, Ordering::SeqCst);
        self.0.running.store(false, Ordering::SeqCst);
    }
}

fn boot(kernel: &Kernel, pid: Pid) -> (Ticket, Arc<FakeComputer>) {
    let computer = Arc::new(FakeComputer::default());
    computer.running.store(true, Ordering::SeqCst);
    (
        kernel.spawn(pid, Box::new(Port(computer.clone()))),
        computer,
    )
}

fn users() -> UserTable {
    UserTable::parse(r#"{"users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#).unwrap()
}

fn drain(kernel: &Kernel, ticket: Ticket) -> Vec<Item> {
    std::iter::from_fn(|| kernel.pop(ticket)).collect()
}

fn is_named(item: Option<Item>, expected: &[u8]) -> bool {
    matches!(item, Some(Item::Remote { sender: 1, ref name, .. }) if **name == *expected)
}

fn name(text: &str) -> Box<[u8]> {
    text.as_bytes().into()
}

fn text(name: &str) -> Payload {
    Payload::text(name.as_bytes())
}

#[test]
fn kill_checks_existence_then_permission() {
    let kernel = Kernel::start(users());
    let (a1, _) = boot(&kernel, 1);
    let (_, c3) = boot(&kernel, 3);
    let (root, _) = boot(&kernel, 0);
    assert_eq!(kernel.kill(a1, 42, 10), Err(KillError::NoSuchProcess));
    assert_eq!(kernel.kill(a1, 3, 10), Err(KillError::PermissionDenied));
    assert_eq!(kernel.kill(root, 3, 10), Ok(Kill::Queued));
    c3.running.store(false, Ordering::SeqCst); // shutting down: not a process
    assert_eq!(kernel.kill(root, 3, 10), Err(KillError::NoSuchProcess));
    kernel.shutdown();
}

#[test]
fn signals_queue_in_order_and_notify_the_target() {
    let kernel = Kernel::start(users());
    let (a1, _) = boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    kernel.kill(a1, 2, 10).unwrap();
    kernel.kill(a1, 2, 12).unwrap();
    assert_eq!(
        c2.notified.load(Ordering::SeqCst),
        1,
        "one provider wakes the target; it takes the rest itself"
    );
    assert_eq!(drain(&kernel, a2), vec![Item::Signal(10), Item::Signal(12)]);
    assert_eq!(kernel.kill(a1, 1, SIGTERM), Ok(Kill::ToSelf));
    kernel.shutdown();
}

#[test]
fn a_push_notifies_only_a_target_waiting_unwarned() {
    let kernel = Kernel::start(users());
    let (a1, _) = boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    let mailbox = kernel.mailbox(a2).unwrap();
    let notified = || c2.notified.load(Ordering::SeqCst);
    mailbox.disarm(); // the program runs: it looks at its queue when it next waits
    assert!(kernel.send(1, 2, name("a"), text("x")));
    assert_eq!(notified(), 0, "a running target is not notified");
    assert_eq!(mailbox.queued(), 1);
    assert!(mailbox.arm(), "arming sees the waiting item");
    kernel.prepare_wait(a2);
    assert_eq!(
        notified(),
        1,
        "a wait with items waiting leaves a provider queued"
    );
    kernel.prepare_wait(a2);
    assert_eq!(notified(), 1, "one provider is enough");
    assert!(kernel.pop_for_provider(a2, true).is_some());
    assert_eq!(kernel.pop_for_provider(a2, false), None);
    assert!(!mailbox.arm(), "the provider emptied the queue");
    kernel.kill(a1, 2, 10).unwrap();
    assert_eq!(notified(), 2, "an armed (waiting) target is notified");
    kernel.kill(a1, 2, 12).unwrap();
    assert_eq!(notified(), 2, "once");
    kernel.shutdown();
}

#[test]
fn direct_delivery_takes_events_in_order_but_not_through_a_stop() {
    let kernel = Kernel::start(users());
    let (_, _) = boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    let any = |_: &Item| true;
    assert!(kernel.send(1, 2, name("a"), text("x")));
    assert!(kernel.send(1, 2, name("b"), text("y")));
    assert!(is_named(kernel.take_direct(a2, any), b"a"));
    kernel.stop(a2);
    assert_eq!(
        kernel.take_direct(a2, any),
        None,
        "stopped: no direct delivery"
    );
    assert!(
        c2.notified.load(Ordering::SeqCst) > 0,
        "a provider is left queued"
    );
    assert_eq!(
        kernel.take_direct(a2, |item| !matches!(item, Item::Gate)),
        None
    );
    assert_eq!(
        kernel.mailbox(a2).unwrap().queued(),
        2,
        "b and the gate still wait"
    );
    // A data event taken directly is received at once: it no longer counts.
    let (a3, _) = boot(&kernel, 3);
    for _ in 0..kernel.limits().queue {
        assert!(kernel.send(1, 3, name("e"), text("x")));
    }
    assert!(!kernel.send(1, 3, name("e"), text("x")));
    assert!(kernel.take_direct(a3, any).is_some());
    assert!(kernel.send(1, 3, name("e"), text("x")));
    kernel.shutdown();
}

#[test]
fn sigkill_powers_off_and_releases_a_stopped_target() {
    let kernel = Arc::new(Kernel::start(users()));
    let (a1, _) = boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    kernel.stop(a2);
    let waiter = {
        let kernel = kernel.clone();
        thread::spawn(move || kernel.wait_while_stopped(a2))
    };
    assert_eq!(kernel.kill(a1, 2, SIGKILL), Ok(Kill::Killed));
    waiter.join().unwrap();
    assert!(c2.powered_off.load(Ordering::SeqCst));
    kernel.shutdown();
}

#[test]
fn sigcont_resumes_first_and_discards_pending_stops() {
    let kernel = Arc::new(Kernel::start(users()));
    let (a1, _) = boot(&kernel, 1);
    let (a2, _) = boot(&kernel, 2);
    kernel.kill(a1, 2, SIGSTOP).unwrap();
    kernel.kill(a1, 2, SIGCONT).unwrap();
    assert_eq!(drain(&kernel, a2), vec![Item::Signal(SIGCONT)]);

    kernel.stop(a2);
    let waiter = {
        let kernel = kernel.clone();
        thread::spawn(move || kernel.wait_while_stopped(a2))
    };
    kernel.kill(a1, 2, SIGCONT).unwrap();
    waiter.join().unwrap();
    kernel.shutdown();
}

#[test]
fn send_reports_whether_the_event_was_queued() {
    let kernel = Kernel::start(users());
    let (b3, c3) = boot(&kernel, 3);
    assert!(!kernel.send(1, 9, name("x"), text("a")), "no such process");
    for i in 0..kernel.limits().queue {
        assert!(
            kernel.send(1, 3, name(&format!("e{i}")), text("a")),
            "event {i}"
        );
    }
    assert!(!kernel.send(1, 3, name("over"), text("a")), "full queue");
    assert!(is_named(kernel.pop(b3), b"e0"));
    assert!(
        !kernel.send(1, 3, name("over"), text("a")),
        "popped, not yet received"
    );
    assert!(kernel.acknowledge(b3, 1));
    assert!(
        kernel.send(1, 3, name("fits"), text("a")),
        "received: room again"
    );
    assert!(is_named(kernel.pop(b3), b"e1"));
    c3.running.store(false, Ordering::SeqCst);
    assert!(!kernel.send(1, 3, name("off"), text("a")), "switched off");
    kernel.shutdown();
}

#[test]
fn a_new_incarnation_starts_empty_and_old_tickets_go_stale() {
    let kernel = Kernel::start(users());
    let (old, _) = boot(&kernel, 1);
    kernel.push(old, Item::Terminate).unwrap();
    let (new, _) = boot(&kernel, 1);
    assert!(!kernel.is_current(old));
    assert_eq!(kernel.pop(old), None);
    assert_eq!(kernel.pop(new), None);
    assert!(kernel.push(old, Item::Terminate).is_err());
    kernel.exit(old); // a late exit of the old incarnation changes nothing
    assert!(kernel.is_current(new));
    kernel.exit(new);
    assert!(!kernel.is_current(new));
    kernel.shutdown();
}

fn wait_for_item(kernel: &Kernel, ticket: Ticket) -> Item {
    for _ in 0..500 {
        if let Some(item) = kernel.pop(ticket) {
            return item;
        }
        thread::sleep(Duration::from_millis(2));
    }
    panic!("no item arrived");
}

#[test]
fn timers_fire_once_and_cancelled_ones_never_arrive() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    let cancelled = kernel
        .start_timer(t, Duration::from_millis(30), false)
        .unwrap();
    let fired = kernel.start_timer(t, Duration::ZERO, false).unwrap();
    kernel.cancel(t, cancelled);
    assert_eq!(wait_for_item(&kernel, t), Item::Timer(fired));
    thread::sleep(Duration::from_millis(60));
    assert_eq!(kernel.pop(t), None);

    // Already expired and waiting in the queue: cancel still removes it.
    let late = kernel.start_timer(t, Duration::ZERO, false).unwrap();
    while kernel.peek(t, |_| true).is_none() {
        thread::sleep(Duration::from_millis(1));
    }
    kernel.cancel(t, late);
    assert_eq!(kernel.pop(t), None);
    kernel.shutdown();
}

#[test]
fn timer_ids_are_unique_and_alarms_have_bit_31() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    let hour = Duration::from_secs(3600);
    let timers: HashSet<_> = (0..100)
        .map(|_| kernel.start_timer(t, hour, false).unwrap())
        .collect();
    assert_eq!(timers.len(), 100);
    assert!(timers.iter().all(|&id| id > 0 && id < ALARM_BIT));
    let alarm = kernel.start_timer(t, hour, true).unwrap();
    assert!(alarm >= ALARM_BIT);
    kernel.shutdown();
}

#[test]
fn allocation_wraps_and_skips_pending_ids() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    let first = kernel
        .start_timer(t, Duration::from_secs(3600), false)
        .unwrap();
    {
        let mut table = kernel.lock();
        table.current(t).unwrap().next_timer = ALARM_BIT - 1;
    }
    let top = kernel
        .start_timer(t, Duration::from_secs(3600), false)
        .unwrap();
    let wrapped = kernel
        .start_timer(t, Duration::from_secs(3600), false)
        .unwrap();
    assert_eq!((first, top), (1, ALARM_BIT - 1));
    assert_eq!(wrapped, 2, "1 is still pending, so it is skipped");
    kernel.shutdown();
}

#[test]
fn a_reused_id_is_never_fired_by_its_cancelled_predecessor() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    let short = kernel
        .start_timer(t, Duration::from_millis(20), false)
        .unwrap();
    kernel.cancel(t, short);
    // The counter wraps round to the cancelled ID while its entry still
    // waits for its deadline; the new timer is due in an hour.
    kernel.lock().current(t).unwrap().next_timer = short;
    let reused = kernel
        .start_timer(t, Duration::from_secs(3600), false)
        .unwrap();
    assert_eq!(reused, short);
    // A timer due after the old deadline: once it has fired, the old entry
    // has had its chance to fire the new ID early.
    let marker = kernel
        .start_timer(t, Duration::from_millis(60), false)
        .unwrap();
    assert_eq!(wait_for_item(&kernel, t), Item::Timer(marker));
    assert_eq!(kernel.pop(t), None);
    kernel.shutdown();
}

#[test]
fn timers_are_bounded_per_process() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    for _ in 0..4096 {
        kernel
            .start_timer(t, Duration::from_secs(3600), false)
            .unwrap();
    }
    assert_eq!(
        kernel.start_timer(t, Duration::from_secs(3600), false),
        Err(TooManyTimers)
    );
    kernel.shutdown();
}

#[test]
fn shutdown_releases_stopped_processes_and_joins_the_timer_thread() {
    let kernel = Arc::new(Kernel::start(users()));
    let (t, _) = boot(&kernel, 1);
    kernel.stop(t);
    let waiter = {
        let kernel = kernel.clone();
        thread::spawn(move || kernel.wait_while_stopped(t))
    };
    kernel.shutdown(); // the waiter returns only if shutdown opened the gate
    waiter.join().unwrap();
    assert!(!kernel.is_current(t));
}

/// A computer whose notification checks, from another thread, that the
/// kernel's table lock is free (the woken computer's provider takes it).
struct LockProbe {
    kernel: std::sync::OnceLock<Weak<Kernel>>,
    lock_was_free: AtomicUsize,
}

impl ComputerPort for Arc<LockProbe> {
    fn is_running(&self) -> bool {
        true
    }
    fn notify(&self, ticket: Ticket) {
        let kernel = self.kernel.get().and_then(Weak::upgrade).unwrap();
        let (done, finished) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let _ = kernel.is_current(ticket);
            let _ = done.send(());
        });
        // Generous: a loaded machine may be slow to run the thread.
        if finished.recv_timeout(Duration::from_secs(10)).is_ok() {
            self.lock_was_free.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn power_off(&self) {}
}

#[test]
fn send_notifies_the_target_with_the_table_lock_released() {
    let kernel = Kernel::start(users());
    let probe = Arc::new(LockProbe {
        kernel: std::sync::OnceLock::new(),
        lock_was_free: AtomicUsize::new(0),
    });
    probe.kernel.set(Arc::downgrade(&kernel)).unwrap();
    let target = kernel.spawn(3, Box::new(probe.clone()));
    assert!(kernel.send(1, 3, name("wake"), text("a")));
    assert_eq!(probe.lock_was_free.load(Ordering::SeqCst), 1);
    assert!(is_named(kernel.pop(target), b"wake"));
    kernel.shutdown();
}

#[test]
fn signal_0_checks_existence_and_permission_and_sends_nothing() {
    let kernel = Kernel::start(users());
    let (a1, _) = boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    boot(&kernel, 3);
    assert_eq!(kernel.kill(a1, 42, 0), Err(KillError::NoSuchProcess));
    assert_eq!(kernel.kill(a1, 3, 0), Err(KillError::PermissionDenied));
    assert_eq!(kernel.kill(a1, 2, 0), Ok(Kill::Checked));
    assert_eq!(kernel.kill(a1, 1, 0), Ok(Kill::Checked), "to itself too");
    assert_eq!(c2.notified.load(Ordering::SeqCst), 0);
    assert_eq!(drain(&kernel, a2), vec![]);
    assert_eq!(drain(&kernel, a1), vec![]);
    kernel.shutdown();
}

#[test]
fn configured_limits_bound_queues_and_timers() {
    let limits = Limits {
        queue: 4,
        payload: 100,
        timers: 3,
        ..Limits::default()
    };
    let kernel = Kernel::start_with_limits(users(), limits);
    let (t, _) = boot(&kernel, 1);
    for _ in 0..3 {
        kernel
            .start_timer(t, Duration::from_secs(3600), true)
            .unwrap();
    }
    assert_eq!(
        kernel.start_timer(t, Duration::from_secs(3600), false),
        Err(TooManyTimers)
    );
    for i in 0..4 {
        assert!(kernel.send(2, 1, name(&format!("e{i}")), text("a")));
    }
    assert!(!kernel.send(2, 1, name("over"), text("a")));
    kernel.shutdown();
}

#[test]
fn a_stop_takes_effect_ahead_of_what_already_waits() {
    let kernel = Kernel::start(users());
    let (t, _) = boot(&kernel, 1);
    kernel.send(2, 1, name("before"), text("a"));
    kernel.stop(t);
    assert_eq!(kernel.pop(t), Some(Item::Gate), "the gate comes first");
    assert!(matches!(kernel.pop(t), Some(Item::Remote { .. })));
    kernel.shutdown();
}

/// Polls `condition` until it holds or 10 s pass.
fn eventually(condition: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        thread::sleep(Duration::from_millis(1));
    }
    condition()
}

#[test]
fn a_waiting_computer_whose_provider_never_runs_is_notified_again() {
    let kernel = Kernel::start(users());
    boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    let mailbox = kernel.mailbox(a2).unwrap();
    mailbox.set_waiting(true); // waits in the emulator, armed since boot
    assert!(kernel.send(1, 2, name("a"), text("x")));
    assert_eq!(c2.notified.load(Ordering::SeqCst), 1);
    // The emulator lost that notification: the provider never runs.
    assert!(
        eventually(|| c2.notified.load(Ordering::SeqCst) >= 2),
        "no second notification"
    );
    // Woken at last: the program runs, the first provider delivers the
    // event, the extra ones find nothing.
    mailbox.set_waiting(false);
    assert!(is_named(kernel.pop_for_provider(a2, true), b"a"));
    let notified = c2.notified.load(Ordering::SeqCst);
    for _ in 1..notified {
        assert_eq!(kernel.pop_for_provider(a2, true), None);
    }
    // Every provider ran: no more notifications, however long it waits.
    mailbox.set_waiting(true);
    thread::sleep(LAST_CHECK * 2);
    assert_eq!(c2.notified.load(Ordering::SeqCst), notified);
    kernel.shutdown();
}

#[test]
fn a_busy_computer_with_a_provider_pending_is_not_notified_again() {
    let kernel = Kernel::start(users());
    boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    assert!(kernel.send(1, 2, name("a"), text("x")));
    assert_eq!(c2.notified.load(Ordering::SeqCst), 1);
    // Its program runs (it is not waiting in the emulator) for a while.
    thread::sleep(FIRST_CHECK * 20);
    assert_eq!(c2.notified.load(Ordering::SeqCst), 1);
    assert!(is_named(kernel.pop_for_provider(a2, true), b"a"));
    kernel.shutdown();
}

#[test]
fn delivery_checks_add_a_bounded_number_of_providers() {
    let kernel = Kernel::start(users());
    boot(&kernel, 1);
    let (a2, c2) = boot(&kernel, 2);
    kernel.mailbox(a2).unwrap().set_waiting(true);
    assert!(kernel.send(1, 2, name("a"), text("x")));
    // No provider ever runs: checks keep coming (2, 4, … 64 ms apart) but
    // stop adding providers at the bound.
    assert!(eventually(
        || c2.notified.load(Ordering::SeqCst) >= MAX_PENDING_PROVIDERS
    ));
    thread::sleep(LAST_CHECK * 3);
    assert_eq!(c2.notified.load(Ordering::SeqCst), MAX_PENDING_PROVIDERS);
    kernel.shutdown();
}
