//! Cross-resource logic of section 10 that is not a table row: the
//! change-of-GP interpretation, death status, birth roles, addresses.

use super::*;

pub(super) fn per_event(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let Some(et) = cx.event else { return };
    let focus = cx.focus.map(|k| (cx.entries[k].loc(), cx.entries[k].res));
    // Communication focus events
    if et.focus == "Communication" {
        if let Some((loc, Resource::Communication(c))) = &focus {
            if c.status.str_value() != Some("completed") {
                cx.rep.add(
                    R::COMM_STATUS,
                    format!("{loc}.status"),
                    "Communication.status must be `completed`",
                );
            }
            if reference(&c.subject).is_none() {
                cx.rep.add(
                    R::COMM_STATUS,
                    format!("{loc}.subject"),
                    "Communication.subject (the Patient) is required",
                );
            }
        }
    }
    let orgs = cx.all::<Organization>().count();
    match et.code {
        "pds-birth-notification-1" => birth(cx),
        "pds-change-of-address-1" => {
            if !(1..=2).contains(&orgs) {
                cx.rep.add(
                    R::PDS_ORG_COUNT,
                    "Bundle.entry",
                    format!(
                        "1 or 2 Organizations are required (responsible, sender), found {orgs}"
                    ),
                );
            }
            change_of_address(cx);
        }
        "pds-change-of-gp-1" => change_of_gp(cx),
        "pds-death-notification-1" => {
            if !(1..=2).contains(&orgs) {
                cx.rep.add(
                    R::PDS_ORG_COUNT,
                    "Bundle.entry",
                    format!(
                        "1 or 2 Organizations are required (responsible, sender), found {orgs}"
                    ),
                );
            }
            death(cx);
        }
        "blood-spot-test-outcome-1" | "newborn-hearing-1" | "nipe-outcome-1" => {
            screening(cx, focus.as_ref().map(|f| (f.0, f.1)))
        }
        "professional-contacts-1" => professional_contacts(cx, focus.as_ref().map(|f| (f.0, f.1))),
        "vaccinations-1" => vaccinations(cx, focus.as_ref().map(|f| (f.0, f.1))),
        _ => {}
    }
    if cx.screening() || et.code == "vaccinations-1" {
        let list: Vec<(Loc, &HealthcareService)> = cx
            .all::<HealthcareService>()
            .map(|(e, h)| (e.loc(), h))
            .collect();
        for (loc, hs) in list {
            for (missing, name) in [
                (hs.provided_by.is_none(), "providedBy"),
                (hs.type_.is_empty(), "type"),
                (hs.specialty.is_empty(), "specialty"),
            ] {
                if missing {
                    cx.rep.add(
                        R::HS_SPECIALTY,
                        format!("{loc}.{name}"),
                        format!("HealthcareService.{name} is required for this event"),
                    );
                }
            }
        }
    }
    let _ = (mh, at);
}

