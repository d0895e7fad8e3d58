//! Cluster mode: emulators (separate `craftos-host` processes) joined by a
//! local nats-server exchange events, signals and registry names; the
//! broker killed and restarted, a node killed. Each test prints
//! `NOT RUN: 1 cluster test (…): nats-server not found` and returns where nats-server is not
//! installed (`.ci/run` installs it).
mod support;

use std::time::{Duration, Instant};

use support::cluster::{free_port, Emulator, Nats};

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

#[test]
fn three_emulators_send_to_each_other_and_race_for_one_name() {
    let Some(nats) = Nats::start("three_emulators_send_to_each_other_and_race_for_one_name") else {
        return;
    };
    let url = nats.url();
    // Node 3 lists a server that is not there before the real one.
    let two_urls = format!("nats://127.0.0.1:{},{url}", free_port());
    let nodes: Vec<Emulator> = (1..=3)
        .map(|n| {
            let url = if n == 3 { &two_urls } else { &url };
            Emulator::start(url, n, &[0], "cluster_three.lua", "", "")
        })
        .collect();
    for node in &nodes {
        node.expect_checks(&[0], 3, GUARD);
    }
}

/// Faster heartbeats for the fault tests (the defaults are 1 s and 3 s).
const FAST: &str = r#", "heartbeat_ms": 200, "node_timeout_ms": 1000"#;

#[test]
fn the_broker_killed_and_restarted_fails_remote_calls_then_recovers() {
    let Some(mut nats) =
        Nats::start("the_broker_killed_and_restarted_fails_remote_calls_then_recovers")
    else {
        return;
    };
    let url = nats.url();
    let one = Emulator::start(&url, 1, &[0], "cluster_broker.lua", FAST, "");
    let two = Emulator::start(&url, 2, &[0], "cluster_broker.lua", FAST, "");
    one.expect("phase ready", GUARD);
    two.expect("phase ready", GUARD);
    nats.kill();
    one.expect("phase down", GUARD);
    two.expect("phase down", GUARD);
    nats.restart();
    one.expect_checks(&[0], 16, GUARD);
    two.expect_checks(&[0], 16, GUARD);
    for node in [&one, &two] {
        node.expect("lost the broker", GUARD);
        node.expect("reconnected to the broker", GUARD);
    }
}

#[test]
fn a_node_killed_loses_its_pids_and_names_within_the_node_timeout() {
    let Some(nats) = Nats::start("a_node_killed_loses_its_pids_and_names_within_the_node_timeout")
    else {
        return;
    };
    let url = nats.url();
    let one = Emulator::start(&url, 1, &[0], "cluster_death.lua", FAST, "");
    let mut two = Emulator::start(&url, 2, &[0, 1], "cluster_death.lua", FAST, "");
    one.expect("phase ready", GUARD);
    two.expect("[0] phase ready", GUARD);
    two.expect("[1] phase ready", GUARD);
    let killed = Instant::now();
    two.kill();
    one.expect("phase gone", GUARD);
    let noticed = killed.elapsed();
    println!(
        "node 2 killed: node 1 noticed after {noticed:?} (node_timeout 1000 ms, heartbeat 200 ms)"
    );
    one.expect_checks(&[0], 8, GUARD);
    one.expect("node 2 left", GUARD);
}

#[test]
fn an_unreachable_broker_is_reported_and_local_calls_work() {
    // No server listens on this port: the cluster never connects.
    let url = format!("nats://127.0.0.1:{}", free_port());
    let one = Emulator::start(&url, 1, &[0], "cluster_alone.lua", "", "");
    one.expect_checks(&[0], 6, GUARD);
    one.expect("cannot reach the broker", GUARD);
    // A configuration the cluster cannot use: reported, the emulator runs alone.
    let bad = Emulator::with_config(
        r#"{"cluster": {"url": "nats://127.0.0.1:1"}}"#,
        1,
        &[0],
        "cluster_alone.lua",
    );
    bad.expect_checks(&[0], 6, GUARD);
    bad.expect("cluster.node in", GUARD);
    bad.expect("this emulator runs alone", GUARD);
}

#[test]
fn system_ipc_sockets_and_services_work_across_emulators() {
    let Some(nats) = Nats::start("system_ipc_sockets_and_services_work_across_emulators") else {
        return;
    };
    let url = nats.url();
    let one = Emulator::start(&url, 1, &[0], "cluster_socket.lua", "", "");
    let two = Emulator::start(&url, 2, &[0], "cluster_socket.lua", "", "");
    one.expect_checks(&[0], 4, GUARD);
    two.expect_checks(&[0], 3, GUARD);
}

#[test]
fn a_node_refuses_signals_claiming_users_it_does_not_trust_from_the_sender() {
    let Some(nats) =
        Nats::start("a_node_refuses_signals_claiming_users_it_does_not_trust_from_the_sender")
    else {
        return;
    };
    let url = nats.url();
    let one = Emulator::start(
        &url,
        1,
        &[0, 1],
        "cluster_trust.lua",
        "",
        r#""users": {"0": "root"}"#,
    );
    let two = Emulator::start(
        &url,
        2,
        &[0],
        "cluster_trust.lua",
        r#", "trust": {"1": ["user"]}"#,
        "",
    );
    one.expect_checks(&[0, 1], 2, GUARD);
    two.expect_checks(&[0], 2, GUARD);
    two.expect("refused signal 10 from computer 0 of node 1", GUARD);
}
