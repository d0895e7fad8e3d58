//! Tests of the embedded host with the throw-away fixture plugins of
//! tests/fixtures/test_plugin.cpp (built by build.rs).

use craftos_host::{live_thread_names, wait_for_thread_names, Host, HostConfig, HostError};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

fn fixture(stem: &str) -> PathBuf {
    PathBuf::from(env!("CRAFTOS_HOST_FIXTURES"))
        .join(format!("{stem}.{}", env!("CRAFTOS_HOST_FIXTURE_SUFFIX")))
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "craftos-host-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    craftos_host::full_path(dir)
}

fn load(stem: &str, data: &Path) -> Host {
    Host::load(HostConfig {
        plugin: fixture(stem),
        data_dir: data.to_path_buf(),
        echo: false,
    })
    .unwrap_or_else(|e| panic!("load {stem}: {e}"))
}

fn plugin_log(data: &Path) -> Vec<String> {
    std::fs::read_to_string(data.join("plugin.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits for `needle` and returns the text after it.
fn line_after(host: &Host, id: i32, needle: &str) -> String {
    let line = host
        .wait_for_line(id, needle, T)
        .unwrap_or_else(|| panic!("no line {needle:?} on {id}; output: {:?}", host.output(id)));
    line[line.find(needle).unwrap() + needle.len()..].to_string()
}

/// Where a plugin loaded now finds `luaL_newstate`: the executable's export
/// (Linux, macOS) or lua52.dll's (Windows), the Lua the host itself runs.
fn host_lua_newstate_addr() -> String {
    #[cfg(unix)]
    let lua = libloading::os::unix::Library::this();
    #[cfg(windows)]
    let lua = libloading::os::windows::Library::open_already_loaded("lua52.dll")
        .expect("lua52.dll is loaded");
    // SAFETY: only the symbol's address is read.
    let symbol = unsafe { lua.get::<*const std::ffi::c_void>(b"luaL_newstate") }
        .expect("the host's Lua exports luaL_newstate");
    format!("{:p}", *symbol)
}

#[test]
fn plugin_init_is_called_like_the_emulator_and_everything_is_torn_down() {
    let data = temp_dir("init");
    let host = load("libtp_main", &data);
    let s = host.plugin();
    assert_eq!(s.abi_version, 12);
    assert_eq!(s.minimum_structure_version, 0);
    assert_eq!(s.api_name, "testplug");
    assert_eq!(s.luaopen_name, "testplug_open");
    assert_eq!(s.failure_reason, "");

    let program = r#"
        local t = testplug
        for _, k in ipairs({"id", "version", "renderer", "abi", "structure", "path", "basepath",
                            "slot_is_light", "L_matches", "byid_matches", "is_main_thread",
                            "api_arg", "lua_addr", "running_at_open", "opens"}) do
            print(k .. "=" .. tostring(t[k]))
        end
        print("registry_ok=" .. tostring(t.registry_ok()))
        print("myid=" .. os.getComputerID() .. "/" .. os.computerID())
        print("host=" .. tostring(_HOST) .. " headless=" .. tostring(_HEADLESS))
    "#;
    host.start_computer(0, program).unwrap();
    host.start_computer(1, program).unwrap();
    for id in [0, 1] {
        assert_eq!(line_after(&host, id, "id="), id.to_string());
        assert_eq!(line_after(&host, id, "version="), "v2.8.3");
        assert_eq!(line_after(&host, id, "renderer="), "1");
        assert_eq!(line_after(&host, id, "abi="), "12");
        assert_eq!(line_after(&host, id, "structure="), "0");
        assert_eq!(
            line_after(&host, id, "path="),
            fixture("libtp_main").display().to_string()
        );
        assert_eq!(
            line_after(&host, id, "basepath="),
            data.display().to_string()
        );
        assert_eq!(line_after(&host, id, "slot_is_light="), "true");
        assert_eq!(line_after(&host, id, "L_matches="), "true");
        assert_eq!(line_after(&host, id, "byid_matches="), "true");
        assert_eq!(line_after(&host, id, "is_main_thread="), "true");
        assert_eq!(line_after(&host, id, "api_arg="), "testplug");
        // The plugin's lua_* symbols are bound to the host's own Lua.
        assert_eq!(line_after(&host, id, "lua_addr="), host_lua_newstate_addr());
        assert_eq!(line_after(&host, id, "running_at_open="), "1");
        assert_eq!(line_after(&host, id, "opens="), "1");
        assert_eq!(line_after(&host, id, "registry_ok="), "true");
        assert_eq!(line_after(&host, id, "myid="), format!("{id}/{id}"));
        assert!(line_after(&host, id, "host=").contains("CraftOS-PC v2.8.3"));
    }
    // Computers stay on after their program ends.
    assert!(host.is_on(0) && host.is_on(1));
    // Each thread names itself once it runs: wait for the names.
    let expected = ["Computer 0", "Computer 1", "tp-worker", "ccpc-timers"];
    if let Err(names) = wait_for_thread_names(T, |names| {
        expected.iter().all(|n| names.iter().any(|x| x == n))
    }) {
        panic!("threads {expected:?} not all in {names:?}");
    }
    let log = plugin_log(&data);
    assert_eq!(
        log[0],
        format!(
            "init abi=12 structure=0 version=v2.8.3 renderer=1 path={}",
            fixture("libtp_main").display()
        )
    );

    host.shutdown();
    let names = live_thread_names();
    for n in expected {
        assert!(
            !names.iter().any(|x| x == n),
            "thread {n} still alive: {names:?}"
        );
    }
    let log = plugin_log(&data);
    let tail: Vec<&str> = log.iter().rev().take(2).rev().map(String::as_str).collect();
    assert_eq!(tail, ["deinit", "unload"], "log: {log:?}");
}

#[test]
fn rejected_plugins_fail_to_load_with_their_reason_and_get_deinit() {
    for (stem, reason, deinit) in [
        ("libtp_badabi", "CraftOS-PC version too old", true),
        ("libtp_badstruct", "CraftOS-PC version too old", true),
        ("libtp_fail", "fixture says no", true),
        ("libtp_throw", "fixture init exploded", false),
    ] {
        let data = temp_dir("reject");
        let err = Host::load(HostConfig {
            plugin: fixture(stem),
            data_dir: data.clone(),
            echo: false,
        })
        .err()
        .unwrap_or_else(|| panic!("{stem} was accepted"));
        assert!(matches!(err, HostError::Rejected { .. }), "{stem}: {err:?}");
        let msg = err.to_string();
        assert!(msg.contains(reason), "{stem}: {msg}");
        assert!(msg.contains(stem), "{stem}: {msg}");
        let log = plugin_log(&data);
        assert!(log[0].starts_with("init "), "{stem}: {log:?}");
        assert_eq!(log.iter().any(|l| l == "deinit"), deinit, "{stem}: {log:?}");
    }
    let err = Host::load(HostConfig {
        plugin: fixture("does_not_exist"),
        data_dir: temp_dir("missing"),
        echo: false,
    })
    .err()
    .unwrap();
    assert!(matches!(err, HostError::Load { .. }), "{err:?}");
}

#[test]
fn computers_run_stock_lua_5_2_built_with_its_compatibility_functions() {
    // The host's own Lua is built as Lua's makefile (and Debian, and
    // CraftOS-PC) builds it: LUA_COMPAT_ALL keeps the 5.1 functions that
    // ComputerCraft programs use.
    let data = temp_dir("compat");
    let host = load("libtp_stem", &data);
    host.start_computer(
        0,
        "print('lua=' .. _VERSION .. ' ' .. type(unpack) .. ' ' .. type(loadstring) .. ' ' \
         .. type(math.log10) .. ' ' .. type(table.maxn) .. ' ' .. type(bit32))",
    )
    .unwrap();
    assert_eq!(
        line_after(&host, 0, "lua="),
        "Lua 5.2 function function function function table"
    );
    host.shutdown();
}

#[test]
fn api_name_defaults_to_the_file_stem_and_a_missing_opener_is_recorded() {
    let data = temp_dir("stem");
    let host = load("libtp_stem", &data);
    assert_eq!(host.plugin().api_name, "libtp_stem");
    assert_eq!(host.plugin().luaopen_name, "luaopen_libtp_stem");
    host.start_computer(
        3,
        "print('stem=' .. type(libtp_stem) .. ' ' .. libtp_stem.api_arg)",
    )
    .unwrap();
    assert_eq!(line_after(&host, 3, "stem="), "table libtp_stem");
    host.shutdown();

    let data = temp_dir("noopener");
    let host = load("libtp_noopener", &data);
    host.start_computer(
        0,
        "print('errors=' .. tostring(_CCPC_PLUGIN_ERRORS.libtp_noopener) .. ' ' .. type(libtp_noopener))",
    )
    .unwrap();
    assert_eq!(line_after(&host, 0, "errors="), "Missing API opener nil");
    host.shutdown();
}

#[test]
fn providers_are_drained_in_one_batch_and_empty_names_are_discarded() {
    let data = temp_dir("batch");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        r#"
        os.queueEvent("local", 42)
        testplug.queue_batch({"a", "", "b", "c"})
        for i = 1, 4 do
            local ev, t = os.pullEvent()
            testplug.pulled()
            if type(t) == "table" then
                print("got " .. ev .. " seq=" .. t.seq .. " name=" .. t.name .. " drained_at=" .. t.drained_at)
            else
                print("got " .. ev .. " " .. tostring(t))
            end
        end
        print("stats calls=" .. testplug.stats().calls)
        "#,
    )
    .unwrap();
    line_after(&host, 0, "stats");
    let got: Vec<String> = host
        .output(0)
        .into_iter()
        .filter(|l| l.starts_with("got "))
        .collect();
    assert_eq!(
        got,
        [
            "got local 42",
            // All three providers ran in one drain, before the program had
            // received any of their events; the "" one was dropped without
            // shifting the values of the next.
            "got a seq=1 name=a drained_at=0",
            "got b seq=3 name=b drained_at=0",
            "got c seq=4 name=c drained_at=0",
        ]
    );
    assert_eq!(line_after(&host, 0, "stats calls="), "4");
    host.shutdown();
}

#[test]
fn filters_discard_other_events_but_not_terminate() {
    let data = temp_dir("filter");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        r#"
        os.queueEvent("a", 1) os.queueEvent("b", 2) os.queueEvent("c", 3)
        print("filtered " .. table.concat({os.pullEvent("c")}, ","))
        os.queueEvent("d", 4)
        print("next " .. table.concat({os.pullEventRaw()}, ","))
        print("waiting")
        print("raw " .. os.pullEventRaw("never"))
        local ok, err = pcall(os.pullEvent, "never")
        print("pullEvent " .. tostring(ok) .. " " .. tostring(err))
        "#,
    )
    .unwrap();
    assert_eq!(line_after(&host, 0, "filtered "), "c,3");
    assert_eq!(line_after(&host, 0, "next "), "d,4");
    line_after(&host, 0, "waiting");
    host.queue_terminate(0);
    assert_eq!(line_after(&host, 0, "raw "), "terminate");
    host.queue_terminate(0);
    assert_eq!(line_after(&host, 0, "pullEvent "), "false Terminated");
    host.shutdown();
}

#[test]
fn timers_alarms_and_the_clock() {
    let data = temp_dir("timers");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        r#"
        print("time0 " .. os.time())
        local t1 = os.startTimer(0.05)
        local t2 = os.startTimer(0.02)
        os.cancelTimer(t2)
        local ev, id = os.pullEvent("timer")
        print("timer " .. tostring(id == t1))
        local start = os.clock()
        sleep(0.1)
        print("slept " .. tostring(os.clock() - start >= 0.09))
        print("range " .. tostring(select(2, pcall(os.setAlarm, 24))))
        print("neg " .. tostring(select(2, pcall(os.setAlarm, -1))))
        local target = os.time() + 0.002
        local a = os.setAlarm(target)
        local t0 = os.clock()
        local ev2, id2 = os.pullEvent("alarm")
        print("alarm " .. tostring(id2 == a) .. " " .. tostring(os.clock() - t0 < 1))
        print("epoch " .. tostring(math.abs(os.epoch("utc") - os.epoch("utc")) < 1000))
        print("argerr " .. select(2, pcall(os.startTimer, "x")))
        "#,
    )
    .unwrap();
    let t0: f64 = line_after(&host, 0, "time0 ").parse().unwrap();
    assert!((6.0..6.05).contains(&t0), "os.time() at boot: {t0}");
    assert!(line_after(&host, 0, "timer ").starts_with("true"));
    assert_eq!(line_after(&host, 0, "slept "), "true");
    assert_eq!(line_after(&host, 0, "range "), "Number out of range");
    assert_eq!(line_after(&host, 0, "neg "), "Number out of range");
    assert_eq!(line_after(&host, 0, "alarm "), "true true");
    assert_eq!(line_after(&host, 0, "epoch "), "true");
    assert_eq!(
        line_after(&host, 0, "argerr "),
        "bad argument #1 to 'startTimer' (number expected, got string)"
    );
    host.shutdown();
}

