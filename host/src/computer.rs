//! One computer: its OS thread, its Lua state per incarnation, the event loop
//! (the emulator's `runComputer` / `getNextEvent` / `termGetEvent`) and the
//! native functions of its Lua environment.

use crate::emu::{self, Computer, HcString};
use crate::lua_ffi::{self as lua, lua_State};
use crate::HostInner;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, c_void, CString};
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The host's mini BIOS (written for this project).
const BIOS: &str = include_str!("../lua/bios.lua");

/// Internal event queue limit of the emulator (`QUEUE_LIMIT`).
const QUEUE_LIMIT: usize = 256;

/// What the rest of the host sees of a computer ID (lives across reboots and
/// restarts of that ID).
pub(crate) struct ComputerShared {
    pub id: i32,
    echo: bool,
    state: Mutex<SharedState>,
    cv: Condvar,
}

#[derive(Default)]
pub(crate) struct SharedState {
    pub lines: Vec<String>,
    partial: Vec<u8>,
    pub on: bool,
    pub boot_count: u32,
    pub exit_code: Option<i32>,
    label: Option<String>,
}

impl ComputerShared {
    pub fn new(id: i32, echo: bool) -> ComputerShared {
        ComputerShared {
            id,
            echo,
            state: Mutex::new(SharedState::default()),
            cv: Condvar::new(),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, SharedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn notify(&self) {
        self.cv.notify_all();
    }

    /// Waits on the state's condition variable until `done` holds or the
    /// deadline passes; returns the final guard.
    pub fn wait_until<'a, F>(
        &'a self,
        deadline: Instant,
        mut done: F,
    ) -> MutexGuard<'a, SharedState>
    where
        F: FnMut(&SharedState) -> bool,
    {
        let mut st = self.lock();
        loop {
            if done(&st) {
                return st;
            }
            let now = Instant::now();
            if now >= deadline {
                return st;
            }
            st = self
                .cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Appends terminal output; complete lines are recorded (and echoed).
    fn write(&self, bytes: &[u8]) {
        let mut st = self.lock();
        let mut new_lines = Vec::new();
        for &b in bytes {
            if b == b'\n' {
                let line = String::from_utf8_lossy(&st.partial).into_owned();
                st.partial.clear();
                new_lines.push(line);
            } else {
                st.partial.push(b);
            }
        }
        self.commit(st, new_lines);
    }

    /// Ends a pending partial line (at the end of an incarnation).
    fn flush(&self) {
        let mut st = self.lock();
        if st.partial.is_empty() {
            return;
        }
        let line = String::from_utf8_lossy(&st.partial).into_owned();
        st.partial.clear();
        self.commit(st, vec![line]);
    }

    fn commit(&self, mut st: MutexGuard<'_, SharedState>, new_lines: Vec<String>) {
        if new_lines.is_empty() {
            return;
        }
        if self.echo {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for l in &new_lines {
                let _ = writeln!(out, "[{}] {}", self.id, l);
            }
            let _ = out.flush();
        }
        st.lines.extend(new_lines);
        drop(st);
        self.notify();
    }

    fn set_on(&self, on: bool) {
        self.lock().on = on;
        self.notify();
    }
}

/// A raw computer pointer that may cross threads (the object is C++-owned and
/// internally synchronised; see emulator.cpp).
#[derive(Clone, Copy)]
pub(crate) struct CompPtr(pub *mut Computer);
// SAFETY: the C++ computer object is only mutated through its own mutex or
// atomics (running), and stays allocated until the host ends.
unsafe impl Send for CompPtr {}

/// Per-computer runtime, owned by the computer's thread.
struct ComputerRt {
    host: Arc<HostInner>,
    shared: Arc<ComputerShared>,
    comp: *mut Computer,
    program: String,
    /// Internal event queue of the current incarnation (names; the values
    /// wait in `param_queue`, one thread per event).
    event_queue: RefCell<VecDeque<Vec<u8>>>,
    param_queue: Cell<*mut lua_State>,
    system_start: Cell<Instant>,
}

thread_local! {
    static CURRENT: Cell<*const ComputerRt> = const { Cell::new(std::ptr::null()) };
}

/// Why an incarnation ended abnormally.
enum Fatal {
    Exception(String),
}

fn running(comp: *mut Computer) -> c_int {
    // SAFETY: `comp` is a live computer object (never freed while its thread
    // runs); the read is atomic on the C++ side.
    unsafe { emu::hc_get_running(comp) }
}

fn set_running(comp: *mut Computer, value: c_int) {
    // SAFETY: as in `running`; the write is atomic and wakes waiters.
    unsafe { emu::hc_set_running(comp, value) }
}

fn has_provider(comp: *mut Computer) -> bool {
    // SAFETY: `comp` is a live computer object; hc_has_provider locks its
    // provider queue.
    unsafe { emu::hc_has_provider(comp) != 0 }
}

/// Creates the computer object and starts its thread. Returns the object.
pub(crate) fn spawn(
    host: &Arc<HostInner>,
    shared: Arc<ComputerShared>,
    program: String,
) -> std::io::Result<*mut Computer> {
    let id = shared.id;
    // SAFETY: plain allocation on the C++ side; the object is added to the
    // computers list and stays allocated until the host ends.
    let comp = unsafe { emu::hc_computer_new(id, std::ptr::null_mut()) };
    let ptr = CompPtr(comp);
    let host2 = Arc::clone(host);
    shared.set_on(true);
    let shared2 = Arc::clone(&shared);
    let spawned = std::thread::Builder::new()
        .name(format!("Computer {id}"))
        .stack_size(8 << 20)
        .spawn(move || {
            let ptr = ptr;
            computer_thread(host2, shared2, ptr.0, program)
        });
    match spawned {
        Ok(handle) => {
            host.add_thread(handle);
            Ok(comp)
        }
        Err(e) => {
            // SAFETY: the computer never ran; free it as a final shutdown.
            unsafe { emu::hc_computer_free(comp) };
            shared.set_on(false);
            Err(e)
        }
    }
}

fn computer_thread(
    host: Arc<HostInner>,
    shared: Arc<ComputerShared>,
    comp: *mut Computer,
    program: String,
) {
    let rt = Box::new(ComputerRt {
        host,
        shared,
        comp,
        program,
        event_queue: RefCell::new(VecDeque::new()),
        param_queue: Cell::new(std::ptr::null_mut()),
        system_start: Cell::new(Instant::now()),
    });
    CURRENT.with(|c| c.set(&*rt as *const ComputerRt));
    // runComputer: `self->running = 1; while (self->running) { ... }`. The
    // object was made with running = 1 before it was listed; setting it here
    // could undo a shutdown of everything that ran in between (the host then
    // waited forever to join this thread). A computer listed after that
    // shutdown sees the stopping flag, which was set before it.
    if rt.host.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        set_running(comp, 0);
    }
    while running(comp) != 0 {
        if let Err(Fatal::Exception(msg)) = incarnation(&rt) {
            eprintln!(
                "Uncaught exception while executing computer {}: {msg}",
                rt.shared.id
            );
            let mut st = rt.shared.lock();
            st.exit_code = Some(st.exit_code.unwrap_or(0).max(1));
            drop(st);
            set_running(comp, 0);
        }
    }
    // Final shutdown: timers invalidated, then the computer is marked freed
    // and its queued providers destroyed without being called.
    rt.host.timers.forget_computer(comp);
    // SAFETY: the computer's Lua state is closed; nothing on this thread uses
    // `comp` after this call.
    unsafe { emu::hc_computer_free(comp) };
    CURRENT.with(|c| c.set(std::ptr::null()));
    let shared = Arc::clone(&rt.shared);
    drop(rt);
    shared.set_on(false);
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', "?")).expect("no NUL"))
}

/// One life of the computer: new Lua state, plugins, BIOS, event loop,
/// `lua_close`.
fn incarnation(rt: &ComputerRt) -> Result<(), Fatal> {
    let comp = rt.comp;
    {
        let mut st = rt.shared.lock();
        st.boot_count += 1;
    }
    rt.system_start.set(Instant::now());
    // SAFETY: creating a fresh state; checked for NULL below.
    let l = unsafe { lua::luaL_newstate() };
    if l.is_null() {
        return Err(Fatal::Exception("could not create a Lua state".into()));
    }
    // SAFETY: `l` is a fresh valid state used only on this thread; every
    // call below follows the Lua 5.2 C API contract (stack indices refer to
    // values pushed here). Errors in the unprotected opener call reach the
    // panic handler, which aborts the process (never unwinds into Rust).
    let coro = unsafe {
        emu::hc_set_L(comp, l);
        let coro = lua::lua_newthread(l);
        let pq = lua::lua_newthread(l);
        rt.param_queue.set(pq);
        rt.event_queue.borrow_mut().clear();

        // Push reference to the computer to the registry, at integer key 1,
        // overwriting Lua 5.2's LUA_RIDX_MAINTHREAD exactly as the emulator.
        lua::lua_pushlightuserdata(l, comp.cast::<c_void>());
        lua::lua_rawseti(l, lua::LUA_REGISTRYINDEX, lua::LUA_RIDX_MAINTHREAD);

        lua::luaL_openlibs(l);
        lua::lua_atpanic(l, host_panic);
        install_natives(l);
        load_plugins(rt, l);
        finish_globals(rt, l);

        let name = c"@bios.lua";
        let status = lua::luaL_loadbufferx(
            coro,
            BIOS.as_ptr().cast::<c_char>(),
            BIOS.len(),
            name.as_ptr(),
            c"t".as_ptr(),
        );
        if status != lua::LUA_OK {
            let msg = lua::to_string_lossy(coro, -1).unwrap_or_default();
            eprintln!("Couldn't load BIOS: {msg}");
            set_running(comp, 0);
            lua::lua_close(l);
            emu::hc_set_L(comp, std::ptr::null_mut());
            return Ok(());
        }
        coro
    };

    // `self->running = 1` before the resume loop. (The emulator overwrites a
    // shutdown requested during boot; this host keeps it, so only a reboot
    // state turns into "on".)
    if running(comp) == 2 {
        set_running(comp, 1);
    }

    let mut result = Ok(());
    let mut status = lua::LUA_YIELD;
    let mut narg: c_int = 0;
    while status == lua::LUA_YIELD && running(comp) == 1 {
        // SAFETY: `coro` is a thread of the live state `l`, suspended (or not
        // started) with `narg` values on top.
        status = unsafe { lua::lua_resume(coro, std::ptr::null_mut(), narg) };
        if status == lua::LUA_YIELD {
            // SAFETY: `coro` is suspended in a yield; reading its stack top is
            // allowed.
            let filter = unsafe {
                if lua::lua_gettop(coro) > 0 && lua::lua_isstring(coro, -1) != 0 {
                    lua_bytes(coro, -1)
                } else {
                    None
                }
            };
            match get_next_event(rt, coro, filter.as_deref()) {
                Ok(n) => narg = n,
                Err(f) => {
                    result = Err(f);
                    break;
                }
            }
        } else if status != lua::LUA_OK && running(comp) == 1 {
            set_running(comp, 0);
            // SAFETY: after a failed resume the error object is on top.
            let msg = unsafe { lua::to_string_lossy(coro, -1) }
                .unwrap_or_else(|| "(non-string error)".into());
            eprintln!(
                "craftos-host: computer {}: error in bios.lua: {msg}",
                rt.shared.id
            );
        } else if running(comp) == 1 {
            set_running(comp, 0);
        }
    }
    rt.shared.flush();
    // SAFETY: closing the state on its own thread runs the __gc metamethods;
    // nothing refers to `l` or its threads afterwards.
    unsafe {
        lua::lua_close(l);
        emu::hc_set_L(comp, std::ptr::null_mut());
    }
    rt.param_queue.set(std::ptr::null_mut());
    rt.event_queue.borrow_mut().clear();
    result
}

/// The string at `idx` as bytes (strings and numbers).
///
/// # Safety
/// `l` valid, `idx` acceptable.
unsafe fn lua_bytes(l: *mut lua_State, idx: c_int) -> Option<Vec<u8>> {
    let mut len = 0usize;
    // SAFETY: per the caller; the returned buffer is valid while the value
    // is on the stack, and it is copied at once.
    unsafe {
        let p = lua::lua_tolstring(l, idx, &mut len);
        if p.is_null() {
            None
        } else {
            Some(std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        }
    }
}

/// The emulator's `loadPlugins(comp)`: for each accepted plugin, call its
/// opener unprotected with the API name; the result becomes the global.
///
/// # Safety
/// `l` is the computer's main state, on its thread.
unsafe fn load_plugins(rt: &ComputerRt, l: *mut lua_State) {
    for plugin in rt.host.plugins.iter() {
        let api = cstr(&plugin.api_name);
        // SAFETY: valid state on its thread; an error raised by the opener is
        // handled by the panic handler (abort), as documented.
        unsafe {
            match plugin.opener {
                None => {
                    eprintln!(
                        "Error loading plugin {}: Missing API opener",
                        plugin.api_name
                    );
                    lua::lua_getglobal(l, c"_CCPC_PLUGIN_ERRORS".as_ptr());
                    if lua::lua_type(l, -1) == lua::LUA_TNIL {
                        lua::lua_pop(l, 1);
                        lua::lua_newtable(l);
                        lua::lua_pushvalue(l, -1);
                        lua::lua_setglobal(l, c"_CCPC_PLUGIN_ERRORS".as_ptr());
                    }
                    lua::lua_pushstring(l, api.as_ptr());
                    lua::lua_pushstring(l, c"Missing API opener".as_ptr());
                    lua::lua_settable(l, -3);
                    lua::lua_pop(l, 1);
                }
                Some(opener) => {
                    lua::lua_pushcfunction(l, opener);
                    lua::lua_pushstring(l, api.as_ptr());
                    lua::lua_call(l, 1, 1);
                    lua::lua_setglobal(l, api.as_ptr());
                }
            }
        }
    }
}

/// Globals set after the plugins, as runComputer does.
///
/// # Safety
/// `l` is the computer's main state, on its thread.
unsafe fn finish_globals(rt: &ComputerRt, l: *mut lua_State) {
    // SAFETY: valid state on its thread; only pushes and sets globals.
    unsafe {
        for name in [c"dofile", c"loadfile", c"print"] {
            lua::lua_pushnil(l);
            lua::lua_setglobal(l, name.as_ptr());
        }
        lua::lua_pushstring(l, c"ComputerCraft 1.112.0 (CraftOS-PC v2.8.3)".as_ptr());
        lua::lua_setglobal(l, c"_HOST".as_ptr());
        lua::lua_pushboolean(l, 1);
        lua::lua_setglobal(l, c"_HEADLESS".as_ptr());
        lua::push_str(l, &rt.program);
        lua::lua_setglobal(l, c"_CCPC_STARTUP_SCRIPT".as_ptr());
    }
}

/// The emulator's `getNextEvent`: drains the provider queue in batches into
/// the internal queue (values in threads of `param_queue`), waits when there
/// is nothing, applies the filter, and pushes the event onto `coro`.
/// Returns the number of values pushed (0: the computer is stopping).
fn get_next_event(
    rt: &ComputerRt,
    coro: *mut lua_State,
    filter: Option<&[u8]>,
) -> Result<c_int, Fatal> {
    let comp = rt.comp;
    let pq = rt.param_queue.get();
    if running(comp) != 1 {
        return Ok(0);
    }
    let queue_len = || rt.event_queue.borrow().len();
    let mut ev: Vec<u8>;
    loop {
        // SAFETY: `pq` is the live parameter-queue thread of this computer's
        // state, used only on this thread.
        let mut param = unsafe {
            if lua::lua_checkstack(pq, 1) == 0 {
                return Err(Fatal::Exception(
                    "Could not allocate space for event".into(),
                ));
            }
            lua::lua_newthread(pq)
        };
        loop {
            // termHasEvent: running == 1 and a provider is queued.
            while running(comp) == 1 && has_provider(comp) && queue_len() < QUEUE_LIMIT {
                let mut name = HcString {
                    ptr: std::ptr::null_mut(),
                    len: 0,
                };
                // SAFETY: `param` is a fresh thread of this state; the
                // provider runs on this (the computer's) thread, as in the
                // emulator; `name` receives a malloc'd string we take.
                let (rc, name) = unsafe {
                    if lua::lua_checkstack(param, 4) == 0 {
                        eprintln!("Could not allocate event");
                    }
                    let rc = emu::hc_run_provider(comp, param, &mut name);
                    (rc, emu::take_hcstring(&mut name))
                };
                match rc {
                    0 => break,
                    2 => {
                        return Err(Fatal::Exception(
                            String::from_utf8_lossy(&name).into_owned(),
                        ))
                    }
                    _ => {}
                }
                if !name.is_empty() {
                    rt.event_queue.borrow_mut().push_back(name);
                    // SAFETY: as above.
                    param = unsafe {
                        if lua::lua_checkstack(pq, 1) == 0 {
                            return Err(Fatal::Exception(
                                "Could not allocate space for event".into(),
                            ));
                        }
                        lua::lua_newthread(pq)
                    };
                }
                // An empty name discards the event; the same `param` thread
                // is reused for the next provider.
            }
            if queue_len() == 0 {
                while running(comp) == 1 {
                    // SAFETY: `comp` is live; waits on its condition variable.
                    if unsafe { emu::hc_wait(comp, 1000) } != 0 {
                        break;
                    }
                }
                if running(comp) != 1 {
                    return Ok(0);
                }
            }
            if queue_len() != 0 {
                break;
            }
        }
        ev = rt
            .event_queue
            .borrow_mut()
            .pop_front()
            .expect("queue not empty");
        let discard = matches!(filter, Some(f) if !f.is_empty() && ev != f && ev != b"terminate");
        // SAFETY: `pq` holds one thread per queued event (the oldest at
        // index 1) plus the spare `param` on top.
        unsafe {
            if discard {
                lua::lua_remove(pq, 1);
            }
            lua::lua_pop(pq, 1);
        }
        std::thread::yield_now();
        if !discard {
            break;
        }
    }
    // SAFETY: `pq` and `coro` are threads of this computer's live state, on
    // its thread; indices follow the queue discipline above.
    unsafe {
        if lua::lua_gettop(pq) as usize != rt.event_queue.borrow().len() + 1 {
            eprintln!("Warning: Queue sizes are incorrect! Expect misaligned event parameters.");
        }
        let param = lua::lua_tothread(pq, 1);
        if param.is_null() {
            eprintln!(
                "Queue item is not a thread for event \"{}\"!",
                String::from_utf8_lossy(&ev)
            );
            if lua::lua_gettop(pq) > 0 {
                lua::lua_remove(pq, 1);
            }
            return Ok(0);
        }
        let count = lua::lua_gettop(param);
        if lua::lua_checkstack(coro, count + 1) == 0 {
            eprintln!(
                "Could not allocate enough space in the stack for {count} elements, skipping event \"{}\"",
                String::from_utf8_lossy(&ev)
            );
            if lua::lua_gettop(pq) > 0 {
                lua::lua_remove(pq, 1);
            }
            return Ok(0);
        }
        lua::lua_pushlstring(coro, ev.as_ptr().cast::<c_char>(), ev.len());
        lua::lua_xmove(param, coro, count);
        lua::lua_remove(pq, 1);
        Ok(count + 1)
    }
}

// ---------------------------------------------------------------------------
// Lua panic handler

unsafe extern "C" fn host_panic(l: *mut lua_State) -> c_int {
    // SAFETY: called by Lua with the error object on top of `l`.
    let msg = unsafe { lua::to_string_lossy(l, -1) }
        .unwrap_or_else(|| "(error object is not a string)".into());
    let id = CURRENT.with(|c| {
        let p = c.get();
        if p.is_null() {
            -1
        } else {
            // SAFETY: CURRENT points to this thread's live runtime.
            let rt = unsafe { &*p };
            rt.shared.id
        }
    });
    eprintln!(
        "craftos-host: LUA PANIC on computer {id}: unprotected error in a Lua call: {msg}\n\
         craftos-host: (an error raised by a plugin opener or event provider is never caught by \
         CraftOS-PC; aborting)"
    );
    std::process::abort();
}

// ---------------------------------------------------------------------------
// Natives

type NativeResult = Result<c_int, String>;

macro_rules! native {
    ($name:ident, $imp:ident) => {
        unsafe extern "C" fn $name(l: *mut lua_State) -> c_int {
            // SAFETY: called by Lua on the computer's thread with a valid
            // state; the implementation only uses the C API on `l`.
            let result = unsafe { $imp(l) };
            match result {
                Ok(n) => n,
                // SAFETY: `raise` drops every Rust value before lua_error
                // longjmps out, so no destructor is skipped.
                Err(msg) => unsafe { raise(l, msg) },
            }
        }
    };
}

/// Raises a Lua error with `msg` (position prefixed as luaL_error does).
///
/// # Safety
/// Must be called from a Lua C function on `l`, with no Rust value owning
/// resources alive in the calling frames (lua_error does not return).
unsafe fn raise(l: *mut lua_State, msg: String) -> c_int {
    // SAFETY: valid state per the caller; `msg` is copied by Lua and dropped
    // before lua_error.
    unsafe {
        lua::luaL_where(l, 1);
        lua::push_str(l, &msg);
        drop(msg);
        lua::lua_concat(l, 2);
        lua::lua_error(l)
    }
}

/// This thread's runtime, after checking that registry slot 1 still holds
/// this computer's `Computer*` (what the emulator's `get_comp(L)` reads).
///
/// # Safety
/// `l` must be a thread of the current computer's state.
unsafe fn get_rt<'a>(l: *mut lua_State) -> Result<&'a ComputerRt, String> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        return Err("not called on a computer thread".into());
    }
    // SAFETY: CURRENT points to the runtime owned by this thread's
    // computer_thread frame, alive while Lua code runs on it.
    let rt = unsafe { &*p };
    // SAFETY: valid state; reads the registry slot and pops it.
    let slot = unsafe {
        lua::lua_rawgeti(l, lua::LUA_REGISTRYINDEX, lua::LUA_RIDX_MAINTHREAD);
        let t = lua::lua_type(l, -1);
        let v = lua::lua_touserdata(l, -1);
        lua::lua_pop(l, 1);
        if t == lua::LUA_TLIGHTUSERDATA {
            v
        } else {
            std::ptr::null_mut()
        }
    };
    if slot != rt.comp.cast::<c_void>() {
        return Err(
            "registry slot 1 no longer holds this computer's Computer* (corrupted by a plugin?)"
                .into(),
        );
    }
    Ok(rt)
}

fn arg_error(n: c_int, fname: &str, expected: &str, got: &str) -> String {
    format!("bad argument #{n} to '{fname}' ({expected} expected, got {got})")
}

/// luaL_checknumber.
unsafe fn check_number(l: *mut lua_State, n: c_int, fname: &str) -> Result<f64, String> {
    let mut isnum = 0;
    // SAFETY: valid state and index per the caller.
    let v = unsafe { lua::lua_tonumberx(l, n, &mut isnum) };
    if isnum == 0 {
        // SAFETY: as above.
        return Err(arg_error(n, fname, "number", &unsafe {
            lua::type_name(l, n)
        }));
    }
    Ok(v)
}

/// luaL_checkinteger.
unsafe fn check_integer(l: *mut lua_State, n: c_int, fname: &str) -> Result<isize, String> {
    let mut isnum = 0;
    // SAFETY: valid state and index per the caller.
    let v = unsafe { lua::lua_tointegerx(l, n, &mut isnum) };
    if isnum == 0 {
        // SAFETY: as above.
        return Err(arg_error(n, fname, "number", &unsafe {
            lua::type_name(l, n)
        }));
    }
    Ok(v)
}

/// luaL_checkstring (numbers are converted).
unsafe fn check_bytes(l: *mut lua_State, n: c_int, fname: &str) -> Result<Vec<u8>, String> {
    // SAFETY: valid state and index per the caller.
    match unsafe { lua_bytes(l, n) } {
        Some(b) => Ok(b),
        // SAFETY: as above.
        None => Err(arg_error(n, fname, "string", &unsafe {
            lua::type_name(l, n)
        })),
    }
}

/// luaL_optstring, lower-cased.
unsafe fn opt_mode(
    l: *mut lua_State,
    n: c_int,
    fname: &str,
    default: &str,
) -> Result<String, String> {
    // SAFETY: valid state and index per the caller.
    if unsafe { lua::lua_type(l, n) } <= lua::LUA_TNIL {
        return Ok(default.to_string());
    }
    // SAFETY: as above.
    let b = unsafe { check_bytes(l, n, fname) }?;
    Ok(String::from_utf8_lossy(&b).to_lowercase())
}

fn ms_since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// In-game hours: floor(((ms + 300000) % 1200000) / 50) / 1000.
fn ingame_time(start: Instant) -> f64 {
    (((ms_since(start) + 300_000) % 1_200_000) as f64 / 50.0).floor() / 1000.0
}

fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

unsafe fn os_get_computer_id_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: rt.comp is live; the id is immutable after creation.
    let id = unsafe { (*rt.comp).id };
    // SAFETY: valid state.
    unsafe { lua::lua_pushinteger(l, id as isize) };
    Ok(1)
}
native!(os_get_computer_id, os_get_computer_id_imp);

