//! The kernel against a simple model: random sequences of spawn, exit, kill,
//! send, push, pop, peek, acknowledge, timers (start, cancel, expire), stop
//! and power-off on a few processes with small limits, through a fake
//! computer port. Every result, every popped item (FIFO per process) and
//! every refusal (limits) must be what the model says; stale tickets get
//! nothing; a cancelled timer's event never comes out. (Wake-ups are the
//! kernel's own business: it notifies a computer only when it waits.)

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::Choices;
use phoenix_events_core::kernel::{ComputerPort, Kernel, Kill, KillError};
use phoenix_events_core::limits::Limits;
use phoenix_events_core::queue::{Item, TimerId, ALARM_BIT};
use phoenix_events_core::signals::{is_stop, CHECK_ONLY, SIGCONT, SIGKILL};
use phoenix_events_core::users::{may_signal, UserTable};
use phoenix_events_core::value::{Payload, PayloadBuilder};
use phoenix_events_core::{Pid, Ticket};

const PIDS: usize = 5;
const SIGNALS: [i32; 9] = [CHECK_ONLY, SIGKILL, 10, 15, SIGCONT, 19, 21, 2, i32::MAX];
const USERS: &str = r#"{"users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#;
/// Timers in the model never fire on their own: they are expired on purpose.
const FOREVER: Duration = Duration::from_secs(86_400);

#[derive(Default)]
struct FakeComputer {
    running: AtomicBool,
}

struct Port(Arc<FakeComputer>);

impl ComputerPort for Port {
    fn is_running(&self) -> bool {
        self.0.running.load(Ordering::SeqCst)
    }
    fn notify(&self, _: Ticket) {}
    fn power_off(&self) {
        self.0.running.store(false, Ordering::SeqCst);
    }
}

struct ModelProcess {
    ticket: Ticket,
    computer: Arc<FakeComputer>,
    queue: VecDeque<Item>,
    in_flight: usize,
    timers: HashSet<TimerId>,
}

impl ModelProcess {
    fn running(&self) -> bool {
        self.computer.running.load(Ordering::SeqCst)
    }

    /// Whether the queue takes `item` under `limits` (and takes it).
    fn push(&mut self, item: Item, limits: &Limits) -> bool {
        let data: Vec<&Item> = self.queue.iter().filter(|i| i.is_data()).collect();
        let bytes: usize = data.iter().map(|i| bytes_of(i)).sum();
        let refused = self.queue.len() >= limits.queued_items()
            || (item.is_data()
                && (data.len() + self.in_flight >= limits.queue
                    || bytes + bytes_of(&item) > limits.queued_bytes()));
        if !refused {
            self.queue.push_back(item);
        }
        !refused
    }
}

fn bytes_of(item: &Item) -> usize {
    match item {
        Item::Remote { name, data, .. } => name.len() + data.bytes(),
        Item::Local { name, .. } => name.len(),
        _ => 0,
    }
}

struct Model {
    kernel: Arc<Kernel>,
    limits: Limits,
    users: UserTable,
    processes: HashMap<Pid, ModelProcess>,
    tickets: Vec<Ticket>,
    next_handle: u64,
}

/// Runs the operations `input` describes on a kernel and on the model.
pub fn check_kernel_against_model(input: &[u8]) -> Result<(), String> {
    let mut c = Choices::new(input);
    let limits = Limits {
        queue: 1 + c.below(6),
        payload: 64 + c.below(100),
        timers: 1 + c.below(6),
        ..Limits::default()
    };
    let users = UserTable::parse(USERS).map_err(|e| e.to_string())?;
    let mut model = Model {
        kernel: Kernel::start_with_limits(users.clone(), limits),
        limits,
        users,
        processes: HashMap::new(),
        tickets: Vec::new(),
        next_handle: 0,
    };
    let mut step = 0;
    let outcome = loop {
        if c.is_empty() {
            break Ok(());
        }
        step += 1;
        if let Err(mismatch) = model.step(&mut c) {
            break Err(format!("step {step}: {mismatch}"));
        }
    };
    model.kernel.shutdown();
    outcome?;
    let anyone = Ticket {
        pid: 0,
        incarnation: 1,
    };
    if model.kernel.pop(anyone).is_some() || model.kernel.send(0, 0, b"x"[..].into(), text(b"")) {
        return Err("the kernel still works after shutdown".to_owned());
    }
    Ok(())
}

fn name(c: &mut Choices) -> Box<[u8]> {
    let len = c.below(8);
    c.take(len).into()
}

fn text(bytes: &[u8]) -> Payload {
    let mut builder = PayloadBuilder::new();
    let root = builder.string(bytes).expect("small payload");
    builder.finish(root).expect("small payload")
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, got: T, wanted: T) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!(
            "{what}: kernel gave {got:?}, model expects {wanted:?}"
        ))
    }
}

