//! The host adapter: CraftOS-PC's plugin entry points, its `Computer`
//! objects, its event providers, and the files mounted into every
//! computer (`mounts`). The C++ half is `shim.cpp`; the boundary
//! between the two is declared in `include/phoenix_shim.h`.
//!
//! Ownership across the C ABI:
//! - `PluginInfo` is allocated by the shim in `plugin_init` and freed by it in
//!   `plugin_deinit`; the emulator only reads it in between.
//! - The kernel (and its timer thread) lives in [`KERNEL`] from `plugin_init`
//!   to `plugin_deinit`; in cluster mode the cluster adapter (and its thread)
//!   lives in `cluster::CLUSTER` for the same span, and is stopped first.
//! - A provider carries only a process ticket packed in its userdata word;
//!   nothing is allocated per event on the emulator's side.
//! - A `Computer*` is borrowed from the emulator: the kernel uses it only
//!   while that computer's process is registered (from the opener until its
//!   Lua state closes), and the emulator frees computers only after that.
//!
//! Errors at the boundary: no Rust panic leaves an entry point (each runs
//! its Rust work inside `catch_unwind`). The two entry points the emulator
//! calls with a Lua state, the opener and the provider, are
//! `extern "C-unwind"`: a Lua error must not be raised in them at all (the
//! emulator calls them unprotected), but should LuaJIT, which raises by
//! unwinding, raise one anyway it unwinds to the emulator instead of
//! aborting on a Rust frame that cannot unwind. Lua is reached there only
//! through mlua's protected calls and raw calls that cannot raise.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr::{self, NonNull};
use std::sync::{Arc, RwLock};

use phoenix_events_binding::mlua::{ffi, Lua};

use phoenix_events_binding as binding;
use phoenix_events_core::config::{Config, CONFIG_FILE_NAME};
use phoenix_events_core::kernel::{ComputerPort, Kernel};
use phoenix_events_core::Ticket;

mod cluster;
mod mounts;

/// The running kernel, between `plugin_init` and `plugin_deinit`.
static KERNEL: RwLock<Option<Arc<Kernel>>> = RwLock::new(None);

/// A `std::string` of the shim, only ever handled by pointer.
#[repr(C)]
struct CppString {
    _opaque: [u8; 0],
}

/// The stable head of the emulator's `Computer` (see include/).
#[repr(C)]
struct RawComputer {
    id: c_int,
    running: c_int,
    state: *mut ffi::lua_State,
}

#[repr(C)]
struct RustCallbacks {
    start: unsafe extern "C" fn(*const c_char, *mut CppString),
    stop: extern "C" fn(),
    provide: unsafe extern "C-unwind" fn(*mut ffi::lua_State, u64, *mut CppString),
}

static CALLBACKS: RustCallbacks = RustCallbacks {
    start,
    stop,
    provide,
};

extern "C" {
    fn phoenix_plugin_init(functions: *const c_void, rust: *const RustCallbacks) -> *mut c_void;
    fn phoenix_plugin_deinit(info: *mut c_void);
    fn phoenix_queue_provider(computer: *mut RawComputer, token: u64) -> bool;
    fn phoenix_string_assign(target: *mut CppString, data: *const c_char, length: usize);
}

/// `PluginInfo* plugin_init(const PluginFunctions*, const path_t&)`: both
/// parameters are passed as pointers at the ABI level.
///
/// # Safety
/// Called once by the emulator with its `PluginFunctions`.
#[no_mangle]
pub unsafe extern "C" fn plugin_init(
    functions: *const c_void,
    _path: *const c_void,
) -> *mut c_void {
    // SAFETY: forwards the emulator's pointer; the shim checks its ABI
    // version before reading anything else from it.
    unsafe { phoenix_plugin_init(functions, &CALLBACKS) }
}

/// `void plugin_deinit(PluginInfo*)`: stops every thread, frees everything.
///
/// # Safety
/// `info` must be what `plugin_init` returned; called once, at exit.
#[no_mangle]
pub unsafe extern "C" fn plugin_deinit(info: *mut c_void) {
    // SAFETY: `info` came from phoenix_plugin_init, which allocated it.
    unsafe { phoenix_plugin_deinit(info) }
}

