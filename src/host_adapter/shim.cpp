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
