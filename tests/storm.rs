//! The storm: 32 computers send, signal (SIGSTOP/SIGCONT/SIGKILL among
//! others), time, cancel and reboot at random for a bounded time, while the
//! host reboots and restarts them from outside; then everyone drains (see
//! lua/tests/storm.lua). From what every incarnation printed, the test
//! checks that every event sent to a live incarnation was received exactly
//! once, in per-sender order, by that incarnation and no other, and that no
//! cancelled timer's event was received.
//!
//! `PHOENIX_STORM_SECONDS` sets the storm's length (default 6); `ci/storm`
//! runs it longer and under valgrind.
mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::*;

const COMPUTERS: i32 = 32;
/// The mask of the host's os.epoch("nano") (exact in a Lua number).
const NANO_MASK: u128 = 0x1F_FFFF_FFFF_FFFF;

#[test]
fn storm_every_event_reaches_its_incarnation_exactly_once_in_order() {
    let seconds: f64 = std::env::var("PHOENIX_STORM_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6.0);
    let started = Instant::now();
    let host = TestHost::new("storm", None);
    let t_end = epoch_nanos() + (seconds * 1e9) as u128;
    let program = format!(
        "STORM = {{ n = {COMPUTERS}, t_end = {t_end} }}\n{}",
        lua_test_source("storm.lua")
    );
    let outside = storm_from_outside(host.host(), &program, t_end);
    let drained = wait_until_drained(host.host(), &program, seconds);
    let outputs: Vec<Vec<String>> = (0..COMPUTERS).map(|id| host.host().output(id)).collect();
    host.shutdown();
    let report = check(&outputs);
    println!(
        "storm: {COMPUTERS} computers, {seconds} s of storm, {:.1} s in all; {} events sent \
         ({} accepted), {} received; {} kills ({} SIGKILL, {} SIGSTOP, {} SIGCONT); \
         {} boots ({} reboots and restarts from outside); {} errors",
        started.elapsed().as_secs_f64(),
        report.sent,
        report.accepted,
        report.received,
        report.kills.values().sum::<usize>(),
        report.kills.get(&9).unwrap_or(&0),
        report.kills.get(&19).unwrap_or(&0),
        report.kills.get(&18).unwrap_or(&0),
        report.boots,
        outside,
        report.errors.len()
    );
    assert!(drained.is_ok(), "{}", drained.unwrap_err());
    assert!(
        report.errors.is_empty(),
        "{} errors, first ones:\n{}",
        report.errors.len(),
        report
            .errors
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        report.received > 1000 && report.boots > COMPUTERS as usize,
        "the storm hardly ran: {} events received, {} boots",
        report.received,
        report.boots
    );
}

fn epoch_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        & NANO_MASK
}

