#![no_main]
//! Fuzz target `cross`: the properties of `ems_props::TARGETS["cross"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("cross", data));
