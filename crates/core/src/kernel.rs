//! The process table: every running computer's process, its queue, timers,
//! stop state and user, behind one lock.
//!
//! Lock discipline: the table lock is never held while Lua runs or while a
//! thread blocks (the stop gate waits on a condition variable, which releases
//! it). Calls out through [`ComputerPort`] happen under the lock, which is
//! what keeps a port from being used after its process has exited.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::cluster::{Address, Cluster, GlobalPid, Node};
use super::limits::Limits;
use super::queue::{EventQueue, Full, Item, TimerId, ALARM_BIT};
use super::signals::{CHECK_ONLY, SIGCONT, SIGKILL};
use super::timers::TimerService;
use super::users::{may_signal, UserTable};
use super::value::Payload;
use super::{Pid, Ticket};

/// How often a stopped process re-checks that its computer is still on
/// (the emulator can switch it off without telling the plugin).
const GATE_POLL: Duration = Duration::from_millis(20);

/// The timer key of a process's delivery check (no timer or alarm has ID 0).
const DELIVERY_CHECK: TimerId = 0;
/// A notified computer that waits and has run no provider this long after
/// is notified again (see [`Kernel::check_delivery`]); the delay doubles
/// while the provider stays pending, up to [`LAST_CHECK`].
const FIRST_CHECK: Duration = Duration::from_millis(2);
const LAST_CHECK: Duration = Duration::from_millis(64);
/// A delivery check adds no provider beyond this many pending (a computer
/// whose emulator queue stays full runs none for a while: extra providers
/// would only pile up).
const MAX_PENDING_PROVIDERS: usize = 4;

/// The kernel's view of the computer a process runs on.
pub trait ComputerPort: Send + Sync {
    /// Whether the computer is on (not off, shutting down or rebooting).
    fn is_running(&self) -> bool;
    /// Asks the computer to deliver one item: it calls back on its own
    /// thread, with `ticket`, when its program next waits for an event.
    fn notify(&self, ticket: Ticket);
    /// Shuts the computer down; a busy one stops at its next yield.
    fn power_off(&self);
}

/// What a process's own thread may read without the table lock.
///
/// Wake-up protocol (no lost wake-up, few notifications):
/// - A pusher, under the lock, queues the item, publishes the new length in
///   `queued`, then notifies (queues one provider) only if it swaps `armed`
///   from true to false.
/// - The program, about to wait in the emulator, sets `armed` and then reads
///   `queued` (both SeqCst): if it sees nothing, any later push sees `armed`
///   and notifies. If it sees items it takes the lock ([`Kernel::take_direct`]
///   or [`Kernel::prepare_wait`]), which leaves a provider queued whenever
///   items are left waiting.
/// - A provider that finds the queue empty re-arms (it runs only while the
///   program waits in the emulator).
pub struct Mailbox {
    alive: AtomicBool,
    queued: AtomicUsize,
    armed: AtomicBool,
    /// The program waits in the emulator (set by the binding around its
    /// yield to the emulator; read by the delivery check).
    waiting: AtomicBool,
    port: Arc<dyn ComputerPort>,
}

impl Mailbox {
    /// Whether the incarnation is current and its computer on. Read on the
    /// process's own thread, whose computer is alive while its Lua runs.
    pub fn is_open(&self) -> bool {
        self.alive.load(Ordering::Acquire) && self.port.is_running()
    }

    /// Items waiting in the kernel queue (a snapshot).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// The program is about to wait in the emulator: from now on a push
    /// notifies. Returns whether items are already waiting (then the caller
    /// must go through the lock).
    pub fn arm(&self) -> bool {
        self.armed.store(true, Ordering::SeqCst);
        self.queued.load(Ordering::SeqCst) != 0
    }

    /// The program runs again: it will look at the queue at its next wait,
    /// so pushes need not notify.
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::Relaxed);
    }

    /// The program starts (true) or stops (false) waiting in the emulator.
    pub fn set_waiting(&self, waiting: bool) {
        self.waiting.store(waiting, Ordering::Relaxed);
    }
}