#[test]
fn reboot_reruns_openers_on_a_new_state_and_keeps_queued_providers() {
    let data = temp_dir("reboot");
    let host = load("libtp_main", &data);
    host.start_computer(
        2,
        r#"
        print("boot opens=" .. testplug.opens .. " running_at_open=" .. testplug.running_at_open)
        if testplug.opens == 1 then
            testplug.gc_probe()
            testplug.queue_batch({"carry"})
            os.reboot()
            print("not reached")
        else
            local ev, t = os.pullEvent()
            print("after reboot " .. ev .. " " .. type(t) .. " " .. t.comp)
            os.shutdown()
        end
        "#,
    )
    .unwrap();
    assert!(host.wait_until_off(2, T));
    let out = host.output(2);
    assert_eq!(
        out,
        [
            "boot opens=1 running_at_open=1",
            // The emulator keeps running == 2 until the new BIOS is loaded.
            "boot opens=2 running_at_open=2",
            "after reboot carry table 2",
        ]
    );
    assert_eq!(host.boot_count(2), 2);
    // lua_close ran __gc of the first state's userdata.
    assert!(plugin_log(&data).iter().any(|l| l == "gc 2"));
    // Host-side reboot works too, and the computer can be restarted once off.
    host.start_computer(2, "print('again ' .. testplug.opens)")
        .unwrap();
    assert_eq!(line_after(&host, 2, "again "), "3");
    host.reboot_computer(2);
    let deadline = Instant::now() + T;
    while host.boot_count(2) < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(host.boot_count(2), 4);
    host.shutdown();
}

