//! The node's tasks on the `phoenix-cluster` runtime: the connection, the
//! directory (heartbeats, changes, leave detection), incoming events and
//! signals, and the registry bucket.
//!
//! Invariants:
//! - Everything this node publishes about itself (directory messages) and
//!   every event and signal go out from the main loop, one after another,
//!   so they reach each other node in the order they were made;
//! - while disconnected, [`State`] holds no other node and no name: remote
//!   pids are `No such process` and remote names unknown, at once;
//! - a registry entry is only ever deleted at the revision it was read at,
//!   so a newer claim is never removed by mistake.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::{self, Operation, Store};
use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};
use async_nats::{Client, ConnectOptions, Event};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use phoenix_events_core::cluster::{global_pid, Node};
use phoenix_events_core::kernel::Undelivered;
use phoenix_events_core::value::Payload;
use phoenix_events_core::Ticket;

use super::wire::{self, Directory, NodeMessage, Owner, Proc};
use super::{report, ClaimSlot, Op, Peer, Shared};

/// How often a full queue is checked for room again while another node
/// waits to hear of it (and only then: no timer runs otherwise).
const ROOM_CHECK: Duration = Duration::from_millis(50);
/// A receiving node acknowledges every this many events of one sending
/// node for one computer (well below the window, a quarter of the queue).
const ACK_EVERY: u64 = 32;
/// How long leaving may take (farewell, giving names back, flushing).
const LEAVE_TIME: Duration = Duration::from_secs(1);

/// The node's main loop, until `stop` fires.
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut ops: mpsc::UnboundedReceiver<Op>,
    mut stop: oneshot::Receiver<()>,
) {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let options = match options(&shared, events_tx).await {
        Ok(options) => options,
        Err(reason) => return report(&format!("{reason}; this emulator runs alone")),
    };
    let urls = shared.settings.urls.join(",");
    // Several URLs: the servers of one NATS cluster, tried in turn.
    let client = match options.connect(shared.settings.urls.as_slice()).await {
        Ok(client) => client,
        Err(e) => {
            return report(&format!(
                "cannot use the broker at {urls}: {e}; this emulator runs alone"
            ))
        }
    };
    let mut main = Main {
        shared: shared.clone(),
        client: client.clone(),
        seq: 0,
        sync: None,
        reported_failure: false,
        ever_connected: false,
    };
    let inbound = spawn_inbound(&shared, &client).await;
    let mut heartbeat = tokio::time::interval(shared.settings.heartbeat);
    let mut room = tokio::time::interval(ROOM_CHECK);
    room.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(op) = ops.recv() => main.op(op).await,
            Some(event) = events.recv() => main.event(event).await,
            _ = heartbeat.tick() => main.heartbeat().await,
            _ = room.tick(), if main.owes() => main.check_room().await,
        }
    }
    // What computers handed over before the end (an event sent just before
    // the emulator quits) still goes out, within the leaving time.
    let drain = async {
        while let Ok(op) = ops.try_recv() {
            match op {
                Op::Claim(slot) => {
                    slot.answer(false);
                }
                op => main.op(op).await,
            }
        }
    };
    let _ = tokio::time::timeout(LEAVE_TIME, drain).await;
    main.leave().await;
    for task in inbound {
        task.abort();
    }
}

/// The connection options from the settings (credentials files are read
/// here, off the computers' threads).
async fn options(
    shared: &Shared,
    events: mpsc::UnboundedSender<Event>,
) -> Result<ConnectOptions, String> {
    let settings = &shared.settings;
    let mut options = ConnectOptions::new();
    if let Some(path) = &settings.auth.credentials {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| format!("cannot read the credentials file {}: {e}", path.display()))?;
    }
    if let Some((user, password)) = &settings.auth.user {
        options = options.user_and_password(user.clone(), password.clone());
    }
    if let Some(token) = &settings.auth.token {
        options = options.token(token.clone());
    }
    if let Some(seed) = &settings.auth.nkey {
        options = options.nkey(seed.clone());
    }
    if let Some(ca) = &settings.tls.ca {
        options = options.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &settings.tls.cert {
        options = options.add_client_certificate(cert.clone(), key.clone());
    }
    if settings.tls.required {
        options = options.require_tls(true);
    }
    if settings.tls.first {
        options = options.tls_first();
    }
    // Reconnect quickly and for ever: every 100 ms at first, then at most
    // every second.
    let delay = |attempts: usize| Duration::from_millis((100 * attempts as u64).min(1000));
    Ok(options
        .name(format!("phoenix-events node {}", settings.node))
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(delay)
        .connection_timeout(Duration::from_secs(2))
        .ping_interval(Duration::from_secs(2))
        .event_callback(move |event| {
            let events = events.clone();
            async move {
                let _ = events.send(event);
            }
        }))
}