/// A process's computer, for notifying it outside the table lock: `sendEvent`
/// wakes the target after releasing the lock, so that the woken computer's
/// provider does not find the lock still held by the sender (a contended lock
/// costs the receiver a second sleep and wake-up). The port is dropped, under
/// this lock, when the process ends: no notification reaches a computer after
/// its incarnation has exited.
struct Notifier(Mutex<Option<Arc<dyn ComputerPort>>>);

impl Notifier {
    fn notify(&self, ticket: Ticket) {
        let port = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(port) = port.as_ref() {
            port.notify(ticket);
        }
    }

    /// Waits for a notification in flight, then refuses later ones.
    fn close(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillError {
    NoSuchProcess,
    PermissionDenied,
}

impl KillError {
    /// The contract's exact message.
    pub fn message(self) -> &'static str {
        match self {
            KillError::NoSuchProcess => "No such process",
            KillError::PermissionDenied => "Permission denied",
        }
    }
}

/// What `kill` did, when it succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kill {
    /// SIGKILL: the target is shutting down.
    Killed,
    /// The signal waits in the target's queue for its handler or as an event.
    Queued,
    /// The caller signalled itself: its handler must run before `kill` returns.
    ToSelf,
    /// Signal 0: the target exists and may be signalled; nothing was sent.
    Checked,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyTimers;

type TimerKey = (Ticket, TimerId);

struct Process {
    incarnation: u32,
    port: Arc<dyn ComputerPort>,
    notifier: Arc<Notifier>,
    mailbox: Arc<Mailbox>,
    /// Providers queued with the emulator and not run yet.
    providers: usize,
    /// Providers run so far (a delivery check compares it).
    provider_runs: u64,
    /// The pending delivery check: `provider_runs` when it was armed, and
    /// its delay.
    delivery_check: Option<(u64, Duration)>,
    queue: EventQueue,
    timers: HashSet<TimerId>,
    next_timer: TimerId,
    next_alarm: TimerId,
    stopped: bool,
}

struct Table {
    processes: HashMap<Pid, Process>,
    next_incarnation: u32,
    closing: bool,
    timers: Option<TimerService<TimerKey>>,
    services: registry::Services,
}

impl Table {
    /// The process behind `ticket`, if that incarnation is still current.
    fn current(&mut self, ticket: Ticket) -> Option<&mut Process> {
        self.processes
            .get_mut(&ticket.pid)
            .filter(|p| p.incarnation == ticket.incarnation)
    }

    /// The same, with the timer service beside it (borrowed apart).
    fn current_and_timers(
        &mut self,
        ticket: Ticket,
    ) -> Option<(&mut Process, Option<&TimerService<TimerKey>>)> {
        let process = self
            .processes
            .get_mut(&ticket.pid)
            .filter(|p| p.incarnation == ticket.incarnation)?;
        Some((process, self.timers.as_ref()))
    }

    fn disarm_all(&self, ticket: Ticket, process: &Process) {
        if let Some(timers) = &self.timers {
            for &id in &process.timers {
                timers.disarm((ticket, id));
            }
            if process.delivery_check.is_some() {
                timers.disarm((ticket, DELIVERY_CHECK));
            }
        }
    }

    /// After a notification of `ticket`: arms its delivery check unless one
    /// is pending.
    fn watch_delivery(&mut self, ticket: Ticket) {
        if let Some((process, timers)) = self.current_and_timers(ticket) {
            if process.delivery_check.is_none() {
                process.arm_delivery_check(ticket, timers, FIRST_CHECK);
            }
        }
    }
}

pub struct Kernel {
    table: Mutex<Table>,
    gate: Condvar,
    users: UserTable,
    limits: Limits,
    /// The other emulators, when this one is a node of a cluster; attached
    /// once, before any computer boots, and never taken away (a stopped
    /// cluster adapter answers as if no other node were there).
    cluster: OnceLock<Arc<dyn Cluster>>,
}

/// Why an event from another node was not queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undelivered {
    /// That incarnation is not running any more.
    Gone,
    /// Its queue is full.
    Full,
}

