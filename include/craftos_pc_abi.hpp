// CraftOS-PC v2.8 plugin interface (plugin ABI 12, structure version 0),
// declared from the documented facts in ../shared/docs/craftos-pc-abi.md.
// Shared by the plugin's adapter (src/host_adapter/shim.cpp) and the embedded
// host (host/src/emulator.cpp) so that both sides agree on one layout.
//
// Only the layout matters to the ABI: fields this project never calls are
// declared as opaque pointers of the same width, with their real signature in
// a comment.
#pragma once

#include <functional>
#include <map>
#include <string>

extern "C" {
struct lua_State;
typedef int (*lua_CFunction)(lua_State *);
}

namespace ccpc {

// The ABI version a release build of CraftOS-PC v2.8 requires exactly.
constexpr unsigned kPluginAbiVersion = 12;
// The ABI version of a Windows Debug build of the emulator: its MSVC Debug
// STL lays std::string and std::function out differently from a Release one,
// so a Release plugin cannot share those types with it.
constexpr unsigned kWindowsDebugAbiVersion = 100012;
// The structure version the host reports; a plugin may require at most this.
constexpr unsigned kHostStructureVersion = 0;

// `path_t` as seen through the plugin interface: the native string of the
// emulator's std::filesystem::path (what getBasePath()/getROMPath() return by
// value). plugin_init's second parameter is the std::filesystem::path itself.
#ifdef _WIN32
using path_t = std::wstring;
#else
using path_t = std::string;
#endif

// The emulator's computer object. Only these leading fields are stable
// (since ABI 10.0); everything after them is opaque and host-owned.
struct Computer {
    int id;           // the computer's ID
    int running;      // 0 off, 1 on, 2 rebooting
    lua_State *L;     // the computer's main Lua state (valid while running)
};

// An in-memory, read-only file tree for addVirtualMount (the emulator's
// `FileEntry`, api/FileEntry.hpp of v2.8.3): a file (`data`) or a directory
// (`dir`, name -> entry). The emulator keeps a pointer to the mounted tree,
// so it must outlive every computer it is mounted on.
struct FileEntry {
    bool isDir = true;
    bool error = false;  // set by the emulator on a failed lookup
    std::string data;
    std::map<std::string, FileEntry> dir;
};

// Called on the computer's thread: pushes the event's parameters onto the
// given Lua thread and returns the event name ("" discards the event).
using event_provider = std::function<std::string(lua_State *, void *)>;
using event_hook = std::function<std::string(lua_State *, const std::string &, void *)>;

// Returned by plugin_init; owned by the plugin until plugin_deinit.
struct PluginInfo {
    unsigned abi_version = kPluginAbiVersion;
    unsigned minimum_structure_version = 0;
    std::string luaopenName;
    std::string failureReason;
    std::string apiName;
};

using opaque_fn = const void *;

// Passed to plugin_init. Plain fields in this exact order (ABI 12).
struct PluginFunctions {
    unsigned abi_version;
    unsigned structure_version;
    const char *craftos_pc_version;
    const int &selectedRenderer;                      // 1 = headless
    const void *config;                               // const configuration*
    path_t (*getBasePath)();                          // data root; config/ lives here
    path_t (*getROMPath)();
    opaque_fn getLibrary;                             // library_t* (*)(const std::string&)
    Computer *(*getComputerById)(int id);             // NULL unless running
    opaque_fn registerPeripheral;                     // void (*)(const std::string&, const peripheral_init&)
    opaque_fn registerSDLEvent;                       // void (*)(SDL_EventType, const sdl_event_handler&, void*)
    opaque_fn addMount;                               // bool (*)(Computer*, const path_t&, const char*, bool)
    bool (*addVirtualMount)(Computer *comp, const FileEntry &tree, const char *path);  // false: not mounted
    Computer *(*startComputer)(int id);
    void (*queueEvent)(Computer *comp, const event_provider &provider, void *userdata);
    opaque_fn queueTask;                              // void* (*)(const std::function<void*(void*)>&, void*, bool)
    opaque_fn getConfigSetting;                       // std::string (*)(const std::string&)
    opaque_fn getConfigSettingInt;                    // int (*)(const std::string&)
    opaque_fn getConfigSettingBool;                   // bool (*)(const std::string&)
    opaque_fn setConfigSetting;                       // void (*)(const std::string&, const std::string&)
    opaque_fn setConfigSettingInt;                    // void (*)(const std::string&, int)
    opaque_fn setConfigSettingBool;                   // void (*)(const std::string&, bool)
    opaque_fn registerConfigSetting;                  // void (*)(const std::string&, int, const std::function<int(const std::string&, void*)>&, void*)
    opaque_fn attachPeripheral;                       // peripheral* (*)(Computer*, const std::string&, const std::string&, std::string*, const char*, ...)
    opaque_fn detachPeripheral;                       // bool (*)(Computer*, const std::string&)
    opaque_fn addEventHook;                           // void (*)(const std::string&, Computer*, const event_hook&, void*)
    opaque_fn setDistanceProvider;                    // void (*)(const std::function<double(const Computer*, const Computer*)>&)
    opaque_fn registerPeripheralFn;                   // void (*)(const std::string&, const peripheral_init_fn&)
    opaque_fn registerTerminalFactory;                // int (*)(TerminalFactory*)
    opaque_fn commandLineArgs;                        // int (*)(const std::vector<std::string>&)
    opaque_fn setListenerMode;                        // void (*)(bool)
    opaque_fn pumpTaskQueue;                          // void (*)()  (iOS builds have one more field before it)
};

}  // namespace ccpc

// The plugin's exported entry points, with the C++ parameter types the
// emulator calls them with (unmangled names).
extern "C" {
ccpc::PluginInfo *plugin_init(const ccpc::PluginFunctions *functions, const ccpc::path_t &path);
void plugin_deinit(ccpc::PluginInfo *info);
}
