//! Cross-resource logic of section 10 that is not a table row: the
//! change-of-GP interpretation, death status, birth roles, addresses.

use super::*;

pub(super) fn per_event(cx: &mut Ctx) {
    let Some(et) = cx.event else { return };
    let focus = cx.focus.map(|k| (cx.entries[k].loc(), cx.entries[k].res));
    match et.code {
        "pds-change-of-address-1" => change_of_address(cx),
        "pds-change-of-gp-1" => change_of_gp(cx),
        "pds-death-notification-1" => death(cx),
        "vaccinations-1" => vaccinations(cx, focus),
        _ => {}
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
                loc.join("address"),
                cat(&[&"the ", &want, &" address (use = ", &want, &") is required"]),
            ),
            Some((j, a)) => {
                let al = loc.join(&cat(&[&"address[", &j, &"]"]));
                if a.line.is_empty() {
                    cx.rep.add(
                        R::COA_ADDRESS,
                        cat(&[&al, &".line"]),
                        "address lines are required",
                    );
                }
                if a.postal_code.is_none() {
                    cx.rep.add(
                        R::COA_ADDRESS,
                        cat(&[&al, &".postalCode"]),
                        "postalCode is required",
                    );
                }
                if a.text.is_none() {
                    cx.rep.add(
                        R::COA_ADDRESS_TEXT,
                        cat(&[&al, &".text"]),
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
                        cat(&[&al, &".period.start"]),
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
    // the interpretation matrix (10.3): new GP and/or a finished previous
    // registration; a receiver cannot act on a message with neither
    let gp = cx
        .subject_patient()
        .is_some_and(|(_, p)| !p.general_practitioner.is_empty());
    let eocs: Vec<(Loc, &EpisodeOfCare)> = cx
        .all::<EpisodeOfCare>()
        .map(|(e, x)| (e.loc(), x))
        .collect();
    let finished = eocs
        .iter()
        .any(|(_, e)| e.status.str_value() == Some("finished"));
    if !gp && !finished {
        let at = cx
            .subject_patient()
            .map(|(l, _)| l.join("generalPractitioner"))
            .unwrap_or_else(|| "Bundle.entry".into());
        cx.rep.add(
            R::COGP_INTERPRETATION,
            at,
            "[10.3/Patient/interpretation] neither a current GP (Patient.generalPractitioner) nor a finished previous-registration EpisodeOfCare: the change cannot be interpreted",
        );
    }
    // the previous practice must be in the bundle (the receiver reads its ODS code)
    for (loc, eoc) in eocs {
        if let Some(r) = reference(&eoc.managing_organization) {
            let inside = cx
                .resolve(r)
                .is_some_and(|e| matches!(e.res, Resource::Organization(_)));
            if !inside {
                cx.rep.add_full(
                    R::COGP_EOC,
                    None,
                    Some(true),
                    loc.join("managingOrganization.reference"),
                    format!("[10.3/EpisodeOfCare/managingOrganization.inbundle] managingOrganization `{r}` (the previous practice) must be an Organization in the bundle"),
                );
            }
        }
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
            loc.join("deceased"),
            "deceasedDateTime is required for informal and formal deaths",
        ),
        Some("U") if p.deceased.is_some() => cx.rep.add(
            R::DEATH_DECEASED,
            loc.join("deceased"),
            "deceased must be absent when the status is removed (U)",
        ),
        _ => {}
    }
}

pub(super) fn vaccinations(cx: &mut Ctx, focus: Option<(Loc, &Resource)>) {
    let Some((loc, Resource::Immunization(im))) = focus else {
        return;
    };
    let not_given = im.not_given.as_ref().and_then(|b| b.value) == Some(true);
    let has_reason = im
        .explanation
        .as_ref()
        .is_some_and(|e| !e.reason_not_given.is_empty());
    if not_given && !has_reason {
        cx.rep.add(
            R::VACC_IMMUNIZATION,
            loc.join("explanation.reasonNotGiven"),
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
