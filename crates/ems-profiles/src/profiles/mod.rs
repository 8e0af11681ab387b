//! The NHS profile layer: the StructureDefinitions of
//! `../shared/fhir-assets/nhs/` compiled by `cargo xtask codegen`
//! (`generated_profiles.rs`, from `xtask/src/profiles.rs`). A resource is
//! checked against the profiles its `meta.profile` names:
//!
//! * cardinalities that narrow STU3, nested elements included
//!   (`PROFILE-MIN`, `PROFILE-MAX`);
//! * identifier, coding, name and extension slices: how many members each
//!   slice has (`PROFILE-SLICE`; a member is a value whose discriminator,
//!   e.g. `identifier.system`, has the slice's fixed value), and the
//!   constraints inside a slice apply to its members only;
//! * fixed values (`PROFILE-FIXED`);
//! * required bindings to NHS / HL7 UK value sets (`PROFILE-BINDING`);
//! * reference target profiles (`PROFILE-TARGET`): an in-bundle target must
//!   be of a type the element allows and, where the target declares an NHS
//!   profile in its own `meta.profile`, of one of the allowed profiles (or
//!   one derived from it).
//!
//! Where the digest and the profile disagree the digest wins (section 2):
//! a cardinality constraint (min, max, slice) is not applied to an element
//! for which the event's table (or the generic rows) states a cardinality
//! for a resource of that type — the page relaxes or tightens it there —
//! and a NEMS rule already reported at the same location suppresses the
//! profile finding (`Report::has_at`).
//!
//! Strength: every profile rule is a MUST (an error in Publish mode) and not
//! receive-critical (a warning in Receive mode): a receiver should not
//! reject a message over a profile detail the NEMS rules do not need (the
//! receive-critical data — NHS number, event, focus — has its own NEMS
//! rules).

use crate::rules::Report;
use ems_stu3::Resource;

mod eval;

/// One compiled profile.
#[derive(Debug)]
pub struct ProfileDef {
    /// Canonical URL.
    pub url: &'static str,
    /// The resource type it constrains.
    pub resource_type: &'static str,
    /// The profile it derives from (`baseDefinition`).
    pub base: &'static str,
    /// The constraints that narrow STU3, in snapshot order.
    pub cons: &'static [Con],
}

impl ProfileDef {
    /// The last path segment of the URL (`CareConnect-Patient-1`).
    pub fn short(&self) -> &'static str {
        self.url.rsplit('/').next().unwrap_or(self.url)
    }

    /// Whether this profile is `url` or derives from it.
    pub fn is_or_derives(&self, url: &str) -> bool {
        let mut p = Some(self);
        // the base chain is short; bounded against a cycle in the assets
        for _ in 0..16 {
            match p {
                Some(d) if d.url == url => return true,
                Some(d) => p = profile(d.base),
                None => return false,
            }
        }
        false
    }
}

/// One constraint of a profile on one element.
#[derive(Debug)]
pub struct Con {
    /// The element id relative to the resource, as the StructureDefinition
    /// writes it (`identifier:nhsNumber.system`).
    pub id: &'static str,
    /// The path to the element.
    pub steps: &'static [Step],
    /// Index of the first step's learned slot hint (one per step).
    pub hint: usize,
    /// What is required.
    pub kind: ConstraintKind,
}

/// One step of a constraint's path.
#[derive(Debug)]
pub struct Step {
    /// Element name (choice elements without `[x]`).
    pub name: &'static str,
    /// When the step is a slice: which values are its members.
    pub slice: Option<Slice>,
}

/// A slice: the values of the element whose discriminator has `value`.
#[derive(Debug)]
pub struct Slice {
    /// Slice name (`nhsNumber`).
    pub name: &'static str,
    /// Discriminator path inside the value (`system`, `url`, `coding.system`).
    pub on: &'static str,
    /// The discriminator's fixed value.
    pub value: &'static str,
}

/// A plain step (used by the generated tables).
pub const fn step(name: &'static str) -> Step {
    Step { name, slice: None }
}

/// A slice step (used by the generated tables).
pub const fn slice(
    name: &'static str,
    slice: &'static str,
    on: &'static str,
    value: &'static str,
) -> Step {
    Step {
        name,
        slice: Some(Slice {
            name: slice,
            on,
            value,
        }),
    }
}

/// What a constraint requires.
#[derive(Debug)]
pub enum ConstraintKind {
    /// The number of values inside each parent (`min` 0: no minimum beyond
    /// STU3's; `max` `None`: no maximum beyond STU3's).
    Card {
        /// Minimum.
        min: u32,
        /// Maximum.
        max: Option<u32>,
    },
    /// Every value present has this (primitive) value.
    Fixed(&'static str),
    /// Every value present is in value set `VALUE_SETS[i]` (required binding).
    Binding(usize),
    /// A Reference whose target is in the bundle points at one of these profiles.
    Target(&'static [&'static str]),
}

