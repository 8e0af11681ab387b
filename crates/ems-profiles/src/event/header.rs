//! MessageHeader (2.2): what the validation reads from the header, the
//! timestamp order (2.4), and the routing demographics with their
//! consistency with the subject Patient. The header's element rows are
//! declarative (`tables::GENERIC`).

use super::*;

/// What the rest of the validation needs from the header: the event, the
/// messageEventType, the focus and the subject Patient (the header's own
/// rows are declarative: `tables::GENERIC`); then the timestamp order (2.4)
/// and the routing demographics with their consistency with the Patient.
pub(super) fn header<'a>(cx: &mut Ctx<'a, '_>, mh: &'a MessageHeader, at: &str) {
    cx.event = mh
        .event
        .as_ref()
        .and_then(|e| e.code.str_value())
        .and_then(event_type);
    cx.met = message_event_type(mh);
    cx.focus = mh
        .focus
        .first()
        .and_then(|f| f.reference.str_value())
        .and_then(|r| cx.index_of(r));
    timestamp_order(cx, mh, at);
    cx.subject = subject_patient(cx);
    routing(cx, mh, at);
}

/// The messageEventType code, when it is one of the codes of 2.2.
fn message_event_type(mh: &MessageHeader) -> Option<&str> {
    let Some(ExtensionValue::CodeableConcept(cc)) = &ext(&mh.extension, MET_URL)?.value else {
        return None;
    };
    let code = cc.coding.first()?.code.str_value()?;
    crate::tables::MESSAGE_EVENT_TYPES
        .iter()
        .any(|(c, _)| *c == code)
        .then_some(code)
}

