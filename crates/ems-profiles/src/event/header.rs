//! MessageHeader (2.2): header elements, routing demographics and their
//! consistency with the subject Patient.

use super::*;

pub(super) fn header(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let l = |x: &str| format!("{at}.{x}");
    // id
    match mh.id.str_value() {
        None => cx.rep.add(
            R::MH_ID,
            l("id"),
            "MessageHeader.id is missing; it identifies the message (duplicate detection, support)",
        ),
        Some(id) if !is_uuid(id) => cx.rep.add(
            R::MH_ID,
            l("id"),
            format!("MessageHeader.id `{id}` is not a UUID"),
        ),
        _ => {}
    }
    // event
    match &mh.event {
        None => cx.rep.add(
            R::MH_EVENT_CODE,
            l("event"),
            "MessageHeader.event is missing",
        ),
        Some(ev) => {
            if ev.system.str_value() != Some(ems_match::EVENT_TYPE_SYSTEM) {
                cx.rep.add(
                    R::MH_EVENT_SYSTEM,
                    l("event.system"),
                    format!(
                        "event.system is `{}`; expected {}",
                        ev.system.str_value().unwrap_or("(missing)"),
                        ems_match::EVENT_TYPE_SYSTEM
                    ),
                );
            }
            match ev.code.str_value() {
                None => cx
                    .rep
                    .add(R::MH_EVENT_CODE, l("event.code"), "event.code is missing"),
                Some(c) => {
                    match event_type(c) {
                        Some(et) => {
                            cx.event = Some(et);
                            if ev.display.str_value() != Some(et.display) {
                                cx.rep.add(
                                R::MH_EVENT_DISPLAY,
                                l("event.display"),
                                format!("event.display is `{}`; the EventType-1 display of {c} is `{}`", ev.display.str_value().unwrap_or("(missing)"), et.display),
                            );
                            }
                        }
                        None => cx.rep.add(
                            R::MH_EVENT_CODE,
                            l("event.code"),
                            format!("`{c}` is not a supported NEMS event"),
                        ),
                    }
                }
            }
            if ev.user_selected.is_some() {
                cx.rep.add(
                    R::MH_EVENT_DISPLAY,
                    l("event.userSelected"),
                    "event.userSelected is prohibited",
                );
            }
        }
    }
    // meta
    let meta = mh.meta.as_ref();
    if !meta.is_some_and(|m| {
        m.profile
            .iter()
            .any(|p| p.value.as_deref() == Some(MH_PROFILE))
    }) {
        cx.rep.add(
            R::MH_PROFILE,
            l("meta.profile"),
            format!("meta.profile should carry {MH_PROFILE}"),
        );
    }
    if let Some(v) = meta.and_then(|m| m.version_id.str_value()) {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            cx.rep.add(
                R::MH_SEQ,
                l("meta.versionId"),
                format!("meta.versionId `{v}` is not an integer sequence number"),
            );
        }
    }
    let last_updated = meta.and_then(|m| m.last_updated.str_value());
    if last_updated.is_none() && cx.event.is_some_and(|e| e.meta_last_updated_required) {
        cx.rep.add(
            R::MH_LASTUPDATED,
            l("meta.lastUpdated"),
            "meta.lastUpdated is required for this event (receivers order messages by it)",
        );
    }
    // timestamp
    match mh.timestamp.str_value() {
        None => cx.rep.add(
            R::MH_TIMESTAMP,
            l("timestamp"),
            "MessageHeader.timestamp is missing",
        ),
        Some(ts) => {
            if let (Some(lu), Ok(t)) = (last_updated, chrono::DateTime::parse_from_rfc3339(ts)) {
                if let Ok(u) = chrono::DateTime::parse_from_rfc3339(lu) {
                    if t < u {
                        cx.rep.add(
                            R::INFO_TIMESTAMP,
                            l("timestamp"),
                            format!("timestamp {ts} is earlier than meta.lastUpdated {lu}"),
                        );
                    }
                }
            }
        }
    }
    // messageEventType
    let met_loc = || format!("{at}.extension('{MET_URL}')");
    match ext(&mh.extension, MET_URL) {
        None => cx.rep.add(
            R::MH_MSGEVENTTYPE,
            met_loc(),
            "the messageEventType extension is missing (new, update or delete)",
        ),
        Some(x) => match &x.value {
            Some(ExtensionValue::CodeableConcept(cc)) => {
                if cc.coding.len() != 1 {
                    cx.rep.add(
                        R::MH_MSGEVENTTYPE,
                        format!("{}.value.ofType(CodeableConcept).coding", met_loc()),
                        "exactly one coding is required",
                    );
                }
                if cc.text.is_some() {
                    cx.rep.add(
                        R::MH_MSGEVENTTYPE,
                        format!("{}.value.ofType(CodeableConcept).text", met_loc()),
                        "text is prohibited",
                    );
                }
                if let Some(c) = cc.coding.first() {
                    let cl = || format!("{}.value.ofType(CodeableConcept).coding[0]", met_loc());
                    if c.system.str_value() != Some(ems_match::MESSAGE_EVENT_TYPE_SYSTEM) {
                        cx.rep.add(
                            R::MH_MSGEVENTTYPE,
                            format!("{}.system", cl()),
                            format!("system must be {}", ems_match::MESSAGE_EVENT_TYPE_SYSTEM),
                        );
                    }
                    if c.version.is_some() || c.user_selected.is_some() {
                        cx.rep.add(
                            R::MH_MSGEVENTTYPE,
                            cl(),
                            "version and userSelected are prohibited",
                        );
                    }
                    let display = |code: &str| match code {
                        "new" => Some("New event message"),
                        "update" => Some("Update event message"),
                        "delete" => Some("Delete event message"),
                        _ => None,
                    };
                    match c.code.str_value() {
                        Some(code) if display(code).is_some() => {
                            cx.met = Some(code.to_string());
                            if let Some(et) = cx.event {
                                if !et.message_event_types.contains(&code) {
                                    cx.rep.add(
                                        R::MH_MSGEVENTTYPE,
                                        format!("{}.code", cl()),
                                        format!(
                                            "`{code}` is not allowed for {} (allowed: {})",
                                            et.code,
                                            et.message_event_types.join(", ")
                                        ),
                                    );
                                }
                            }
                            if c.display.str_value() != display(code) {
                                cx.rep.add(
                                    R::MH_MSGEVENTTYPE,
                                    format!("{}.display", cl()),
                                    format!("display must be `{}`", display(code).unwrap_or("")),
                                );
                            }
                        }
                        other => cx.rep.add(
                            R::MH_MSGEVENTTYPE,
                            format!("{}.code", cl()),
                            format!(
                                "`{}` is not new, update or delete",
                                other.unwrap_or("(missing)")
                            ),
                        ),
                    }
                }
            }
            _ => cx.rep.add(
                R::MH_MSGEVENTTYPE,
                met_loc(),
                "the messageEventType extension needs a valueCodeableConcept",
            ),
        },
    }
    // source
    match &mh.source {
        None => cx.rep.add(
            R::MH_SOURCE_NAME,
            l("source"),
            "MessageHeader.source is missing",
        ),
        Some(src) => {
            if src.name.str_value().is_none() {
                cx.rep.add(
                    R::MH_SOURCE_NAME,
                    l("source.name"),
                    "source.name (the name of the publishing system) is required",
                );
            }
            match &src.contact {
                None => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact"), "source.contact is required: subscribers use it to report problems with this message"),
                Some(cp) => {
                    let sys = cp.system.str_value();
                    let val = cp.value.str_value();
                    match (sys, val) {
                        (Some("email"), Some(v)) if !looks_like_email(v) => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact.value"), format!("`{v}` is not an e-mail address")),
                        (Some("phone"), Some(v)) if !looks_like_phone(v) => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact.value"), format!("`{v}` is not a phone number")),
                        (Some("email" | "phone"), Some(_)) => {}
                        (Some(o), _) if o != "email" && o != "phone" => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact.system"), format!("contact system is `{o}`; use phone or email")),
                        (None, _) => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact.system"), "contact system (phone or email) is required"),
                        (_, None) => cx.rep.add(R::MH_SOURCE_CONTACT, l("source.contact.value"), "contact value is required"),
                        _ => {}
                    }
                }
            }
            if src.endpoint.str_value().is_none() {
                cx.rep.add(
                    R::MH_SOURCE_ENDPOINT,
                    l("source.endpoint"),
                    "source.endpoint is required (e.g. urn:nhs:addressing:asid:<ASID>)",
                );
            }
        }
    }
    // responsible
    match reference(&mh.responsible) {
        None => cx.rep.add(
            R::MH_RESPONSIBLE,
            l("responsible"),
            "responsible.reference is required",
        ),
        Some(r) => {
            if cx.event.is_some_and(|e| e.responsible_in_bundle) {
                let ok = cx
                    .resolve(r)
                    .is_some_and(|e| matches!(e.res, Resource::Organization(_)));
                if !ok {
                    cx.rep.add(
                        R::MH_RESPONSIBLE_INBUNDLE,
                        l("responsible.reference"),
                        format!("responsible `{r}` must be a CareConnect-Organization-1 inside the bundle for this event"),
                    );
                }
            }
        }
    }
    // focus
    if mh.focus.len() != 1 {
        cx.rep.add(
            R::MH_FOCUS,
            l("focus"),
            format!("exactly one focus is required, found {}", mh.focus.len()),
        );
    }
    if let Some(f) = mh.focus.first() {
        match f.reference.str_value() {
            None => cx.rep.add(
                R::MH_FOCUS,
                l("focus[0].reference"),
                "focus.reference is missing",
            ),
            Some(r) => match cx.index_of(r) {
                None => cx.rep.add(
                    R::MH_FOCUS,
                    l("focus[0].reference"),
                    format!("focus `{r}` is not in the bundle"),
                ),
                Some(k) => {
                    cx.focus = Some(k);
                    let ty = cx.entries[k].res.resource_type();
                    if let Some(et) = cx.event {
                        if ty != et.focus {
                            cx.rep.add(
                                R::MH_FOCUS_TYPE,
                                l("focus[0].reference"),
                                format!(
                                    "focus is a {ty}; the focus of {} is a {}",
                                    et.code, et.focus
                                ),
                            );
                        }
                    }
                }
            },
        }
    }
    // receiver, author, reason, response, destination: rows 2.2/MessageHeader/* of the generic table
    // subject patient
    cx.subject = subject_patient(cx);
    routing(cx, mh, at);
}

