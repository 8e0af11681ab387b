#![no_main]
//! Fuzz target `roundtrip_xml`: the properties of `ems_props::TARGETS["roundtrip_xml"]`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| ems_props::fuzz("roundtrip_xml", data));
