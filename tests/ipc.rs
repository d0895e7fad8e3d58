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
    run_each("ipc_library.lua", &[(0, 64), (1, 2)], None);
}

#[test]
fn sockets_speak_libsystems_wire_format_between_computers() {
    run_each("ipc_socket.lua", &[(0, 7), (1, 17), (2, 2)], None);
}

// The example programs of lua/examples/, each on the computers it is written
// for: their output must tell the story they promise.

fn start_example(file: &str, computers: &[i32]) -> TestHost {
    let path = lua_dir().join("examples").join(file);
    let program = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let host = TestHost::new(file.trim_end_matches(".lua"), None);
    for &id in computers {
        host.start(id, &program);
    }
    host
}

/// Computer `id` prints each of `lines` (substrings), in this order.
fn expect_lines_in_order(host: &TestHost, id: i32, lines: &[&str]) {
    let last = lines.last().expect("at least one line");
    host.host().wait_for_line(id, last, Duration::from_secs(40));
    let output = host.host().output(id);
    let mut from = 0;
    for line in lines {
        let found = output[from..].iter().position(|l| l.contains(line));
        assert!(
            found.is_some(),
            "computer {id}: {line:?} missing (in order)\n--- output ---\n{}",
            output.join("\n")
        );
        from += found.unwrap() + 1;
    }
}

#[test]
fn example_supervisor_starts_restarts_and_stops_its_workers() {
    let host = start_example("ipc-supervisor.lua", &[0, 1, 2]);
    expect_lines_in_order(&host, 0, SUPERVISOR_LINES);
    expect_lines_in_order(
        &host,
        1,
        &["started", "died: worker 1 crashed on job", "started"],
    );
    expect_lines_in_order(&host, 2, &["started", "ignoring SIGTERM"]);
    assert_eq!(host.host().boot_count(1), 2, "worker 1 rebooted once");
    for id in [1, 2] {
        assert!(
            host.host().wait_until_off(id, Duration::from_secs(10)),
            "worker {id} is off"
        );
    }
    host.shutdown();
}

#[test]
fn example_service_is_found_by_name_and_answers_or_times_out() {
    let host = start_example("ipc-service.lua", &[0, 1, 2]);
    for id in [1, 2] {
        let sum = format!("{id} + 10 = {}", id + 10);
        let product = format!("{id} * 7 = {}", id * 7);
        expect_lines_in_order(
            &host,
            id,
            &[
                "found calc on computer 0",
                &sum,
                &product,
                "pow: no answer within 0.5 s",
                "done",
            ],
        );
    }
    expect_lines_in_order(&host, 0, &["serving calc", "served 4 requests; stopping"]);
    host.shutdown();
}

#[test]
fn example_chat_talks_over_a_socket_between_two_computers() {
    let host = start_example("ipc-chat.lua", &[0, 1]);
    expect_lines_in_order(
        &host,
        0,
        &[
            "waiting for a connection",
            "connected to computer 1",
            "<1> hi 0, this is 1",
            "<1> fine, thanks",
            "closed (closed)",
        ],
    );
    expect_lines_in_order(
        &host,
        1,
        &[
            "connected to computer 0",
            "<0> hello from 0",
            "<0> how are you?",
            "closed (closed)",
        ],
    );
    host.shutdown();
}

/// The LuaLS stubs (lua/types/) parse, and declare exactly the functions of
/// the real `syscall` table and `system.ipc` module.
#[test]
fn the_editor_stubs_declare_every_function_of_syscall_and_system_ipc() {
    let types = lua_dir().join("types");
    let stub = |path: &str| std::fs::read_to_string(types.join(path)).unwrap();
    let program = format!(
        r#"
local sources = {{ syscall = {:?}, ipc = {:?} }}
local function declared(source)
    local env = setmetatable({{}}, {{ __index = _G }})
    local chunk, err = load(source, "=stub", "t", env)
    if not chunk then return nil, err end
    local ok, result = pcall(chunk)
    if not ok then return nil, result end
    return result
end
local function names(t, kind)
    local list = {{}}
    for k, v in pairs(t) do if type(v) == kind then list[#list + 1] = k end end
    table.sort(list)
    return table.concat(list, " ")
end
local stub_syscall, err1 = declared(sources.syscall)
check.ok(stub_syscall, "the syscall stub loads", err1)
local stub_ipc, err2 = declared(sources.ipc)
check.ok(stub_ipc, "the system.ipc stub loads", err2)
check.eq(names(stub_syscall or {{}}, "function"), names(syscall, "function"),
    "the syscall stub declares every syscall")
local ipc = require("system.ipc")
check.eq(names(stub_ipc or {{}}, "function"), names(ipc, "function"),
    "the system.ipc stub declares every function")
check.eq(type(stub_ipc and stub_ipc.signal), "table", "and the signal table")
local sock = setmetatable({{ pid = 0, name = "x" }}, getmetatable(ipc.socket("x", 0)))
check.eq(type(sock.read) .. type(sock.write) .. type(sock.close) .. type(sock.status),
    "functionfunctionfunctionfunction", "sockets have the declared methods")
check.done()
"#,
        stub("syscall.lua"),
        stub("system/ipc.lua")
    );
    let host = TestHost::new("ipc-stubs", None);
    host.start(0, &program);
    host.expect_checks(&[0], 6, Duration::from_secs(30));
    host.shutdown();
}
