//! An embedded host that plays the CraftOS-PC v2.8.3 emulator's side of the
//! native plugin interface (plugin ABI 12), so that tests and demos can load
//! a plugin exactly the way the real emulator does: `dlopen` with
//! `RTLD_NOW | RTLD_LOCAL` (`LoadLibrary` on Windows), `plugin_init` with a
//! `PluginFunctions`, one OS
//! thread and Lua 5.2 state per computer with the `Computer*` in registry
//! slot 1, unprotected opener calls, and the emulator's event-provider queue
//! drained in batches when a program waits for an event.
//!
//! Only one [`Host`] exists at a time in a process (the plugin interface is
//! process-global, as in the emulator): [`Host::load`] waits until any other
//! host of the process has shut down.

pub mod artifact;
mod computer;
mod emu;
pub mod lua_ffi;
mod threads;
mod timers;
mod vfs;

use computer::ComputerShared;
use libloading::Library;
use std::collections::HashMap;
use std::ffi::{c_int, c_void, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
pub use threads::{live_thread_names, wait_for_thread_names};

/// The ABI version a release build of CraftOS-PC v2.8 requires exactly.
pub const PLUGIN_ABI_VERSION: u32 = 12;
/// The structure version the host reports.
pub const STRUCTURE_VERSION: u32 = 0;

/// How to start a host.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The plugin to load (a shared object).
    pub plugin: PathBuf,
    /// The data root (`getBasePath()`); its `config/` folder is created.
    pub data_dir: PathBuf,
    /// Echo every output line to stdout as `[<id>] <line>`.
    pub echo: bool,
}

/// Why the host could not do something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The shared object could not be opened (dlopen failed).
    Load { path: PathBuf, reason: String },
    /// `plugin_init` rejected (or the returned info failed the checks of
    /// `initializePlugins()`), or it threw.
    Rejected { path: PathBuf, reason: String },
    /// A computer with this ID is already on.
    AlreadyOn(i32),
    /// The host is shutting down.
    ShuttingDown,
    /// This thread already loaded a host that is still alive (a second one
    /// would wait for it forever).
    HostAlreadyLoaded,
    /// An I/O error (data directory, thread creation).
    Io(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Load { path, reason } => {
                write!(f, "Failed to load plugin at {}: {}", path.display(), reason)
            }
            HostError::Rejected { path, reason } => write!(
                f,
                "Failed to load plugin at {}: plugin rejected: {}",
                path.display(),
                reason
            ),
            HostError::AlreadyOn(id) => write!(f, "computer {id} is already on"),
            HostError::ShuttingDown => write!(f, "the host is shutting down"),
            HostError::HostAlreadyLoaded => write!(
                f,
                "this thread already holds a live Host (only one Host per process at a time)"
            ),
            HostError::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for HostError {}

/// What `plugin_init` returned, as the host uses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginSummary {
    pub abi_version: u32,
    pub minimum_structure_version: u32,
    /// The API name in effect: `info->apiName`, else the file's stem.
    pub api_name: String,
    /// The opener symbol in effect: `info->luaopenName`, else
    /// `luaopen_<api_name>`.
    pub luaopen_name: String,
    pub failure_reason: String,
}

/// An accepted plugin, as a computer's boot sees it.
pub(crate) struct PluginEntry {
    pub api_name: String,
    pub opener: Option<lua_ffi::lua_CFunction>,
}

