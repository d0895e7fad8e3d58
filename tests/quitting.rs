//! Quitting with many timers pending and stopped computers: the host shuts
//! down promptly, plugin_deinit returns, and no plugin thread is left.
//! Alone in its test binary, so no other test's host runs beside it.
mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::*;

const TIMER_COMPUTERS: i32 = 16;
const STOPPED_COMPUTERS: i32 = 4;
const ARM_4096_TIMERS: &str = r#"
for i = 1, 4096 do syscall.timer(3600 + i) end
print("armed")
while true do os.pullEventRaw() end
"#;
/// Stops itself (a signal to oneself takes effect before `kill` returns)
/// with timers expiring meanwhile; nothing after the stop may print.
const STOP_WITH_TIMERS: &str = r#"
for i = 1, 4096 do syscall.timer(i % 2 == 0 and 0 or 3600) end
print("stopping")
syscall.kill(syscall.getpid(), 19)
os.pullEventRaw()
print("resumed")
"#;

fn plugin_threads() -> Vec<String> {
    craftos_host::live_thread_names()
        .into_iter()
        .filter(|name| name.starts_with("phoenix"))
        .collect()
}

#[test]
fn quitting_with_4096_timers_on_many_computers_and_stopped_ones_is_prompt() {
    let mut test_host = TestHost::new("quitting", None);
    let host = test_host.host.take().unwrap();
    for id in 0..TIMER_COMPUTERS {
        host.start_computer(id, ARM_4096_TIMERS).unwrap();
    }
    let stopped = TIMER_COMPUTERS..TIMER_COMPUTERS + STOPPED_COMPUTERS;
    for id in stopped.clone() {
        host.start_computer(id, STOP_WITH_TIMERS).unwrap();
    }
    for id in 0..TIMER_COMPUTERS {
        assert!(
            host.wait_for_line(id, "armed", 60 * SECOND).is_some(),
            "computer {id}: {:?}",
            host.output(id)
        );
    }
    for id in stopped.clone() {
        assert!(
            host.wait_for_line(id, "stopping", 60 * SECOND).is_some(),
            "computer {id}"
        );
    }
    // The timer thread names itself once it runs: wait for that.
    let deadline = Instant::now() + 30 * SECOND;
    while plugin_threads().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !plugin_threads().is_empty(),
        "the timer thread should be running"
    );

    for id in stopped {
        assert_eq!(
            host.output(id).last().map(String::as_str),
            Some("stopping"),
            "computer {id} runs on after stopping itself"
        );
    }

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(host.shutdown_timed()));
    // A hang guard only: the figures are printed, not asserted.
    let times = finished
        .recv_timeout(Duration::from_secs(120))
        .expect("the host did not finish shutting down within 120 s");
    println!(
        "quitting with {TIMER_COMPUTERS} computers x 4096 timers and {STOPPED_COMPUTERS} stopped \
         computers: computers off {:.1} ms, plugin_deinit {:.2} ms, whole shutdown {:.1} ms",
        times.computers_off.as_secs_f64() * 1e3,
        times.plugin_deinit.as_secs_f64() * 1e3,
        times.total.as_secs_f64() * 1e3
    );
    assert_eq!(
        plugin_threads(),
        Vec::<String>::new(),
        "plugin threads left"
    );
    drop(test_host);
}
