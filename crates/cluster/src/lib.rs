//! Cluster mode: the computers of several emulators talk through a NATS
//! broker. This crate is the adapter between the core's [`Cluster`]
//! interface and the official NATS client (`async-nats`); the core knows
//! nothing of it.
//!
//! Threads and ownership:
//! - [`ClusterHandle::start`] starts one thread, `phoenix-cluster`, running a
//!   single-threaded Tokio runtime with the NATS client and every task of
//!   this node (`node.rs`). [`ClusterHandle::stop`] says goodbye to the
//!   other nodes, ends the runtime and joins the thread.
//! - Computer threads never wait for the network, with one bounded
//!   exception (`register`, see [`Cluster::claim`]). They read the shared
//!   [`State`] under a short lock (which nodes and processes exist, who owns
//!   which name) and hand whatever must be published to the runtime through
//!   an unbounded channel, bounded in bytes by [`MAX_PENDING_BYTES`].
//! - [`State`] is written only by the runtime, from what the broker says;
//!   the lock is never held across an `await` or while calling the kernel.
//! - The kernel is reached through a `Weak`: the kernel owns this adapter
//!   (as its `Arc<dyn Cluster>`), not the other way round.

mod config;
mod node;
mod wire;

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use phoenix_events_core::cluster::{Cluster, Node};
use phoenix_events_core::kernel::registry::Refused;
use phoenix_events_core::kernel::{Kernel, KillError};
use phoenix_events_core::users::may_signal;
use phoenix_events_core::value::Payload;
use phoenix_events_core::{Pid, Ticket};
use tokio::sync::{mpsc, oneshot};

pub use config::{Settings, Trust};
use wire::{NodeMessage, Owner, Proc};

/// Bytes of events and signals handed to the runtime and not yet given to
/// the client: beyond, `sendEvent` to other nodes returns `false`.
pub const MAX_PENDING_BYTES: usize = 16 << 20;

/// Events this node may have on their way to one computer of another node,
/// not yet acknowledged by that node, are a quarter of that node's queue
/// limit (`limits.queue`, 1024 by default: 256 events): beyond, `sendEvent`
/// returns `false` until acknowledgements come back. With the receiver's
/// "nearly full" notice at three quarters of its queue, one sending node
/// never overruns a queue.
pub const WINDOW_SHARE: u64 = 4;

/// Writes one line to the emulator's stderr; never panics.
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "phoenix-events: cluster: {line}");
}

/// What computer threads hand to the runtime.
enum Op {
    /// Publish `bytes` on `subject`; `cost` is counted in `pending`.
    Publish {
        subject: String,
        bytes: Vec<u8>,
        cost: usize,
    },
    Up(Ticket, String),
    Down(Ticket, Vec<Box<[u8]>>),
    Release(Ticket, Vec<Box<[u8]>>),
    Claim(Arc<ClaimSlot>),
    /// Another node asked for everyone's directory.
    Announce,
    /// A computer of ours refused another node's events: start checking
    /// for room (the main loop checks only while someone waits).
    WatchRoom,
}

/// One `register` waiting for the broker: the computer thread waits on the
/// condition variable until the runtime answers or the time is up; an
/// abandoned claim that wins is given back by the runtime.
struct ClaimSlot {
    owner: Ticket,
    name: Box<[u8]>,
    answer: Mutex<ClaimState>,
    done: Condvar,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ClaimState {
    Waiting,
    Answered(bool),
    Abandoned,
}

impl ClaimSlot {
    /// Gives the answer; false when nobody waits for it any more.
    fn answer(&self, won: bool) -> bool {
        let mut state = self.answer.lock().unwrap_or_else(|e| e.into_inner());
        if *state == ClaimState::Abandoned {
            return false;
        }
        *state = ClaimState::Answered(won);
        self.done.notify_all();
        true
    }
}

/// Events on their way to one computer of another node.
#[derive(Default)]
struct Flow {
    sent: u64,
    acked: u64,
}

/// Another node, as this one last heard of it.
struct Peer {
    /// Events this node may have on their way to one of its computers.
    window: u64,
    epoch: u64,
    seq: u64,
    last_seen: Instant,
    procs: HashMap<Pid, Proc>,
}

/// What the runtime learnt from the broker, read by computer threads.
#[derive(Default)]
struct State {
    peers: HashMap<Node, Peer>,
    /// The registry bucket as last watched: key → owner and revision.
    names: HashMap<String, (Owner, u64)>,
    /// This node's own claims: key → owner and the revision it created.
    claims: HashMap<String, (Ticket, u64)>,
    /// Other nodes' computers that refused our events (queue full).
    full: HashSet<(Node, Ticket)>,
    /// Events sent to other nodes' computers, and how many were acknowledged.
    flows: HashMap<(Node, Ticket), Flow>,
    /// Our computers that refused other nodes' events, and who to tell
    /// when they have room again.
    owed: HashMap<Ticket, HashSet<Node>>,
    /// Since when the current connection is up.
    connected_since: Option<Instant>,
}

struct Shared {
    settings: Settings,
    /// This run of this node (random): entries of an older run are stale.
    epoch: u64,
    kernel: Weak<Kernel>,
    connected: AtomicBool,
    /// A reconciliation of this node's names with the bucket is under way.
    reconciling: AtomicBool,
    pending: AtomicUsize,
    state: Mutex<State>,
    /// The registry bucket of the current connection, once open (used by
    /// the runtime only).
    store: Mutex<Option<async_nats::jetstream::kv::Store>>,
    ops: mpsc::UnboundedSender<Op>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn node(&self) -> Node {
        self.settings.node
    }

