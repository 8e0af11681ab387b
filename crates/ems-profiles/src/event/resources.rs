//! The generic resource rules: CareConnect Patient (2.5) and Organization (2.6).

use super::*;

/// Entry indexes of the mother and baby of a birth notification.
pub(super) fn birth_roles(cx: &Ctx) -> (Option<usize>, Option<usize>) {
    let mother = match cx.focus.map(|k| cx.entries[k].res) {
        Some(Resource::Communication(c)) => reference(&c.subject).and_then(|r| cx.index_of(r)),
        _ => None,
    };
    let baby = cx
        .all::<RelatedPerson>()
        .find_map(|(_, rp)| reference(&rp.patient).and_then(|r| cx.index_of(r)));
    (mother, baby)
}

pub(super) fn patients(cx: &mut Ctx) {
    let bn = cx.is("pds-birth-notification-1");
    let (mother, baby) = if bn { birth_roles(cx) } else { (None, None) };
    let pds = cx.pds();
    let rc = cx.is("pds-record-change-1");
    // by index, without collecting the Patients first (one allocation per message)
    for k in 0..cx.entries.len() {
        let (res, loc) = (cx.entries[k].res, cx.entries[k].loc());
        let Some(p) = res.get::<Patient>() else {
            continue;
        };
        let is_mother = bn && Some(k) == mother;
        let l = |x: &str| loc.join(x);
        match nhs_identifier(p) {
            None => {
                if !is_mother {
                    cx.rep.add(
                        R::PATIENT_NHSNUMBER,
                        l("identifier"),
                        cat(&[&"no identifier with system ", &NHS_SYSTEM]),
                    );
                }
            }
            Some((j, id)) => {
                if let Some(v) = id.value.str_value() {
                    check_nhs_number(cx.rep, v, || l(&cat(&[&"identifier[", &j, &"].value"])));
                }
                match ext(&id.extension, VERIFICATION_URL).map(verification_code) {
                    // a receiver cannot trust an NHS number without its status
                    None => cx.rep.add_full(
                        R::PROFILE_PATIENT,
                        None,
                        Some(true),
                        l(&cat(&[&"identifier[", &j, &"]"])),
                        "[2.5/Patient/nhsNumber.verificationStatus] CareConnect-Patient-1 requires the NHSNumberVerificationStatus extension on the NHS number",
                    ),
                    Some(Some("01")) => {}
                    // an unknown code is CODE-INVALID's (walk.rs)
                    Some(Some(c)) if !verification_status_known(c) => {}
                    Some(code) => cx.rep.add(
                        R::PATIENT_NHSNUMBER_VERIFIED,
                        l(&cat(&[&"identifier[", &j, &"].extension('", &VERIFICATION_URL, &"')"])),
                        cat(&[
                            &"NHS number verification status is `",
                            &code.unwrap_or("(missing)"),
                            &"`; a message carries only verified numbers (`01`)",
                        ]),
                    ),
                }
            }
        }
        if !is_mother {
            match official_name(p) {
                None => cx.rep.add(R::PATIENT_NAME, l("name"), "no official name"),
                Some((j, n)) if n.family.str_value().is_none() => cx.rep.add(
                    R::PATIENT_NAME,
                    l(&cat(&[&"name[", &j, &"].family"])),
                    "the official name needs a family name",
                ),
                _ => {}
            }
            if p.birth_date.is_none() {
                cx.rep.add(
                    R::PATIENT_BIRTHDATE,
                    l("birthDate"),
                    "Patient.birthDate is required",
                );
            }
        }
        if let (Some(bd), Some(bt)) = (
            p.birth_date.str_value(),
            p.birth_date
                .as_ref()
                .and_then(|b| ext(b.extension(), BIRTH_TIME_URL)),
        ) {
            if let Some(ExtensionValue::DateTime(t)) = &bt.value {
                if let Some(v) = t.value.as_deref() {
                    if v.get(..10) != Some(bd) {
                        cx.rep.add(
                            R::PATIENT_BIRTHTIME,
                            l(&format!("birthDate.extension('{BIRTH_TIME_URL}')")),
                            format!("birth time {v} is not on birthDate {bd}"),
                        );
                    }
                }
            }
        }
        let needs_scn = (pds && !bn) || (bn && Some(k) == baby) || rc;
        if needs_scn
            && p.meta
                .as_ref()
                .and_then(|m| m.version_id.str_value())
                .is_none()
        {
            cx.rep.add(
                R::PDS_SCN,
                l("meta.versionId"),
                "the PDS serial change number (meta.versionId) is required",
            );
        }
    }
}

