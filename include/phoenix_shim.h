// The boundary between the plugin's Rust code and its C++ shim
// (src/host_adapter/shim.cpp). Mirrored in src/host_adapter/mod.rs.
//
// Ownership: the PluginInfo returned by phoenix_plugin_init belongs to the
// shim until phoenix_plugin_deinit frees it; strings passed to the callbacks
// are borrowed for the duration of the call; nothing else is allocated across
// this boundary (a provider's token is a plain 64-bit value).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "craftos_pc_abi.hpp"

extern "C" {

// Rust functions, handed to the shim by plugin_init (so that the library
// exports nothing but the emulator's entry points).
struct RustCallbacks {
    // Starts the plugin; writes a reason into `failure` if it cannot.
    void (*start)(const char *base_path, std::string *failure);
    // Stops every thread and frees everything started by `start`.
    void (*stop)();
    // Delivers the next item for `token` (a process ticket): pushes the
    // event's parameters and writes its name, or leaves `name` empty.
    void (*provide)(lua_State *L, std::uint64_t token, std::string *name);
};

// plugin_init: builds the PluginInfo (API "syscall", opener
// "luaopen_syscall"), checks the ABI version, then calls rust->start.
ccpc::PluginInfo *phoenix_plugin_init(const ccpc::PluginFunctions *functions,
                                      const RustCallbacks *rust) noexcept;

// plugin_deinit: calls the Rust stop callback, then frees `info`.
void phoenix_plugin_deinit(ccpc::PluginInfo *info) noexcept;

// Queues one event provider for `computer` carrying `token`; false when the
// plugin is not running or the emulator threw.
bool phoenix_queue_provider(ccpc::Computer *computer, std::uint64_t token) noexcept;

// `*target = std::string(data, length)`, for Rust.
void phoenix_string_assign(std::string *target, const char *data, std::size_t length) noexcept;

// The read-only trees mounted into every computer (see shim.cpp and
// src/host_adapter/mounts.rs), numbered from 0 to kPhoenixTrees - 1.
// phoenix_tree_add adds file `name` to tree `tree`, making it a folder, or
// with a null `name` makes the tree itself that file (false if out of memory
// or `tree` is out of range). phoenix_tree_mount mounts tree `tree` at `at`
// on `computer` (1 mounted, 0 refused by the emulator — e.g. already mounted
// before a reboot —, -1 no such tree or an error). phoenix_trees_free frees
// them all.
constexpr unsigned kPhoenixTrees = 8;
bool phoenix_tree_add(unsigned tree, const char *name, const char *data, std::size_t length) noexcept;
int phoenix_tree_mount(ccpc::Computer *computer, unsigned tree, const char *at) noexcept;
void phoenix_trees_free() noexcept;

}  // extern "C"
