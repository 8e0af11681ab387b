//! **ems-nhs** — the NHS vocabulary NEMS messages are written in, as data
//! for every other crate: [`vocab`] (identifier systems, the ODS directory,
//! profile, extension and code-system URLs, each spelled once) and the
//! embedded NHS and HL7 UK code systems ([`code_system`], generated from
//! `../shared/fhir-assets/nhs/CodeSystems` by `cargo xtask codegen`).
//!
//! ```
//! use ems_nhs::vocab;
//! assert_eq!(vocab::ods_from_directory("https://directory.spineservices.nhs.uk/STU3/Organization/RR8"), Some("RR8"));
//! let cs = ems_nhs::code_system(vocab::NHS_NUMBER_VERIFICATION_STATUS_SYSTEM).unwrap();
//! assert!(cs.display("01").is_some());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codes;
mod generated_codes;
pub mod lookup;
pub mod vocab;

pub use codes::{code_system, CodeSystemDef, CODE_SYSTEMS};