unsafe fn os_get_computer_label_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    let label = rt.shared.lock().label.clone();
    match label {
        Some(s) => {
            // SAFETY: valid state.
            unsafe { lua::push_str(l, &s) };
            Ok(1)
        }
        None => Ok(0),
    }
}
native!(os_get_computer_label, os_get_computer_label_imp);

unsafe fn os_set_computer_label_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let label = unsafe { lua_bytes(l, 1) }.map(|b| String::from_utf8_lossy(&b).into_owned());
    rt.shared.lock().label = label.filter(|s| !s.is_empty());
    Ok(0)
}
native!(os_set_computer_label, os_set_computer_label_imp);

unsafe fn os_queue_event_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let name = unsafe { check_bytes(l, 1, "queueEvent") }?;
    let pq = rt.param_queue.get();
    // SAFETY: `pq` is the live parameter queue of this state; `l` and the
    // new thread belong to the same state, so lua_xmove is allowed.
    unsafe {
        if lua::lua_checkstack(pq, 1) == 0 {
            return Err("Could not allocate space for event".into());
        }
        let param = lua::lua_newthread(pq);
        lua::lua_remove(l, 1);
        let count = lua::lua_gettop(l);
        lua::lua_checkstack(param, count);
        lua::lua_xmove(l, param, count);
    }
    rt.event_queue.borrow_mut().push_back(name);
    Ok(0)
}
native!(os_queue_event, os_queue_event_imp);