pub(super) fn birth(cx: &mut Ctx) {
    // RelatedPerson
    let rps: Vec<(Loc, &RelatedPerson)> = cx
        .all::<RelatedPerson>()
        .map(|(e, r)| (e.loc(), r))
        .collect();
    for (loc, rp) in rps {
        let ok = rp.relationship.as_ref().is_some_and(|cc| {
            cc.coding.len() == 1
                && coding_is(&cc.coding[0], "http://hl7.org/fhir/v3/RoleCode", "NMTH")
                && cc.coding[0].display.str_value() == Some("natural mother")
        });
        if !ok {
            cx.rep.add(
                R::BN_RELATIONSHIP,
                format!("{loc}.relationship"),
                "relationship must be one coding http://hl7.org/fhir/v3/RoleCode NMTH `natural mother`",
            );
        }
        if rp.patient.is_none() {
            cx.rep.add(
                R::BN_RELATIONSHIP,
                format!("{loc}.patient"),
                "RelatedPerson.patient (the baby) is required",
            );
        }
    }
    // registering authority
    let ra: Vec<Option<&str>> = cx
        .all::<EpisodeOfCare>()
        .filter(|(_, e)| {
            e.type_.iter().any(|t| {
                t.coding
                    .iter()
                    .any(|c| c.code.str_value() == Some("registering-authority"))
            })
        })
        .map(|(_, e)| reference(&e.managing_organization))
        .collect();
    if ra.len() != 1 {
        cx.rep.add(
            R::BN_REGISTERING_AUTHORITY,
            "Bundle.entry",
            format!(
                "exactly one registering-authority EpisodeOfCare is required, found {}",
                ra.len()
            ),
        );
    } else if !ra[0]
        .and_then(|r| cx.resolve(r))
        .is_some_and(|e| matches!(e.res, Resource::Organization(_)))
    {
        cx.rep.add(
            R::BN_REGISTERING_AUTHORITY,
            "Bundle.entry",
            "the registering-authority EpisodeOfCare must point at an Organization in the bundle",
        );
    }
    // baby
    let (_, baby) = birth_roles(cx);
    if let Some(k) = baby {
        let loc = cx.entries[k].loc();
        if let Some(p) = cx.entries[k].res.get::<Patient>() {
            if p.gender.is_none() {
                cx.rep.add(
                    R::BN_BABY,
                    format!("{loc}.gender"),
                    "the baby's gender is required",
                );
            }
            if p.birth_date
                .as_ref()
                .is_none_or(|b| ext(b.extension(), BIRTH_TIME_URL).is_none())
            {
                cx.rep.add(R::BN_BABY, format!("{loc}.birthDate"), "the baby's birthDate with the patient-birthTime extension (delivery time) is required");
            }
            if !matches!(p.multiple_birth, Some(PatientMultipleBirth::Integer(_))) {
                cx.rep.add(
                    R::BN_BABY,
                    format!("{loc}.multipleBirth"),
                    "multipleBirthInteger (birth order) is required",
                );
            }
            if ext(&p.extension, ETHNIC_URL).is_none() {
                cx.rep.add(
                    R::BN_BABY,
                    format!("{loc}.extension"),
                    "the ethnic category extension is required",
                );
            }
        }
    } else {
        cx.rep.add(
            R::BN_BABY,
            "Bundle.entry",
            "no baby Patient (RelatedPerson.patient) in the bundle",
        );
    }
    // observations: fixed SNOMED codings and displays
    const FIXED: [(&str, &str); 5] = [
        (
            "382341000000101",
            "Total number of registerable births at delivery",
        ),
        ("364589006", "Birth weight"),
        ("412726003", "Length of gestation at birth"),
        ("237364002", "Stillbirth"),
        ("1097291000000101", "Suspected congenital abnormality"),
    ];
    let obs: Vec<(Loc, &Observation)> =
        cx.all::<Observation>().map(|(e, o)| (e.loc(), o)).collect();
    for (loc, o) in obs {
        let Some(code) = &o.code else { continue };
        for (j, c) in code.coding.iter().enumerate() {
            if c.system.str_value() != Some(SCT) {
                continue;
            }
            if let Some((_, d)) = FIXED.iter().find(|(k, _)| Some(*k) == c.code.str_value()) {
                if c.display.str_value() != Some(d) {
                    cx.rep.add(
                        R::BN_OBSERVATION,
                        format!("{loc}.code.coding[{j}].display"),
                        format!(
                            "display must be `{d}`, found `{}`",
                            c.display.str_value().unwrap_or("(missing)")
                        ),
                    );
                }
                if c.code.str_value() == Some("364589006") {
                    let ok = o.category.iter().any(|cat| {
                        cat.coding.iter().any(|x| {
                            coding_is(x, "http://hl7.org/fhir/observation-category", "vital-signs")
                                && x.display.str_value() == Some("Vital Signs")
                        })
                    });
                    if !ok {
                        cx.rep.add(
                            R::BN_OBSERVATION,
                            format!("{loc}.category"),
                            "the birth-weight category must be observation-category vital-signs `Vital Signs`",
                        );
                    }
                }
            }
        }
    }
}

pub(super) fn change_of_address(cx: &mut Ctx) {
    let Some((loc, p)) = cx.subject_patient() else {
        return;
    };
    for want in ["home", "old"] {
        match p
            .address
            .iter()
            .enumerate()
            .find(|(_, a)| a.use_.str_value() == Some(want))
        {
            None => cx.rep.add(
                R::COA_ADDRESS,
                format!("{loc}.address"),
                format!("the {want} address (use = {want}) is required"),
            ),
            Some((j, a)) => {
                let al = format!("{loc}.address[{j}]");
                if a.line.is_empty() {
                    cx.rep.add(
                        R::COA_ADDRESS,
                        format!("{al}.line"),
                        "address lines are required",
                    );
                }
                if a.postal_code.is_none() {
                    cx.rep.add(
                        R::COA_ADDRESS,
                        format!("{al}.postalCode"),
                        "postalCode is required",
                    );
                }
                if a.text.is_none() {
                    cx.rep.add(
                        R::COA_ADDRESS_TEXT,
                        format!("{al}.text"),
                        "address.text (the whole address as text) is required",
                    );
                }
                if a.period
                    .as_ref()
                    .and_then(|p| p.start.str_value())
                    .is_none()
                {
                    cx.rep.add(
                        R::COA_ADDRESS,
                        format!("{al}.period.start"),
                        "period.start is required",
                    );
                }
                if a.city.is_some() || a.district.is_some() {
                    cx.rep.add(R::COA_ADDRESS, al.clone(), "PDS does not separate town/district: all lines go in `line`, never `city`/`district`");
                }
            }
        }
    }
}

