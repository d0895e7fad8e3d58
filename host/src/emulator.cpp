// The C++ half of the embedded CraftOS-PC host: everything that touches the
// C++ library types of the plugin interface (std::function providers,
// std::string, std::filesystem::path, PluginInfo, PluginFunctions).
// Portable C++17 (GCC, Clang, MSVC): `path_t` is std::wstring on Windows.
//
// Written for this project from the documented facts of CraftOS-PC v2.8.3
// (plugin ABI 12); it plays the emulator's side of the interface. The Rust
// side (host/src/*.rs) drives it through the small extern "C" API below.

#include <craftos_pc_abi.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#ifdef _MSC_VER
#include <intrin.h>
#endif

namespace {

// A computer as the host allocates it: the stable ABI prefix (id, running, L)
// is the base sub-object, at offset 0; host-private fields follow.
struct HostComputer : ccpc::Computer {
    std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::deque<std::pair<ccpc::event_provider, void *>> providers;
    void *rust = nullptr;  // the Rust runtime of this computer (opaque here)
};

static_assert(std::is_standard_layout<ccpc::Computer>::value, "Computer prefix must be standard layout");

// Process-wide registry, like the emulator's `computers` list and
// `freedComputers` set. Guarded by g_mutex.
std::mutex g_mutex;
std::list<HostComputer *> g_computers;
std::unordered_set<const ccpc::Computer *> g_freed;
// Freed computers are kept allocated until the host ends (see hc_reset), so
// that a stale pointer held by a plugin is never reused for a new computer.
std::vector<HostComputer *> g_graveyard;

std::mutex g_config_mutex;
std::string g_base_path;
std::string g_rom_path;
std::unordered_map<std::string, std::string> g_plugin_config;

const int g_selected_renderer = 1;  // headless

typedef ccpc::Computer *(*start_computer_cb)(void *ctx, int id);
std::atomic<start_computer_cb> g_start_cb{nullptr};
std::atomic<void *> g_start_ctx{nullptr};

// Wraps the plugin-interface functions the host implements.
HostComputer *as_host(ccpc::Computer *c) { return static_cast<HostComputer *>(c); }

// `running` is a plain int in the ABI, written by the host and read by the
// plugin's threads: every access here is a sequentially consistent atomic.
#ifdef _MSC_VER
static_assert(sizeof(long) == sizeof(int), "Interlocked on int");
int load_running(const ccpc::Computer *c) {
    return _InterlockedOr(reinterpret_cast<volatile long *>(const_cast<int *>(&c->running)), 0);
}
void store_running(ccpc::Computer *c, int value) {
    _InterlockedExchange(reinterpret_cast<volatile long *>(&c->running), value);
}
#else
int load_running(const ccpc::Computer *c) { return __atomic_load_n(&c->running, __ATOMIC_SEQ_CST); }
void store_running(ccpc::Computer *c, int value) { __atomic_store_n(&c->running, value, __ATOMIC_SEQ_CST); }
#endif

// The configured paths are UTF-8; the interface hands them out in the
// platform's native form (std::wstring on Windows).
ccpc::path_t native_path(const std::string &utf8) { return std::filesystem::u8path(utf8).native(); }

ccpc::path_t fn_getBasePath() {
    std::lock_guard<std::mutex> lock(g_config_mutex);
    return native_path(g_base_path);
}

ccpc::path_t fn_getROMPath() {
    std::lock_guard<std::mutex> lock(g_config_mutex);
    return native_path(g_rom_path);
}

void *fn_getLibrary(const std::string &) { return nullptr; }

// As the emulator: any computer in the computers list with that ID (the list
// holds a computer from startComputer until its final shutdown).
ccpc::Computer *fn_getComputerById(int id) {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (HostComputer *c : g_computers)
        if (c->id == id) return c;
    return nullptr;
}

void fn_registerPeripheral(const std::string &, const void *) {}
void fn_registerSDLEvent(int, const void *, void *) {}
bool fn_addMount(ccpc::Computer *, const std::string &, const char *, bool) { return false; }
bool fn_addVirtualMount(ccpc::Computer *comp, const ccpc::FileEntry &tree, const char *path);  // below

ccpc::Computer *fn_startComputer(int id) {
    start_computer_cb cb = g_start_cb.load();
    if (cb == nullptr) return nullptr;
    return cb(g_start_ctx.load(), id);
}

void fn_queueEvent(ccpc::Computer *comp, const ccpc::event_provider &provider, void *userdata) {
    std::lock_guard<std::mutex> glock(g_mutex);
    if (g_freed.count(comp) != 0) return;
    HostComputer *c = as_host(comp);
    {
        std::lock_guard<std::mutex> lock(c->queue_mutex);
        c->providers.emplace_back(provider, userdata);
    }
    c->queue_cv.notify_all();
}

// queueTask: the emulator runs tasks on its main thread; this host has no
// such loop, so tasks run on the calling thread, one at a time.
std::recursive_mutex g_task_mutex;
void *fn_queueTask(const std::function<void *(void *)> &fn, void *userdata, bool) {
    std::lock_guard<std::recursive_mutex> lock(g_task_mutex);
    return fn(userdata);
}

std::string fn_getConfigSetting(const std::string &name) {
    std::lock_guard<std::mutex> lock(g_config_mutex);
    return g_plugin_config.at(name);
}
int fn_getConfigSettingInt(const std::string &name) { return std::stoi(fn_getConfigSetting(name)); }
bool fn_getConfigSettingBool(const std::string &name) {
    const std::string v = fn_getConfigSetting(name);
    if (v == "true") return true;
    if (v == "false") return false;
    throw std::invalid_argument("Not a boolean value");
}
void fn_setConfigSetting(const std::string &name, const std::string &value) {
    std::lock_guard<std::mutex> lock(g_config_mutex);
    g_plugin_config[name] = value;
}
void fn_setConfigSettingInt(const std::string &name, int value) { fn_setConfigSetting(name, std::to_string(value)); }
void fn_setConfigSettingBool(const std::string &name, bool value) { fn_setConfigSetting(name, value ? "true" : "false"); }
void fn_registerConfigSetting(const std::string &, int, const std::function<int(const std::string &, void *)> &, void *) {}
void *fn_attachPeripheral(ccpc::Computer *, const std::string &, const std::string &, std::string *err, const char *, ...) {
    if (err != nullptr) *err = "Peripherals are not supported by this host";
    return nullptr;
}
bool fn_detachPeripheral(ccpc::Computer *, const std::string &) { return false; }
void fn_addEventHook(const std::string &, ccpc::Computer *, const ccpc::event_hook &, void *) {}
void fn_setDistanceProvider(const std::function<double(const ccpc::Computer *, const ccpc::Computer *)> &) {}
void fn_registerPeripheralFn(const std::string &, const void *) {}
int fn_registerTerminalFactory(void *) { return -1; }
int fn_commandLineArgs(const std::vector<std::string> &) { return 0; }
void fn_setListenerMode(bool) {}
void fn_pumpTaskQueue() {}

template <typename F>
ccpc::opaque_fn opaque(F *f) {
    return reinterpret_cast<ccpc::opaque_fn>(f);
}

const ccpc::PluginFunctions g_functions = {
    ccpc::kPluginAbiVersion,
    ccpc::kHostStructureVersion,
    "v2.8.3",
    g_selected_renderer,
    nullptr,  // config: the emulator's `configuration` object is not modelled
    &fn_getBasePath,
    &fn_getROMPath,
    opaque(&fn_getLibrary),
    &fn_getComputerById,
    opaque(&fn_registerPeripheral),
    opaque(&fn_registerSDLEvent),
    opaque(&fn_addMount),
    &fn_addVirtualMount,
    &fn_startComputer,
    &fn_queueEvent,
    opaque(&fn_queueTask),
    opaque(&fn_getConfigSetting),
    opaque(&fn_getConfigSettingInt),
    opaque(&fn_getConfigSettingBool),
    opaque(&fn_setConfigSetting),
    opaque(&fn_setConfigSettingInt),
    opaque(&fn_setConfigSettingBool),
    opaque(&fn_registerConfigSetting),
    opaque(&fn_attachPeripheral),
    opaque(&fn_detachPeripheral),
    opaque(&fn_addEventHook),
    opaque(&fn_setDistanceProvider),
    opaque(&fn_registerPeripheralFn),
    opaque(&fn_registerTerminalFactory),
    opaque(&fn_commandLineArgs),
    opaque(&fn_setListenerMode),
    opaque(&fn_pumpTaskQueue),
};

char *dup_string(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p == nullptr) std::abort();
    std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return p;
}

}  // namespace

