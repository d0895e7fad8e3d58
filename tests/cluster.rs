//! Cluster mode: emulators (separate `craftos-host` processes) joined by a
//! local nats-server exchange events, signals and registry names; the
//! broker killed and restarted, a node killed. Each test prints
//! `not run: nats-server not found` and returns where nats-server is not
//! installed (`.ci/run` installs it).
mod support;

use std::time::Duration;

use support::cluster::{Emulator, Nats};

const GUARD: Duration = Duration::from_secs(180);

/// Users of the pair test: root and alice on node 1; alice, bob and a
/// plain user with a small queue on node 2.
const NODE1: &str = r#""users": {"0": "root", "1": "alice"}"#;
const NODE2: &str = r#""users": {"0": "alice", "1": "bob"}, "limits": {"queue": 512}"#;

#[test]
fn two_emulators_exchange_events_signals_and_names() {
    let Some(nats) = Nats::start("two_emulators_exchange_events_signals_and_names") else {
        return;
    };
    let url = nats.url();
    let one = Emulator::start(&url, 1, &[0, 1], "cluster_pair.lua", "", NODE1);
    let two = Emulator::start(&url, 2, &[0, 1, 2], "cluster_pair.lua", "", NODE2);
    one.expect_checks(&[0, 1], 22, GUARD);
    two.expect_checks(&[0, 2], 15, GUARD);
}