/// The subscriptions, each served by its own task.
async fn spawn_inbound(shared: &Arc<Shared>, client: &Client) -> Vec<JoinHandle<()>> {
    let prefix = shared.prefix().to_owned();
    let me = shared.node();
    let mut tasks = Vec::new();
    if let Ok(mut inbox) = client.subscribe(wire::inbox_subject(&prefix, me)).await {
        let (shared, client) = (shared.clone(), client.clone());
        tasks.push(tokio::spawn(async move {
            while let Some(message) = inbox.next().await {
                if let Some(from) = wire::last_node(&message.subject) {
                    incoming(&shared, &client, from, &message.payload).await;
                }
            }
        }));
    }
    if let Ok(mut dirs) = client.subscribe(format!("{prefix}.dir.*")).await {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            let mut warned = false;
            while let Some(message) = dirs.next().await {
                let Some(node) = wire::last_node(&message.subject) else {
                    continue;
                };
                let Some(directory) = Directory::decode(&message.payload) else {
                    continue;
                };
                if node == shared.node() {
                    if directory.epoch != shared.epoch && !warned {
                        warned = true;
                        report(&format!(
                            "another emulator also calls itself node {node}: give each emulator its own cluster.node"
                        ));
                    }
                    continue;
                }
                apply_directory(&shared, node, directory);
            }
        }));
    }
    if let Ok(mut hellos) = client.subscribe(format!("{prefix}.hello.*")).await {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(message) = hellos.next().await {
                if wire::last_node(&message.subject) != Some(shared.node()) {
                    shared.send_op(Op::Announce);
                }
            }
        }));
    }
    tasks
}

/// A message from node `from` for this node.
async fn incoming(shared: &Arc<Shared>, client: &Client, from: Node, bytes: &[u8]) {
    let Some(message) = NodeMessage::decode(bytes) else {
        return;
    };
    let Some(kernel) = shared.kernel.upgrade() else {
        return;
    };
    match message {
        NodeMessage::Event {
            sender,
            target,
            seq,
            name,
            payload,
        } => {
            if seq % ACK_EVERY == 0 {
                let ack = NodeMessage::Ack { target, seq }.encode();
                let subject = wire::node_subject(shared.prefix(), from, shared.node());
                let _ = client.publish(subject, ack.into()).await;
            }
            let Ok(payload) = Payload::decode(payload, kernel.limits().payload) else {
                return; // damaged, or over this node's limit: not queued
            };
            let sender = global_pid(from, sender);
            let queued = kernel.remote_send(sender, target, name.into(), payload);
            // Nearly full: the sending node is asked to hold back until told
            // there is room again (once); full: asked again with every
            // refusal, in case it forgot (a reconnection).
            let first = || shared.state().owed.entry(target).or_default().insert(from);
            let ask = match queued {
                Ok(true) => first(),
                Err(Undelivered::Full) => {
                    first();
                    true
                }
                Ok(false) | Err(Undelivered::Gone) => false,
            };
            if ask {
                shared.send_op(Op::WatchRoom);
                let notice = NodeMessage::Full { target }.encode();
                let subject = wire::node_subject(shared.prefix(), from, shared.node());
                let _ = client.publish(subject, notice.into()).await;
            }
        }
        NodeMessage::Signal {
            sender,
            user,
            target,
            signal,
        } => {
            if let Some(trust) = &shared.settings.trust {
                if !trust.accepts(from, user) {
                    return report(&format!(
                        "refused signal {signal} from computer {sender} of node {from} for computer {}: node {from} may not act as user {user:?} (cluster.trust)",
                        target.pid
                    ));
                }
            }
            let _ = kernel.remote_kill(user, target, signal);
        }
        NodeMessage::Full { target } => {
            shared.state().full.insert((from, target));
        }
        NodeMessage::Room { target } => {
            shared.state().full.remove(&(from, target));
        }
        NodeMessage::Ack { target, seq } => {
            if let Some(flow) = shared.state().flows.get_mut(&(from, target)) {
                flow.acked = flow.acked.max(seq.min(flow.sent));
            }
        }
    }
}

