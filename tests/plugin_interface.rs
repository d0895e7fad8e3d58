//! The plugin against the emulator's interface (issue: plugin foundation).
mod support;

use craftos_host::artifact::{self, Format};
use std::time::Duration;
use support::*;

#[test]
fn the_emulator_accepts_the_plugin_as_the_syscall_api() {
    let host = TestHost::new("accept", None);
    let info = host.host().plugin();
    assert_eq!(info.abi_version, 12);
    assert_eq!(info.minimum_structure_version, 0);
    assert_eq!(info.api_name, "syscall");
    assert_eq!(info.luaopen_name, "luaopen_syscall");
    assert_eq!(info.failure_reason, "");
}

const REPORT_BOOT: &str = r#"
print(("boot pid=%s syscall=%s slot1=%s"):format(
    tostring(syscall and syscall.getpid()), type(syscall), type(debug.getregistry()[1])))
"#;

#[test]
fn every_computer_gets_syscall_on_every_boot() {
    let host = TestHost::new("every-boot", None);
    for id in [0, 1, 2] {
        host.start(id, REPORT_BOOT);
    }
    for id in [0, 1, 2] {
        let expected = format!("boot pid={id} syscall=table slot1=userdata");
        assert!(
            host.host()
                .wait_for_line(id, &expected, 10 * SECOND)
                .is_some(),
            "computer {id}: {:?}",
            host.host().output(id)
        );
    }
    host.host().reboot_computer(1);
    let rebooted = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        host.host()
            .output(1)
            .iter()
            .filter(|l| l.starts_with("boot pid=1 syscall=table slot1=userdata"))
            .count()
            == 2
    });
    assert!(rebooted, "after reboot: {:?}", host.host().output(1));
    assert_eq!(host.host().boot_count(1), 2);
}

#[test]
fn an_event_crosses_from_one_computer_to_another() {
    run_lua_test("pipe.lua", &[0, 1], &[0, 1], 3);
}

#[test]
fn the_library_exports_only_the_entry_points_and_brings_no_lua() {
    let plugin = artifact::inspect(&plugin_path()).expect("the plugin is a readable library");
    let native = if cfg!(windows) {
        Format::Pe
    } else if cfg!(target_os = "macos") {
        Format::MachO
    } else {
        Format::Elf
    };
    assert_eq!(plugin.format, native);
    assert_eq!(plugin.own_exports(), artifact::ENTRY_POINTS);
    for check in plugin.plugin_checks() {
        assert!(check.passed, "{}: {}", check.name, check.detail);
    }
}

#[test]
fn the_inspector_rejects_a_library_that_is_not_a_plugin() {
    // This test program exports nothing of the plugin's and needs no Lua
    // from elsewhere: the checks must say so.
    let exe = std::env::current_exe().unwrap();
    let program = artifact::inspect(&exe).expect("the test program is readable");
    let failed: Vec<String> = program
        .plugin_checks()
        .into_iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect();
    assert!(
        failed.contains(&"exports exactly the entry points".to_owned()),
        "{failed:?}"
    );
}

const USERS: &str = r#"{ "default_user": "guest", "users": { "0": "root" } }"#;
const REPORT_USER: &str = r#"print("user=" .. syscall.getuser())"#;

#[test]
fn a_data_folder_with_a_non_ascii_name_is_read() {
    // getBasePath() is std::wstring on Windows, converted to UTF-8 by the
    // shim; raw bytes elsewhere. Either way the users file must be found.
    let host = TestHost::new("données-ü-日本", Some(USERS));
    host.start(0, REPORT_USER);
    let line = host.host().wait_for_line(0, "user=", 10 * SECOND);
    assert_eq!(line.as_deref(), Some("user=root"));
}

#[cfg(unix)]
#[test]
fn a_data_folder_whose_name_is_not_utf8_is_read() {
    use std::os::unix::ffi::OsStrExt;
    // Latin-1 "é": a valid Unix file name, invalid UTF-8; a lossy
    // conversion would look for the users file elsewhere.
    let name = std::ffi::OsStr::from_bytes(b"phoenix-events-test-latin1-\xe9");
    let data_dir = std::env::temp_dir()
        .join(name)
        .join(std::process::id().to_string());
    std::fs::create_dir_all(data_dir.join("config")).unwrap();
    std::fs::write(data_dir.join("config/phoenix-events.json"), USERS).unwrap();
    let host = Host::load(HostConfig {
        plugin: plugin_path(),
        data_dir: data_dir.clone(),
        echo: false,
    })
    .expect("the host accepts the plugin");
    host.start_computer(0, REPORT_USER).unwrap();
    let line = host.wait_for_line(0, "user=", 10 * SECOND);
    host.shutdown();
    let _ = std::fs::remove_dir_all(&data_dir);
    assert_eq!(line.as_deref(), Some("user=root"));
}
