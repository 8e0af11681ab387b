//! The NHS profile layer: the StructureDefinitions of
//! `../shared/fhir-assets/nhs/` compiled by `cargo xtask codegen`
//! (`generated_profiles.rs`). A resource is checked against the profiles its
//! `meta.profile` names: every top-level element within the maximum the
//! profile sets (`PROFILE-MAX`). The profiles' minimums are not applied on
//! their own: where an event page relaxes or tightens them the page wins
//! (digest section 2), and the pages' cardinalities are the table rows.

use crate::rules::{id as R, Report};
use ems_stu3::Resource;

/// One compiled profile.
#[derive(Debug)]
pub struct ProfileDef {
    /// Canonical URL.
    pub url: &'static str,
    /// The resource type it constrains.
    pub resource_type: &'static str,
    /// Top-level elements whose maximum the profile narrows: (name, max).
    pub max: &'static [(&'static str, u32)],
}

/// The compiled profile with canonical `url`.
pub fn profile(url: &str) -> Option<&'static ProfileDef> {
    let all = &crate::generated_profiles::PROFILES;
    all.binary_search_by(|p| p.url.cmp(url))
        .ok()
        .map(|i| &all[i])
}

/// Checks resource `r` (at `loc`) against the profiles its meta.profile names.
pub(crate) fn check(r: &Resource, loc: &dyn Fn() -> String, rep: &mut Report) {
    let Some(meta) = r.meta() else { return };
    for p in &meta.profile {
        let Some(def) = p.value.as_deref().and_then(profile) else {
            continue;
        };
        if def.resource_type != r.resource_type() {
            continue;
        }
        for &(name, max) in def.max {
            let n = crate::tables::count_elements(r, name);
            if n > max {
                let at = format!("{}.{name}", loc());
                // a NEMS rule at the same element says it first
                if !rep.has_at(&at) {
                    let short = def.url.rsplit('/').next().unwrap_or(def.url);
                    rep.add(
                        R::PROFILE_MAX,
                        at,
                        format!("{short} allows at most {max} {name}, found {n}"),
                    );
                }
            }
        }
    }
}