/// 2.4 (information): `timestamp` not earlier than `meta.lastUpdated`.
fn timestamp_order(cx: &mut Ctx, mh: &MessageHeader, at: &str) {
    let last_updated = mh.meta.as_ref().and_then(|m| m.last_updated.str_value());
    let (Some(ts), Some(lu)) = (mh.timestamp.str_value(), last_updated) else {
        return;
    };
    if let (Ok(t), Ok(u)) = (
        chrono::DateTime::parse_from_rfc3339(ts),
        chrono::DateTime::parse_from_rfc3339(lu),
    ) {
        if t < u {
            cx.rep.add(
                R::INFO_TIMESTAMP,
                cat(&[&at, &".timestamp"]),
                cat(&[
                    &"timestamp ",
                    &ts,
                    &" is earlier than meta.lastUpdated ",
                    &lu,
                ]),
            );
        }
    }
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
    // the only Patient, found without collecting them
    let mut pats =
        (0..cx.entries.len()).filter(|&k| matches!(cx.entries[k].res, Resource::Patient(_)));
    match (pats.next(), pats.next()) {
        (Some(k), None) if !cx.is("pds-birth-notification-1") => Some(k),
        _ => None,
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
    given_parts(n).collect::<Vec<_>>().join(" ")
}

/// Whether `a` and `b` are equal after `str::to_lowercase`, without
/// allocating for ASCII text (names usually are).
pub(super) fn same_lowercase(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// Whether the given names of `a` and `b`, joined by spaces ([`given`]),
/// are equal after `str::to_lowercase`; without allocating when all are ASCII.
pub(super) fn same_given(a: &HumanName, b: &HumanName) -> bool {
    if !given_parts(a).chain(given_parts(b)).all(str::is_ascii) {
        return given(a).to_lowercase() == given(b).to_lowercase();
    }
    // the joined bytes, lowercased
    fn joined(n: &HumanName) -> impl Iterator<Item = u8> + '_ {
        given_parts(n)
            .enumerate()
            .flat_map(|(i, s)| (if i == 0 { "" } else { " " }).bytes().chain(s.bytes()))
            .map(|b| b.to_ascii_lowercase())
    }
    joined(a).eq(joined(b))
}

/// The given names of `n` that have a value.
fn given_parts(n: &HumanName) -> impl Iterator<Item = &str> {
    n.given.iter().filter_map(|g| g.value.as_deref())
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
    let rl = || cat(&[&at, &".extension('", &ROUTING_URL, &"')"]);
    // `….extension('name')` + `tail` below the routing extension
    let sub_loc = |name: &str, tail: &str| {
        cat(&[
            &at,
            &".extension('",
            &ROUTING_URL,
            &"').extension('",
            &name,
            &"')",
            &tail,
        ])
    };
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
    let nl = || sub_loc("nhsNumber", "");
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
                    sub_loc("nhsNumber", ".value.ofType(Identifier).system"),
                    format!("system must be {NHS_SYSTEM}"),
                );
            }
            match id.value.str_value() {
                None => cx.rep.add(
                    R::MH_ROUTING_NHSNUMBER,
                    sub_loc("nhsNumber", ".value.ofType(Identifier).value"),
                    "routing NHS number has no value",
                ),
                Some(v) => {
                    check_nhs_number(cx.rep, v, || {
                        sub_loc("nhsNumber", ".value.ofType(Identifier).value")
                    });
                    if let Some((_, pid)) = subject.and_then(nhs_identifier) {
                        if let Some(pv) = pid.value.str_value() {
                            if pv != v {
                                cx.rep.add(
                                    R::MH_ROUTING_MISMATCH,
                                    sub_loc("nhsNumber", ".value.ofType(Identifier).value"),
                                    cat(&[
                                        &"routing NHS number ",
                                        &v,
                                        &" differs from the subject Patient's NHS number ",
                                        &pv,
                                    ]),
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
    let nml = || sub_loc("name", "");
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
                    sub_loc("name", ".value.ofType(HumanName).use"),
                    "routing name use must be `official`",
                );
            }
            if n.family.str_value().is_none() || n.given.is_empty() {
                cx.rep.add(
                    R::MH_ROUTING,
                    sub_loc("name", ".value.ofType(HumanName)"),
                    "routing name needs family and given",
                );
            }
            if let Some((_, pn)) = subject.and_then(official_name) {
                let same_family = match (n.family.str_value(), pn.family.str_value()) {
                    (Some(a), Some(b)) => same_lowercase(a, b),
                    (a, b) => a.is_none() && b.is_none(),
                };
                if !same_family || !same_given(n, pn) {
                    cx.rep.add(
                        R::MH_ROUTING_MISMATCH,
                        sub_loc("name", ".value.ofType(HumanName)"),
                        cat(&[
                            &"routing name `",
                            &given(n),
                            &" ",
                            &n.family.str_value().unwrap_or(""),
                            &"` differs from the subject Patient's official name `",
                            &given(pn),
                            &" ",
                            &pn.family.str_value().unwrap_or(""),
                            &"`",
                        ]),
                    );
                }
            }
        }
        Some(_) => cx
            .rep
            .add(R::MH_ROUTING, nml(), "routing name needs a valueHumanName"),
    }
    // birthDateTime
    let bl = || sub_loc("birthDateTime", "");
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
                        sub_loc("birthDateTime", ".value.ofType(dateTime)"),
                        cat(&[
                            &"routing birthDateTime ",
                            &v,
                            &" is not on the subject Patient's birthDate ",
                            &pb,
                        ]),
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
            cat(&[&at, &".focus"]),
            "the event's subject Patient is not in the bundle",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(given: &[Option<&str>]) -> HumanName {
        HumanName {
            given: given
                .iter()
                .map(|g| match g {
                    Some(v) => Primitive::from(*v),
                    None => Primitive::default(),
                })
                .collect(),
            ..Default::default()
        }
    }

    /// `same_lowercase` and `same_given` say what comparing the
    /// `to_lowercase` of the strings (and of the joined given names) says,
    /// for ASCII names (their allocation-free path) and for others.
    #[test]
    fn lowercase_comparisons_match_to_lowercase() {
        let words = [
            "",
            "a",
            "A",
            "ab",
            "Ab",
            "aB",
            "ÉLODIE",
            "élodie",
            "Σ",
            "ς",
            "σ",
            "ΟΔΟΣ",
            "οδος",
            "İ",
            "i̇",
            "Mary Ann",
            "mary ann",
            "mary  ann",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    same_lowercase(a, b),
                    a.to_lowercase() == b.to_lowercase(),
                    "{a:?} {b:?}"
                );
            }
        }
        let lists: Vec<Vec<Option<&str>>> = vec![
            vec![],
            vec![Some("Mary")],
            vec![Some("mary")],
            vec![Some("Mary"), Some("Ann")],
            vec![Some("MARY"), None, Some("ANN")],
            vec![Some("Mary Ann")],
            vec![Some("MaryAnn")],
            vec![Some("Mary"), Some("")],
            vec![Some("Élodie")],
            vec![Some("élodie")],
            vec![Some("ΟΔΟΣ"), Some("x")],
            vec![Some("οδος"), Some("X")],
        ];
        for a in &lists {
            for b in &lists {
                let (x, y) = (name(a), name(b));
                assert_eq!(
                    same_given(&x, &y),
                    given(&x).to_lowercase() == given(&y).to_lowercase(),
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