unsafe fn os_clock_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state.
    unsafe { lua::lua_pushnumber(l, ms_since(rt.system_start.get()) as f64 / 1000.0) };
    Ok(1)
}
native!(os_clock, os_clock_imp);

unsafe fn os_start_timer_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let mut t = unsafe { check_number(l, 1, "startTimer") }?;
    if t.is_nan() || t < 0.001 {
        t = 0.001;
    }
    let ms = ((t * 1000.0) as u32).max(1);
    let id = rt
        .host
        .timers
        .start(rt.comp, Duration::from_millis(ms as u64), false);
    // SAFETY: valid state.
    unsafe { lua::lua_pushinteger(l, id as isize) };
    Ok(1)
}
native!(os_start_timer, os_start_timer_imp);

unsafe fn os_cancel_timer_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let id = unsafe { check_integer(l, 1, "cancelTimer") }?;
    rt.host.timers.cancel(id as i32);
    Ok(0)
}
native!(os_cancel_timer, os_cancel_timer_imp);

unsafe fn os_set_alarm_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: valid state and index.
    let time = unsafe { check_number(l, 1, "setAlarm") }?;
    if !(0.0..24.0).contains(&time) {
        return Err("Number out of range".into());
    }
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    let now = ingame_time(rt.system_start.get());
    let delta = if time >= now {
        time - now
    } else {
        time + 24.0 - now
    };
    let real_ms = (delta * 50_000.0) as u32 as u64 + 3;
    let id = rt
        .host
        .timers
        .start(rt.comp, Duration::from_millis(real_ms), true);
    // SAFETY: valid state.
    unsafe { lua::lua_pushinteger(l, id as isize) };
    Ok(1)
}
native!(os_set_alarm, os_set_alarm_imp);