/// The opener: installs `syscall` on a freshly booted computer. The emulator
/// calls it unprotected, so it never raises: on failure it returns an empty
/// table and reports on stderr.
///
/// # Safety
/// Called by the emulator on the computer's thread with its main state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_syscall(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: the emulator's contract for openers (see above).
    let opened = catch_unwind(AssertUnwindSafe(|| unsafe { open(state) }));
    let failure = match opened {
        Ok(Ok(())) => return 1,
        Ok(Err(error)) => error,
        Err(_) => "internal panic".to_owned(),
    };
    report(&format!(
        "phoenix-events: syscall is unavailable on this computer: {failure}"
    ));
    // SAFETY: one slot for the (empty) result table (the emulator gives the
    // opener LUA_MINSTACK slots); raises only when out of memory, outside
    // `catch_unwind`, owning nothing.
    unsafe {
        if ffi::lua_checkstack(state, 1) != 0 {
            ffi::lua_createtable(state, 0, 0);
        }
    }
    1
}

/// # Safety
/// As for [`luaopen_syscall`].
unsafe fn open(state: *mut ffi::lua_State) -> Result<(), String> {
    let kernel = current_kernel().ok_or("the plugin was not initialised")?;
    // SAFETY: the emulator keeps the Computer* in registry slot 1.
    let computer = unsafe { computer_of(state) }.ok_or("no Computer in registry slot 1")?;
    // SAFETY: as above, on the computer's main state.
    let lua = unsafe { init_mlua(state) };
    // SAFETY: the Computer outlives this incarnation's Lua state.
    let pid = unsafe { (*computer.as_ptr()).id };
    let port = Box::new(EmulatorComputer(computer));
    let syscall = binding::install(lua, pid, kernel, port).map_err(|e| e.to_string())?;
    // SAFETY: as above.
    unsafe { mounts::mount(computer.as_ptr()) };
    binding::push_table(lua, state, &syscall).map_err(|e| e.to_string())
}

/// Initialises mlua on this state. With Lua 5.2, mlua reads the main-thread
/// slot (registry key 1) once, at initialisation; the emulator keeps its
/// `Computer*` there instead. So the main thread is put back for the moment
/// mlua reads it, and the `Computer*` restored right after. (mlua's LuaJIT
/// path finds the main thread with `lua_pushthread` and never reads the
/// slot: Accelerated needs no swap.)
///
/// # Safety
/// `state` is the computer's main state, on its own thread.
#[cfg(feature = "standard")]
unsafe fn init_mlua(state: *mut ffi::lua_State) -> &'static Lua {
    // SAFETY: slot 1 exists (the emulator set it), so rawseti does not grow
    // the registry (nor raise); lua_pushthread on the main state pushes the
    // main thread.
    unsafe {
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, 1);
        ffi::lua_pushthread(state);
        ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, 1);
        let lua = Lua::get_or_init_from_ptr(state);
        ffi::lua_rawseti(state, ffi::LUA_REGISTRYINDEX, 1); // the saved Computer*
        lua
    }
}

/// # Safety
/// `state` is the computer's main state, on its own thread.
#[cfg(feature = "accelerated")]
unsafe fn init_mlua(state: *mut ffi::lua_State) -> &'static Lua {
    // SAFETY: as the caller guarantees.
    unsafe { Lua::get_or_init_from_ptr(state) }
}

/// # Safety
/// `state` is a live state of a computer, on its own thread.
unsafe fn computer_of(state: *mut ffi::lua_State) -> Option<NonNull<RawComputer>> {
    // SAFETY: reads registry slot 1 and pops it again.
    unsafe {
        ffi::lua_rawgeti(state, ffi::LUA_REGISTRYINDEX, 1);
        let pointer = if ffi::lua_type(state, -1) == ffi::LUA_TLIGHTUSERDATA {
            ffi::lua_touserdata(state, -1)
        } else {
            ptr::null_mut()
        };
        ffi::lua_settop(state, -2);
        NonNull::new(pointer.cast())
    }
}

fn current_kernel() -> Option<Arc<Kernel>> {
    KERNEL.read().unwrap_or_else(|e| e.into_inner()).clone()
}

unsafe extern "C" fn start(base_path: *const c_char, failure: *mut CppString) {
    // SAFETY: the shim passes a NUL-terminated string it keeps alive.
    let base = unsafe { CStr::from_ptr(base_path) }.to_bytes();
    let started = catch_unwind(|| start_kernel(base));
    let reason = match started {
        Ok(Ok(())) => return,
        Ok(Err(reason)) => reason,
        Err(_) => "phoenix-events could not start its kernel".to_owned(),
    };
    // SAFETY: `failure` is the shim's live std::string.
    unsafe { phoenix_string_assign(failure, reason.as_ptr().cast(), reason.len()) };
}