/// State shared by the host handle and the computer threads.
pub(crate) struct HostInner {
    pub plugins: Vec<PluginEntry>,
    pub timers: Arc<timers::TimerService>,
    echo: bool,
    computers: Mutex<HashMap<i32, Arc<ComputerShared>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    default_program: Mutex<String>,
    stopping: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl HostInner {
    pub(crate) fn add_thread(&self, handle: JoinHandle<()>) {
        lock(&self.threads).push(handle);
    }

    fn shared(&self, id: i32) -> Option<Arc<ComputerShared>> {
        lock(&self.computers).get(&id).cloned()
    }

    fn start(self: &Arc<Self>, id: i32, program: String) -> Result<*mut emu::Computer, HostError> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(HostError::ShuttingDown);
        }
        let shared = {
            let mut map = lock(&self.computers);
            let shared = map
                .entry(id)
                .or_insert_with(|| Arc::new(ComputerShared::new(id, self.echo)))
                .clone();
            let mut st = shared.lock();
            if st.on {
                return Err(HostError::AlreadyOn(id));
            }
            // Claim it while the map is locked, so two starts cannot race.
            st.on = true;
            drop(st);
            shared
        };
        computer::spawn(self, shared, program).map_err(|e| HostError::Io(e.to_string()))
    }
}

/// The `startComputer` entry of PluginFunctions: starts computer `id` with
/// the program of the most recent [`Host::start_computer`] call.
unsafe extern "C" fn start_computer_cb(ctx: *mut c_void, id: c_int) -> *mut emu::Computer {
    // SAFETY: `ctx` is `Arc::as_ptr` of the HostInner, registered while the
    // Host is alive and unregistered (hc_reset) before it is dropped.
    let inner = unsafe { &*(ctx as *const HostInner) };
    // SAFETY: the same pointer came from an Arc that is still alive, so the
    // strong count may be borrowed to build a second handle.
    let arc = unsafe {
        Arc::increment_strong_count(ctx as *const HostInner);
        Arc::from_raw(ctx as *const HostInner)
    };
    let program = lock(&inner.default_program).clone();
    match arc.start(id, program) {
        Ok(c) => c,
        Err(HostError::AlreadyOn(_)) => {
            // The emulator would create a second computer with that ID; this
            // host keeps one computer per ID and returns the running one.
            // SAFETY: plain lookup in the computers list.
            unsafe { emu_get_computer_by_id(id) }
        }
        Err(_) => std::ptr::null_mut(),
    }
}

/// getComputerById through the PluginFunctions table.
unsafe fn emu_get_computer_by_id(id: c_int) -> *mut emu::Computer {
    // SAFETY: the table is a static of emulator.cpp; its getComputerById
    // entry is a plain function locking the computers list.
    unsafe {
        let f = hc_plugin_functions();
        ((*f).get_computer_by_id)(id)
    }
}

/// The leading fields of `ccpc::PluginFunctions` that Rust reads.
#[repr(C)]
struct PluginFunctionsHead {
    abi_version: u32,
    structure_version: u32,
    craftos_pc_version: *const std::ffi::c_char,
    selected_renderer: *const c_int,
    config: *const c_void,
    get_base_path: *const c_void,
    get_rom_path: *const c_void,
    get_library: *const c_void,
    get_computer_by_id: unsafe extern "C" fn(c_int) -> *mut emu::Computer,
}

extern "C" {
    fn hc_plugin_functions() -> *const PluginFunctionsHead;
}

/// Process-wide: the thread that loaded the live host, if any. (The plugin
/// interface is global, as in the emulator.)
static HOST_SLOT: Mutex<Option<std::thread::ThreadId>> = Mutex::new(None);
static HOST_SLOT_CV: Condvar = Condvar::new();

fn acquire_slot() -> Result<(), HostError> {
    let me = std::thread::current().id();
    let mut holder = lock(&HOST_SLOT);
    loop {
        match *holder {
            None => break,
            Some(t) if t == me => return Err(HostError::HostAlreadyLoaded),
            Some(_) => holder = HOST_SLOT_CV.wait(holder).unwrap_or_else(|e| e.into_inner()),
        }
    }
    *holder = Some(me);
    Ok(())
}

fn release_slot() {
    *lock(&HOST_SLOT) = None;
    HOST_SLOT_CV.notify_all();
}

