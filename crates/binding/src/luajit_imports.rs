//! Where the Accelerated build's Lua C API comes from on Windows.
//!
//! CraftOS-PC Accelerated keeps its LuaJIT in `luajit51.dll`. mlua-sys
//! declares the functions but, built `external`, links nothing (its module
//! mode would import them from `lua51.dll`, a name it hard-codes). This
//! block names the DLL: rustc makes the import library itself (raw-dylib),
//! and the linker keeps only the functions the plugin calls. Signatures do
//! not matter here (x86-64 Windows has one calling convention, and only the
//! names are linked): each function is declared without parameters.
//!
//! On Linux and macOS nothing is linked: the symbols stay undefined and the
//! dynamic loader binds them to the emulator's `libluajit-craftos.so` (or the
//! macOS app's `libluajit.dylib`) when the emulator opens the plugin.
//!
//! [`LUAJIT_API`] is the same list, so that a test can check it against the
//! Lua functions the Linux build leaves undefined (tests/accelerated.rs):
//! every one of them must be here.

macro_rules! luajit_api {
    ($($name:ident)*) => {
        // Only in the Accelerated build: the standard one imports the same
        // names from lua52.dll (mlua's module mode).
        #[cfg(all(windows, feature = "luajit"))]
        #[link(name = "luajit51", kind = "raw-dylib")]
        #[allow(dead_code, clashing_extern_declarations)]
        unsafe extern "C" {
            $(fn $name();)*
        }

        /// The Lua C API exported by CraftOS-PC Accelerated's LuaJIT 2.1
        /// (`lua_*` and `luaL_*`; not the version-named `luaJIT_version_*`
        /// or the emulator's own `lua_halt`).
        pub const LUAJIT_API: &[&str] = &[$(stringify!($name)),*];
    };
}

luajit_api! {
    luaL_addlstring luaL_addstring luaL_addvalue luaL_argerror luaL_buffinit
    luaL_callmeta luaL_checkany luaL_checkinteger luaL_checklstring
    luaL_checknumber luaL_checkoption luaL_checkstack luaL_checktype
    luaL_checkudata luaL_error luaL_execresult luaL_fileresult luaL_findtable
    luaL_getmetafield luaL_gsub luaL_loadbuffer luaL_loadbufferx luaL_loadfile
    luaL_loadfilex luaL_loadstring luaL_newmetatable luaL_newstate luaL_openlib
    luaL_openlibs luaL_optinteger luaL_optlstring luaL_optnumber
    luaL_prepbuffer luaL_pushmodule luaL_pushresult luaL_ref luaL_register
    luaL_setfuncs luaL_setmetatable luaL_testudata luaL_traceback luaL_typerror
    luaL_unref luaL_where
    lua_atpanic lua_call lua_checkstack lua_close lua_concat lua_copy
    lua_cpcall lua_createtable lua_dump lua_equal lua_error lua_gc
    lua_getallocf lua_getfenv lua_getfield lua_gethook lua_gethookcount
    lua_gethookmask lua_getinfo lua_getlocal lua_getmetatable lua_getstack
    lua_gettable lua_gettop lua_getupvalue lua_insert lua_iscfunction
    lua_isnumber lua_isstring lua_isuserdata lua_isyieldable lua_lessthan
    lua_load lua_loadx lua_newstate lua_newthread lua_newuserdata lua_next
    lua_objlen lua_pcall lua_pushboolean lua_pushcclosure lua_pushfstring
    lua_pushinteger lua_pushlightuserdata lua_pushlstring lua_pushnil
    lua_pushnumber lua_pushstring lua_pushthread lua_pushvalue
    lua_pushvfstring lua_rawequal lua_rawget lua_rawgeti lua_rawset
    lua_rawseti lua_remove lua_replace lua_resume lua_setallocf lua_setfenv
    lua_setfield lua_sethook lua_setlocal lua_setmetatable lua_settable
    lua_settop lua_setupvalue lua_status lua_toboolean lua_tocfunction
    lua_tointeger lua_tointegerx lua_tolstring lua_tonumber lua_tonumberx
    lua_topointer lua_tothread lua_touserdata lua_type lua_typename
    lua_upvalueid lua_upvaluejoin lua_version lua_xmove lua_yield
}
