#![no_main]
//! Fuzz target `roundtrip_json`: the properties of `ems_props::TARGETS["roundtrip_json"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("roundtrip_json", data));