    fn store(&self) -> Option<async_nats::jetstream::kv::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_store(&self, store: Option<async_nats::jetstream::kv::Store>) {
        *self.store.lock().unwrap_or_else(|e| e.into_inner()) = store;
    }

    fn prefix(&self) -> &str {
        &self.settings.name
    }

    /// The current incarnation and user of `node`'s computer `pid`.
    fn remote_process(&self, node: Node, pid: Pid) -> Option<(Ticket, String)> {
        let state = self.state();
        let proc = state.peers.get(&node)?.procs.get(&pid)?;
        Some((
            Ticket {
                pid,
                incarnation: proc.incarnation,
            },
            proc.user.clone(),
        ))
    }

    /// Whether `owner` is a live process of a live node, as far as this
    /// node knows.
    fn is_live(&self, state: &State, owner: &Owner) -> bool {
        if owner.node == self.node() {
            return owner.epoch == self.epoch
                && self
                    .kernel
                    .upgrade()
                    .is_some_and(|k| k.is_running(owner.ticket));
        }
        state.peers.get(&owner.node).is_some_and(|peer| {
            peer.epoch == owner.epoch
                && peer
                    .procs
                    .get(&owner.ticket.pid)
                    .is_some_and(|p| p.incarnation == owner.ticket.incarnation)
        })
    }

    /// Whether `owner`'s entry may be deleted: its run or process is over.
    /// Another node's owner counts as gone only once this node has been
    /// connected long enough to have heard that node's heartbeat.
    fn is_stale(&self, state: &State, owner: &Owner) -> bool {
        if owner.node == self.node() {
            return !self.is_live(state, owner);
        }
        let settled = state
            .connected_since
            .is_some_and(|since| since.elapsed() >= self.settings.node_timeout);
        settled && !self.is_live(state, owner)
    }

    fn send_op(&self, op: Op) -> bool {
        self.ops.send(op).is_ok()
    }
}

/// The core's view of the cluster.
struct NatsCluster(Arc<Shared>);

impl Cluster for NatsCluster {
    fn node(&self) -> Node {
        self.0.node()
    }

    fn process_started(&self, ticket: Ticket, user: &str) {
        self.0.send_op(Op::Up(ticket, user.to_owned()));
    }

    fn process_ended(&self, ticket: Ticket, names: Vec<Box<[u8]>>) {
        self.0.send_op(Op::Down(ticket, names));
    }

    fn send(&self, sender: Pid, node: Node, target: Pid, name: Box<[u8]>, data: Payload) -> bool {
        let shared = &self.0;
        if !shared.connected.load(Ordering::Acquire) {
            return false;
        }
        let (target, seq) = {
            let mut state = shared.state();
            let Some(peer) = state.peers.get(&node) else {
                return false;
            };
            let window = peer.window;
            let Some(proc) = peer.procs.get(&target) else {
                return false;
            };
            let ticket = Ticket {
                pid: target,
                incarnation: proc.incarnation,
            };
            if state.full.contains(&(node, ticket)) {
                return false;
            }
            let flow = state.flows.entry((node, ticket)).or_default();
            if flow.sent - flow.acked >= window {
                return false;
            }
            flow.sent += 1;
            (ticket, flow.sent)
        };
        let mut payload = Vec::new();
        data.encode_into(&mut payload);
        drop(data);
        let bytes = NodeMessage::Event {
            sender,
            target,
            seq,
            name: &name,
            payload: &payload,
        }
        .encode();
        let cost = bytes.len();
        if shared.pending.fetch_add(cost, Ordering::AcqRel) + cost > MAX_PENDING_BYTES {
            shared.pending.fetch_sub(cost, Ordering::AcqRel);
            return false;
        }
        let subject = wire::node_subject(shared.prefix(), node, shared.node());
        if shared.send_op(Op::Publish {
            subject,
            bytes,
            cost,
        }) {
            true
        } else {
            shared.pending.fetch_sub(cost, Ordering::AcqRel);
            false
        }
    }

