#![no_main]
//! Fuzz target `read_xml`: the properties of `ems_props::TARGETS["read_xml"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("read_xml", data));
