//! NHS and HL7 UK code systems: embedded in ems-nhs (data for every
//! crate), re-exported here for the validator's callers.

pub use ems_nhs::{code_system, CodeSystemDef, CODE_SYSTEMS};