extern "C" {

// Plugin information as copied out for Rust (strings are malloc'd, NUL
// terminated; release them with hc_free).
struct HcPluginInfo {
    unsigned abi_version;
    unsigned minimum_structure_version;
    char *luaopen_name;
    char *failure_reason;
    char *api_name;
    char *exception;  // what() of an exception thrown by plugin_init, else NULL
};

// Strings handed to Rust: malloc'd, `len` bytes (may contain NULs).
struct HcString {
    char *ptr;
    size_t len;
};

void hc_free(void *p) { std::free(p); }

void hc_vfs_reset();  // virtual mounts, at the end of this file

void hc_configure(const char *base_path, const char *rom_path) {
    std::lock_guard<std::mutex> lock(g_config_mutex);
    g_base_path = base_path;
    g_rom_path = rom_path;
    g_plugin_config.clear();
}

void hc_set_start_callback(start_computer_cb cb, void *ctx) {
    g_start_ctx.store(ctx);
    g_start_cb.store(cb);
}

const ccpc::PluginFunctions *hc_plugin_functions() { return &g_functions; }

// plugin_load(const PluginFunctions*, const path_t&): the emulator passes the
// path as a std::filesystem::path object. `path` is UTF-8.
int hc_call_plugin_load(void *fn, const char *path, HcString *exception) {
    using load_fn = void (*)(const ccpc::PluginFunctions *, const std::filesystem::path &);
    const std::filesystem::path p = std::filesystem::u8path(path);
    try {
        reinterpret_cast<load_fn>(fn)(&g_functions, p);
    } catch (std::exception &e) {
        const std::string what = e.what();
        exception->ptr = dup_string(what);
        exception->len = what.size();
        return 1;
    }
    return 0;
}

// Calls plugin_init exactly as initializePlugins() does (the path argument is
// a std::filesystem::path) and copies the returned PluginInfo out.
// Returns the PluginInfo* (NULL when plugin_init threw or returned NULL).
void *hc_call_plugin_init(void *fn, const char *path, HcPluginInfo *out) {
    using init_fn = ccpc::PluginInfo *(*)(const ccpc::PluginFunctions *, const std::filesystem::path &);
    std::memset(out, 0, sizeof(*out));
    const std::filesystem::path p = std::filesystem::u8path(path);
    ccpc::PluginInfo *info = nullptr;
    try {
        info = reinterpret_cast<init_fn>(fn)(&g_functions, p);
    } catch (std::exception &e) {
        out->exception = dup_string(e.what());
        return nullptr;
    }
    if (info == nullptr) return nullptr;
    out->abi_version = info->abi_version;
    out->minimum_structure_version = info->minimum_structure_version;
    out->luaopen_name = dup_string(info->luaopenName);
    out->failure_reason = dup_string(info->failureReason);
    out->api_name = dup_string(info->apiName);
    return info;
}

void hc_call_plugin_deinit(void *fn, void *info) {
    using deinit_fn = void (*)(ccpc::PluginInfo *);
    try {
        reinterpret_cast<deinit_fn>(fn)(static_cast<ccpc::PluginInfo *>(info));
    } catch (std::exception &e) {
        std::fprintf(stderr, "craftos-host: plugin_deinit threw: %s\n", e.what());
    }
}

void hc_call_plugin_unload(void *fn) {
    try {
        reinterpret_cast<void (*)()>(fn)();
    } catch (std::exception &e) {
        std::fprintf(stderr, "craftos-host: plugin_unload threw: %s\n", e.what());
    }
}

// Allocates a computer and adds it to the computers list (as startComputer).
ccpc::Computer *hc_computer_new(int id, void *rust) {
    HostComputer *c = new HostComputer();
    c->id = id;
    // On before it is listed: a shutdown of everything (hc_shutdown_all, under
    // the list lock) either sees it and turns it off, or runs before it is
    // listed, when the host's stopping flag is already set (computer.rs).
    c->running = 1;
    c->L = nullptr;
    c->rust = rust;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_freed.erase(c);  // in case the allocator reuses a pointer (as the emulator does)
    g_computers.push_back(c);
    return c;
}

// Final shutdown: removes the computer from the list, marks it freed (so
// queueEvent ignores it from now on) and destroys its queued providers
// without calling them. The memory itself stays until hc_reset.
void hc_computer_free(ccpc::Computer *comp) {
    HostComputer *c = as_host(comp);
    std::deque<std::pair<ccpc::event_provider, void *>> dropped;
    {
        std::lock_guard<std::mutex> glock(g_mutex);
        g_freed.insert(comp);
        g_computers.remove(c);
        g_graveyard.push_back(c);
        std::lock_guard<std::mutex> lock(c->queue_mutex);
        dropped.swap(c->providers);
        c->rust = nullptr;
    }
    dropped.clear();  // destroys the std::function objects, outside the locks
}

// Called once the plugin is unloaded: no plugin code can hold a computer now.
void hc_reset() {
    std::vector<HostComputer *> dead;
    {
        std::lock_guard<std::mutex> glock(g_mutex);
        dead.swap(g_graveyard);
        g_freed.clear();
    }
    for (HostComputer *c : dead) delete c;
    hc_vfs_reset();
    hc_set_start_callback(nullptr, nullptr);
}

void *hc_rust_data(ccpc::Computer *comp) { return as_host(comp)->rust; }

int hc_get_running(const ccpc::Computer *comp) { return load_running(comp); }

void hc_notify(ccpc::Computer *comp) {
    HostComputer *c = as_host(comp);
    { std::lock_guard<std::mutex> lock(c->queue_mutex); }
    c->queue_cv.notify_all();
}

void hc_set_running(ccpc::Computer *comp, int value) {
    store_running(comp, value);
    hc_notify(comp);
}

void hc_set_L(ccpc::Computer *comp, lua_State *L) { comp->L = L; }

// Sets `running` of the (first) listed computer with this ID and wakes it.
// Returns 0 when there is no such computer.
int hc_set_running_by_id(int id, int value) {
    std::lock_guard<std::mutex> glock(g_mutex);
    for (HostComputer *c : g_computers)
        if (c->id == id) {
            store_running(c, value);
            { std::lock_guard<std::mutex> lock(c->queue_mutex); }
            c->queue_cv.notify_all();
            return 1;
        }
    return 0;
}

// Number of computers in the list.
size_t hc_computer_count() {
    std::lock_guard<std::mutex> glock(g_mutex);
    return g_computers.size();
}

// Sets running = 0 on every listed computer and wakes them.
void hc_shutdown_all() {
    std::lock_guard<std::mutex> glock(g_mutex);
    for (HostComputer *c : g_computers) {
        store_running(c, 0);
        { std::lock_guard<std::mutex> lock(c->queue_mutex); }
        c->queue_cv.notify_all();
    }
}

// A provider implemented in Rust: pushes the event's values on L and returns
// a static NUL-terminated name ("" discards the event).
typedef const char *(*hc_rust_provider)(lua_State *L, void *ctx, int64_t data);

void hc_queue_rust_event(ccpc::Computer *comp, hc_rust_provider f, void *ctx, int64_t data) {
    fn_queueEvent(
        comp, [f, ctx, data](lua_State *L, void *) -> std::string { return std::string(f(L, ctx, data)); }, nullptr);
}

// As hc_queue_rust_event, for the first listed computer with this ID.
int hc_queue_rust_event_by_id(int id, hc_rust_provider f, void *ctx, int64_t data) {
    ccpc::Computer *comp = fn_getComputerById(id);
    if (comp == nullptr) return 0;
    // The computer may be freed between the two calls: queueEvent then
    // ignores it, as it does for any freed computer.
    hc_queue_rust_event(comp, f, ctx, data);
    return 1;
}

int hc_has_provider(ccpc::Computer *comp) {
    HostComputer *c = as_host(comp);
    std::lock_guard<std::mutex> lock(c->queue_mutex);
    return c->providers.empty() ? 0 : 1;
}

// As termGetEvent: pops the oldest provider under the queue mutex, unlocks,
// then calls it with `param`. Returns 0 when the queue was empty, 1 when a
// provider ran (its name in *name, malloc'd), 2 when it threw (what() in
// *name).
int hc_run_provider(ccpc::Computer *comp, lua_State *param, HcString *name) {
    HostComputer *c = as_host(comp);
    std::unique_lock<std::mutex> lock(c->queue_mutex);
    if (c->providers.empty()) return 0;
    const std::pair<ccpc::event_provider, void *> p = std::move(c->providers.front());
    c->providers.pop_front();
    lock.unlock();
    try {
        const std::string result = p.first(param, p.second);
        name->ptr = dup_string(result);
        name->len = result.size();
        return 1;
    } catch (std::exception &e) {
        const std::string what = e.what();
        name->ptr = dup_string(what);
        name->len = what.size();
        return 2;
    } catch (...) {
        name->ptr = dup_string("unknown exception");
        name->len = std::strlen(name->ptr);
        return 2;
    }
}

// Waits until a provider is queued or `running` is no longer 1, at most
// `timeout_ms`. Returns 1 when a provider is queued.
int hc_wait(ccpc::Computer *comp, unsigned timeout_ms) {
    HostComputer *c = as_host(comp);
    std::unique_lock<std::mutex> lock(c->queue_mutex);
    c->queue_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [c] { return !c->providers.empty() || load_running(c) != 1; });
    return c->providers.empty() ? 0 : 1;
}

}  // extern "C"

