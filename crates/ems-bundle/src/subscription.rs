//! FHIR `Subscription` (EMS-Subscription-1) → the matcher's
//! [`ems_match::Subscription`]: the one mapping used by `ems route`, the
//! router example and the server.
//!
//! # Decisions (documented in docs/conformance.md, "Subscription → matcher")
//!
//! * `id`, `status`, `criteria` and `channel.endpoint` are required: without
//!   them a subscription cannot be stored or routed.
//! * **Creation time** is `meta.lastUpdated` (an `instant`, as NEMS stamps a
//!   stored subscription). A resource without it (one read from a file, never
//!   stored) has no known creation time and gets
//!   [`DateTime::<Utc>::MIN_UTC`]: it matches events of any date. (The router
//!   example used to invent 2000-01-01, which had the same effect on every
//!   realistic event but was arbitrary.)
//! * **`end`** is parsed (an `instant`): the matcher drops events after it.
//!   A malformed `end` or `meta.lastUpdated` is an error, not ignored — a
//!   subscription that silently never ended would over-deliver.
//! * **Contact**: the ODS code of the subscribing organisation is taken from
//!   the first `contact` whose value is a directory URL
//!   (`https://directory.spineservices.nhs.uk/STU3/Organization/<ODS>`). Other
//!   contact values give no ODS code (the validator's `SUB-CONTACT` reports
//!   them); the matcher does not route on the contact, so this is never an
//!   error.

use chrono::{DateTime, Utc};
use ems_match::{Criteria, Subscription, SubscriptionStatus};
use ems_nhs::vocab::ods_from_directory;
use ems_stu3::OptStrExt;

/// Why a FHIR Subscription cannot become a matcher [`Subscription`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SubscriptionMapError {
    /// The FHIR element at fault, e.g. `Subscription.status`.
    pub element: &'static str,
    /// Human-readable reason (names the element and the offending value).
    pub message: String,
}

impl SubscriptionMapError {
    fn new(element: &'static str, message: impl Into<String>) -> Self {
        SubscriptionMapError {
            element,
            message: message.into(),
        }
    }
}

/// Maps a FHIR STU3 `Subscription` to the matcher's [`Subscription`] (see the
/// module documentation for the decisions on creation time, `end` and
/// contact).
///
/// ```
/// use ems_stu3::{from_xml, Resource};
/// let xml = br#"<Subscription xmlns="http://hl7.org/fhir">
///   <id value="sub-1"/><meta><lastUpdated value="2024-01-01T09:00:00+00:00"/></meta>
///   <status value="active"/>
///   <contact><system value="url"/><value value="https://directory.spineservices.nhs.uk/STU3/Organization/RR8"/><use value="work"/></contact>
///   <criteria value="/Bundle?type=message&amp;Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&amp;MessageHeader.event=pds-change-of-address-1"/>
///   <channel><type value="message"/><endpoint value="RR8OT001"/></channel>
/// </Subscription>"#;
/// let Resource::Subscription(r) = from_xml(xml).unwrap().resource else { unreachable!() };
/// let s = ems_bundle::to_match_subscription(&r).unwrap();
/// assert_eq!((s.id.as_str(), s.mailbox.as_str()), ("sub-1", "RR8OT001"));
/// assert_eq!(s.contact_ods.as_deref(), Some("RR8"));
/// assert_eq!(s.end, None);
/// ```
pub fn to_match_subscription(
    r: &ems_stu3::Subscription,
) -> Result<Subscription, SubscriptionMapError> {
    let id =
        r.id.str_value()
            .ok_or_else(|| SubscriptionMapError::new("Subscription.id", "no id"))?;
    let status = r
        .status
        .str_value()
        .ok_or_else(|| SubscriptionMapError::new("Subscription.status", "no status"))?;
    let status = SubscriptionStatus::parse(status).ok_or_else(|| {
        SubscriptionMapError::new(
            "Subscription.status",
            format!("status `{status}` is not a Subscription status"),
        )
    })?;
    let criteria = r
        .criteria
        .str_value()
        .ok_or_else(|| SubscriptionMapError::new("Subscription.criteria", "no criteria"))?;
    let criteria = Criteria::parse(criteria).map_err(|e| {
        SubscriptionMapError::new("Subscription.criteria", format!("[{}] {e}", e.rule))
    })?;
    let mailbox = r
        .channel
        .as_ref()
        .and_then(|c| c.endpoint.str_value())
        .ok_or_else(|| {
            SubscriptionMapError::new(
                "Subscription.channel.endpoint",
                "no channel.endpoint (MESH mailbox)",
            )
        })?;
    let created = match r.meta.as_ref().and_then(|m| m.last_updated.str_value()) {
        Some(t) => instant("Subscription.meta.lastUpdated", "meta.lastUpdated", t)?,
        None => DateTime::<Utc>::MIN_UTC,
    };
    let end = match r.end.str_value() {
        Some(t) => Some(instant("Subscription.end", "end", t)?),
        None => None,
    };
    let contact_ods = r
        .contact
        .first()
        .and_then(|c| c.value.str_value())
        .and_then(ods_from_directory)
        .map(str::to_string);
    Ok(Subscription {
        id: id.to_string(),
        status,
        end,
        created,
        mailbox: mailbox.to_string(),
        contact_ods,
        criteria,
    })
}