/// A compiled value set.
#[derive(Debug)]
pub struct ValueSetDef {
    /// Canonical URL.
    pub url: &'static str,
    /// Its includes.
    pub includes: &'static [Include],
}

/// One include of a value set.
#[derive(Debug)]
pub struct Include {
    /// Code system.
    pub system: &'static str,
    /// The included codes; empty: the whole code system (looked up in the
    /// embedded NHS code systems, `ems_nhs::code_system`).
    pub codes: &'static [&'static str],
}

impl ValueSetDef {
    /// Whether `system`|`code` is in the value set (`system` `None`: a
    /// `code` element, whose system the binding implies); `None` when the
    /// value set includes a code system that is not embedded or whose
    /// concept list is incomplete, so membership cannot be decided.
    pub fn contains(&self, system: Option<&str>, code: &str) -> Option<bool> {
        let mut undecided = false;
        for inc in self.includes {
            if system.is_some_and(|s| s != inc.system) {
                continue;
            }
            if !inc.codes.is_empty() {
                if inc.codes.contains(&code) {
                    return Some(true);
                }
                continue;
            }
            match crate::codes::code_system(inc.system) {
                Some(cs) if cs.display(code).is_some() => return Some(true),
                Some(cs) if cs.complete => {}
                _ => undecided = true,
            }
        }
        if undecided {
            None
        } else {
            Some(false)
        }
    }
}

pub use crate::generated_profiles::{PROFILES, VALUE_SETS};

/// A cardinality an event page states that the requirement tables carry no
/// row for (it restates STU3's `0..*`, or a NEMS logic rule checks it): it
/// replaces the profile's cardinality of that element, like a table row.
#[derive(Debug)]
pub struct PageCardinality {
    /// Event code.
    pub event: &'static str,
    /// Resource type.
    pub ty: &'static str,
    /// The element (a table path: `name`, `extension(url)`).
    pub path: &'static str,
    /// Digest section.
    pub section: &'static str,
    /// The statement, in the digest's words.
    pub text: &'static str,
}

/// The page statements that relax a profile cardinality without a table row.
pub static PAGE_CARDINALITIES: &[PageCardinality] = &[PageCardinality {
    event: "pds-birth-notification-1",
    ty: "Patient",
    path: "name",
    section: "10.1",
    text: "Patient — mother: `name` (official) 0..1 (CareConnect-Patient-1 makes name:official 1..1; a birth can be registered without the mother's details)",
}];

/// The compiled profile with canonical `url`.
pub fn profile(url: &str) -> Option<&'static ProfileDef> {
    // looked up for every entry of every message: the URLs share a 60-byte
    // prefix, so they are hashed by their length and last 16 bytes only,
    // then compared once in full; `u16::MAX`: two profiles share the key
    // (none do today), so the list is searched
    static BY_KEY: std::sync::OnceLock<crate::fnv::FnvMap<u64, u16>> = std::sync::OnceLock::new();
    let keys = BY_KEY.get_or_init(|| {
        let mut m = crate::fnv::FnvMap::default();
        for (i, p) in PROFILES.iter().enumerate() {
            m.entry(url_key(p.url))
                .and_modify(|v| *v = u16::MAX)
                .or_insert(i as u16);
        }
        m
    });
    match keys.get(&url_key(url)) {
        None => None,
        Some(&u16::MAX) => PROFILES.iter().find(|p| p.url == url),
        Some(&i) => Some(&PROFILES[i as usize]).filter(|p| p.url == url),
    }
}

/// [`profile`]'s key of a URL: its length and last 16 bytes, mixed.
fn url_key(url: &str) -> u64 {
    let b = url.as_bytes();
    let n = b.len();
    let (hi, lo) = match (
        b.get(n.wrapping_sub(8)..),
        b.get(n.wrapping_sub(16)..n.wrapping_sub(8)),
    ) {
        (Some(hi), Some(lo)) => (word(hi), word(lo)),
        // shorter than 16 bytes: the bytes themselves, zero-padded
        _ => {
            let mut w = [0u8; 16];
            w[..n.min(16)].copy_from_slice(&b[..n.min(16)]);
            (word(&w[8..]), word(&w[..8]))
        }
    };
    let h = (hi ^ (n as u64).rotate_left(56)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h ^ lo).wrapping_mul(0xff51_afd7_ed55_8ccd)
}

