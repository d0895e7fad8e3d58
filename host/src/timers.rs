//! Native timers and alarms (`os.startTimer`, `os.setAlarm`), fired by one
//! host timer thread through the event-provider mechanism, like the
//! emulator's SDL timers (`notifyEvent` → `queueEvent(comp, timer_event)`).
//!
//! As in CraftOS-PC v2.8.3: timer and alarm IDs share one process-wide
//! counter; a timer cancelled after it fired but before its event was
//! delivered makes its provider return an empty name (the event is dropped);
//! timers survive a reboot of their computer (the emulator cancels them only
//! when the computer object is freed).

use crate::emu::{self, Computer};
use crate::lua_ffi::{self, lua_State};
use std::collections::{BTreeSet, HashMap};
use std::ffi::{c_char, c_void};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct TimerData {
    comp: usize,
    alarm: bool,
    fired: bool,
    deadline: Instant,
}

#[derive(Default)]
struct TimerState {
    stop: bool,
    next_id: i32,
    schedule: BTreeSet<(Instant, i32)>,
    running: HashMap<i32, TimerData>,
}

pub struct TimerService {
    state: Mutex<TimerState>,
    cv: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl TimerService {
    pub fn new() -> Arc<TimerService> {
        let svc = Arc::new(TimerService {
            state: Mutex::new(TimerState::default()),
            cv: Condvar::new(),
            thread: Mutex::new(None),
        });
        let worker = Arc::clone(&svc);
        let handle = std::thread::Builder::new()
            .name("ccpc-timers".into())
            .spawn(move || worker.run())
            .expect("spawn timer thread");
        *svc.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        svc
    }

    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a timer (or alarm) for `comp`; returns its ID.
    pub fn start(&self, comp: *mut Computer, delay: Duration, alarm: bool) -> i32 {
        let mut st = self.lock();
        st.next_id = st.next_id.wrapping_add(1).max(1);
        let id = st.next_id;
        let deadline = Instant::now() + delay;
        st.schedule.insert((deadline, id));
        st.running.insert(
            id,
            TimerData {
                comp: comp as usize,
                alarm,
                fired: false,
                deadline,
            },
        );
        drop(st);
        self.cv.notify_all();
        id
    }

    /// `os.cancelTimer` / `os.cancelAlarm`: any ID, as in the emulator.
    pub fn cancel(&self, id: i32) {
        let mut st = self.lock();
        if let Some(d) = st.running.remove(&id) {
            st.schedule.remove(&(d.deadline, id));
        }
    }

    /// The computer is being freed: its timers can never fire again.
    pub fn forget_computer(&self, comp: *mut Computer) {
        let mut st = self.lock();
        let ids: Vec<(Instant, i32)> = st
            .running
            .iter()
            .filter(|(_, d)| d.comp == comp as usize)
            .map(|(id, d)| (d.deadline, *id))
            .collect();
        for key in ids {
            st.running.remove(&key.1);
            st.schedule.remove(&key);
        }
    }

    pub fn stop(&self) {
        self.lock().stop = true;
        self.cv.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    fn run(self: Arc<Self>) {
        let ctx = Arc::as_ptr(&self) as *mut c_void;
        let mut st = self.lock();
        loop {
            if st.stop {
                return;
            }
            let now = Instant::now();
            match st.schedule.first().copied() {
                Some((deadline, id)) if deadline <= now => {
                    st.schedule.remove(&(deadline, id));
                    if let Some(d) = st.running.get_mut(&id) {
                        d.fired = true;
                        let comp = d.comp as *mut Computer;
                        // SAFETY: `comp` is a computer that is not freed yet
                        // (forget_computer runs before hc_computer_free and
                        // takes this lock), and computer objects stay
                        // allocated until the host ends; `ctx` points to this
                        // service, which outlives every computer thread that
                        // can call the provider.
                        unsafe { emu::hc_queue_rust_event(comp, timer_provider, ctx, id as i64) };
                    }
                }
                Some((deadline, _)) => {
                    st = self
                        .cv
                        .wait_timeout(st, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => {
                    st = self.cv.wait(st).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }
}

/// The provider of a fired timer (the emulator's `timer_event`): pushes the
/// ID and names the event, or discards it when the timer was cancelled.
unsafe extern "C" fn timer_provider(
    l: *mut lua_State,
    ctx: *mut c_void,
    data: i64,
) -> *const c_char {
    // SAFETY: `ctx` is the TimerService that queued this provider; it lives
    // until every computer thread has been joined (see Host::shutdown).
    let svc = unsafe { &*(ctx as *const TimerService) };
    let id = data as i32;
    let mut st = svc.lock();
    match st.running.get(&id) {
        Some(d) if d.fired => {
            let alarm = d.alarm;
            st.running.remove(&id);
            drop(st);
            // SAFETY: `l` is the fresh parameter thread the host handed to
            // this provider, with room for at least 4 values.
            unsafe { lua_ffi::lua_pushinteger(l, id as isize) };
            if alarm {
                c"alarm".as_ptr()
            } else {
                c"timer".as_ptr()
            }
        }
        _ => c"".as_ptr(),
    }
}