/// What node `node` says about its processes.
fn apply_directory(shared: &Shared, node: Node, directory: Directory) {
    if !shared.connected.load(Ordering::Acquire) {
        return;
    }
    let mut state = shared.state();
    let state = &mut *state;
    if directory.bye {
        if state.peers.remove(&node).is_some() {
            state.full.retain(|(n, _)| *n != node);
            state.flows.retain(|(n, _), _| *n != node);
        }
        return;
    }
    let now = Instant::now();
    let window = (directory.queue as u64 / super::WINDOW_SHARE).max(1);
    let peer = state.peers.entry(node).or_insert_with(|| Peer {
        window,
        epoch: directory.epoch,
        seq: 0,
        last_seen: now,
        procs: HashMap::new(),
    });
    if peer.epoch != directory.epoch {
        // The node restarted: nothing of its previous run is left.
        *peer = Peer {
            window,
            epoch: directory.epoch,
            seq: 0,
            last_seen: now,
            procs: HashMap::new(),
        };
    } else if directory.seq <= peer.seq {
        return; // an older message than one already applied
    }
    peer.seq = directory.seq;
    peer.last_seen = now;
    peer.window = window;
    if directory.full {
        peer.procs = directory.up.into_iter().collect();
    } else {
        for ticket in directory.down {
            if peer
                .procs
                .get(&ticket.pid)
                .is_some_and(|p| p.incarnation == ticket.incarnation)
            {
                peer.procs.remove(&ticket.pid);
            }
        }
        peer.procs.extend(directory.up);
    }
    let procs = &peer.procs;
    let current = |n: &Node, t: &Ticket| {
        *n != node
            || procs
                .get(&t.pid)
                .is_some_and(|p| p.incarnation == t.incarnation)
    };
    state.full.retain(|(n, t)| current(n, t));
    state.flows.retain(|(n, t), _| current(n, t));
}

/// The main loop's own state.
struct Main {
    shared: Arc<Shared>,
    client: Client,
    /// The last directory message's sequence number.
    seq: u64,
    /// The task that opens the registry bucket and watches it, for the
    /// current connection.
    sync: Option<JoinHandle<()>>,
    reported_failure: bool,
    ever_connected: bool,
}

impl Main {
    async fn op(&mut self, op: Op) {
        let shared = &self.shared;
        match op {
            Op::Publish {
                subject,
                bytes,
                cost,
            } => {
                // Accepted while connected; if the connection broke since,
                // the message is dropped rather than delivered late.
                if shared.connected.load(Ordering::Acquire) {
                    let _ = self.client.publish(subject, bytes.into()).await;
                }
                shared.pending.fetch_sub(cost, Ordering::AcqRel);
            }
            Op::Up(ticket, user) => {
                let up = vec![(
                    ticket.pid,
                    Proc {
                        incarnation: ticket.incarnation,
                        user,
                    },
                )];
                self.publish_directory(false, up, Vec::new()).await;
            }
            Op::Down(ticket, names) => {
                shared.state().owed.remove(&ticket);
                self.publish_directory(false, Vec::new(), vec![ticket])
                    .await;
                self.release(ticket, names);
            }
            Op::Release(ticket, names) => self.release(ticket, names),
            Op::Claim(slot) => {
                let shared = shared.clone();
                let store = self.store();
                tokio::spawn(claim(shared, store, slot));
            }
            Op::Announce => self.publish_full().await,
            Op::WatchRoom => {} // the loop now ticks `room` (see `owes`)
        }
    }

    /// The registry bucket of the current connection, once open.
    fn store(&self) -> Option<Store> {
        self.shared.store()
    }

