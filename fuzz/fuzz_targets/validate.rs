#![no_main]
//! Fuzz target `validate`: the properties of `ems_props::TARGETS["validate"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("validate", data));