unsafe fn os_cancel_alarm_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let id = unsafe { check_integer(l, 1, "cancelAlarm") }?;
    rt.host.timers.cancel(id as i32);
    Ok(0)
}
native!(os_cancel_alarm, os_cancel_alarm_imp);

unsafe fn os_time_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    if unsafe { lua::lua_type(l, 1) } == lua::LUA_TTABLE {
        return Err(
            "Unsupported operation (os.time with a table is not modelled by this host)".into(),
        );
    }
    // SAFETY: valid state and index.
    let mode = unsafe { opt_mode(l, 1, "time", "ingame") }?;
    let v = match mode.as_str() {
        "ingame" => ingame_time(rt.system_start.get()),
        // This host knows no time zone: "local" is UTC.
        "utc" | "local" => {
            let ms = epoch_ms().rem_euclid(86_400_000);
            ms as f64 / 3_600_000.0
        }
        _ => return Err("Unsupported operation".into()),
    };
    // SAFETY: valid state.
    unsafe { lua::lua_pushnumber(l, v) };
    Ok(1)
}
native!(os_time, os_time_imp);

unsafe fn os_epoch_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let mode = unsafe { opt_mode(l, 1, "epoch", "ingame") }?;
    let v: i64 = match mode.as_str() {
        "utc" | "local" => epoch_ms(),
        "ingame" => {
            let start = rt.system_start.get();
            let m_time = ((ms_since(start) + 300_000) % 1_200_000) as f64 / 50_000.0;
            let m_day = (start.elapsed().as_secs() / 60 / 20 + 1) as f64;
            (m_day * 86_400_000.0) as i64 + (m_time * 3_600_000.0) as i64
        }
        "nano" => {
            let ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0);
            ns & 0x1F_FFFF_FFFF_FFFF
        }
        _ => return Err("Unsupported operation".into()),
    };
    // SAFETY: valid state.
    unsafe { lua::lua_pushinteger(l, v as isize) };
    Ok(1)
}
native!(os_epoch, os_epoch_imp);