/// The loaded plugin library and what `plugin_init` returned.
struct LoadedPlugin {
    library: Option<Library>,
    info: *mut c_void,
    deinit: Option<*mut c_void>,
    unload: Option<*mut c_void>,
}

/// A running embedded emulator with one plugin loaded.
pub struct Host {
    inner: Arc<HostInner>,
    plugin: LoadedPlugin,
    summary: PluginSummary,
    done: bool,
}

fn symbol(lib: &Library, name: &str) -> Option<*mut c_void> {
    let name = CString::new(name).ok()?;
    // SAFETY: the symbol is only looked up as an address, never called here
    // with an assumed signature.
    unsafe { lib.get::<*mut c_void>(name.as_c_str()) }
        .ok()
        .map(|s| *s)
        .filter(|p| !p.is_null())
}

/// Opens the plugin as the emulator's `SDL_LoadObject` does:
/// `dlopen(path, RTLD_NOW | RTLD_LOCAL)` on Linux and macOS, `LoadLibrary`
/// on Windows.
///
/// # Safety
/// Loading a library runs its initialisers.
unsafe fn open_plugin(path: &Path) -> Result<Library, libloading::Error> {
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library as UnixLibrary, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: the caller accepts running the library's initialisers.
        unsafe { UnixLibrary::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Library::from)
    }
    #[cfg(not(unix))]
    {
        // SAFETY: the caller accepts running the library's initialisers.
        unsafe { Library::new(path) }
    }
}

/// The data directory as the emulator hands it out: absolute, symbolic links
/// resolved on Unix; on Windows absolute only (canonicalize would give a
/// `\\?\` path, which the emulator never does and which takes no `/`).
pub fn full_path(dir: PathBuf) -> PathBuf {
    #[cfg(windows)]
    let full = std::path::absolute(&dir);
    #[cfg(not(windows))]
    let full = dir.canonicalize();
    full.unwrap_or(dir)
}

/// The path as the C++ side takes it: its bytes on Unix, UTF-8 on Windows.
fn path_cstring(p: &Path) -> Result<CString, HostError> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = p
        .to_str()
        .ok_or_else(|| HostError::Io(format!("{} is not valid Unicode", p.display())))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|e| HostError::Io(e.to_string()))
}

impl Host {
    /// Loads the plugin as the emulator does at start-up (`preloadPlugins`
    /// then `initializePlugins`). A rejected plugin gets `plugin_deinit` and
    /// the load fails with the reason.
    pub fn load(config: HostConfig) -> Result<Host, HostError> {
        acquire_slot()?;
        match Self::load_inner(config) {
            Ok(h) => Ok(h),
            Err(e) => {
                // SAFETY: resets the C++ globals of a host that never ran.
                unsafe { emu::hc_reset() };
                release_slot();
                Err(e)
            }
        }
    }