impl Model {
    fn step(&mut self, c: &mut Choices) -> Result<(), String> {
        if self.tickets.is_empty() {
            self.spawn(0);
            return Ok(());
        }
        let ticket = self.any_ticket(c);
        match c.byte() % 14 {
            0 => self.spawn(c.below(PIDS) as Pid),
            1 => self.exit(ticket),
            2 => return self.kill(ticket, c),
            3 => return self.send(ticket.pid, c),
            4 | 5 => return self.push(ticket, c),
            6 | 7 => return self.pop(ticket),
            8 => return self.acknowledge(ticket, c.below(3)),
            9 => return self.start_timer(ticket, c.byte().is_multiple_of(2)),
            10 => self.cancel(ticket, c),
            11 => self.expire(ticket, c),
            12 => self.stop_or_power_off(ticket, c),
            _ => return self.peek(ticket),
        }
        Ok(())
    }

    /// A ticket ever issued (often stale), or one never issued.
    fn any_ticket(&self, c: &mut Choices) -> Ticket {
        match c.below(self.tickets.len() + 1) {
            i if i < self.tickets.len() => self.tickets[i],
            _ => Ticket {
                pid: c.below(PIDS) as Pid,
                incarnation: u32::MAX,
            },
        }
    }

    fn current(&mut self, ticket: Ticket) -> Option<&mut ModelProcess> {
        self.processes
            .get_mut(&ticket.pid)
            .filter(|p| p.ticket == ticket)
    }

    fn spawn(&mut self, pid: Pid) {
        let computer = Arc::new(FakeComputer::default());
        computer.running.store(true, Ordering::SeqCst);
        let ticket = self.kernel.spawn(pid, Box::new(Port(computer.clone())));
        self.tickets.push(ticket);
        self.processes.insert(
            pid,
            ModelProcess {
                ticket,
                computer,
                queue: VecDeque::new(),
                in_flight: 0,
                timers: HashSet::new(),
            },
        );
    }

    fn exit(&mut self, ticket: Ticket) {
        self.kernel.exit(ticket);
        if self.current(ticket).is_some() {
            self.processes.remove(&ticket.pid);
        }
    }

    fn kill(&mut self, sender: Ticket, c: &mut Choices) -> Result<(), String> {
        let target = c.below(PIDS) as Pid;
        let signal = SIGNALS[c.below(SIGNALS.len())];
        // The model's view before the call: SIGKILL switches the shared
        // fake computer off.
        let was_running = self.processes.get(&target).is_some_and(|p| p.running());
        let got = self.kernel.kill(sender, target, signal);
        let sender_user = self.users.user_of(sender.pid).to_owned();
        let target_user = self.users.user_of(target).to_owned();
        let limits = self.limits;
        let wanted = match self.processes.get_mut(&target).filter(|_| was_running) {
            None => Err(KillError::NoSuchProcess),
            Some(_) if !may_signal(&sender_user, &target_user) => Err(KillError::PermissionDenied),
            Some(_) if signal == CHECK_ONLY => Ok(Kill::Checked),
            Some(_) if signal == SIGKILL => Ok(Kill::Killed),
            Some(process) => {
                if signal == SIGCONT {
                    process
                        .queue
                        .retain(|i| !matches!(i, Item::Signal(s) if is_stop(*s)));
                }
                if target == sender.pid {
                    Ok(Kill::ToSelf)
                } else {
                    process.push(Item::Signal(signal), &limits);
                    Ok(Kill::Queued)
                }
            }
        };
        let running = self.processes.get(&target).is_some_and(|p| p.running());
        if signal == SIGKILL && got == Ok(Kill::Killed) && running {
            return Err("SIGKILL left its target running".to_owned());
        }
        expect(
            &format!("kill({target}, {signal}) from {sender:?}"),
            got,
            wanted,
        )
    }

    fn send(&mut self, sender: Pid, c: &mut Choices) -> Result<(), String> {
        let target = c.below(PIDS) as Pid;
        let name = name(c);
        let len = c.below(120);
        let data = text(&vec![b'd'; len]);
        let item = Item::Remote {
            sender: sender.into(),
            name: name.clone(),
            data: data.clone(),
        };
        let got = self.kernel.send(sender, target, name, data);
        let limits = self.limits;
        let wanted = self
            .processes
            .get_mut(&target)
            .filter(|p| p.running())
            .is_some_and(|p| p.push(item, &limits));
        expect(
            &format!("send({sender} -> {target}, {len} bytes)"),
            got,
            wanted,
        )
    }