pub(crate) fn looks_like_email(v: &str) -> bool {
    let v = v.strip_prefix("mailto:").unwrap_or(v);
    match v.split_once('@') {
        Some((a, d)) => {
            !a.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub(crate) fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    digits >= 6 && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) && !v.is_empty()
}

pub(super) fn subject_patient(cx: &Ctx) -> Option<usize> {
    let focus = cx.focus.map(|k| cx.entries[k].res);
    let r = match focus {
        Some(Resource::Communication(c)) => reference(&c.subject),
        Some(Resource::Encounter(e)) => reference(&e.subject),
        Some(Resource::EpisodeOfCare(e)) => reference(&e.patient),
        Some(Resource::Immunization(i)) => reference(&i.patient),
        Some(Resource::Patient(_)) => return cx.focus,
        _ => None,
    };
    if let Some(k) = r.and_then(|r| cx.index_of(r)) {
        if matches!(cx.entries[k].res, Resource::Patient(_)) {
            return Some(k);
        }
    }
    let pats: Vec<usize> = (0..cx.entries.len())
        .filter(|&k| matches!(cx.entries[k].res, Resource::Patient(_)))
        .collect();
    if pats.len() == 1 && !cx.is("pds-birth-notification-1") {
        Some(pats[0])
    } else {
        None
    }
}

pub(super) fn nhs_identifier(p: &Patient) -> Option<(usize, &Identifier)> {
    p.identifier
        .iter()
        .enumerate()
        .find(|(_, i)| i.system.str_value() == Some(NHS_SYSTEM))
}

pub(super) fn official_name(p: &Patient) -> Option<(usize, &HumanName)> {
    p.name
        .iter()
        .enumerate()
        .find(|(_, n)| n.use_.str_value() == Some("official"))
}

pub(super) fn given(n: &HumanName) -> String {
    n.given
        .iter()
        .filter_map(|g| g.value.as_deref())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks an NHS number; `loc` is only called when there is something to report.
pub(super) fn check_nhs_number(rep: &mut Report, value: &str, loc: impl FnOnce() -> String) {
    match NhsNumber::parse(value) {
        Err(e) => rep.add(R::NHS_NUMBER_CHECKDIGIT, loc(), format!("`{value}`: {e}")),
        Ok(n) if n.is_placeholder() => rep.add(
            R::NHS_NUMBER_PLACEHOLDER,
            loc(),
            format!(
                "`{value}` passes the check digit but is a placeholder, not a traced NHS number"
            ),
        ),
        Ok(_) => {}
    }
}

pub(super) fn routing(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let bn = cx.is("pds-birth-notification-1");
    let optional_name_dob =
        bn || (cx.is_delete() && cx.event.is_some_and(|e| e.delete_routing_name_dob_optional));
    let rl = || format!("{at}.extension('{ROUTING_URL}')");
    let Some(rd) = ext(&mh.extension, ROUTING_URL) else {
        if !bn {
            cx.rep.add(
                R::MH_ROUTING_NHSNUMBER,
                rl(),
                "the routingDemographics extension is missing, so the patient cannot be determined",
            );
        }
        return;
    };
    let sub = |name: &str| ext(&rd.extension, name);
    let subject = cx.subject_patient().map(|(_, p)| p);
    // NHS number
    let nl = || format!("{}.extension('nhsNumber')", rl());
    match sub("nhsNumber").map(|x| &x.value) {
        None => {
            if !bn {
                cx.rep.add(
                    R::MH_ROUTING_NHSNUMBER,
                    nl(),
                    "routing nhsNumber is missing, so the patient cannot be determined",
                );
            }
        }
        Some(Some(ExtensionValue::Identifier(id))) => {
            if id.system.str_value() != Some(NHS_SYSTEM) {
                cx.rep.add(
                    R::MH_ROUTING,
                    format!("{}.value.ofType(Identifier).system", nl()),
                    format!("system must be {NHS_SYSTEM}"),
                );
            }
            match id.value.str_value() {
                None => cx.rep.add(
                    R::MH_ROUTING_NHSNUMBER,
                    format!("{}.value.ofType(Identifier).value", nl()),
                    "routing NHS number has no value",
                ),
                Some(v) => {
                    check_nhs_number(cx.rep, v, || {
                        format!("{}.value.ofType(Identifier).value", nl())
                    });
                    if let Some((_, pid)) = subject.and_then(nhs_identifier) {
                        if let Some(pv) = pid.value.str_value() {
                            if pv != v {
                                cx.rep.add(
                                    R::MH_ROUTING_MISMATCH,
                                    format!("{}.value.ofType(Identifier).value", nl()),
                                    format!("routing NHS number {v} differs from the subject Patient's NHS number {pv}"),
                                );
                            }
                        }
                    }
                }
            }
        }
        Some(_) => cx.rep.add(
            R::MH_ROUTING_NHSNUMBER,
            nl(),
            "routing nhsNumber needs a valueIdentifier",
        ),
    }
    // name
    let nml = || format!("{}.extension('name')", rl());
    match sub("name").map(|x| &x.value) {
        None => {
            if !optional_name_dob {
                cx.rep.add(
                    R::MH_ROUTING,
                    nml(),
                    "routing name (the patient's official name) is missing",
                );
            }
        }
        Some(Some(ExtensionValue::HumanName(n))) => {
            if n.use_.str_value() != Some("official") {
                cx.rep.add(
                    R::MH_ROUTING,
                    format!("{}.value.ofType(HumanName).use", nml()),
                    "routing name use must be `official`",
                );
            }
            if n.family.str_value().is_none() || n.given.is_empty() {
                cx.rep.add(
                    R::MH_ROUTING,
                    format!("{}.value.ofType(HumanName)", nml()),
                    "routing name needs family and given",
                );
            }
            if let Some((_, pn)) = subject.and_then(official_name) {
                let same_family = n.family.str_value().map(str::to_lowercase)
                    == pn.family.str_value().map(str::to_lowercase);
                let same_given = given(n).to_lowercase() == given(pn).to_lowercase();
                if !same_family || !same_given {
                    cx.rep.add(
                        R::MH_ROUTING_MISMATCH,
                        format!("{}.value.ofType(HumanName)", nml()),
                        format!(
                            "routing name `{} {}` differs from the subject Patient's official name `{} {}`",
                            given(n),
                            n.family.str_value().unwrap_or(""),
                            given(pn),
                            pn.family.str_value().unwrap_or("")
                        ),
                    );
                }
            }
        }
        Some(_) => cx
            .rep
            .add(R::MH_ROUTING, nml(), "routing name needs a valueHumanName"),
    }
    // birthDateTime
    let bl = || format!("{}.extension('birthDateTime')", rl());
    match sub("birthDateTime").map(|x| &x.value) {
        None => {
            if !optional_name_dob {
                cx.rep
                    .add(R::MH_ROUTING, bl(), "routing birthDateTime is missing");
            }
        }
        Some(Some(ExtensionValue::DateTime(d))) => {
            if let (Some(v), Some(pb)) = (
                d.value.as_deref(),
                subject.and_then(|p| p.birth_date.str_value()),
            ) {
                if v.get(..10).unwrap_or(v) != pb {
                    cx.rep.add(
                        R::MH_ROUTING_MISMATCH,
                        format!("{}.value.ofType(dateTime)", bl()),
                        format!("routing birthDateTime {v} is not on the subject Patient's birthDate {pb}"),
                    );
                }
            }
        }
        Some(_) => cx.rep.add(
            R::MH_ROUTING,
            bl(),
            "routing birthDateTime needs a valueDateTime",
        ),
    }
    if subject.is_none() && !cx.is_delete() && !bn {
        cx.rep.add(
            R::PATIENT_SUBJECT,
            format!("{at}.focus"),
            "the event's subject Patient is not in the bundle",
        );
    }
}