unsafe fn os_day_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let mode = unsafe { opt_mode(l, 1, "day", "ingame") }?;
    let v: i64 = match mode.as_str() {
        "ingame" => (rt.system_start.get().elapsed().as_secs() / 60 / 20 + 1) as i64,
        "utc" | "local" => epoch_ms() / 86_400_000,
        _ => return Err("Unsupported operation".into()),
    };
    // SAFETY: valid state.
    unsafe { lua::lua_pushinteger(l, v as isize) };
    Ok(1)
}
native!(os_day, os_day_imp);

unsafe fn os_shutdown_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    set_running(rt.comp, 0);
    // SAFETY: valid state and index.
    if unsafe { lua::lua_type(l, 1) } == lua::LUA_TNUMBER {
        // SAFETY: as above.
        let code = unsafe { lua::lua_tointegerx(l, 1, std::ptr::null_mut()) };
        rt.shared.lock().exit_code = Some(code as i32);
    }
    Ok(0)
}
native!(os_shutdown, os_shutdown_imp);

unsafe fn os_reboot_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    set_running(rt.comp, 2);
    Ok(0)
}
native!(os_reboot, os_reboot_imp);

unsafe fn term_write_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: `l` is a thread of the current computer's state.
    let rt = unsafe { get_rt(l) }?;
    // SAFETY: valid state and index.
    let text = unsafe { check_bytes(l, 1, "write") }?;
    rt.shared.write(&text);
    Ok(0)
}
native!(term_write, term_write_imp);