    fn push(&mut self, ticket: Ticket, c: &mut Choices) -> Result<(), String> {
        self.next_handle += 1;
        let item = match c.byte() % 4 {
            0 => Item::Signal(SIGNALS[c.below(SIGNALS.len())]),
            1 => Item::Terminate,
            _ => Item::Local {
                name: name(c),
                handle: self.next_handle,
            },
        };
        let got = self.kernel.push(ticket, item.clone()).is_ok();
        let limits = self.limits;
        let wanted = self
            .current(ticket)
            .is_some_and(|p| p.push(item.clone(), &limits));
        expect(&format!("push({item:?}) for {ticket:?}"), got, wanted)
    }

    fn pop(&mut self, ticket: Ticket) -> Result<(), String> {
        let got = self.kernel.pop(ticket);
        let wanted = self.current(ticket).and_then(|p| {
            let item = p.queue.pop_front()?;
            if item.is_data() {
                p.in_flight += 1;
            }
            Some(item)
        });
        expect(&format!("pop for {ticket:?}"), got, wanted)
    }

    fn peek(&mut self, ticket: Ticket) -> Result<(), String> {
        let got = self.kernel.peek(ticket, Item::is_data);
        let wanted = self
            .current(ticket)
            .and_then(|p| p.queue.iter().find(|i| i.is_data()).cloned());
        expect(&format!("peek for {ticket:?}"), got, wanted)
    }

    fn acknowledge(&mut self, ticket: Ticket, count: usize) -> Result<(), String> {
        let got = self.kernel.acknowledge(ticket, count);
        let wanted = self.current(ticket).is_some_and(|p| {
            p.in_flight = p.in_flight.saturating_sub(count);
            p.running()
        });
        expect(&format!("acknowledge({count}) for {ticket:?}"), got, wanted)
    }

    fn start_timer(&mut self, ticket: Ticket, alarm: bool) -> Result<(), String> {
        let got = self.kernel.start_timer(ticket, FOREVER, alarm);
        let limit = self.limits.timers;
        let Some(process) = self.current(ticket) else {
            return match got {
                Ok(id) => Err(format!("stale {ticket:?} got timer {id}")),
                Err(_) => Ok(()),
            };
        };
        match got {
            Err(_) if process.timers.len() >= limit => Ok(()),
            Err(_) => Err(format!(
                "timer refused with {} pending",
                process.timers.len()
            )),
            Ok(_) if process.timers.len() >= limit => {
                Err(format!("a timer beyond the limit of {limit}"))
            }
            Ok(id) if (id & ALARM_BIT != 0) != alarm || id & !ALARM_BIT == 0 => {
                Err(format!("timer id {id:#x} for alarm={alarm}"))
            }
            Ok(id) if !process.timers.insert(id) => Err(format!("timer id {id} is still pending")),
            Ok(_) => Ok(()),
        }
    }

    /// An id pending for the process of `ticket`'s pid, or any id.
    fn some_timer(&self, ticket: Ticket, c: &mut Choices) -> TimerId {
        let pending: Vec<TimerId> = self
            .processes
            .get(&ticket.pid)
            .map(|p| p.timers.iter().copied().collect())
            .unwrap_or_default();
        match c.below(pending.len() + 1) {
            i if i < pending.len() => {
                let mut sorted = pending;
                sorted.sort_unstable();
                sorted[i]
            }
            _ => c.below(4) as TimerId,
        }
    }

    fn cancel(&mut self, ticket: Ticket, c: &mut Choices) {
        let id = self.some_timer(ticket, c);
        self.kernel.cancel(ticket, id);
        if let Some(p) = self.current(ticket) {
            p.timers.remove(&id);
            p.queue.retain(|i| *i != Item::Timer(id));
        }
    }

    fn expire(&mut self, ticket: Ticket, c: &mut Choices) {
        let id = self.some_timer(ticket, c);
        self.kernel.expire_timer_now(ticket, id);
        if let Some(p) = self.current(ticket) {
            if p.timers.remove(&id) {
                p.queue.push_back(Item::Timer(id)); // never refused
            }
        }
    }

    fn stop_or_power_off(&mut self, ticket: Ticket, c: &mut Choices) {
        match c.byte() % 3 {
            0 => {
                self.kernel.stop(ticket);
                if let Some(p) = self.current(ticket) {
                    p.queue.push_front(Item::Gate); // never refused
                }
            }
            1 => {
                self.kernel.power_off(ticket);
                if let Some(p) = self.current(ticket) {
                    p.computer.running.store(false, Ordering::SeqCst);
                }
            }
            // The emulator switches the computer off without telling anyone.
            _ => {
                if let Some(p) = self.current(ticket) {
                    p.computer.running.store(false, Ordering::SeqCst);
                }
            }
        }
    }
}