    fn load_inner(config: HostConfig) -> Result<Host, HostError> {
        let HostConfig {
            plugin,
            data_dir,
            echo,
        } = config;
        std::fs::create_dir_all(data_dir.join("config"))
            .map_err(|e| HostError::Io(e.to_string()))?;
        let data_dir = full_path(data_dir);
        let rom_dir = data_dir.join("rom");
        let base = path_cstring(&data_dir)?;
        let rom = path_cstring(&rom_dir)?;
        // SAFETY: copies two C strings into the C++ globals.
        unsafe { emu::hc_configure(base.as_ptr(), rom.as_ptr()) };

        // SAFETY: loading a plugin runs its initialisers; that is the point
        // of this host. Its Lua symbols bind to the Lua 5.2 this executable
        // exports (Linux, macOS) or to lua52.dll (Windows).
        let library = unsafe { open_plugin(&plugin) }.map_err(|e| HostError::Load {
            path: plugin.clone(),
            reason: e.to_string(),
        })?;
        let path_c = path_cstring(&plugin)?;

        if let Some(load) = symbol(&library, "plugin_load") {
            let mut exc = emu::HcString {
                ptr: std::ptr::null_mut(),
                len: 0,
            };
            // SAFETY: `plugin_load` has the C++ signature
            // void(const PluginFunctions*, const path_t&), called by
            // emulator.cpp with a std::filesystem::path.
            let rc = unsafe { emu::hc_call_plugin_load(load, path_c.as_ptr(), &mut exc) };
            // SAFETY: `exc` was filled (or left NULL) by emulator.cpp.
            let what = unsafe { emu::take_hcstring(&mut exc) };
            if rc != 0 {
                eprintln!(
                    "craftos-host: plugin_load of {} threw: {}",
                    plugin.display(),
                    String::from_utf8_lossy(&what)
                );
            }
        }

        let stem = plugin
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let deinit = symbol(&library, "plugin_deinit");
        let unload = symbol(&library, "plugin_unload");
        let reject = |reason: String| {
            eprintln!("Failed to load plugin at {}: {}", plugin.display(), reason);
            HostError::Rejected {
                path: plugin.clone(),
                reason,
            }
        };

        let (info, abi, min_struct, luaopen_name, failure, api_name) =
            if let Some(init) = symbol(&library, "plugin_init") {
                let mut out = emu::HcPluginInfo {
                    abi_version: 0,
                    minimum_structure_version: 0,
                    luaopen_name: std::ptr::null_mut(),
                    failure_reason: std::ptr::null_mut(),
                    api_name: std::ptr::null_mut(),
                    exception: std::ptr::null_mut(),
                };
                // SAFETY: `plugin_init` has the C++ signature
                // PluginInfo*(const PluginFunctions*, const path_t&); the C++
                // side passes a std::filesystem::path, as the emulator does,
                // and catches C++ exceptions.
                let info = unsafe { emu::hc_call_plugin_init(init, path_c.as_ptr(), &mut out) };
                // SAFETY: the strings were malloc'd by emulator.cpp (or NULL)
                // and are taken exactly once.
                let (exception, lo, fr, an) = unsafe {
                    (
                        emu::take_cstring(out.exception),
                        emu::take_cstring(out.luaopen_name),
                        emu::take_cstring(out.failure_reason),
                        emu::take_cstring(out.api_name),
                    )
                };
                if info.is_null() {
                    drop(library);
                    return Err(reject(if exception.is_empty() {
                        "plugin_init returned NULL".into()
                    } else {
                        exception
                    }));
                }
                (
                    info,
                    out.abi_version,
                    out.minimum_structure_version,
                    lo,
                    fr,
                    an,
                )
            } else if symbol(&library, "plugin_info").is_some() {
                drop(library);
                return Err(reject("Plugin version too old".into()));
            } else {
                (
                    std::ptr::null_mut(),
                    PLUGIN_ABI_VERSION,
                    0,
                    String::new(),
                    String::new(),
                    String::new(),
                )
            };

        let deinit_rejected = |info: *mut c_void| {
            if let (Some(d), false) = (deinit, info.is_null()) {
                // SAFETY: plugin_deinit(PluginInfo*) with the info that
                // plugin_init returned, as initializePlugins() does.
                unsafe { emu::hc_call_plugin_deinit(d, info) };
            }
        };
        if abi != PLUGIN_ABI_VERSION || min_struct > STRUCTURE_VERSION {
            deinit_rejected(info);
            drop(library);
            return Err(reject(format!(
                "CraftOS-PC version too old (plugin abi_version {abi}, minimum_structure_version \
                 {min_struct}; host abi_version {PLUGIN_ABI_VERSION}, structure_version \
                 {STRUCTURE_VERSION})"
            )));
        }
        if !failure.is_empty() {
            deinit_rejected(info);
            drop(library);
            return Err(reject(failure));
        }

        let effective_api = if api_name.is_empty() { stem } else { api_name };
        let effective_opener = if luaopen_name.is_empty() {
            format!("luaopen_{effective_api}")
        } else {
            luaopen_name
        };
        let opener = symbol(&library, &effective_opener).map(|p| {
            // SAFETY: the opener is exported as a lua_CFunction
            // (int(lua_State*)), as the emulator assumes.
            unsafe { std::mem::transmute::<*mut c_void, lua_ffi::lua_CFunction>(p) }
        });

        let summary = PluginSummary {
            abi_version: abi,
            minimum_structure_version: min_struct,
            api_name: effective_api.clone(),
            luaopen_name: effective_opener,
            failure_reason: failure,
        };
        let inner = Arc::new(HostInner {
            plugins: vec![PluginEntry {
                api_name: effective_api,
                opener,
            }],
            timers: timers::TimerService::new(),
            echo,
            computers: Mutex::new(HashMap::new()),
            threads: Mutex::new(Vec::new()),
            default_program: Mutex::new(String::new()),
            stopping: AtomicBool::new(false),
        });
        // SAFETY: the context pointer stays valid while the Host lives; it is
        // unregistered by hc_reset before `inner` can be dropped.
        unsafe {
            emu::hc_set_start_callback(Some(start_computer_cb), Arc::as_ptr(&inner) as *mut c_void)
        };
        Ok(Host {
            inner,
            plugin: LoadedPlugin {
                library: Some(library),
                info,
                deinit,
                unload,
            },
            summary,
            done: false,
        })
    }