// ---------------------------------------------------------------------------
// Virtual mounts (addVirtualMount) and the read-only file system over them.
//
// As in the emulator, a computer's mounts belong to its Computer object and
// outlive reboots; the plugin owns each mounted tree (the host keeps a
// pointer) and keeps it alive while the computer may use it. A second mount
// of an equal tree at the same place is refused, as CraftOS-PC v2.8.3 does.

namespace {

struct VirtualMount {
    std::vector<std::string> at;  // path components of the mount point
    const ccpc::FileEntry *tree;
};

std::mutex g_vfs_mutex;
std::unordered_map<const ccpc::Computer *, std::vector<VirtualMount>> g_vfs;

// Path components as the emulator splits them: '/' or '\\' separated, empty
// and all-dot components dropped, ".." going up (false above the root).
bool split_path(const std::string &path, std::vector<std::string> &out) {
    std::string part;
    auto flush = [&]() -> bool {
        if (part == "..") {
            if (out.empty()) return false;
            out.pop_back();
        } else if (!part.empty() && part.find_first_not_of('.') != std::string::npos) {
            out.push_back(part);
        }
        part.clear();
        return true;
    };
    for (char ch : path) {
        if (ch == '/' || ch == '\\') {
            if (!flush()) return false;
        } else {
            part.push_back(ch);
        }
    }
    return flush();
}

bool same_tree(const ccpc::FileEntry &a, const ccpc::FileEntry &b) {
    if (a.isDir != b.isDir) return false;
    if (!a.isDir) return a.data == b.data;
    if (a.dir.size() != b.dir.size()) return false;
    for (auto ia = a.dir.begin(), ib = b.dir.begin(); ia != a.dir.end(); ++ia, ++ib)
        if (ia->first != ib->first || !same_tree(ia->second, ib->second)) return false;
    return true;
}

bool starts_with(const std::vector<std::string> &path, const std::vector<std::string> &prefix) {
    return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// What a path names: a node of a mounted tree (longest mount point wins, as
// in the emulator), or a directory on the way to a mount point (whose
// entries are the next components of the mount points below it).
struct Lookup {
    const ccpc::FileEntry *node = nullptr;
    std::vector<std::string> passing;  // entries of a directory leading to mounts
    bool is_dir() const { return node != nullptr ? node->isDir : !passing.empty(); }
    bool exists() const { return node != nullptr || !passing.empty(); }
};

Lookup lookup_locked(const ccpc::Computer *comp, const std::vector<std::string> &path) {
    Lookup found;
    auto mounts = g_vfs.find(comp);
    if (mounts == g_vfs.end()) return found;
    const VirtualMount *best = nullptr;
    for (const VirtualMount &m : mounts->second) {
        if (starts_with(path, m.at) && (best == nullptr || m.at.size() > best->at.size())) best = &m;
        if (m.at.size() > path.size() && starts_with(m.at, path)) found.passing.push_back(m.at[path.size()]);
    }
    if (best != nullptr) {
        const ccpc::FileEntry *node = best->tree;
        for (size_t i = best->at.size(); node != nullptr && i < path.size(); i++) {
            if (!node->isDir) { node = nullptr; break; }
            auto child = node->dir.find(path[i]);
            node = child == node->dir.end() ? nullptr : &child->second;
        }
        found.node = node;
    }
    return found;
}

bool fn_addVirtualMount(ccpc::Computer *comp, const ccpc::FileEntry &tree, const char *path) {
    std::vector<std::string> at;
    if (path == nullptr || !split_path(path, at)) return false;
    std::lock_guard<std::mutex> lock(g_vfs_mutex);
    std::vector<VirtualMount> &mounts = g_vfs[comp];
    for (const VirtualMount &m : mounts)
        if (m.at == at && same_tree(*m.tree, tree)) return false;
    mounts.push_back(VirtualMount{at, &tree});
    return true;
}

}  // namespace

extern "C" {

// Forgets every computer's mounts (the host ends; the plugin is unloaded).
void hc_vfs_reset() {
    std::lock_guard<std::mutex> lock(g_vfs_mutex);
    g_vfs.clear();
}

// What `path` is on `comp`: 0 nothing, 1 a file (its contents copied into
// *data, malloc'd), 2 a directory.
int hc_vfs_stat(const ccpc::Computer *comp, const char *path, size_t len, HcString *data) {
    std::vector<std::string> parts;
    if (!split_path(std::string(path, len), parts)) return 0;
    std::lock_guard<std::mutex> lock(g_vfs_mutex);
    const Lookup found = lookup_locked(comp, parts);
    if (!found.exists()) return 0;
    if (found.is_dir()) return 2;
    const std::string &bytes = found.node->data;
    data->ptr = static_cast<char *>(std::malloc(bytes.size() + 1));
    if (data->ptr == nullptr) return 0;
    std::memcpy(data->ptr, bytes.data(), bytes.size());
    data->len = bytes.size();
    return 1;
}

// The sorted entries of directory `path` on `comp`, NUL-separated in *names
// (malloc'd); their count, or -1 when `path` is not a directory.
int hc_vfs_list(const ccpc::Computer *comp, const char *path, size_t len, HcString *names) {
    std::vector<std::string> parts;
    if (!split_path(std::string(path, len), parts)) return -1;
    std::lock_guard<std::mutex> lock(g_vfs_mutex);
    const Lookup found = lookup_locked(comp, parts);
    if (!found.is_dir()) return -1;
    std::vector<std::string> entries = found.passing;
    if (found.node != nullptr)
        for (const auto &entry : found.node->dir) entries.push_back(entry.first);
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    std::string joined;
    for (const std::string &e : entries) joined.append(e).push_back('\0');
    names->ptr = dup_string(joined);
    names->len = joined.size();
    return static_cast<int>(entries.size());
}

}  // extern "C"
