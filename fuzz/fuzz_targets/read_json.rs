#![no_main]
//! Fuzz target `read_json`: the properties of `ems_props::TARGETS["read_json"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("read_json", data));