pub(super) fn change_of_gp(cx: &mut Ctx) {
    let eocs: Vec<(Loc, &EpisodeOfCare)> = cx
        .all::<EpisodeOfCare>()
        .map(|(e, x)| (e.loc(), x))
        .collect();
    if eocs.len() > 1 {
        cx.rep.add(
            R::COGP_EOC,
            "Bundle.entry",
            "at most one EpisodeOfCare (the previous registration)",
        );
    }
    for (loc, eoc) in eocs {
        if eoc.status.str_value() != Some("finished") {
            cx.rep.add(
                R::COGP_EOC,
                format!("{loc}.status"),
                "the previous registration's status must be `finished`",
            );
        }
        let ok_type = eoc.type_.iter().any(|t| {
            t.coding.iter().any(|c| {
                coding_is(
                    c,
                    "https://fhir.nhs.uk/STU3/CodeSystem/EMS-PDS-PatientCareProvisionType-1",
                    "1",
                )
            })
        });
        if !ok_type {
            cx.rep.add(
                R::COGP_EOC,
                format!("{loc}.type"),
                "type must be EMS-PDS-PatientCareProvisionType-1 `1` Primary care",
            );
        }
        if eoc.patient.is_none() {
            cx.rep
                .add(R::COGP_EOC, format!("{loc}.patient"), "patient is required");
        }
        if reference(&eoc.managing_organization)
            .and_then(|r| cx.index_of(r))
            .is_none()
        {
            cx.rep.add(
                R::COGP_EOC,
                format!("{loc}.managingOrganization"),
                "managingOrganization (the previous practice) must be in the bundle",
            );
        }
    }
    // 10.3 states `partOf 1..1` on the Organization row, which covers every
    // Organization of the message (practices and any other referenced
    // organisation), not only the practices
    let missing: Vec<Loc> = cx
        .all::<Organization>()
        .filter(|(_, o)| o.part_of.is_none())
        .map(|(e, _)| e.loc())
        .collect();
    for loc in missing {
        cx.rep.add(
            R::COGP_ORG_PARTOF,
            format!("{loc}.partOf"),
            "every Organization of a change-of-GP message needs partOf (its commissioning organisation)",
        );
    }
}

pub(super) fn death(cx: &mut Ctx) {
    let Some((loc, p)) = cx.subject_patient() else {
        return;
    };
    let status = ext(&p.extension, DEATH_URL);
    let code = status
        .and_then(|x| ext(&x.extension, "deathNotificationStatus"))
        .and_then(|x| match &x.value {
            Some(ExtensionValue::CodeableConcept(cc)) => {
                cc.coding.first().and_then(|c| c.code.str_value())
            }
            _ => None,
        });
    let xl = format!("{loc}.extension('{DEATH_URL}')");
    match code {
        None => cx.rep.add(
            R::DEATH_STATUS,
            xl.clone(),
            "the deathNotificationStatus extension with a status code is required",
        ),
        Some(c) if !matches!(c, "1" | "2" | "U") => cx.rep.add(
            R::DEATH_STATUS,
            xl.clone(),
            format!("status `{c}` is not 1, 2 or U"),
        ),
        _ => {}
    }
    if status.is_some()
        && status
            .and_then(|x| ext(&x.extension, "systemEffectiveDate"))
            .is_none()
    {
        cx.rep.add(
            R::DEATH_STATUS,
            format!("{xl}.extension('systemEffectiveDate')"),
            "systemEffectiveDate is required",
        );
    }
    let deceased = matches!(p.deceased, Some(PatientDeceased::DateTime(_)));
    match code {
        Some("1" | "2") if !deceased => cx.rep.add(
            R::DEATH_DECEASED,
            format!("{loc}.deceased"),
            "deceasedDateTime is required for informal and formal deaths",
        ),
        Some("U") if p.deceased.is_some() => cx.rep.add(
            R::DEATH_DECEASED,
            format!("{loc}.deceased"),
            "deceased must be absent when the status is removed (U)",
        ),
        _ => {}
    }
}

