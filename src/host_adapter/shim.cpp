// The C++ half of the plugin's adapter to CraftOS-PC.
//
// Everything of the interface that is a C++ library object is built or read
// here, with the platform's own C++ toolchain: the PluginInfo strings, the
// std::function event providers, the std::string event names and base path.
// All logic lives in Rust (src/host_adapter/mod.rs), which calls in through
// the extern "C" functions below and is called back through RustCallbacks.
#include "phoenix_shim.h"

#include <atomic>
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

// The plugin ABI of the emulator this build is for (build.rs): 12 for the
// standard CraftOS-PC v2.8, 11 for CraftOS-PC Accelerated v2.8. Their
// Windows Debug builds add 100000.
#ifndef PHOENIX_PLUGIN_ABI
#define PHOENIX_PLUGIN_ABI 12
#define PHOENIX_ACCELERATED 0
#endif

namespace {

constexpr unsigned kAbi = PHOENIX_PLUGIN_ABI;
constexpr unsigned kDebugAbi = 100000 + kAbi;
constexpr bool kAccelerated = PHOENIX_ACCELERATED != 0;
// The other variant's ABI: its emulator needs the other build of the plugin.
constexpr unsigned kOtherAbi = kAccelerated ? 12 : 11;

// Set by plugin_init before any computer starts; read from any thread.
std::atomic<const ccpc::PluginFunctions *> g_functions{nullptr};
RustCallbacks g_rust{};
// The PluginInfo of the plugin_init that started the Rust side: only its
// plugin_deinit stops it (a rejected answer's must not).
const ccpc::PluginInfo *g_started_info = nullptr;

// The event provider: a plain function, so the std::function owns nothing
// and the token (a process ticket) travels as the userdata word itself.
std::string provide_event(lua_State *L, void *token) {
    std::string name;
    g_rust.provide(L, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(token)), &name);
    return name;
}

// Returned when not even a PluginInfo can be allocated: an ABI version no
// emulator has, so the emulator rejects it without reading its strings (and
// then hands it to plugin_deinit, which must not free it).
ccpc::PluginInfo g_unallocated_info{0, 0, {}, {}, {}};

// "ABI 12" / "ABI 11", for the messages below.
std::string abi_name(unsigned abi) { return "ABI " + std::to_string(abi); }

// The data root as UTF-8 for the Rust side (throws if it cannot be converted).
std::string base_path_utf8(const ccpc::PluginFunctions &functions) {
#ifdef _WIN32
    const std::wstring wide = functions.getBasePath();
    if (wide.empty()) return {};
    const int wide_length = static_cast<int>(wide.size());
    const int length = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide.data(), wide_length,
                                           nullptr, 0, nullptr, nullptr);
    if (length <= 0) throw std::runtime_error("the data folder's name is not valid Unicode");
    std::string utf8(static_cast<std::size_t>(length), '\0');
    WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide.data(), wide_length, &utf8[0], length,
                        nullptr, nullptr);
    return utf8;
#else
    return functions.getBasePath();
#endif
}

// Why this emulator's interface cannot be used, or "" if it can. Only the
// first field of PluginFunctions is read: it is laid out alike in every
// version and build.
std::string incompatibility(const ccpc::PluginFunctions *functions) {
    if (functions == nullptr) return "phoenix-events: the emulator passed no plugin interface";
    const unsigned abi = functions->abi_version;
    const std::string emulator = kAccelerated ? "CraftOS-PC Accelerated" : "CraftOS-PC";
    if (abi == kDebugAbi) {
        return "phoenix-events cannot run in a Debug build of " + emulator + " (plugin ABI " +
               std::to_string(kDebugAbi) +
               "): its C++ library layouts differ from a Release build's. Use a Release build.";
    }
    if (abi != kAbi) {
        std::string reason = "phoenix-events for " + emulator + " needs the " + emulator +
                             " v2.8 plugin interface (" + abi_name(kAbi) +
                             "); this emulator has " + abi_name(abi) + ".";
        if (abi == kOtherAbi) {
            reason += kAccelerated ? " This is the standard CraftOS-PC: use the standard build "
                                     "of phoenix-events (not -accelerated-)."
                                   : " This is CraftOS-PC Accelerated: use the -accelerated- build "
                                     "of phoenix-events.";
        }
        return reason;
    }
    return {};
}

// Refuses the plugin with `reason`. Should even that allocation fail, an
// ABI version no emulator has refuses it without any string being read.
void refuse(ccpc::PluginInfo *info, const char *reason) noexcept {
    try {
        info->failureReason = reason;
    } catch (...) {
        info->abi_version = 0;
    }
}

}  // namespace