fn instant(
    element: &'static str,
    name: &str,
    t: &str,
) -> Result<DateTime<Utc>, SubscriptionMapError> {
    DateTime::parse_from_rfc3339(t)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| SubscriptionMapError::new(element, format!("{name} `{t}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ems_stu3::{from_xml, Resource};

    const CRITERIA: &str = "/Bundle?type=message&amp;Patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&amp;MessageHeader.event=pds-change-of-address-1";

    fn map(inner: &str) -> Result<Subscription, SubscriptionMapError> {
        let xml = format!(r#"<Subscription xmlns="http://hl7.org/fhir">{inner}</Subscription>"#);
        let Resource::Subscription(r) = from_xml(xml.as_bytes()).unwrap().resource else {
            panic!("not a Subscription")
        };
        to_match_subscription(&r)
    }

    fn full(meta: &str, contact: &str, end: &str) -> String {
        format!(
            r#"<id value="s1"/>{meta}<status value="active"/>{contact}{end}<criteria value="{CRITERIA}"/><channel><type value="message"/><endpoint value="MBX01"/></channel>"#
        )
    }

    #[test]
    fn maps_every_field() {
        let s = map(&full(
            r#"<meta><lastUpdated value="2024-01-01T09:00:00+01:00"/></meta>"#,
            r#"<contact><system value="url"/><value value="https://directory.spineservices.nhs.uk/STU3/Organization/RR8"/><use value="work"/></contact>"#,
            r#"<end value="2025-06-30T23:59:59Z"/>"#,
        ))
        .unwrap();
        assert_eq!(s.id, "s1");
        assert_eq!(s.status, SubscriptionStatus::Active);
        assert_eq!(s.mailbox, "MBX01");
        assert_eq!(s.created.to_rfc3339(), "2024-01-01T08:00:00+00:00");
        assert_eq!(
            s.end.map(|e| e.to_rfc3339()).as_deref(),
            Some("2025-06-30T23:59:59+00:00")
        );
        assert_eq!(s.contact_ods.as_deref(), Some("RR8"));
        assert_eq!(s.criteria.events, ["pds-change-of-address-1"]);
    }

    #[test]
    fn no_last_updated_means_no_creation_bound() {
        let s = map(&full("", "", "")).unwrap();
        assert_eq!(s.created, DateTime::<Utc>::MIN_UTC);
        assert_eq!(s.end, None);
        assert_eq!(s.contact_ods, None);
    }

    #[test]
    fn contact_that_is_not_a_directory_url_gives_no_ods_code() {
        for v in ["mailto:a@b.nhs.uk", "https://example.org/Organization/RR8"] {
            let c = format!(r#"<contact><system value="url"/><value value="{v}"/></contact>"#);
            assert_eq!(map(&full("", &c, "")).unwrap().contact_ods, None, "{v}");
        }
    }

    #[test]
    fn refusals_name_the_element() {
        let body = full("", "", "");
        let cases = [
            (body.replace(r#"<id value="s1"/>"#, ""), "Subscription.id"),
            (body.replace("active", "paused"), "Subscription.status"),
            (
                body.replace(r#"<status value="active"/>"#, ""),
                "Subscription.status",
            ),
            (
                body.replace("type=message", "type=document"),
                "Subscription.criteria",
            ),
            (
                body.replace(r#"<endpoint value="MBX01"/>"#, ""),
                "Subscription.channel.endpoint",
            ),
            (
                full(r#"<meta><lastUpdated value="2024-01-01"/></meta>"#, "", ""),
                "Subscription.meta.lastUpdated",
            ),
            (
                full("", "", r#"<end value="2025-13-01T00:00:00Z"/>"#),
                "Subscription.end",
            ),
        ];
        for (xml, element) in cases {
            let e = map(&xml).unwrap_err();
            assert_eq!(e.element, element, "{xml}: {e}");
            assert!(!e.message.is_empty());
        }
    }
}
