//! NHS and HL7 UK code systems, embedded at build time by `cargo xtask codegen`.

pub use crate::generated_codes::CODE_SYSTEMS;

/// One embedded code system.
#[derive(Debug)]
pub struct CodeSystemDef {
    /// Canonical URL.
    pub url: &'static str,
    /// `content = complete`: codes outside the list are invalid. For partial
    /// lists (`fragment`, `example`) unknown codes are not rejected.
    pub complete: bool,
    /// (code, display) pairs.
    pub concepts: &'static [(&'static str, &'static str)],
}

impl CodeSystemDef {
    /// The display of `code`, if the code is in the list.
    pub fn display(&self, code: &str) -> Option<&'static str> {
        self.concept(code).map(|(_, d)| d)
    }

    /// The embedded `(code, display)` pair of `code`, if the code is in the list
    /// (lets builders refer to the embedded text instead of copying it).
    ///
    /// ```
    /// let cs = ems_nhs::code_system("https://fhir.nhs.uk/STU3/CodeSystem/MessageEventType-1").unwrap();
    /// assert_eq!(cs.concept("new"), Some(("new", "New event message")));
    /// ```
    pub fn concept(&self, code: &str) -> Option<(&'static str, &'static str)> {
        self.concepts.iter().find(|(c, _)| *c == code).copied()
    }
}

/// Looks up an embedded code system by URL.
///
/// ```
/// let cs = ems_nhs::code_system("https://fhir.nhs.uk/STU3/CodeSystem/MessageEventType-1").unwrap();
/// assert_eq!(cs.display("update"), Some("Update event message"));
/// ```
pub fn code_system(url: &str) -> Option<&'static CodeSystemDef> {
    CODE_SYSTEMS
        .binary_search_by(|c| c.url.cmp(url))
        .ok()
        .map(|i| &CODE_SYSTEMS[i])
}