#[test]
fn final_shutdown_frees_the_computer_and_destroys_its_queued_providers() {
    let data = temp_dir("free");
    let host = load("libtp_main", &data);
    host.start_computer(
        1,
        r#"
        testplug.save_comp()
        testplug.queue_batch({"x", "y"})
        os.shutdown()
        "#,
    )
    .unwrap();
    assert!(host.wait_until_off(1, T));
    assert!(!host.is_on(1));
    host.start_computer(
        0,
        r#"
        local s = testplug.stats()
        print("before calls=" .. s.calls .. " uncalled=" .. s.destroyed_uncalled)
        testplug.queue_to_saved("ghost")
        print("byid " .. tostring(testplug.queue_to_id(1, "ghost")))
        s = testplug.stats()
        print("after calls=" .. s.calls .. " uncalled=" .. s.destroyed_uncalled)
        "#,
    )
    .unwrap();
    // The two providers queued before the shutdown were destroyed uncalled.
    assert_eq!(line_after(&host, 0, "before "), "calls=0 uncalled=2");
    // getComputerById no longer finds it.
    assert_eq!(line_after(&host, 0, "byid "), "false");
    // queueEvent on the freed computer did nothing (the plugin's own copy of
    // the provider died uncalled).
    assert_eq!(line_after(&host, 0, "after "), "calls=0 uncalled=3");
    host.shutdown();
}

