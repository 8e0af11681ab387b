#![no_main]
//! Fuzz target `partner_id`: the properties of `ems_props::TARGETS["partner_id"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("partner_id", data));