pub(super) fn screening(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::Encounter(enc))) = focus else {
        return;
    };
    if enc.identifier.is_empty() {
        cx.rep.add(
            R::SCREENING_ENCOUNTER,
            format!("{loc}.identifier"),
            "Encounter.identifier (the publisher's persistent record id) is required",
        );
    }
    if cx.is_delete() {
        return;
    }
    for (missing, name) in [
        (enc.type_.is_empty(), "type"),
        (enc.service_provider.is_none(), "serviceProvider"),
        (enc.subject.is_none(), "subject"),
    ] {
        if missing {
            cx.rep.add(
                R::SCREENING_ENCOUNTER,
                format!("{loc}.{name}"),
                format!("Encounter.{name} is required in a new message"),
            );
        }
    }
    if (cx.is("newborn-hearing-1") || cx.is("nipe-outcome-1"))
        && enc
            .period
            .as_ref()
            .and_then(|p| p.start.str_value())
            .is_none()
    {
        cx.rep.add(
            R::SCREENING_ENCOUNTER,
            format!("{loc}.period.start"),
            "Encounter.period.start is required in a new message",
        );
    }
}

pub(super) fn professional_contacts(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::EpisodeOfCare(eoc))) = focus else {
        return;
    };
    for (missing, name) in [
        (eoc.identifier.is_empty(), "identifier"),
        (eoc.status.is_none(), "status"),
        (eoc.type_.is_empty(), "type"),
        (eoc.managing_organization.is_none(), "managingOrganization"),
    ] {
        if missing {
            cx.rep.add(
                R::PC_EOC,
                format!("{loc}.{name}"),
                format!("EpisodeOfCare.{name} is required"),
            );
        }
    }
    if let Some(k) = reference(&eoc.managing_organization).and_then(|r| cx.index_of(r)) {
        if let Some(o) = cx.entries[k].res.get::<Organization>() {
            if o.telecom.is_empty() {
                let l = cx.entries[k].loc();
                cx.rep.add(
                    R::PC_ORG_TELECOM,
                    format!("{l}.telecom"),
                    "the Organization managing the episode must have contact details",
                );
            }
        }
    }
}

pub(super) fn vaccinations(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::Immunization(im))) = focus else {
        return;
    };
    for (missing, name) in [
        (ext(&im.extension, VACC_PROC_URL).is_none(), "extension"),
        (im.identifier.is_empty(), "identifier"),
        (im.not_given.is_none(), "notGiven"),
        (im.vaccine_code.is_none(), "vaccineCode"),
        (im.date.is_none(), "date"),
        (im.primary_source.is_none(), "primarySource"),
    ] {
        if missing {
            let what = if name == "extension" {
                "the vaccinationProcedure extension".to_string()
            } else {
                format!("Immunization.{name}")
            };
            cx.rep.add(
                R::VACC_IMMUNIZATION,
                format!("{loc}.{name}"),
                format!("{what} is required"),
            );
        }
    }
    let not_given = im.not_given.as_ref().and_then(|b| b.value) == Some(true);
    let has_reason = im
        .explanation
        .as_ref()
        .is_some_and(|e| !e.reason_not_given.is_empty());
    if not_given && !has_reason {
        cx.rep.add(
            R::VACC_IMMUNIZATION,
            format!("{loc}.explanation.reasonNotGiven"),
            "reasonNotGiven is required when notGiven is true",
        );
    }
    if let Some(vc) = &im.vaccine_code {
        for (j, c) in vc.coding.iter().enumerate() {
            if c.system.str_value() == Some("http://hl7.org/fhir/v3/NullFlavor")
                && !matches!(c.code.str_value(), Some("NAVU" | "UNC" | "UNK"))
            {
                cx.rep.add(
                    R::VACC_VACCINECODE,
                    format!("{loc}.vaccineCode.coding[{j}]"),
                    format!(
                        "NullFlavor `{}` is not in CareConnect-VaccineCode-1 (NAVU, UNC, UNK)",
                        c.code.str_value().unwrap_or("")
                    ),
                );
            }
        }
    }
}
