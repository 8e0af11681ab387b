//! NHS and HL7 UK code systems, embedded at build time by `cargo xtask codegen`.

pub use crate::generated_codes::CODE_SYSTEMS;
use crate::lookup::TailIndex;

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
        // the long embedded lists (up to ~400 codes) through their key index;
        // short lists and code systems built elsewhere by a scan
        let at = (self as *const CodeSystemDef as usize)
            .wrapping_sub(CODE_SYSTEMS.as_ptr() as usize)
            / std::mem::size_of::<CodeSystemDef>();
        match CODE_SYSTEMS.get(at) {
            Some(own) if std::ptr::eq(own, self) && self.concepts.len() > SCAN_MAX => {
                concept_index()[at]
                    .find(code, |i| self.concepts[i].0 == code)
                    .map(|i| self.concepts[i])
            }
            _ => self.concepts.iter().find(|(c, _)| *c == code).copied(),
        }
    }
}

/// Lists up to this long are scanned rather than looked up by key.
const SCAN_MAX: usize = 12;

/// The key index of each embedded code system's concept codes (built on
/// first use; empty for the short lists).
fn concept_index() -> &'static [TailIndex] {
    static INDEX: std::sync::OnceLock<Vec<TailIndex>> = std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        CODE_SYSTEMS
            .iter()
            .map(|cs| {
                if cs.concepts.len() > SCAN_MAX {
                    TailIndex::new(cs.concepts.iter().map(|c| c.0))
                } else {
                    TailIndex::default()
                }
            })
            .collect()
    })
}

/// Looks up an embedded code system by URL.
///
/// ```
/// let cs = ems_nhs::code_system("https://fhir.nhs.uk/STU3/CodeSystem/MessageEventType-1").unwrap();
/// assert_eq!(cs.display("update"), Some("Update event message"));
/// ```
pub fn code_system(url: &str) -> Option<&'static CodeSystemDef> {
    // by key (integer compares) and one string comparison, not a binary
    // search of string compares through the shared URL prefixes
    static INDEX: std::sync::OnceLock<TailIndex> = std::sync::OnceLock::new();
    INDEX
        .get_or_init(|| TailIndex::new(CODE_SYSTEMS.iter().map(|c| c.url)))
        .find(url, |i| CODE_SYSTEMS[i].url == url)
        .map(|i| &CODE_SYSTEMS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key lookups find exactly what a scan finds: every embedded URL
    /// and every code (the first of equal codes), nothing for near misses.
    #[test]
    fn key_lookups_agree_with_scans() {
        for cs in &CODE_SYSTEMS {
            assert!(std::ptr::eq(code_system(cs.url).unwrap(), cs), "{}", cs.url);
            let cut = &cs.url[..cs.url.len() - 1];
            assert!(code_system(cut).is_none(), "{cut}");
            assert!(code_system(&format!("{}x", cs.url)).is_none());
            for (code, _) in cs.concepts {
                let scan = cs.concepts.iter().find(|(c, _)| c == code).copied();
                assert_eq!(cs.concept(code), scan, "{} {code}", cs.url);
                assert_eq!(cs.concept(&format!("{code} ")), None);
            }
            assert_eq!(cs.concept(""), None);
        }
        assert!(code_system("").is_none());
        // a code system defined outside the embedded table is scanned
        let own = CodeSystemDef {
            url: "urn:x",
            complete: true,
            concepts: CODE_SYSTEMS
                .iter()
                .max_by_key(|c| c.concepts.len())
                .unwrap()
                .concepts,
        };
        let (code, display) = own.concepts[own.concepts.len() - 1];
        assert!(own.concepts.len() > SCAN_MAX);
        assert_eq!(own.display(code), Some(display));
    }
}
