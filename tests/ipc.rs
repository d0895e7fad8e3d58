//! The service registry (`syscall.register` / `lookup`) and libsystem's
//! `system.ipc`, mounted into every computer, through the embedded host.
mod support;

use std::time::Duration;
use support::*;

#[test]
fn the_registry_gives_a_name_to_its_first_live_owner_until_its_incarnation_ends() {
    let host = TestHost::new("ipc-registry", None);
    let program = lua_test_source("ipc_registry.lua");
    host.start(0, &program);
    host.start(1, &program);
    host.expect_checks(&[0], 17, Duration::from_secs(40));
    let output = host.host().output(1);
    let passed = output.iter().filter(|l| l.starts_with("ok ")).count();
    let failed: Vec<_> = output.iter().filter(|l| l.starts_with("not ok")).collect();
    // Computer 1 printed `done` once per boot.
    let done = output.iter().filter(|l| l.as_str() == "done").count();
    assert!(
        failed.is_empty() && passed >= 13 && done == 2,
        "computer 1: passed={passed} done={done} failed={failed:?}\n{}",
        output.join("\n")
    );
    host.shutdown();
}

#[test]
fn every_system_ipc_function_behaves_as_libsystems() {
    run_each("ipc_library.lua", &[(0, 63), (1, 2)], None);
}

#[test]
fn sockets_speak_libsystems_wire_format_between_computers() {
    run_each("ipc_socket.lua", &[(0, 5), (1, 17)], None);
}
