use super::*;
use crate::kernel::ComputerPort;
use crate::users::UserTable;
use crate::Pid;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

/// A computer whose power the test switches.
struct Power(Arc<AtomicBool>);

impl ComputerPort for Power {
    fn is_running(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
    fn notify(&self, _: Ticket) {}
    fn power_off(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

fn kernel() -> Arc<Kernel> {
    Kernel::start(UserTable::parse("{}").unwrap())
}

fn boot(kernel: &Kernel, pid: Pid) -> (Ticket, Arc<AtomicBool>) {
    let on = Arc::new(AtomicBool::new(true));
    (kernel.spawn(pid, Box::new(Power(on.clone()))), on)
}

#[test]
fn the_first_live_owner_wins_and_lookup_finds_it() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    let (b, _) = boot(&kernel, 2);
    assert_eq!(kernel.lookup(b"db"), None);
    assert_eq!(kernel.register(a, b"db"), Ok(()));
    assert_eq!(kernel.register(b, b"db"), Err(Refused::Taken));
    assert_eq!(
        kernel.register(a, b"db"),
        Err(Refused::Taken),
        "the owner itself"
    );
    assert_eq!(kernel.lookup(b"db"), Some(1));
    assert_eq!(kernel.register(b, b"web"), Ok(()));
    assert_eq!(
        kernel.register(a, b"mail"),
        Ok(()),
        "one process, several names"
    );
    assert_eq!(kernel.lookup(b"web"), Some(2));
    assert_eq!(kernel.lookup(b"mail"), Some(1));
    kernel.shutdown();
}

#[test]
fn names_are_byte_strings() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    assert_eq!(kernel.register(a, b"\xff\x00x"), Ok(()));
    assert_eq!(kernel.lookup(b"\xff\x00x"), Some(1));
    assert_eq!(kernel.lookup(b"\xff"), None);
    assert_eq!(kernel.register(a, b""), Ok(()), "the empty name is a name");
    kernel.shutdown();
}

#[test]
fn exit_releases_every_name_of_the_incarnation() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    let (b, _) = boot(&kernel, 2);
    kernel.register(a, b"x").unwrap();
    kernel.register(a, b"y").unwrap();
    kernel.register(b, b"z").unwrap();
    kernel.exit(a);
    assert_eq!(kernel.lookup(b"x"), None);
    assert_eq!(kernel.lookup(b"y"), None);
    assert_eq!(kernel.lookup(b"z"), Some(2), "other owners keep theirs");
    assert_eq!(kernel.register(b, b"x"), Ok(()), "a released name is free");
    kernel.shutdown();
}

#[test]
fn a_reboot_releases_the_old_incarnations_names() {
    let kernel = kernel();
    let (old, _) = boot(&kernel, 1);
    kernel.register(old, b"svc").unwrap();
    let (new, _) = boot(&kernel, 1); // the same computer boots again
    assert_eq!(kernel.lookup(b"svc"), None);
    // The old incarnation's Lua state closes after the new one started.
    kernel.exit(old);
    assert_eq!(kernel.register(new, b"svc"), Ok(()));
    kernel.exit(old);
    assert_eq!(
        kernel.lookup(b"svc"),
        Some(1),
        "a late exit of the old one frees nothing"
    );
    kernel.shutdown();
}

#[test]
fn an_owner_switched_off_no_longer_owns_before_it_exits() {
    let kernel = kernel();
    let (a, power_a) = boot(&kernel, 1);
    let (b, _) = boot(&kernel, 2);
    kernel.register(a, b"svc").unwrap();
    power_a.store(false, Ordering::SeqCst); // SIGKILL / power button / crash
    assert_eq!(kernel.lookup(b"svc"), None);
    assert_eq!(kernel.register(b, b"svc"), Ok(()));
    assert_eq!(kernel.lookup(b"svc"), Some(2));
    kernel.shutdown();
}

#[test]
fn sigkill_releases_the_targets_names() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    let (b, _) = boot(&kernel, 2);
    kernel.register(a, b"svc").unwrap();
    kernel.kill(b, 1, crate::signals::SIGKILL).unwrap();
    assert_eq!(kernel.lookup(b"svc"), None);
    assert_eq!(kernel.register(b, b"svc"), Ok(()));
    kernel.shutdown();
}

#[test]
fn a_process_that_is_off_or_stale_cannot_register() {
    let kernel = kernel();
    let (a, power_a) = boot(&kernel, 1);
    power_a.store(false, Ordering::SeqCst);
    assert_eq!(kernel.register(a, b"svc"), Err(Refused::NotAProcess));
    let (b, _) = boot(&kernel, 2);
    kernel.exit(b);
    assert_eq!(kernel.register(b, b"svc"), Err(Refused::NotAProcess));
    assert_eq!(kernel.service_entries(), 0);
    assert_eq!(
        kernel.lookup(b"svc"),
        None,
        "a refused register leaves nothing"
    );
    kernel.shutdown();
}

#[test]
fn a_register_racing_a_reboot_never_outlives_its_incarnation() {
    let kernel = kernel();
    for round in 0..200 {
        let (old, _) = boot(&kernel, 1);
        let barrier = Arc::new(Barrier::new(2));
        let registering = {
            let (kernel, barrier) = (kernel.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                kernel.register(old, b"svc")
            })
        };
        barrier.wait();
        let (new, _) = boot(&kernel, 1); // the reboot
        let registered = registering.join().unwrap();
        // Either order is possible; the old incarnation never owns the name
        // once the new one exists, and a refused register stored nothing.
        assert_eq!(kernel.service_entries(), 0, "round {round}: {registered:?}");
        assert_eq!(kernel.lookup(b"svc"), None, "round {round}: {registered:?}");
        assert!(matches!(registered, Ok(()) | Err(Refused::NotAProcess)));
        assert_eq!(kernel.register(new, b"svc"), Ok(()), "round {round}");
        kernel.exit(new);
    }
    kernel.shutdown();
}

#[test]
fn names_and_ownership_are_bounded() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    let long = vec![b'n'; MAX_SERVICE_NAME + 1];
    assert_eq!(kernel.register(a, &long), Err(Refused::NameTooLong));
    assert_eq!(kernel.register(a, &long[1..]), Ok(()));
    for i in 1..MAX_SERVICES_PER_PROCESS {
        kernel.register(a, format!("s{i}").as_bytes()).unwrap();
    }
    assert_eq!(kernel.register(a, b"one more"), Err(Refused::TooMany));
    kernel.exit(a);
    let (b, _) = boot(&kernel, 2);
    assert_eq!(
        kernel.register(b, b"one more"),
        Ok(()),
        "released with the owner"
    );
    kernel.shutdown();
}

#[test]
fn shutdown_forgets_every_name() {
    let kernel = kernel();
    let (a, _) = boot(&kernel, 1);
    kernel.register(a, b"svc").unwrap();
    kernel.shutdown();
    assert_eq!(kernel.lookup(b"svc"), None);
}