    /// Gives back `names` claimed by `owner`.
    fn release(&self, owner: Ticket, names: Vec<Box<[u8]>>) {
        let Some(store) = self.store() else {
            let mut state = self.shared.state();
            for name in names {
                let key = wire::name_key(&name);
                if state.claims.get(&key).is_some_and(|(t, _)| *t == owner) {
                    state.claims.remove(&key);
                }
            }
            return;
        };
        let mut deletions = Vec::new();
        {
            let mut state = self.shared.state();
            for name in names {
                let key = wire::name_key(&name);
                if let Some(&(ticket, revision)) = state.claims.get(&key) {
                    if ticket == owner {
                        state.claims.remove(&key);
                        deletions.push((key, revision));
                    }
                }
            }
        }
        if !deletions.is_empty() {
            tokio::spawn(async move {
                for (key, revision) in deletions {
                    let _ = store.delete_expect_revision(&key, Some(revision)).await;
                }
            });
        }
    }

    async fn event(&mut self, event: Event) {
        match event {
            Event::Connected => self.connected().await,
            Event::Disconnected => self.disconnected(),
            Event::ClientError(error)
                if !self.shared.connected.load(Ordering::Acquire) && !self.reported_failure =>
            {
                self.reported_failure = true;
                report(&format!(
                    "node {}: cannot reach the broker at {} ({error}); local calls work, calls to other emulators fail until it is reached; retrying",
                    self.shared.node(),
                    self.shared.settings.urls.join(",")
                ));
            }
            Event::ServerError(error) => report(&format!("the broker says: {error}")),
            _ => {}
        }
    }

    async fn connected(&mut self) {
        let shared = self.shared.clone();
        shared.state().connected_since = Some(Instant::now());
        shared.connected.store(true, Ordering::Release);
        report(&format!(
            "node {} {} the broker at {}",
            shared.node(),
            if self.ever_connected {
                "reconnected to"
            } else {
                "connected to"
            },
            shared.settings.urls.join(",")
        ));
        self.ever_connected = true;
        self.reported_failure = false;
        let hello = wire::hello_subject(shared.prefix(), shared.node());
        let _ = self.client.publish(hello, Vec::new().into()).await;
        self.publish_full().await;
        if let Some(task) = self.sync.take() {
            task.abort();
        }
        self.sync = Some(tokio::spawn(sync_registry(shared, self.client.clone())));
    }

    fn disconnected(&mut self) {
        let shared = &self.shared;
        if !shared.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        report(&format!(
            "node {} lost the broker; calls to other emulators fail until it is back",
            shared.node()
        ));
        if let Some(task) = self.sync.take() {
            task.abort();
        }
        shared.set_store(None);
        let mut state = shared.state();
        state.peers.clear();
        state.names.clear();
        // Claims are claimed again on the next connection (the broker may
        // have lost them): see `reconcile`.
        state.claims.clear();
        state.full.clear();
        state.flows.clear();
        state.connected_since = None;
    }

    async fn heartbeat(&mut self) {
        if !self.shared.connected.load(Ordering::Acquire) {
            return;
        }
        self.publish_full().await;
        let shared = &self.shared;
        let timeout = shared.settings.node_timeout;
        let mut stale = Vec::new();
        {
            let mut state = shared.state();
            let state = &mut *state;
            let before = state.peers.len();
            let mut gone = Vec::new();
            state.peers.retain(|node, peer| {
                let alive = peer.last_seen.elapsed() < timeout;
                if !alive {
                    gone.push(*node);
                }
                alive
            });
            if state.peers.len() != before {
                state.full.retain(|(n, _)| !gone.contains(n));
                state.flows.retain(|(n, _), _| !gone.contains(n));
                for node in gone {
                    report(&format!(
                        "node {node} left (not heard of for {} ms)",
                        timeout.as_millis()
                    ));
                }
            }
            for (key, (owner, revision)) in &state.names {
                if shared.is_stale(state, owner) {
                    stale.push((key.clone(), *revision));
                }
            }
        }
        if let Some(store) = self.store() {
            if !stale.is_empty() {
                let store = store.clone();
                tokio::spawn(async move {
                    for (key, revision) in stale {
                        let _ = store.delete_expect_revision(&key, Some(revision)).await;
                    }
                });
            }
            tokio::spawn(reconcile(shared.clone(), store));
        }
    }

    /// Whether another node waits to hear that a queue of ours has room.
    fn owes(&self) -> bool {
        !self.shared.state().owed.is_empty()
    }