/// The first 8 bytes of `b` (which has at least 8) as a little-endian word.
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// The index of `def` in [`PROFILES`].
fn index_of(def: &'static ProfileDef) -> usize {
    (def as *const ProfileDef as usize - PROFILES.as_ptr() as usize)
        / std::mem::size_of::<ProfileDef>()
}

/// The event's requirement table as [`check`] takes it (looked up once per
/// message).
pub(crate) fn table_index(table: Option<&'static crate::tables::Table>) -> usize {
    eval::table_index(table)
}

/// Checks resource `r` (at `loc`) against the profiles its meta.profile
/// names; `resolve` finds the in-bundle target of a reference, `table` is
/// the event's requirement table ([`table_index`]; its cardinality rows win
/// over the profile's).
pub(crate) fn check<'a>(
    r: &'a Resource,
    loc: &dyn Fn() -> String,
    resolve: &dyn Fn(&str) -> Option<&'a Resource>,
    table: usize,
    rep: &mut Report,
) {
    let Some(meta) = r.meta() else { return };
    for p in &meta.profile {
        let Some(def) = p.value.as_deref().and_then(profile) else {
            continue;
        };
        if def.resource_type != r.resource_type() || def.cons.is_empty() {
            continue;
        }
        let pi = index_of(def);
        eval::Eval {
            def,
            loc,
            resolve,
            rep,
        }
        .run(r, eval::active(table, pi));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slice compiled from the assets has a discriminator value, and
    /// the NHS number and ODS code slices are compiled with their systems.
    #[test]
    fn identifier_slices_are_compiled() {
        let find = |url: &str, id: &str| {
            profile(url)
                .and_then(|p| p.cons.iter().find(|c| c.id == id))
                .map(|c| c.steps[0].slice.as_ref().map(|s| (s.on, s.value)))
        };
        assert_eq!(
            find(
                "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1",
                "identifier:nhsNumber"
            ),
            Some(Some(("system", "https://fhir.nhs.uk/Id/nhs-number")))
        );
        assert_eq!(
            find(
                "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Organization-1",
                "identifier:odsOrganisationCode"
            ),
            Some(Some((
                "system",
                "https://fhir.nhs.uk/Id/ods-organization-code"
            )))
        );
        for p in PROFILES.iter() {
            for c in p.cons {
                assert!(!c.steps.is_empty(), "{} {}", p.url, c.id);
                for s in c.steps {
                    if let Some(sl) = &s.slice {
                        assert!(!sl.value.is_empty(), "{} {}", p.url, c.id);
                    }
                }
            }
        }
    }

    /// `profile` finds every compiled profile by its URL and nothing for a
    /// URL that differs from one in a byte, its length, or is short.
    #[test]
    fn profile_lookup_is_exact() {
        for p in PROFILES.iter() {
            assert!(std::ptr::eq(profile(p.url).unwrap(), p), "{}", p.url);
            let mut other = p.url.as_bytes().to_vec();
            other[10] ^= 1;
            assert!(profile(std::str::from_utf8(&other).unwrap()).is_none());
            assert!(profile(&p.url[1..]).is_none());
            assert!(profile(&format!("{}x", p.url)).is_none());
        }
        for short in ["", "a", "http://x", "https://fhir.nhs.uk"] {
            assert!(profile(short).is_none());
            assert_eq!(url_key(short), url_key(short));
        }
        assert_ne!(url_key("abc"), url_key("abd"));
    }

    /// Value-set membership: listed codes, whole embedded code systems, and
    /// "cannot decide" for a code system that is not embedded.
    #[test]
    fn value_set_membership() {
        let vs = |url: &str| VALUE_SETS.iter().find(|v| v.url == url).unwrap();
        let gender = vs("https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-AdministrativeGender-1");
        assert_eq!(gender.contains(None, "female"), Some(true));
        assert_eq!(gender.contains(None, "f"), Some(false));
        let events = vs("https://fhir.nhs.uk/STU3/ValueSet/EventType-1");
        assert_eq!(
            events.contains(
                Some("https://fhir.nhs.uk/STU3/CodeSystem/EventType-1"),
                "pds-death-notification-1"
            ),
            Some(true)
        );
        assert_eq!(
            events.contains(
                Some("https://fhir.nhs.uk/STU3/CodeSystem/EventType-1"),
                "pds-person-death-1"
            ),
            Some(false)
        );
        let undecidable = ValueSetDef {
            url: "x",
            includes: &[Include {
                system: "http://example.org/not-embedded",
                codes: &[],
            }],
        };
        assert_eq!(undecidable.contains(None, "a"), None);
    }
}
