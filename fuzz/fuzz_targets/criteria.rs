#![no_main]
//! Fuzz target `criteria`: the properties of `ems_props::TARGETS["criteria"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("criteria", data));
