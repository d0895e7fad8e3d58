//! Random kernel operation sequences must follow the model.
#![no_main]

// The plugin's mlua leaves lua_* to the executable; the host crate links them.
extern crate craftos_host;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(mismatch) = phoenix_events_binding::fuzzing::check_kernel_against_model(data) {
        panic!("kernel model mismatch: {mismatch}");
    }
});