    /// What `plugin_init` returned (names in effect).
    pub fn plugin(&self) -> PluginSummary {
        self.summary.clone()
    }

    /// Boots computer `id` on a new thread; `program` is Lua source run like
    /// a startup script on every boot (re-run after each reboot).
    pub fn start_computer(&self, id: i32, program: &str) -> Result<(), HostError> {
        *lock(&self.inner.default_program) = program.to_string();
        self.inner.start(id, program.to_string()).map(|_| ())
    }

    /// Whether computer `id` is on (booted and not yet finally shut down).
    pub fn is_on(&self, id: i32) -> bool {
        self.inner.shared(id).map(|s| s.lock().on).unwrap_or(false)
    }

    /// Shuts computer `id` down from outside (running = 0 and a wake-up), as
    /// the emulator's computer peripheral or close button.
    pub fn shutdown_computer(&self, id: i32) {
        // SAFETY: looks the computer up under the list lock.
        unsafe { emu::hc_set_running_by_id(id, 0) };
    }

    /// Reboots computer `id` from outside (running = 2 and a wake-up).
    pub fn reboot_computer(&self, id: i32) {
        // SAFETY: looks the computer up under the list lock.
        unsafe { emu::hc_set_running_by_id(id, 2) };
    }

    /// Queues a `terminate` event (as Ctrl+T), through the provider queue.
    pub fn queue_terminate(&self, id: i32) {
        // SAFETY: looks the computer up under the list lock; the provider is
        // a plain function with no context.
        unsafe { emu::hc_queue_rust_event_by_id(id, terminate_provider, std::ptr::null_mut(), 0) };
    }

    /// All lines computer `id` printed so far, across reboots (a pending
    /// partial line is not included until it ends or the computer stops).
    pub fn output(&self, id: i32) -> Vec<String> {
        self.inner
            .shared(id)
            .map(|s| s.lock().lines.clone())
            .unwrap_or_default()
    }

