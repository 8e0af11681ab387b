#![no_main]
//! Fuzz target `server_request`: the properties of `ems_props::TARGETS["server_request"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("server_request", data));
