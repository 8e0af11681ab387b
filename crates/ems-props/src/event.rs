//! The receiver's read view (`EventMessage`, ems-bundle) and the matcher
//! input built from it (`EventMessage::to_match_event`).

use crate::{ensure, first_difference, Check};
use ems::bundle::{EventKind, EventMessage, EventMessageError};
use ems::stu3::{to_json, to_xml, Resource};

/// Reads `data` (XML or JSON, detected) as an event message: never panics;
/// a read failure is exactly the reader's failure; every accessor answers
/// without panicking, the event code round-trips through `EventKind`, and
/// the same message written in the other syntax (and wrapped from the
/// model) answers every accessor the same way.
pub fn event_message(data: &[u8]) -> Check {
    let syntax = crate::codec::Syntax::detect(data);
    let read = match syntax {
        crate::codec::Syntax::Xml => EventMessage::from_xml(data),
        crate::codec::Syntax::Json => EventMessage::from_json(data),
    };
    let m = match read {
        Ok(m) => m,
        Err(EventMessageError::Read(e)) => {
            let reader = match syntax {
                crate::codec::Syntax::Xml => ems::stu3::from_xml(data),
                crate::codec::Syntax::Json => ems::stu3::from_json(data),
            };
            return ensure(
                reader.as_ref().err() == Some(&e),
                "read-error-is-reader-error",
                || format!("EventMessage reports {e} but the {syntax:?} reader gives {reader:?}"),
            );
        }
        Err(EventMessageError::NotAMessage(_)) => return Ok(()),
    };
    let answers = view(&m);
    let kind = m.event_type();
    ensure(
        EventKind::from_code(kind.code()) == kind,
        "event-kind-code-roundtrip",
        || {
            format!(
                "{kind:?} has code {:?}, which reads as {:?}",
                kind.code(),
                EventKind::from_code(kind.code())
            )
        },
    )?;

    let bundle = Resource::from(m.bundle().clone());
    let wrapped = EventMessage::from_resource(bundle.clone());
    let other = match syntax {
        crate::codec::Syntax::Xml => EventMessage::from_json(to_json(&bundle).as_bytes()),
        crate::codec::Syntax::Json => EventMessage::from_xml(to_xml(&bundle).as_bytes()),
    };
    for (what, again) in [("the wrapped model", wrapped), ("the other syntax", other)] {
        match again {
            Ok(a) => {
                let theirs = view(&a);
                ensure(theirs == answers, "accessors-agree", || {
                    format!(
                        "{what} answers differently; {}",
                        first_difference(&answers, &theirs)
                    )
                })?
            }
            Err(e) => ensure(false, "accessors-agree", || {
                format!("{what} is not an event message: {e}")
            })?,
        }
    }
    Ok(())
}

/// Every accessor's answer, as text.
fn view(m: &EventMessage) -> String {
    let focus = m.focus().map(|r| r.resource_type());
    let patient = m.patient().map(|p| p.id.as_ref().map(|i| i.value.clone()));
    let resolved: Vec<bool> = m
        .bundle()
        .entry
        .iter()
        .filter_map(|e| e.full_url.as_ref()?.value.as_deref())
        .map(|u| m.resolve(u).is_some())
        .collect();
    format!(
        "header {} | id {:?} | event {:?} | met {:?} | nhs {:?} | name {:?} | birth {:?} | updated {:?} | version {:?} | endpoint {:?} | asid {:?} | responsible {:?} | focus {focus:?} | focus id {:?} | patient {patient:?} | resolved {resolved:?} | match {:?}",
        m.header().is_some(),
        m.message_id(),
        m.event_type(),
        m.message_event_type(),
        m.nhs_number(),
        m.routing_name(),
        m.routing_birth_date(),
        m.last_updated(),
        m.version_id(),
        m.source_endpoint(),
        m.source_asid(),
        m.responsible_ods(),
        m.focus_identifier(),
        m.to_match_event(),
    )
}
