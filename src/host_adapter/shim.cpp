// The C++ half of the plugin's adapter to CraftOS-PC.
//
// Everything of the interface that is a C++ library object is built or read
// here, with the platform's own C++ toolchain: the PluginInfo strings, the
// std::function event providers, the std::string event names and base path.
// All logic lives in Rust (src/host_adapter/mod.rs), which calls in through
// the extern "C" functions below and is called back through RustCallbacks.
#include "phoenix_shim.h"

#include <atomic>
#include <exception>
#include <new>

namespace {

// Set by plugin_init before any computer starts; read from any thread.
std::atomic<const ccpc::PluginFunctions *> g_functions{nullptr};
RustCallbacks g_rust{};

// The event provider: a plain function, so the std::function owns nothing
// and the token (a process ticket) travels as the userdata word itself.
std::string provide_event(lua_State *L, void *token) {
    std::string name;
    g_rust.provide(L, static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(token)), &name);
    return name;
}

}  // namespace

extern "C" {

ccpc::PluginInfo *phoenix_plugin_init(const ccpc::PluginFunctions *functions,
                                      const RustCallbacks *rust) noexcept {
    auto *info = new (std::nothrow) ccpc::PluginInfo;
    if (info == nullptr) return nullptr;
    try {
        info->apiName = "syscall";
        info->luaopenName = "luaopen_syscall";
        if (functions == nullptr || functions->abi_version != ccpc::kPluginAbiVersion) {
            // Another layout: none of its fields may be touched.
            info->failureReason = "phoenix-events needs the CraftOS-PC v2.8 plugin interface (ABI 12)";
            return info;
        }
        g_rust = *rust;
        g_functions.store(functions);
        std::string failure;
        g_rust.start(functions->getBasePath().c_str(), &failure);
        info->failureReason = failure;
    } catch (const std::exception &e) {
        info->failureReason = std::string("phoenix-events could not start: ") + e.what();
    } catch (...) {
        info->failureReason = "phoenix-events could not start";
    }
    return info;
}

void phoenix_plugin_deinit(ccpc::PluginInfo *info) noexcept {
    if (g_rust.stop != nullptr) g_rust.stop();
    g_functions.store(nullptr);
    phoenix_modules_free();
    delete info;
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
// Library modules mounted into every computer (system.ipc): one read-only
// FileEntry tree for the whole process. The emulator keeps a pointer to a
// mounted tree in each Computer, so the tree is built before any computer
// starts and freed only at plugin_deinit, after every computer has stopped.

namespace {
std::atomic<ccpc::FileEntry *> g_module_tree{nullptr};
}  // namespace

extern "C" {

bool phoenix_modules_add(const char *name, const char *data, std::size_t length) noexcept {
    try {
        ccpc::FileEntry *tree = g_module_tree.load();
        if (tree == nullptr) {
            tree = new ccpc::FileEntry;
            g_module_tree.store(tree);
        }
        ccpc::FileEntry file;
        file.isDir = false;
        file.data.assign(data, length);
        tree->dir[name] = std::move(file);
        return true;
    } catch (...) {
        return false;
    }
}

int phoenix_modules_mount(ccpc::Computer *computer, const char *at) noexcept {
    const ccpc::PluginFunctions *functions = g_functions.load();
    const ccpc::FileEntry *tree = g_module_tree.load();
    if (functions == nullptr || tree == nullptr || functions->addVirtualMount == nullptr) return -1;
    try {
        return functions->addVirtualMount(computer, *tree, at) ? 1 : 0;
    } catch (...) {
        return -1;
    }
}

void phoenix_modules_free() noexcept { delete g_module_tree.exchange(nullptr); }

}  // extern "C"