/// Until the storm ends: restarts computers that went off, and reboots
/// random ones. Returns how many times it did either.
fn storm_from_outside(host: &Host, program: &str, t_end: u128) -> usize {
    let mut random = Random(epoch_nanos() as u64 | 1);
    let mut interventions = 0;
    while epoch_nanos() < t_end {
        interventions += restart_the_off_ones(host, program);
        if random.below(5) == 0 {
            host.reboot_computer(random.below(COMPUTERS as u64) as i32);
            interventions += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    interventions
}

fn restart_the_off_ones(host: &Host, program: &str) -> usize {
    (0..COMPUTERS)
        .filter(|&id| !host.is_on(id) && host.start_computer(id, program).is_ok())
        .count()
}

/// Waits (restarting computers that go off) until the current incarnation
/// of every computer printed DONE. A hang guard only: generous.
fn wait_until_drained(host: &Host, program: &str, seconds: f64) -> Result<(), String> {
    let guard = Duration::from_secs_f64(120.0 + seconds * 4.0);
    let deadline = Instant::now() + guard;
    loop {
        restart_the_off_ones(host, program);
        let waiting: Vec<i32> = (0..COMPUTERS)
            .filter(|&id| !(host.is_on(id) && current_incarnation_done(&host.output(id))))
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "after {guard:?}, computers {waiting:?} had not drained; last lines of {}:\n{}",
                waiting[0],
                tail(&host.output(waiting[0]), 15)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn current_incarnation_done(lines: &[String]) -> bool {
    let last_boot = lines.iter().rposition(|l| l.starts_with("B "));
    last_boot.is_some_and(|b| lines[b..].iter().any(|l| l.starts_with("DONE ")))
}

fn tail(lines: &[String], n: usize) -> String {
    lines[lines.len().saturating_sub(n)..].join("\n")
}

struct Random(u64);

impl Random {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[derive(Default)]
struct Incarnation {
    pid: i32,
    boot: u128,
    /// The latest time it printed: it was current at least until then.
    last_seen: u128,
    done: bool,
}

struct Send {
    accepted: bool,
    started: u128,
    finished: u128,
}

/// (sender incarnation, target pid, sequence number)
type EventKey = (String, i32, u64);

#[derive(Default)]
struct Report {
    sent: usize,
    accepted: usize,
    received: usize,
    boots: usize,
    kills: HashMap<i32, usize>,
    errors: Vec<String>,
}

struct Parsed {
    incarnations: HashMap<String, Incarnation>,
    /// Per pid, its incarnations in boot order.
    order: HashMap<i32, Vec<String>>,
    sends: HashMap<EventKey, Send>,
    /// (receiver incarnation, key, sender pid) in each receiver's order.
    receipts: Vec<(String, EventKey, i32)>,
}

fn number(field: Option<&str>) -> u128 {
    field.and_then(|f| f.parse().ok()).unwrap_or(0)
}

fn parse(outputs: &[Vec<String>], report: &mut Report) -> Parsed {
    let mut p = Parsed {
        incarnations: HashMap::new(),
        order: HashMap::new(),
        sends: HashMap::new(),
        receipts: Vec::new(),
    };
    for (pid, lines) in outputs.iter().enumerate() {
        let pid = pid as i32;
        let mut current = String::new();
        for line in lines {
            let f: Vec<&str> = line.split(' ').collect();
            let time = number(f.last().copied());
            match f[0] {
                "B" => {
                    current = f[1].to_owned();
                    report.boots += 1;
                    p.order.entry(pid).or_default().push(current.clone());
                    p.incarnations.insert(
                        current.clone(),
                        Incarnation {
                            pid,
                            boot: time,
                            last_seen: time,
                            done: false,
                        },
                    );
                }
                "S" => {
                    let key = (
                        f[1].to_owned(),
                        f[2].parse().unwrap_or(-1),
                        number(f.get(3).copied()) as u64,
                    );
                    let accepted = f[4] == "1";
                    report.sent += 1;
                    report.accepted += usize::from(accepted);
                    let started = number(f.get(5).copied());
                    p.sends.insert(
                        key,
                        Send {
                            accepted,
                            started,
                            finished: time,
                        },
                    );
                }
                "R" => {
                    report.received += 1;
                    let key = (f[2].to_owned(), pid, number(f.get(3).copied()) as u64);
                    p.receipts
                        .push((f[1].to_owned(), key, f[4].parse().unwrap_or(-1)));
                }
                "K" => *report.kills.entry(f[1].parse().unwrap_or(-1)).or_default() += 1,
                "DONE" => {
                    if let Some(i) = p.incarnations.get_mut(f[1]) {
                        i.done = true;
                    }
                }
                "ERR" => report.errors.push(format!("computer {pid}: {line}")),
                _ => {}
            }
            if let Some(i) = p.incarnations.get_mut(&current) {
                i.last_seen = i.last_seen.max(time);
            }
        }
    }
    p
}

fn check(outputs: &[Vec<String>]) -> Report {
    let mut report = Report::default();
    let p = parse(outputs, &mut report);
    let errors = &mut report.errors;
    let mut received: HashSet<&EventKey> = HashSet::new();
    let mut last_seq: HashMap<(&str, &str), u64> = HashMap::new();
    for (receiver, key, sender_pid) in &p.receipts {
        let (sender, target, seq) = key;
        let Some(send) = p.sends.get(key).filter(|s| s.accepted) else {
            errors.push(format!(
                "{receiver} received {key:?}, which was never accepted"
            ));
            continue;
        };
        if p.incarnations.get(sender).map(|i| i.pid) != Some(*sender_pid) {
            errors.push(format!(
                "{receiver} received {key:?} with sender pid {sender_pid}"
            ));
        }
        if !received.insert(key) {
            errors.push(format!("{receiver} received {key:?} a second time"));
        }
        let last = last_seq.entry((receiver, sender)).or_insert(0);
        if *seq <= *last {
            errors.push(format!("{receiver} received {key:?} after number {last}"));
        }
        *last = (*last).max(*seq);
        // Sent while an earlier incarnation of the target was still alive:
        // it was that incarnation's, never this one's.
        let earlier = p.order[target]
            .iter()
            .take_while(|inc| *inc != receiver)
            .last();
        if let Some(earlier) = earlier {
            if send.finished < p.incarnations[earlier].last_seen {
                errors.push(format!(
                    "{receiver} received {key:?}, sent to the earlier incarnation {earlier}"
                ));
            }
        }
    }
    // The last incarnation of each computer lived from its boot to the end
    // and drained: everything sent after it booted must have arrived.
    for incs in p.order.values() {
        let last = incs.last().unwrap();
        let inc = &p.incarnations[last];
        if !inc.done {
            continue; // reported by wait_until_drained
        }
        for (key, send) in &p.sends {
            if key.1 == inc.pid
                && send.accepted
                && send.started > inc.boot
                && !received.contains(key)
            {
                errors.push(format!("{last} never received {key:?}"));
            }
        }
    }
    report
}
