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