    /// The first output line of `id` containing `needle`, waiting up to
    /// `timeout` for it.
    pub fn wait_for_line(&self, id: i32, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(shared) = self.inner.shared(id) {
                let st =
                    shared.wait_until(deadline, |st| st.lines.iter().any(|l| l.contains(needle)));
                return st.lines.iter().find(|l| l.contains(needle)).cloned();
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until computer `id` is off; true if it is.
    pub fn wait_until_off(&self, id: i32, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        match self.inner.shared(id) {
            Some(shared) => !shared.wait_until(deadline, |st| !st.on).on,
            None => true,
        }
    }

    /// How many times computer `id` has booted (first boot and reboots,
    /// across restarts).
    pub fn boot_count(&self, id: i32) -> u32 {
        self.inner
            .shared(id)
            .map(|s| s.lock().boot_count)
            .unwrap_or(0)
    }

    /// The last `os.shutdown(code)` code of computer `id` (1 after an
    /// uncaught C++ exception in an event provider), if any.
    pub fn exit_code(&self, id: i32) -> Option<i32> {
        self.inner.shared(id).and_then(|s| s.lock().exit_code)
    }

    /// IDs of every computer started so far (on or off).
    pub fn computer_ids(&self) -> Vec<i32> {
        let mut ids: Vec<i32> = lock(&self.inner.computers).keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    /// Everything off, threads joined, then `plugin_deinit`,
    /// `plugin_unload`, and the library closed.
    pub fn shutdown(mut self) {
        self.shutdown_inner();
    }

    /// [`Host::shutdown`], reporting how long its parts took.
    pub fn shutdown_timed(mut self) -> ShutdownTimes {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> ShutdownTimes {
        let mut times = ShutdownTimes::default();
        if self.done {
            return times;
        }
        self.done = true;
        let started = Instant::now();
        self.inner.stopping.store(true, Ordering::SeqCst);
        loop {
            // SAFETY: sets running = 0 on every listed computer, under the
            // list lock.
            unsafe { emu::hc_shutdown_all() };
            let handles: Vec<JoinHandle<()>> = std::mem::take(&mut *lock(&self.inner.threads));
            if handles.is_empty() {
                // SAFETY: reads the list size under its lock.
                if unsafe { emu::hc_computer_count() } == 0 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            for h in handles {
                let _ = h.join();
            }
        }
        self.inner.timers.stop();
        times.computers_off = started.elapsed();
        let deinit_started = Instant::now();
        if let (Some(d), false) = (self.plugin.deinit, self.plugin.info.is_null()) {
            // SAFETY: plugin_deinit(info) for the accepted plugin, once, after
            // every computer is off (deinitializePlugins).
            unsafe { emu::hc_call_plugin_deinit(d, self.plugin.info) };
        }
        times.plugin_deinit = deinit_started.elapsed();
        if let Some(u) = self.plugin.unload {
            // SAFETY: plugin_unload() (unloadPlugins), before the library is
            // closed.
            unsafe { emu::hc_call_plugin_unload(u) };
        }
        if let Some(lib) = self.plugin.library.take() {
            if let Err(e) = lib.close() {
                eprintln!("craftos-host: closing the plugin failed: {e}");
            }
        }
        // SAFETY: no plugin code can run any more; frees the computer objects
        // and unregisters the startComputer context.
        unsafe { emu::hc_reset() };
        release_slot();
        times.total = started.elapsed();
        times
    }
}

/// How long the parts of a host shutdown took.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShutdownTimes {
    /// Switching every computer off and joining their threads.
    pub computers_off: Duration,
    /// The plugin's `plugin_deinit`.
    pub plugin_deinit: Duration,
    /// Everything, unloading the plugin included.
    pub total: Duration,
}

// SAFETY: the raw pointers of a Host (PluginInfo*, symbol addresses) are only
// used by `shutdown`, which takes the Host by value or runs in Drop; every
// other method only touches synchronised state (mutexes, the C++ list lock).
unsafe impl Send for Host {}
// SAFETY: see `Send`; `&Host` methods never touch the raw pointers.
unsafe impl Sync for Host {}

impl Drop for Host {
    fn drop(&mut self) {
        self.shutdown_inner();
    }
}

unsafe extern "C" fn terminate_provider(
    _l: *mut lua_ffi::lua_State,
    _ctx: *mut c_void,
    _data: i64,
) -> *const std::ffi::c_char {
    c"terminate".as_ptr()
}
