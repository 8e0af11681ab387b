//! Facade over the ems crates.
pub use ems_stu3 as stu3;
