#![no_main]
//! Fuzz target `event_message`: the properties of `ems_props::TARGETS["event_message"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("event_message", data));
