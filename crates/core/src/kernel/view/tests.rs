use super::*;
use crate::kernel::ComputerPort;
use crate::queue::Item;
use crate::users::UserTable;
use crate::value::Payload;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

struct Port(Arc<AtomicBool>);

impl ComputerPort for Port {
    fn is_running(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    fn notify(&self, _: Ticket) {}
    fn power_off(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn boot(kernel: &Kernel, pid: Pid) -> (Ticket, Arc<AtomicBool>) {
    let on = Arc::new(AtomicBool::new(true));
    (kernel.spawn(pid, Box::new(Port(on.clone()))), on)
}

fn kernel() -> Arc<Kernel> {
    let users =
        UserTable::parse(r#"{"users": {"0": "root", "1": "alice", "2": "alice", "3": "bob"}}"#)
            .unwrap();
    Kernel::start(users)
}

#[test]
fn the_list_holds_every_live_process_in_order() {
    let kernel = kernel();
    let (_, _) = boot(&kernel, 3);
    let (_, _) = boot(&kernel, 0);
    let (_, off) = boot(&kernel, 2);
    let (one, _) = boot(&kernel, 1);
    assert_eq!(kernel.process_list(), vec![0, 1, 2, 3]);
    off.store(false, Ordering::SeqCst);
    kernel.exit(one);
    assert_eq!(kernel.process_list(), vec![0, 3], "off or exited: gone");
    kernel.shutdown();
}

#[test]
fn a_viewer_sees_in_full_exactly_the_processes_it_may_signal() {
    let kernel = kernel();
    let (root, _) = boot(&kernel, 0);
    let (alice, _) = boot(&kernel, 1);
    let (_, _) = boot(&kernel, 2);
    let (bob, _) = boot(&kernel, 3);
    let user_of = |viewer: Ticket, pid: Pid| kernel.process_info(viewer, pid).map(|i| i.user);
    assert_eq!(user_of(alice, 2), Ok("alice".to_owned()), "same user");
    assert_eq!(user_of(alice, 1), Ok("alice".to_owned()), "itself");
    assert_eq!(user_of(alice, 3), Err(KillError::PermissionDenied));
    assert_eq!(user_of(alice, 0), Err(KillError::PermissionDenied));
    assert_eq!(user_of(bob, 1), Err(KillError::PermissionDenied));
    for pid in 0..4 {
        assert!(user_of(root, pid).is_ok(), "root sees {pid}");
    }
    assert_eq!(user_of(alice, 9), Err(KillError::NoSuchProcess));
    assert_eq!(user_of(bob, 9), Err(KillError::NoSuchProcess));
    kernel.shutdown();
}

#[test]
fn the_info_counts_events_timers_services_and_shows_a_stop() {
    let kernel = kernel();
    let (root, _) = boot(&kernel, 0);
    let (target, _) = boot(&kernel, 1);
    let info = kernel.process_info(root, 1).unwrap();
    assert_eq!(
        (
            info.pid,
            info.state,
            info.events,
            info.timers,
            info.services.len()
        ),
        (1, RunState::Running, 0, 0, 0)
    );
    for n in 0..3 {
        assert!(kernel.send(0, 1, b"e"[..].into(), Payload::text(&[n])));
    }
    kernel.push(target, Item::Signal(10)).unwrap();
    kernel
        .start_timer(target, Duration::from_secs(3600), false)
        .unwrap();
    kernel
        .start_timer(target, Duration::from_secs(3600), true)
        .unwrap();
    kernel.register(target, b"zeta").unwrap();
    kernel.register(target, b"alpha").unwrap();
    kernel.register(root, b"beta").unwrap();
    kernel.stop(target);
    let info = kernel.process_info(root, 1).unwrap();
    assert_eq!(info.state, RunState::Stopped);
    assert_eq!(
        info.events, 4,
        "three events and a signal; the stop gate is no event"
    );
    assert_eq!(info.timers, 2, "a timer and an alarm");
    assert_eq!(info.services, vec![b"alpha"[..].into(), b"zeta"[..].into()]);
    // An event handed over for delivery counts until it is received.
    kernel.kill(root, 1, crate::signals::SIGCONT).unwrap();
    let mut popped = 0;
    while let Some(item) = kernel.pop(target) {
        popped += usize::from(item.is_data());
    }
    assert_eq!(popped, 3);
    let info = kernel.process_info(root, 1).unwrap();
    assert_eq!((info.state, info.events), (RunState::Running, 3));
    kernel.acknowledge(target, 3);
    assert_eq!(kernel.process_info(root, 1).unwrap().events, 0);
    kernel.shutdown();
}