impl Kernel {
    /// Creates the kernel with the default limits and starts its timer thread.
    pub fn start(users: UserTable) -> Arc<Kernel> {
        Kernel::start_with_limits(users, Limits::default())
    }

    /// Creates the kernel and starts its timer thread.
    pub fn start_with_limits(users: UserTable, limits: Limits) -> Arc<Kernel> {
        let kernel = Arc::new(Kernel {
            table: Mutex::new(Table {
                processes: HashMap::new(),
                next_incarnation: 0,
                closing: false,
                timers: None,
                services: registry::Services::default(),
            }),
            gate: Condvar::new(),
            users,
            limits,
            cluster: OnceLock::new(),
        });
        let weak: Weak<Kernel> = Arc::downgrade(&kernel);
        let timers = TimerService::start("phoenix-timers", move |key: TimerKey| {
            if let Some(kernel) = weak.upgrade() {
                kernel.timer_expired(key);
            }
        });
        kernel.lock().timers = Some(timers);
        kernel
    }

    /// Stops everything: stopped processes are released, the timer thread is
    /// joined and every process is forgotten. Nothing is called afterwards.
    pub fn shutdown(&self) {
        let timers = {
            let mut table = self.lock();
            table.closing = true;
            for process in table.processes.values() {
                process.mailbox.alive.store(false, Ordering::Release);
                process.notifier.close();
            }
            table.processes.clear();
            table.services.clear();
            table.timers.take()
        };
        self.gate.notify_all();
        drop(timers); // joins the thread, outside the lock it may be waiting for
    }

    pub fn user_of(&self, pid: Pid) -> &str {
        self.users.user_of(pid)
    }

