//! Random Lua graphs copied Lua -> payload -> Lua must come out isomorphic.
#![no_main]

// Only for its Lua 5.2, which the plugin's lua_* references bind to.
extern crate craftos_host;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(mismatch) = phoenix_events_binding::fuzzing::check_value_round_trip(data) {
        panic!("value copy mismatch: {mismatch}");
    }
});