/// Installs the emulator-provided APIs: a CraftOS `os` table replacing the
/// standard one (keeping `os.date`), and a minimal `term`.
///
/// # Safety
/// `l` is the computer's main state, on its thread, after luaL_openlibs.
unsafe fn install_natives(l: *mut lua_State) {
    let os_fns: &[(&std::ffi::CStr, lua::lua_CFunction)] = &[
        (c"getComputerID", os_get_computer_id),
        (c"computerID", os_get_computer_id),
        (c"getComputerLabel", os_get_computer_label),
        (c"computerLabel", os_get_computer_label),
        (c"setComputerLabel", os_set_computer_label),
        (c"queueEvent", os_queue_event),
        (c"clock", os_clock),
        (c"startTimer", os_start_timer),
        (c"cancelTimer", os_cancel_timer),
        (c"time", os_time),
        (c"epoch", os_epoch),
        (c"day", os_day),
        (c"setAlarm", os_set_alarm),
        (c"cancelAlarm", os_cancel_alarm),
        (c"shutdown", os_shutdown),
        (c"reboot", os_reboot),
    ];
    // SAFETY: valid state on its thread; balanced stack operations.
    unsafe {
        lua::lua_createtable(l, 0, os_fns.len() as c_int + 1);
        for (name, f) in os_fns {
            lua::lua_pushcfunction(l, *f);
            lua::lua_setfield(l, -2, name.as_ptr());
        }
        lua::lua_getglobal(l, c"os".as_ptr());
        lua::lua_getfield(l, -1, c"date".as_ptr());
        lua::lua_setfield(l, -3, c"date".as_ptr());
        lua::lua_pop(l, 1);
        lua::lua_pushvalue(l, -1);
        lua::lua_setglobal(l, c"os".as_ptr());
        // package.loaded.os = the CraftOS os table
        lua::lua_getfield(l, lua::LUA_REGISTRYINDEX, c"_LOADED".as_ptr());
        lua::lua_pushvalue(l, -2);
        lua::lua_setfield(l, -2, c"os".as_ptr());
        lua::lua_pop(l, 2);

        lua::lua_createtable(l, 0, 4);
        lua::lua_pushcfunction(l, term_write);
        lua::lua_setfield(l, -2, c"write".as_ptr());
        lua::lua_setglobal(l, c"term".as_ptr());

        crate::vfs::install(l);
        install_bench_modem(l);
    }
}