    fn kill(
        &self,
        sender: Pid,
        sender_user: &str,
        node: Node,
        target: Pid,
        signal: i32,
    ) -> Result<(), KillError> {
        let shared = &self.0;
        if !shared.connected.load(Ordering::Acquire) {
            return Err(KillError::NoSuchProcess);
        }
        let (ticket, user) = shared
            .remote_process(node, target)
            .ok_or(KillError::NoSuchProcess)?;
        if !may_signal(sender_user, &user) {
            return Err(KillError::PermissionDenied);
        }
        if signal == phoenix_events_core::signals::CHECK_ONLY {
            return Ok(());
        }
        let bytes = NodeMessage::Signal {
            sender,
            user: sender_user,
            target: ticket,
            signal,
        }
        .encode();
        let cost = bytes.len();
        shared.pending.fetch_add(cost, Ordering::AcqRel);
        let subject = wire::node_subject(shared.prefix(), node, shared.node());
        if !shared.send_op(Op::Publish {
            subject,
            bytes,
            cost,
        }) {
            shared.pending.fetch_sub(cost, Ordering::AcqRel);
            return Err(KillError::NoSuchProcess);
        }
        Ok(())
    }

    fn claim(&self, owner: Ticket, name: &[u8]) -> Result<(), Refused> {
        let shared = &self.0;
        if !shared.connected.load(Ordering::Acquire) || shared.store().is_none() {
            // Cut off from the broker: the name is held here, and claimed
            // cluster-wide once the connection is back (see node::reconcile).
            return Ok(());
        }
        let slot = Arc::new(ClaimSlot {
            owner,
            name: name.into(),
            answer: Mutex::new(ClaimState::Waiting),
            done: Condvar::new(),
        });
        if !shared.send_op(Op::Claim(slot.clone())) {
            return Err(Refused::Taken);
        }
        let deadline = Instant::now() + shared.settings.register_timeout;
        let mut state = slot.answer.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *state {
                ClaimState::Answered(true) => return Ok(()),
                ClaimState::Answered(false) | ClaimState::Abandoned => return Err(Refused::Taken),
                ClaimState::Waiting => {}
            }
            let now = Instant::now();
            if now >= deadline {
                *state = ClaimState::Abandoned;
                return Err(Refused::Taken);
            }
            state = slot
                .done
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn release(&self, owner: Ticket, names: Vec<Box<[u8]>>) {
        self.0.send_op(Op::Release(owner, names));
    }

    fn lookup(&self, name: &[u8]) -> Option<(Node, Pid)> {
        let shared = &self.0;
        if !shared.connected.load(Ordering::Acquire) {
            return None;
        }
        let key = wire::name_key(name);
        let state = shared.state();
        let (owner, _) = state.names.get(&key)?;
        (owner.node != shared.node() && shared.is_live(&state, owner))
            .then_some((owner.node, owner.ticket.pid))
    }
}

/// A running cluster adapter, owned by the plugin from `plugin_init` to
/// `plugin_deinit`.
pub struct ClusterHandle {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ClusterHandle {
    /// Attaches a cluster adapter to `kernel` (before any computer boots)
    /// and starts its thread, which connects in the background: a broker
    /// that cannot be reached is reported on stderr and retried, and local
    /// calls work meanwhile.
    pub fn start(kernel: &Arc<Kernel>, settings: Settings) -> Result<ClusterHandle, String> {
        let (ops, ops_rx) = mpsc::unbounded_channel();
        let (stop, stop_rx) = oneshot::channel();
        let shared = Arc::new(Shared {
            epoch: random_epoch(),
            settings,
            kernel: Arc::downgrade(kernel),
            connected: AtomicBool::new(false),
            reconciling: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
            state: Mutex::new(State::default()),
            store: Mutex::new(None),
            ops,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("phoenix-cluster-blocking")
            .build()
            .map_err(|e| format!("cannot start the cluster's runtime: {e}"))?;
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("phoenix-cluster".into())
            .spawn(move || {
                runtime.block_on(node::run(task_shared, ops_rx, stop_rx));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| format!("cannot start the cluster's thread: {e}"))?;
        kernel.attach_cluster(Arc::new(NatsCluster(shared.clone())));
        Ok(ClusterHandle {
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// This node's number.
    pub fn node(&self) -> Node {
        self.shared.node()
    }

    /// Leaves the cluster (sending what computers handed over, then telling
    /// the other nodes: within about 2 s at most) and joins the thread.
    /// Remote calls fail from now on.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.connected.store(false, Ordering::Release);
    }
}

impl Drop for ClusterHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// A random number for this run of this node (std's hasher keys are
/// random per process; the time makes two runs differ in any case).
fn random_epoch() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}