#[test]
fn outside_shutdown_wakes_a_waiting_computer_and_errors_keep_it_on() {
    let data = temp_dir("wake");
    let host = load("libtp_main", &data);
    host.start_computer(0, "print('ready') error('boom')")
        .unwrap();
    let line = host.wait_for_line(0, "boom", T).expect("error printed");
    assert!(line.contains("startup.lua:1: boom"), "{line}");
    // Like the shell prompt: still on, and terminate does not stop it.
    host.queue_terminate(0);
    std::thread::sleep(Duration::from_millis(50));
    assert!(host.is_on(0));
    // Nothing else would wake it: going off at all shows the wake-up.
    host.shutdown_computer(0);
    assert!(host.wait_until_off(0, T));
    host.shutdown();
}

#[test]
fn parallel_resumes_each_routine_with_matching_events() {
    let data = temp_dir("parallel");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        r#"
        local log = {}
        local winner = parallel.waitForAny(
            function() local _, v = os.pullEvent("b") log[#log + 1] = "b" .. v end,
            function() local _, v = os.pullEvent("a") log[#log + 1] = "a" .. v
                       local _, w = os.pullEvent("a") log[#log + 1] = "a" .. w end,
            function() os.queueEvent("a", 1) os.queueEvent("b", 2) os.queueEvent("a", 3)
                       while true do os.pullEvent("never") end end)
        print("any " .. winner .. " " .. table.concat(log, ","))
        log = {}
        parallel.waitForAll(
            function() sleep(0.02) log[#log + 1] = "s" end,
            function() local _, v = os.pullEvent("x") log[#log + 1] = "x" .. v end,
            function() os.queueEvent("x", 9) end)
        print("all " .. table.concat(log, ","))
        "#,
    )
    .unwrap();
    assert_eq!(line_after(&host, 0, "any "), "1 a1,b2");
    assert_eq!(line_after(&host, 0, "all "), "x9,s");
    host.shutdown();
}

#[test]
fn a_computer_started_by_the_plugin_runs_the_default_program() {
    let data = temp_dir("startcomp");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        r#"
        if os.getComputerID() == 0 then
            print("started " .. tostring(testplug.start_computer(7)))
        else
            print("I am " .. os.getComputerID())
        end
        "#,
    )
    .unwrap();
    assert_eq!(line_after(&host, 0, "started "), "true");
    assert_eq!(line_after(&host, 7, "I am "), "7");
    assert!(host.computer_ids().contains(&7));
    host.shutdown();
}

#[test]
fn a_throwing_provider_crashes_only_its_computer() {
    let data = temp_dir("throw");
    let host = load("libtp_main", &data);
    host.start_computer(
        0,
        "testplug.throwing_provider() os.pullEvent() print('unreachable')",
    )
    .unwrap();
    assert!(host.wait_until_off(0, T));
    assert_eq!(host.exit_code(0), Some(1));
    assert!(!host.output(0).iter().any(|l| l.contains("unreachable")));
    host.shutdown();
}

#[test]
fn a_second_host_on_the_same_thread_is_refused() {
    let data = temp_dir("second");
    let host = load("libtp_main", &data);
    let err = Host::load(HostConfig {
        plugin: fixture("libtp_main"),
        data_dir: data.clone(),
        echo: false,
    })
    .err()
    .unwrap();
    assert_eq!(err, HostError::HostAlreadyLoaded);
    host.shutdown();
}

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_craftos-host"))
}

fn script(tag: &str, text: &str) -> PathBuf {
    let dir = temp_dir(tag);
    let p = dir.join("script.lua");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn cli_runs_computers_and_exits_with_the_highest_shutdown_code() {
    let s = script(
        "cli",
        "print('hi ' .. os.getComputerID()) os.shutdown(os.getComputerID() + 3)",
    );
    let out = cli()
        .arg("--plugin")
        .arg(fixture("libtp_main"))
        .args(["--computers", "0,1,2", "--timeout", "20", "--script"])
        .arg(&s)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(5),
        "stdout {stdout} stderr {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for id in 0..3 {
        assert!(stdout.contains(&format!("[{id}] hi {id}")), "{stdout}");
    }
}

#[test]
fn cli_times_out_with_124() {
    let s = script(
        "cli-timeout",
        "print('waiting') while true do os.pullEvent() end",
    );
    let out = cli()
        .arg("--plugin")
        .arg(fixture("libtp_main"))
        .args(["--timeout", "0.3", "--quiet", "--script"])
        .arg(&s)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timeout"));
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("waiting"),
        "--quiet"
    );
}

#[test]
fn an_opener_that_raises_crashes_the_host_visibly() {
    let s = script("cli-raise", "print('should not run')");
    let out = cli()
        .arg("--plugin")
        .arg(fixture("libtp_raise"))
        .args(["--timeout", "20", "--script"])
        .arg(&s)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        aborted(&out.status),
        "status {:?}, stderr {stderr}",
        out.status
    );
    assert!(
        stderr.contains("LUA PANIC") && stderr.contains("opener refuses to open"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("should not run"));
}

/// Whether the process ended by `std::process::abort`.
#[cfg(unix)]
fn aborted(status: &std::process::ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(6) // SIGABRT
}

/// Whether the process ended by `std::process::abort` (`__fastfail`).
#[cfg(windows)]
fn aborted(status: &std::process::ExitStatus) -> bool {
    status.code() == Some(0xC000_0409_u32 as i32) // STATUS_STACK_BUFFER_OVERRUN
}