/// Reads the configuration (users, limits) under the data root `base` and
/// starts the kernel.
fn start_kernel(base: &[u8]) -> Result<(), String> {
    let base = data_root(base)?;
    let config_dir = base.join("config");
    let (config, mut warnings) = Config::load(&config_dir);
    let source = config_dir.join(CONFIG_FILE_NAME).display().to_string();
    let plan = cluster::plan(config.cluster.as_ref(), &source, &mut warnings);
    for warning in warnings {
        report(&warning);
    }
    // A cluster of an earlier start leaves before this one joins.
    cluster::leave();
    let kernel = Kernel::start_with_limits(config.users, config.limits);
    // The cluster before any computer boots: it hears of every process.
    cluster::join(&kernel, plan);
    let previous = KERNEL
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .replace(kernel);
    if let Some(previous) = previous {
        previous.shutdown();
    }
    if !mounts::build() {
        report("phoenix-events: out of memory building the files mounted into computers");
    }
    Ok(())
}

/// The data root from the bytes the shim hands over: the emulator's own
/// path bytes on Unix, UTF-8 converted from its wide string on Windows.
fn data_root(bytes: &[u8]) -> Result<PathBuf, String> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(PathBuf::from)
            .map_err(|_| "phoenix-events: the data folder's name is not valid UTF-8".to_owned())
    }
}

/// Writes one line to the emulator's stderr; never panics (unlike
/// `eprintln!`), as it runs in entry points called by the emulator.
fn report(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

extern "C" fn stop() {
    // The cluster first: it says goodbye and joins its thread while the
    // kernel it reads is still there.
    let _ = catch_unwind(cluster::leave);
    let kernel = KERNEL.write().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(kernel) = kernel {
        // Moved in, so that dropping the kernel is caught as well.
        let _ = catch_unwind(AssertUnwindSafe(move || {
            kernel.shutdown();
            drop(kernel);
        }));
    }
}

unsafe extern "C-unwind" fn provide(state: *mut ffi::lua_State, token: u64, name: *mut CppString) {
    let ticket = Ticket::from_bits(token);
    // SAFETY: the emulator calls providers on the computer's thread with a
    // live thread of its state.
    let delivered = catch_unwind(|| unsafe { binding::provide(state, ticket) });
    if let Ok(Some(event)) = delivered {
        // SAFETY: `name` is the shim's live std::string.
        unsafe { phoenix_string_assign(name, event.as_ptr().cast(), event.len()) };
    }
}

/// A computer of the emulator, as the kernel sees it.
struct EmulatorComputer(NonNull<RawComputer>);

// SAFETY: the kernel calls these methods from any thread, but only while the
// process is registered (under its table lock, or for `notify` under the
// process's notifier lock, which the kernel closes under the table lock when
// the process exits), during which the emulator keeps the Computer alive.
// `running` is a plain int that the emulator itself reads and writes across
// threads (its computer peripheral does); volatile access keeps each read and
// write a single real access.
unsafe impl Send for EmulatorComputer {}
unsafe impl Sync for EmulatorComputer {}

impl ComputerPort for EmulatorComputer {
    fn is_running(&self) -> bool {
        // SAFETY: see the Send/Sync justification above.
        unsafe { ptr::read_volatile(ptr::addr_of!((*self.0.as_ptr()).running)) == 1 }
    }

    fn notify(&self, ticket: Ticket) {
        // SAFETY: see above; queueEvent may be called from any thread.
        unsafe { phoenix_queue_provider(self.0.as_ptr(), ticket.to_bits()) };
    }

    fn power_off(&self) {
        // SAFETY: see above. As the emulator's own shutdown does: clear
        // `running`, then wake the computer (incarnation 0 is never current,
        // so the waking provider delivers nothing).
        unsafe {
            ptr::write_volatile(ptr::addr_of_mut!((*self.0.as_ptr()).running), 0);
            let pid = (*self.0.as_ptr()).id;
            phoenix_queue_provider(
                self.0.as_ptr(),
                Ticket {
                    pid,
                    incarnation: 0,
                }
                .to_bits(),
            );
        }
    }
}
