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
    // hashed once per URL instead of a binary search over long URLs that
    // share a 60-byte prefix (looked up for every entry of every message)
    static BY_URL: std::sync::OnceLock<crate::fnv::FnvMap<&'static str, usize>> =
        std::sync::OnceLock::new();
    let all = &crate::generated_profiles::PROFILES;
    let map = BY_URL.get_or_init(|| all.iter().enumerate().map(|(i, p)| (p.url, i)).collect());
    map.get(url).map(|&i| &all[i])
}

/// For each profile (by index in PROFILES), the slot of each of its `max`
/// elements in the resource type's element table, resolved once.
fn slots(def: &'static ProfileDef) -> &'static [Option<usize>] {
    static SLOTS: std::sync::OnceLock<Vec<Vec<Option<usize>>>> = std::sync::OnceLock::new();
    let all = &crate::generated_profiles::PROFILES;
    let v = SLOTS.get_or_init(|| {
        all.iter()
            .map(|p| {
                let fields = Resource::new_of_type(p.resource_type)
                    .map(|r| r.as_node().desc().fields)
                    .unwrap_or(&[]);
                p.max
                    .iter()
                    .map(|(n, _)| fields.iter().position(|f| f.name == *n))
                    .collect()
            })
            .collect()
    });
    let i = (def as *const ProfileDef as usize - all.as_ptr() as usize)
        / std::mem::size_of::<ProfileDef>();
    v.get(i).map_or(&[], Vec::as_slice)
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
        if def.max.is_empty() {
            continue;
        }
        for (&(name, max), &slot) in def.max.iter().zip(slots(def)) {
            let Some(slot) = slot else { continue };
            let n = crate::tables::count_slot(r, slot);
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