    /// Tells the nodes waiting for room in a full queue of ours once there is.
    async fn check_room(&mut self) {
        let shared = &self.shared;
        let owed: Vec<Ticket> = {
            let state = shared.state();
            if state.owed.is_empty() {
                return;
            }
            state.owed.keys().copied().collect()
        };
        let Some(kernel) = shared.kernel.upgrade() else {
            return;
        };
        for ticket in owed {
            let room = kernel.has_room(ticket);
            if room == Some(false) {
                continue;
            }
            let nodes = shared.state().owed.remove(&ticket).unwrap_or_default();
            if room == Some(true) {
                let notice = NodeMessage::Room { target: ticket }.encode();
                for node in nodes {
                    let subject = wire::node_subject(shared.prefix(), node, shared.node());
                    let _ = self.client.publish(subject, notice.clone().into()).await;
                }
            }
        }
    }

    async fn publish_full(&mut self) {
        let Some(kernel) = self.shared.kernel.upgrade() else {
            return;
        };
        let up = kernel
            .processes()
            .into_iter()
            .map(|(ticket, user)| {
                (
                    ticket.pid,
                    Proc {
                        incarnation: ticket.incarnation,
                        user,
                    },
                )
            })
            .collect();
        self.publish_directory(true, up, Vec::new()).await;
    }

    async fn publish_directory(&mut self, full: bool, up: Vec<(i32, Proc)>, down: Vec<Ticket>) {
        if !self.shared.connected.load(Ordering::Acquire) {
            return; // a full directory follows the next connection
        }
        self.seq += 1;
        let directory = Directory {
            epoch: self.shared.epoch,
            seq: self.seq,
            full,
            up,
            down,
            bye: false,
            queue: self.queue_limit(),
        };
        self.publish_dir(directory).await;
    }

    /// This node's `limits.queue`.
    fn queue_limit(&self) -> usize {
        self.shared
            .kernel
            .upgrade()
            .map_or(1024, |kernel| kernel.limits().queue)
    }

    async fn publish_dir(&self, directory: Directory) {
        let subject = wire::dir_subject(self.shared.prefix(), self.shared.node());
        let _ = self
            .client
            .publish(subject, directory.encode().into())
            .await;
    }

    /// Says goodbye: the other nodes forget this one at once, and its names
    /// are given back. Bounded by [`LEAVE_TIME`].
    async fn leave(&mut self) {
        if let Some(task) = self.sync.take() {
            task.abort();
        }
        if !self.shared.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let store = self.store();
        let claims: Vec<(String, u64)> = self
            .shared
            .state()
            .claims
            .drain()
            .map(|(key, (_, revision))| (key, revision))
            .collect();
        self.seq += 1;
        let bye = Directory {
            epoch: self.shared.epoch,
            seq: self.seq,
            full: true,
            up: Vec::new(),
            down: Vec::new(),
            bye: true,
            queue: self.queue_limit(),
        };
        let client = self.client.clone();
        let farewell = async move {
            let subject = wire::dir_subject(self.shared.prefix(), self.shared.node());
            let _ = client.publish(subject, bye.encode().into()).await;
            if let Some(store) = store {
                for (key, revision) in claims {
                    let _ = store.delete_expect_revision(&key, Some(revision)).await;
                }
            }
            let _ = client.flush().await;
        };
        let _ = tokio::time::timeout(LEAVE_TIME, farewell).await;
    }
}