// ---------------------------------------------------------------------------
// A modem stand-in, for benchmarks

/// One `benchmodem.transmit` in flight: the values of the emulator's
/// `modem_message` (the message copied, as the modem copies it).
struct Transmission {
    channel: f64,
    message: Message,
}

enum Message {
    Nil,
    Boolean(bool),
    Number(f64),
    Text(Vec<u8>),
}

/// Transmissions per target computer ID, oldest first. The providers queued
/// with a target run in the same order, each taking the oldest one.
static AIR: Mutex<Option<std::collections::HashMap<c_int, VecDeque<Transmission>>>> =
    Mutex::new(None);

fn air() -> MutexGuard<'static, Option<std::collections::HashMap<c_int, VecDeque<Transmission>>>> {
    AIR.lock().unwrap_or_else(|e| e.into_inner())
}

/// `benchmodem.transmit(id, channel, message) -> boolean`: what a CraftOS-PC
/// modem does for one receiver — queue an event provider with the target
/// that pushes `"modem_message", "top", channel, channel, message, 0` — with
/// a scalar message. False when no computer has that ID. The baseline of
/// the cross-computer benchmarks (the host has no peripherals).
unsafe fn bench_transmit_imp(l: *mut lua_State) -> NativeResult {
    // SAFETY: valid state and indices; reads only.
    let (id, channel, message) = unsafe {
        let id = check_integer(l, 1, "transmit")? as c_int;
        let channel = check_number(l, 2, "transmit")?;
        let message = match lua::lua_type(l, 3) {
            lua::LUA_TBOOLEAN => Message::Boolean(lua::lua_toboolean(l, 3) != 0),
            lua::LUA_TNUMBER => Message::Number(check_number(l, 3, "transmit")?),
            lua::LUA_TSTRING => Message::Text(check_bytes(l, 3, "transmit")?),
            _ => Message::Nil,
        };
        (id, channel, message)
    };
    let sent = {
        let mut air = air();
        let queue = air
            .get_or_insert_with(Default::default)
            .entry(id)
            .or_default();
        queue.push_back(Transmission { channel, message });
        // SAFETY: looks the computer up under the list lock; the provider is
        // a plain function and carries only the target ID.
        let queued = unsafe {
            emu::hc_queue_rust_event_by_id(
                id,
                bench_modem_provider,
                std::ptr::null_mut(),
                id.into(),
            )
        };
        if queued == 0 {
            queue.pop_back();
        }
        queued != 0
    };
    // SAFETY: valid state, one free slot (C functions get LUA_MINSTACK).
    unsafe { lua::lua_pushboolean(l, c_int::from(sent)) };
    Ok(1)
}
native!(bench_transmit, bench_transmit_imp);