/// Whether `code` is in CareConnect-NHSNumberVerificationStatus-1.
fn verification_status_known(code: &str) -> bool {
    crate::code_system(ems_nhs::vocab::NHS_NUMBER_VERIFICATION_STATUS_SYSTEM)
        .is_none_or(|cs| cs.concept(code).is_some())
}

/// The code of an NHSNumberVerificationStatus extension.
fn verification_code(x: &Extension) -> Option<&str> {
    match &x.value {
        Some(ExtensionValue::CodeableConcept(cc)) => {
            cc.coding.first().and_then(|c| c.code.str_value())
        }
        _ => None,
    }
}

pub(super) fn is_ods_code(v: &str) -> bool {
    (3..=10).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

pub(super) fn organizations(cx: &mut Ctx) {
    let name_strength = if cx.event.is_some_and(|e| e.organization_name_required) {
        Strength::Must
    } else {
        Strength::Should
    };
    // organisations whose ODS code is optional: BN delivery place; record change
    let mut ods_optional: HashSet<usize> = HashSet::new();
    if cx.is("pds-birth-notification-1") {
        for (_, eoc) in cx.all::<EpisodeOfCare>() {
            if eoc.type_.iter().any(|t| {
                t.coding
                    .iter()
                    .any(|c| c.code.str_value() == Some("delivery-place"))
            }) {
                if let Some(k) = reference(&eoc.managing_organization).and_then(|r| cx.index_of(r))
                {
                    ods_optional.insert(k);
                }
            }
        }
    }
    let ods_strength_default = if cx.is("pds-record-change-1") || cx.event.is_none() {
        Strength::Should
    } else {
        Strength::Must
    };
    // a change-of-GP receiver reads the practices' ODS codes (10.3)
    let critical = cx.is("pds-change-of-gp-1");
    let tag = if critical {
        "[10.3/Organization/identifier] "
    } else {
        ""
    };
    // by index, without collecting the Organizations first (one allocation per message)
    for k in 0..cx.entries.len() {
        let (res, loc) = (cx.entries[k].res, cx.entries[k].loc());
        let Some(o) = res.get::<Organization>() else {
            continue;
        };
        let strength = if ods_optional.contains(&k) {
            Strength::Should
        } else {
            ods_strength_default
        };
        match o
            .identifier
            .iter()
            .enumerate()
            .find(|(_, i)| i.system.str_value() == Some(ODS_SYSTEM))
        {
            None => cx.rep.add_full(
                R::ORG_ODS,
                Some(strength),
                Some(critical),
                loc.join("identifier"),
                format!("{tag}no identifier with system {ODS_SYSTEM}"),
            ),
            Some((j, i)) => match i.value.str_value() {
                Some(v) if !is_ods_code(v) => cx.rep.add_full(
                    R::ORG_ODS,
                    None,
                    Some(critical),
                    format!("{loc}.identifier[{j}].value"),
                    format!("{tag}`{v}` is not an ODS code (3-10 upper-case letters and digits)"),
                ),
                None => cx.rep.add_full(
                    R::ORG_ODS,
                    None,
                    Some(critical),
                    format!("{loc}.identifier[{j}].value"),
                    format!("{tag}ODS identifier has no value"),
                ),
                _ => {}
            },
        }
        if o.name.is_none() {
            cx.rep.add_as(
                R::ORG_NAME,
                Some(name_strength),
                loc.join("name"),
                "Organization.name is missing",
            );
        }
    }
}