/// After each connection: opens (or creates) the registry bucket, claims
/// again the names this node's processes hold, then follows the bucket's
/// changes into [`State::names`] for as long as the connection lasts.
async fn sync_registry(shared: Arc<Shared>, client: Client) {
    let js = async_nats::jetstream::new(client);
    let bucket = format!("{}-names", shared.prefix());
    // The bucket's stream is made here, as the client's `create_key_value`
    // would make it, because that call first reads account details that
    // nats-server 2.9 does not send in the form this client expects.
    let config = stream::Config {
        name: format!("KV_{bucket}"),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        storage: StorageType::Memory,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    let store = loop {
        let opened = match js.get_or_create_stream(config.clone()).await {
            Ok(_) => js
                .get_key_value(bucket.as_str())
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match opened {
            Ok(store) => break store,
            Err(e) => {
                report(&format!(
                    "cannot open the registry (JetStream: is nats-server running with -js?): {e}; retrying"
                ));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    shared.set_store(Some(store.clone()));
    reconcile(shared.clone(), store.clone()).await;
    loop {
        match store.watch_with_history(">").await {
            Ok(mut watch) => {
                while let Some(Ok(entry)) = watch.next().await {
                    let mut state = shared.state();
                    match entry.operation {
                        Operation::Put => match Owner::decode(&entry.value) {
                            Some(owner) => {
                                state.names.insert(entry.key, (owner, entry.revision));
                            }
                            None => {
                                state.names.remove(&entry.key);
                            }
                        },
                        Operation::Delete | Operation::Purge => {
                            state.names.remove(&entry.key);
                        }
                    }
                }
            }
            Err(e) => report(&format!("cannot watch the registry: {e}; retrying")),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Claims in the bucket every name this node's processes hold without a
/// claim there: after a (re)connection, names registered while cut off, and
/// names the broker lost (it keeps the bucket in memory). A name another
/// live owner holds (this node was cut off long enough to be counted as
/// gone) is taken from the local process. Runs after each connection and
/// on every heartbeat; one at a time.
async fn reconcile(shared: Arc<Shared>, store: Store) {
    if shared.reconciling.swap(true, Ordering::AcqRel) {
        return;
    }
    let Some(kernel) = shared.kernel.upgrade() else {
        shared.reconciling.store(false, Ordering::Release);
        return;
    };
    let unclaimed: Vec<_> = {
        let state = shared.state();
        kernel
            .services()
            .into_iter()
            .filter(|(name, owner)| {
                let key = wire::name_key(name);
                state.claims.get(&key).is_none_or(|(t, _)| t != owner)
            })
            .collect()
    };
    for (name, owner) in unclaimed {
        let key = wire::name_key(&name);
        let mine = Owner {
            node: shared.node(),
            epoch: shared.epoch,
            ticket: owner,
        };
        match create(&shared, &store, &key, &mine, &name).await {
            Some(revision) => {
                shared.state().claims.insert(key, (owner, revision));
            }
            None => {
                shared.state().claims.remove(&key);
                kernel.revoke(owner, &name);
                report(&format!(
                    "computer {} lost the service {:?}: another emulator registered it while this one was cut off",
                    owner.pid,
                    String::from_utf8_lossy(&name)
                ));
            }
        }
    }
    shared.reconciling.store(false, Ordering::Release);
}

/// Creates `key` for `mine`: its revision, or `None` when another live
/// owner holds it. An entry already `mine` is kept; a stale one (its owner
/// or its node is gone) is deleted first.
async fn create(
    shared: &Shared,
    store: &Store,
    key: &str,
    mine: &Owner,
    name: &[u8],
) -> Option<u64> {
    for _ in 0..3 {
        match store.create(key, mine.encode(name).into()).await {
            Ok(revision) => return Some(revision),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => {}
            Err(_) => return None,
        }
        let entry = store.entry(key.to_owned()).await.ok()?;
        let Some(entry) = entry else { continue };
        if entry.operation != Operation::Put {
            continue;
        }
        let Some(owner) = Owner::decode(&entry.value) else {
            let _ = store
                .delete_expect_revision(key, Some(entry.revision))
                .await;
            continue;
        };
        if owner == *mine {
            return Some(entry.revision);
        }
        let stale = {
            let state = shared.state();
            shared.is_stale(&state, &owner)
        };
        if !stale {
            return None;
        }
        let _ = store
            .delete_expect_revision(key, Some(entry.revision))
            .await;
    }
    None
}

/// A `register` from a computer thread: claims the name in the bucket and
/// answers; a claim won after the computer stopped waiting is given back.
async fn claim(shared: Arc<Shared>, store: Option<Store>, slot: Arc<ClaimSlot>) {
    let Some(store) = store else {
        slot.answer(false);
        return;
    };
    let key = wire::name_key(&slot.name);
    let mine = Owner {
        node: shared.node(),
        epoch: shared.epoch,
        ticket: slot.owner,
    };
    let won = create(&shared, &store, &key, &mine, &slot.name).await;
    if let Some(revision) = won {
        let mut state = shared.state();
        state.claims.insert(key.clone(), (slot.owner, revision));
        state.names.insert(key.clone(), (mine, revision));
    }
    if !slot.answer(won.is_some()) {
        if let Some(revision) = won {
            shared.state().claims.remove(&key);
            let _ = store.delete_expect_revision(&key, Some(revision)).await;
        }
    }
}