/// The provider of a transmission: pushes the oldest one for this computer.
unsafe extern "C" fn bench_modem_provider(
    l: *mut lua_State,
    _ctx: *mut c_void,
    data: i64,
) -> *const c_char {
    let next = air()
        .as_mut()
        .and_then(|air| air.get_mut(&(data as c_int)))
        .and_then(VecDeque::pop_front);
    let Some(Transmission { channel, message }) = next else {
        return c"".as_ptr();
    };
    // SAFETY: `l` is the fresh parameter thread the host handed to this
    // provider, with room for at least 4 values; one more is reserved.
    unsafe {
        lua::lua_checkstack(l, 5);
        lua::lua_pushstring(l, c"top".as_ptr());
        lua::lua_pushnumber(l, channel);
        lua::lua_pushnumber(l, channel);
        match &message {
            Message::Nil => lua::lua_pushnil(l),
            Message::Boolean(b) => lua::lua_pushboolean(l, c_int::from(*b)),
            Message::Number(n) => lua::lua_pushnumber(l, *n),
            Message::Text(t) => {
                lua::lua_pushlstring(l, t.as_ptr().cast(), t.len());
            }
        }
        lua::lua_pushnumber(l, 0.0);
    }
    c"modem_message".as_ptr()
}

/// The `benchmodem` global.
///
/// # Safety
/// `l` is the computer's main state, on its thread.
unsafe fn install_bench_modem(l: *mut lua_State) {
    // SAFETY: valid state; balanced stack operations.
    unsafe {
        lua::lua_createtable(l, 0, 1);
        lua::lua_pushcfunction(l, bench_transmit);
        lua::lua_setfield(l, -2, c"transmit".as_ptr());
        lua::lua_setglobal(l, c"benchmodem".as_ptr());
    }
}