extern "C" {

ccpc::PluginInfo *phoenix_plugin_init(const ccpc::PluginFunctions *functions,
                                      const RustCallbacks *rust) noexcept {
    // The emulator dereferences what plugin_init returns: never NULL.
    auto *info = new (std::nothrow) ccpc::PluginInfo;
    if (info == nullptr) return &g_unallocated_info;
    info->abi_version = kAbi;
    try {
        info->apiName = "syscall";
        info->luaopenName = "luaopen_syscall";
        const std::string reason = incompatibility(functions);
        if (!reason.empty()) {
            // abi_version stays ours, so an emulator of another ABI rejects the
            // plugin on that field alone, before it reads any string of ours
            // (whose layout it may not share), and prints its own generic
            // message: say why here first.
            std::fprintf(stderr, "%s\n", reason.c_str());
            info->failureReason = reason;
            return info;
        }
        g_rust = *rust;
        g_functions.store(functions);
        std::string failure;
        g_rust.start(base_path_utf8(*functions).c_str(), &failure);
        g_started_info = info;
        info->failureReason = failure;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "phoenix-events could not start: %s\n", e.what());
        refuse(info, "phoenix-events could not start (see the emulator's standard error)");
    } catch (...) {
        refuse(info, "phoenix-events could not start");
    }
    if (!info->failureReason.empty() || info->abi_version != kAbi) {
        g_functions.store(nullptr);
    }
    return info;
}

void phoenix_plugin_deinit(ccpc::PluginInfo *info) noexcept {
    if (info != nullptr && info == g_started_info) {
        g_rust.stop();
        g_functions.store(nullptr);
        phoenix_trees_free();
        g_started_info = nullptr;
    }
    if (info != &g_unallocated_info) delete info;
}

// Queues one provider for `computer`; false if the plugin is not running or
// the emulator threw.
bool phoenix_queue_provider(ccpc::Computer *computer, std::uint64_t token) noexcept {
    const ccpc::PluginFunctions *functions = g_functions.load();
    if (functions == nullptr) return false;
    try {
        functions->queueEvent(computer, ccpc::event_provider(provide_event),
                              reinterpret_cast<void *>(static_cast<std::uintptr_t>(token)));
        return true;
    } catch (...) {
        return false;
    }
}

void phoenix_string_assign(std::string *target, const char *data, std::size_t length) noexcept {
    try {
        target->assign(data, length);
    } catch (...) {
        target->clear();
    }
}

}  // extern "C"

// ---------------------------------------------------------------------------
// The read-only trees mounted into every computer (system.ipc, the shell
// programs, their help pages, the autorun file): one FileEntry per mount
// for the whole process. The emulator keeps a pointer to a mounted tree in
// each Computer, so the trees are built before any computer starts and
// freed only at plugin_deinit, after every computer has stopped.

namespace {
std::atomic<ccpc::FileEntry *> g_trees[kPhoenixTrees]{};

// Tree `tree`, created on first use; nullptr when out of range.
ccpc::FileEntry *tree_at(unsigned tree) {
    if (tree >= kPhoenixTrees) return nullptr;
    ccpc::FileEntry *entry = g_trees[tree].load();
    if (entry == nullptr) {
        entry = new ccpc::FileEntry;
        g_trees[tree].store(entry);
    }
    return entry;
}
}  // namespace

extern "C" {

bool phoenix_tree_add(unsigned tree, const char *name, const char *data, std::size_t length) noexcept {
    try {
        ccpc::FileEntry *entry = tree_at(tree);
        if (entry == nullptr) return false;
        if (name == nullptr) {
            entry->isDir = false;
            entry->dir.clear();
            entry->data.assign(data, length);
            return true;
        }
        entry->isDir = true;
        ccpc::FileEntry file;
        file.isDir = false;
        file.data.assign(data, length);
        entry->dir[name] = std::move(file);
        return true;
    } catch (...) {
        return false;
    }
}

int phoenix_tree_mount(ccpc::Computer *computer, unsigned tree, const char *at) noexcept {
    const ccpc::PluginFunctions *functions = g_functions.load();
    if (functions == nullptr || tree >= kPhoenixTrees || functions->addVirtualMount == nullptr) return -1;
    const ccpc::FileEntry *entry = g_trees[tree].load();
    if (entry == nullptr) return -1;
    try {
        return functions->addVirtualMount(computer, *entry, at) ? 1 : 0;
    } catch (...) {
        return -1;
    }
}

void phoenix_trees_free() noexcept {
    for (auto &tree : g_trees) delete tree.exchange(nullptr);
}

}  // extern "C"