    /// Makes this kernel a node of `cluster`. Only the first call counts;
    /// it must come before any computer boots, so that the cluster hears of
    /// every process.
    pub fn attach_cluster(&self, cluster: Arc<dyn Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    fn cluster(&self) -> Option<&Arc<dyn Cluster>> {
        self.cluster.get()
    }

    /// This emulator's node number, in a cluster.
    pub fn node(&self) -> Option<Node> {
        self.cluster().map(|c| c.node())
    }

    /// Reads a pid given by a program (see [`Address::from_number`]).
    pub fn address(&self, number: f64) -> Option<Address> {
        Address::from_number(number, self.node())
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Starts a new incarnation of process `pid` (a computer booted).
    /// Whatever an older incarnation left behind is discarded.
    pub fn spawn(&self, pid: Pid, port: Box<dyn ComputerPort>) -> Ticket {
        let port: Arc<dyn ComputerPort> = Arc::from(port);
        let mut table = self.lock();
        table.next_incarnation = table.next_incarnation.wrapping_add(1).max(1);
        let ticket = Ticket {
            pid,
            incarnation: table.next_incarnation,
        };
        let mailbox = Arc::new(Mailbox {
            alive: AtomicBool::new(true),
            queued: AtomicUsize::new(0),
            armed: AtomicBool::new(true),
            waiting: AtomicBool::new(false),
            port: port.clone(),
        });
        let process = Process {
            incarnation: ticket.incarnation,
            notifier: Arc::new(Notifier(Mutex::new(Some(port.clone())))),
            port,
            mailbox,
            providers: 0,
            provider_runs: 0,
            delivery_check: None,
            queue: EventQueue::new(self.limits),
            timers: HashSet::new(),
            next_timer: 1,
            next_alarm: 1,
            stopped: false,
        };
        if let Some(old) = table.processes.insert(pid, process) {
            old.mailbox.alive.store(false, Ordering::Release);
            old.notifier.close();
            let old_ticket = Ticket {
                pid,
                incarnation: old.incarnation,
            };
            table.disarm_all(old_ticket, &old);
            let names = table.services.release(old_ticket);
            if let Some(cluster) = self.cluster() {
                cluster.process_ended(old_ticket, names);
            }
        }
        if let Some(cluster) = self.cluster() {
            cluster.process_started(ticket, self.users.user_of(pid));
        }
        ticket
    }

    /// Ends incarnation `ticket` (its computer's Lua state is closing).
    pub fn exit(&self, ticket: Ticket) {
        let mut table = self.lock();
        if table.current(ticket).is_some() {
            if let Some(process) = table.processes.remove(&ticket.pid) {
                process.mailbox.alive.store(false, Ordering::Release);
                process.notifier.close();
                table.disarm_all(ticket, &process);
            }
            let names = table.services.release(ticket);
            if let Some(cluster) = self.cluster() {
                cluster.process_ended(ticket, names);
            }
        }
    }

    /// Every running process and its user (for the cluster's directory).
    pub fn processes(&self) -> Vec<(Ticket, String)> {
        let table = self.lock();
        table
            .processes
            .iter()
            .filter(|(_, p)| p.port.is_running())
            .map(|(&pid, p)| {
                let ticket = Ticket {
                    pid,
                    incarnation: p.incarnation,
                };
                (ticket, self.users.user_of(pid).to_owned())
            })
            .collect()
    }

    /// Whether incarnation `ticket`'s queue has room again after refusing
    /// an event (at most half full); `None` when it is not running.
    pub fn has_room(&self, ticket: Ticket) -> Option<bool> {
        let mut table = self.lock();
        let process = table.current(ticket).filter(|p| p.port.is_running())?;
        Some(process.queue.is_half_empty())
    }

    /// Whether incarnation `ticket` is current and its computer on.
    pub fn is_running(&self, ticket: Ticket) -> bool {
        self.lock()
            .current(ticket)
            .is_some_and(|p| p.port.is_running())
    }

    /// Whether `ticket` is still the current incarnation of its process.
    #[cfg(test)]
    pub fn is_current(&self, ticket: Ticket) -> bool {
        self.lock().current(ticket).is_some()
    }

    /// The lock-free view of incarnation `ticket`, for its own thread.
    pub fn mailbox(&self, ticket: Ticket) -> Option<Arc<Mailbox>> {
        self.lock().current(ticket).map(|p| p.mailbox.clone())
    }

    /// The program received `count` delivered data events (they no longer
    /// count against its queue's limit). Returns whether the process is
    /// still current and its computer on.
    pub fn acknowledge(&self, ticket: Ticket, count: usize) -> bool {
        let mut table = self.lock();
        let Some(process) = table.current(ticket) else {
            return false;
        };
        process.queue.acknowledge(count);
        process.port.is_running()
    }

    /// Shuts the process's own computer down (a default action).
    pub fn power_off(&self, ticket: Ticket) {
        if let Some(process) = self.lock().current(ticket) {
            process.stopped = false;
            process.port.power_off();
        }
    }

    /// `kill`: permission and existence checks, then SIGKILL/SIGCONT effects
    /// and queueing. Signals to oneself are left to the caller.
    pub fn kill(&self, sender: Ticket, target: Pid, signal: i32) -> Result<Kill, KillError> {
        self.signal_as(
            self.users.user_of(sender.pid),
            Some(sender.pid),
            target,
            None,
            signal,
        )
    }

    /// `kill` to any address: a computer of this emulator, or of another
    /// node through the cluster.
    pub fn kill_address(
        &self,
        sender: Ticket,
        target: Address,
        signal: i32,
    ) -> Result<Kill, KillError> {
        match target {
            Address::Local(pid) => self.kill(sender, pid, signal),
            Address::Remote { node, pid } => {
                let cluster = self.cluster().ok_or(KillError::NoSuchProcess)?;
                let user = self.users.user_of(sender.pid);
                cluster.kill(sender.pid, user, node, pid, signal)?;
                Ok(if signal == CHECK_ONLY {
                    Kill::Checked
                } else {
                    Kill::Queued
                })
            }
        }
    }

    /// A signal from another node's computer running as `sender_user` (a
    /// claim the cluster adapter has already accepted), for incarnation
    /// `target`: the same checks and effects as a local `kill`.
    pub fn remote_kill(
        &self,
        sender_user: &str,
        target: Ticket,
        signal: i32,
    ) -> Result<Kill, KillError> {
        self.signal_as(
            sender_user,
            None,
            target.pid,
            Some(target.incarnation),
            signal,
        )
    }

    /// `kill` by a process running as `sender_user` (`sender`: its local
    /// pid, none for another node's), to `target`, whose incarnation must be
    /// `incarnation` when given.
    fn signal_as(
        &self,
        sender_user: &str,
        sender: Option<Pid>,
        target: Pid,
        incarnation: Option<u32>,
        signal: i32,
    ) -> Result<Kill, KillError> {
        let mut table = self.lock();
        let process = table
            .processes
            .get_mut(&target)
            .filter(|p| p.port.is_running())
            .filter(|p| incarnation.is_none_or(|i| i == p.incarnation))
            .ok_or(KillError::NoSuchProcess)?;
        if !may_signal(sender_user, self.users.user_of(target)) {
            return Err(KillError::PermissionDenied);
        }
        if signal == CHECK_ONLY {
            return Ok(Kill::Checked);
        }
        if signal == SIGKILL {
            process.stopped = false;
            process.port.power_off();
            self.gate.notify_all();
            return Ok(Kill::Killed);
        }
        if signal == SIGCONT {
            process.stopped = false;
            process.queue.drop_pending_stops();
            process.publish();
            self.gate.notify_all();
        }
        if sender == Some(target) {
            return Ok(Kill::ToSelf);
        }
        let ticket = Ticket {
            pid: target,
            incarnation: process.incarnation,
        };
        match process.queue.push(Item::Signal(signal)) {
            Ok(()) => {
                if process.wake(ticket) {
                    table.watch_delivery(ticket);
                }
            }
            Err(Full) => eprintln!(
                "phoenix-events: computer {target} has {} items waiting; signal {signal} refused",
                process.queue.waiting()
            ),
        }
        Ok(Kill::Queued)
    }

    /// `sendEvent`: true when the event was queued for a running process.
    /// The target is notified after the lock is released (see [`Notifier`]).
    pub fn send(&self, sender: Pid, target: Pid, name: Box<[u8]>, data: Payload) -> bool {
        self.queue_remote(GlobalPid::from(sender), target, None, name, data)
            .is_ok()
    }

    /// `sendEvent` to any address: a computer of this emulator, or of
    /// another node through the cluster.
    pub fn send_address(
        &self,
        sender: Pid,
        target: Address,
        name: Box<[u8]>,
        data: Payload,
    ) -> bool {
        match target {
            Address::Local(pid) => self.send(sender, pid, name, data),
            Address::Remote { node, pid } => self
                .cluster()
                .is_some_and(|c| c.send(sender, node, pid, name, data)),
        }
    }

    /// An event from another node's computer `sender` (node × 2^32 + ID)
    /// for incarnation `target`. `Ok(true)`: queued, and the queue is
    /// nearly full (three quarters of a bound): the cluster asks the other
    /// nodes to hold back, leaving the rest for events already on their way.
    pub fn remote_send(
        &self,
        sender: GlobalPid,
        target: Ticket,
        name: Box<[u8]>,
        data: Payload,
    ) -> Result<bool, Undelivered> {
        self.queue_remote(sender, target.pid, Some(target.incarnation), name, data)
    }

    /// Queues a `remote_event` for `target` (of incarnation `incarnation`
    /// when given) and wakes it after the lock is released. `Ok(true)`: the
    /// queue is nearly full now.
    fn queue_remote(
        &self,
        sender: GlobalPid,
        target: Pid,
        incarnation: Option<u32>,
        name: Box<[u8]>,
        data: Payload,
    ) -> Result<bool, Undelivered> {
        let wake = {
            let mut table = self.lock();
            let Some(process) = table
                .processes
                .get_mut(&target)
                .filter(|p| p.port.is_running())
                .filter(|p| incarnation.is_none_or(|i| i == p.incarnation))
            else {
                return Err(Undelivered::Gone);
            };
            let item = Item::Remote { sender, name, data };
            if process.queue.push(item).is_err() {
                return Err(Undelivered::Full);
            }
            let nearly_full = process.queue.is_nearly_full();
            let ticket = Ticket {
                pid: target,
                incarnation: process.incarnation,
            };
            let notifier = process.wake_later().then(|| process.notifier.clone());
            if notifier.is_some() {
                table.watch_delivery(ticket);
            }
            (notifier.map(|notifier| (notifier, ticket)), nearly_full)
        };
        let (wake, nearly_full) = wake;
        if let Some((notifier, ticket)) = wake {
            notifier.notify(ticket);
        }
        Ok(nearly_full)
    }

    /// Queues `item` for the process itself (its own events, its own
    /// signal events, `terminate`).
    pub fn push(&self, ticket: Ticket, item: Item) -> Result<(), Full> {
        let mut table = self.lock();
        let process = table.current(ticket).ok_or(Full)?;
        process.queue.push(item)?;
        if process.wake(ticket) {
            table.watch_delivery(ticket);
        }
        Ok(())
    }

    /// Takes the next item for a provider, on the process's own thread.
    /// `first` says this is the provider's first pop (it is no longer
    /// queued). Signals left behind keep a provider queued
    /// ([`Process::chain`]); an empty queue re-arms: the program waits in the
    /// emulator.
    pub fn pop_for_provider(&self, ticket: Ticket, first: bool) -> Option<Item> {
        let mut table = self.lock();
        let process = table.current(ticket)?;
        if first {
            process.providers = process.providers.saturating_sub(1);
            process.provider_runs += 1;
        }
        let item = process.queue.pop();
        process.publish();
        if item.is_none() {
            process.mailbox.armed.store(true, Ordering::SeqCst);
        } else if process.queue.has_specials() && process.chain(ticket) {
            table.watch_delivery(ticket);
        }
        item
    }

    /// Takes the next item as a provider's later pop would.
    pub fn pop(&self, ticket: Ticket) -> Option<Item> {
        self.pop_for_provider(ticket, false)
    }

    /// Direct delivery, at a top-level wait when none of the process's events
    /// wait in the emulator's queue: takes the next item, already counted as
    /// received, if `direct` accepts it (an event needing no Lua code to
    /// become one), no signal, terminate or stop gate waits anywhere in the
    /// queue (those go through providers, all in one batch, so that handlers
    /// run before the program receives its next event), and the process is
    /// neither stopped nor shut down. Otherwise prepares the wait in the
    /// emulator (see [`Kernel::prepare_wait`]) and returns `None`.
    pub fn take_direct(&self, ticket: Ticket, direct: impl Fn(&Item) -> bool) -> Option<Item> {
        let mut table = self.lock();
        let process = table.current(ticket)?;
        let open = !process.stopped && process.port.is_running();
        if open && !process.queue.has_specials() && process.queue.front().is_some_and(direct) {
            let item = process.queue.pop_received();
            process.publish();
            return item;
        }
        if process.prepare_wait(ticket) {
            table.watch_delivery(ticket);
        }
        None
    }

    /// The program is about to wait in the emulator with items possibly
    /// waiting: leaves a provider queued for them, or arms when there are none.
    pub fn prepare_wait(&self, ticket: Ticket) {
        let mut table = self.lock();
        if table
            .current(ticket)
            .is_some_and(|p| p.prepare_wait(ticket))
        {
            table.watch_delivery(ticket);
        }
    }

    /// A copy of the first waiting item for which `is_event` holds.
    pub fn peek(&self, ticket: Ticket, is_event: impl Fn(&Item) -> bool) -> Option<Item> {
        let mut table = self.lock();
        let process = table.current(ticket)?;
        let first = process.queue.iter().find(|item| is_event(item)).cloned();
        first
    }

    /// Starts a timer (or, with `alarm`, an alarm) that queues its event after
    /// `delay`. Returns its ID.
    pub fn start_timer(
        &self,
        ticket: Ticket,
        delay: Duration,
        alarm: bool,
    ) -> Result<TimerId, TooManyTimers> {
        let mut table = self.lock();
        let (process, timers) = table.current_and_timers(ticket).ok_or(TooManyTimers)?;
        if process.timers.len() >= self.limits.timers {
            return Err(TooManyTimers);
        }
        let id = process.allocate_timer_id(alarm);
        process.timers.insert(id);
        if let Some(timers) = timers {
            timers.arm((ticket, id), Instant::now() + delay);
        }
        Ok(id)
    }

    /// Cancels timer or alarm `id`: it will not fire, and its event is taken
    /// out of the queue if it was already waiting there.
    pub fn cancel(&self, ticket: Ticket, id: TimerId) {
        let mut table = self.lock();
        let Some((process, timers)) = table.current_and_timers(ticket) else {
            return;
        };
        if process.timers.remove(&id) {
            if let Some(timers) = timers {
                timers.disarm((ticket, id));
            }
        }
        process.queue.remove_timer(id);
        process.publish();
    }

    /// Stops the process (SIGSTOP's default action): it will wait at the
    /// gate queued here, receiving nothing, until continued or killed.
    pub fn stop(&self, ticket: Ticket) {
        let mut table = self.lock();
        if let Some(process) = table.current(ticket) {
            process.stopped = true;
            process.queue.push_gate_first();
            if process.wake(ticket) {
                table.watch_delivery(ticket);
            }
        }
    }

    /// Blocks the process's thread while it is stopped. Returns when it is
    /// continued, killed, switched off or rebooted, or the plugin unloads.
    pub fn wait_while_stopped(&self, ticket: Ticket) {
        let mut table = self.lock();
        loop {
            let closing = table.closing;
            let Some(process) = table.current(ticket) else {
                return;
            };
            if !process.stopped || closing || !process.port.is_running() {
                return;
            }
            table = self
                .gate
                .wait_timeout(table, GATE_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Fires timer `id` now, as the timer thread would (for the model checks).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn expire_timer_now(&self, ticket: Ticket, id: TimerId) {
        self.timer_expired((ticket, id));
    }

    fn timer_expired(&self, (ticket, id): TimerKey) {
        if id == DELIVERY_CHECK {
            return self.check_delivery(ticket);
        }
        let mut table = self.lock();
        if let Some(process) = table.current(ticket) {
            if process.timers.remove(&id) {
                process.queue.push_timer(id);
                if process.wake(ticket) {
                    table.watch_delivery(ticket);
                }
            }
        }
    }

    /// A notification can be lost: CraftOS-PC v2.8.3 checks its provider
    /// queue and then waits on a condition variable that `queueEvent`
    /// notifies without holding the waiter's mutex, so a provider queued
    /// between the two waits out the emulator's 5 s timeout (seen as rare
    /// multi-second stalls of a ping-pong). So while a provider is pending,
    /// a check runs after [`FIRST_CHECK`]: if the program waits in the
    /// emulator and no provider has run since the last check, the computer
    /// is notified again (an extra provider that finds nothing delivers
    /// nothing). The delay doubles while the provider stays pending.
    fn check_delivery(&self, ticket: Ticket) {
        let mut table = self.lock();
        let Some((process, timers)) = table.current_and_timers(ticket) else {
            return;
        };
        let Some((runs, delay)) = process.delivery_check.take() else {
            return;
        };
        if process.providers == 0 || !process.port.is_running() {
            return; // delivered, or nothing will be
        }
        let next = if process.provider_runs != runs {
            FIRST_CHECK // it runs providers: check the one pending afresh
        } else {
            if process.mailbox.waiting.load(Ordering::Relaxed)
                && process.providers < MAX_PENDING_PROVIDERS
            {
                process.providers += 1;
                process.port.notify(ticket);
            }
            (delay * 2).min(LAST_CHECK)
        };
        process.arm_delivery_check(ticket, timers, next);
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // A panic elsewhere must not take every computer down with it.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Process {
    /// Publishes the queue length for the lock-free check of the program.
    fn publish(&self) {
        self.mailbox
            .queued
            .store(self.queue.waiting(), Ordering::SeqCst);
    }

    /// After a push: publish, and notify if the program waits unwarned.
    /// Returns whether it notified.
    fn wake(&mut self, ticket: Ticket) -> bool {
        let notify = self.wake_later();
        if notify {
            self.port.notify(ticket);
        }
        notify
    }

    /// Checks after `delay` that a provider ran (see [`Kernel::check_delivery`]).
    fn arm_delivery_check(
        &mut self,
        ticket: Ticket,
        timers: Option<&TimerService<TimerKey>>,
        delay: Duration,
    ) {
        if let Some(timers) = timers {
            self.delivery_check = Some((self.provider_runs, delay));
            timers.arm((ticket, DELIVERY_CHECK), Instant::now() + delay);
        }
    }

    /// After a push: publish; true if the program waits unwarned, and the
    /// caller must notify it (the provider is already counted).
    fn wake_later(&mut self) -> bool {
        self.publish();
        let armed = self.mailbox.armed.swap(false, Ordering::SeqCst);
        if armed {
            self.providers += 1;
        }
        armed
    }

    /// Before a wait in the emulator: waiting items need a provider queued
    /// (one is enough: the program takes the next ones itself once it has
    /// received its event, and providers chain through signals, see
    /// [`Process::chain`]); no items: arm.
    /// Returns whether it notified.
    fn prepare_wait(&mut self, ticket: Ticket) -> bool {
        if self.queue.waiting() == 0 {
            self.mailbox.armed.store(true, Ordering::SeqCst);
            return false;
        }
        self.mailbox.armed.store(false, Ordering::SeqCst);
        self.chain(ticket)
    }

    /// Keeps one provider queued while items wait. A provider that takes an
    /// item while a signal, terminate or gate waits behind it queues the next
    /// provider itself: the emulator drains providers in a batch, so every
    /// handler queued runs before the program receives the first event of
    /// the batch, as with one provider per item. (Without those, the program
    /// takes the rest directly once it has received the event.)
    /// Returns whether it notified.
    fn chain(&mut self, ticket: Ticket) -> bool {
        let notify = self.providers == 0 && self.queue.waiting() != 0;
        if notify {
            self.providers = 1;
            self.port.notify(ticket);
        }
        notify
    }

    /// The next free ID: timers count up from 1 below 2^31, alarms the same
    /// with bit 31 set; IDs still pending are skipped.
    fn allocate_timer_id(&mut self, alarm: bool) -> TimerId {
        let counter = if alarm {
            &mut self.next_alarm
        } else {
            &mut self.next_timer
        };
        loop {
            let n = *counter;
            *counter = if n >= ALARM_BIT - 1 { 1 } else { n + 1 };
            let id = if alarm { n | ALARM_BIT } else { n };
            if !self.timers.contains(&id) {
                return id;
            }
        }
    }
}

pub mod registry;
#[cfg(test)]
mod tests;
pub mod view;
