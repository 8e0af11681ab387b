//! The receiver's read view of an event message.

use crate::build::MessageEventType;
use crate::builders::EventKind;
use ems_match::NhsNumber;
use ems_nhs::vocab;
use ems_stu3::*;

/// Why bytes are not a usable event message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EventMessageError {
    /// The bytes are not readable FHIR.
    #[error("unreadable message: {0}")]
    Read(#[from] ReadError),
    /// Readable, but not an event-message Bundle with a MessageHeader.
    #[error("not an event message: {0}")]
    NotAMessage(String),
}

/// A read event message with typed accessors (the bundle stays available).
///
/// ```
/// use ems_bundle::*;
/// use chrono::NaiveDate;
/// let p = PatientInfo::new("9434765919".parse().unwrap(), "SMITH", "Jo", NaiveDate::from_ymd_opt(2010, 1, 1).unwrap());
/// let mut cx = BuildContext::deterministic(example_publisher(), 7);
/// let built = PdsRecordChange::new(p, 3).build(&mut cx).unwrap();
/// let msg = EventMessage::from_xml(built.to_xml().as_bytes()).unwrap();
/// assert_eq!(msg.event_type(), EventKind::PdsRecordChange);
/// assert_eq!(msg.nhs_number().unwrap().to_string(), "9434765919");
/// assert!(msg.patient().is_some());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EventMessage {
    bundle: Bundle,
    outcome: Outcome,
}

impl EventMessage {
    /// Reads FHIR XML.
    pub fn from_xml(bytes: &[u8]) -> Result<EventMessage, EventMessageError> {
        let p = from_xml(bytes)?;
        Self::from_parsed(p.resource, p.outcome)
    }
    /// Reads FHIR JSON.
    pub fn from_json(bytes: &[u8]) -> Result<EventMessage, EventMessageError> {
        let p = from_json(bytes)?;
        Self::from_parsed(p.resource, p.outcome)
    }
    /// Reads FHIR XML or JSON, detected by [`Format::detect`].
    pub fn from_bytes(bytes: &[u8]) -> Result<EventMessage, EventMessageError> {
        let p = ems_stu3::from_bytes(bytes)?;
        Self::from_parsed(p.resource, p.outcome)
    }
    /// Wraps a resource already read.
    pub fn from_resource(r: Resource) -> Result<EventMessage, EventMessageError> {
        Self::from_parsed(r, Outcome::new())
    }
    fn from_parsed(r: Resource, outcome: Outcome) -> Result<EventMessage, EventMessageError> {
        let Resource::Bundle(b) = r else {
            return Err(EventMessageError::NotAMessage(format!(
                "a {} is not a Bundle",
                r.resource_type()
            )));
        };
        let m = EventMessage {
            bundle: *b,
            outcome,
        };
        if m.header().is_none() {
            return Err(EventMessageError::NotAMessage(
                "the Bundle has no MessageHeader".into(),
            ));
        }
        Ok(m)
    }

    /// The Bundle.
    pub fn bundle(&self) -> &Bundle {
        &self.bundle
    }
    /// Issues found while reading (not validation; see ems-profiles).
    pub fn read_issues(&self) -> &Outcome {
        &self.outcome
    }
    /// The MessageHeader (normally the first entry).
    pub fn header(&self) -> Option<&MessageHeader> {
        self.bundle
            .entry
            .iter()
            .find_map(|e| e.resource.as_ref().and_then(|r| r.get::<MessageHeader>()))
    }
    /// `MessageHeader.id`: the message id used for duplicate detection.
    pub fn message_id(&self) -> Option<&str> {
        self.header().and_then(|h| h.id.str_value())
    }
    /// Event type.
    pub fn event_type(&self) -> EventKind {
        EventKind::from_code(
            self.header()
                .and_then(|h| h.event.as_ref())
                .and_then(|e| e.code.str_value())
                .unwrap_or(""),
        )
    }
    /// new / update / delete.
    pub fn message_event_type(&self) -> Option<MessageEventType> {
        let x = self
            .header()?
            .extension
            .iter()
            .find(|e| e.url.as_deref() == Some(vocab::MESSAGE_EVENT_TYPE_EXTENSION))?;
        match &x.value {
            Some(ExtensionValue::CodeableConcept(cc)) => cc
                .coding
                .first()
                .and_then(|c| c.code.str_value())
                .and_then(MessageEventType::parse),
            _ => None,
        }
    }
    fn routing(&self, part: &str) -> Option<&ExtensionValue> {
        let rd = self
            .header()?
            .extension
            .iter()
            .find(|e| e.url.as_deref() == Some(vocab::ROUTING_DEMOGRAPHICS_EXTENSION))?;
        rd.extension
            .iter()
            .find(|e| e.url.as_deref() == Some(part))?
            .value
            .as_ref()
    }
    /// Routing NHS number (validated; `None` when absent or invalid).
    pub fn nhs_number(&self) -> Option<NhsNumber> {
        match self.routing("nhsNumber")? {
            ExtensionValue::Identifier(i) => {
                i.value.str_value().and_then(|v| NhsNumber::parse(v).ok())
            }
            _ => None,
        }
    }
    /// Routing (official) name.
    pub fn routing_name(&self) -> Option<&HumanName> {
        match self.routing("name")? {
            ExtensionValue::HumanName(n) => Some(n),
            _ => None,
        }
    }
    /// Routing birth date (`birthDateTime` lexical form).
    pub fn routing_birth_date(&self) -> Option<&str> {
        match self.routing("birthDateTime")? {
            ExtensionValue::DateTime(d) => d.value.as_deref(),
            _ => None,
        }
    }
    /// `meta.lastUpdated` of the MessageHeader, parsed.
    pub fn last_updated(&self) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        let v = self
            .header()?
            .meta
            .as_ref()
            .and_then(|m| m.last_updated.str_value())?;
        chrono::DateTime::parse_from_rfc3339(v).ok()
    }
    /// `meta.versionId` of the MessageHeader (the sequence number).
    pub fn version_id(&self) -> Option<u64> {
        self.header()?
            .meta
            .as_ref()
            .and_then(|m| m.version_id.str_value())?
            .parse()
            .ok()
    }
    /// `MessageHeader.source.endpoint` (e.g. `urn:nhs:addressing:asid:477121000323`).
    pub fn source_endpoint(&self) -> Option<&str> {
        self.header()?
            .source
            .as_ref()
            .and_then(|x| x.endpoint.str_value())
    }
    /// The publisher's ASID, from `source.endpoint`.
    pub fn source_asid(&self) -> Option<&str> {
        self.source_endpoint()?
            .strip_prefix("urn:nhs:addressing:asid:")
    }
    /// ODS code of the responsible organisation (in the bundle or in the ODS directory URL).
    pub fn responsible_ods(&self) -> Option<&str> {
        let r = self
            .header()?
            .responsible
            .as_ref()
            .and_then(|r| r.reference.str_value())?;
        self.organization_ods(r)
    }
    /// The ODS code of the organisation `reference` points to: an ODS
    /// directory URL, or an Organization of the bundle (its ODS identifier).
    pub fn organization_ods<'a>(&'a self, reference: &'a str) -> Option<&'a str> {
        if let Some(ods) = reference.strip_prefix(vocab::ODS_DIRECTORY) {
            return Some(ods);
        }
        let org = self.resolve(reference)?.get::<Organization>()?;
        org.identifier
            .iter()
            .find(|i| i.system.str_value() == Some(vocab::ODS_ORGANIZATION_SYSTEM))
            .and_then(|i| i.value.str_value())
    }
    /// The entry whose fullUrl is `reference`.
    pub fn resolve(&self, reference: &str) -> Option<&Resource> {
        self.bundle
            .entry
            .iter()
            .find(|e| e.full_url.str_value() == Some(reference))
            .and_then(|e| e.resource.as_ref())
    }
    /// The focus resource.
    pub fn focus(&self) -> Option<&Resource> {
        let r = self
            .header()?
            .focus
            .first()
            .and_then(|f| f.reference.str_value())?;
        self.resolve(r)
    }
    /// The first business identifier of the focus resource (links new/update/delete).
    pub fn focus_identifier(&self) -> Option<(&str, &str)> {
        let ids: &[Identifier] = match self.focus()? {
            Resource::Encounter(e) => &e.identifier,
            Resource::EpisodeOfCare(e) => &e.identifier,
            Resource::Immunization(i) => &i.identifier,
            Resource::Communication(c) => &c.identifier,
            _ => return None,
        };
        ids.first().map(|i| {
            (
                i.system.str_value().unwrap_or(""),
                i.value.str_value().unwrap_or(""),
            )
        })
    }
    /// The subject Patient: the focus's subject/patient, the focus itself for
    /// PDS Record Change, or the only Patient in the bundle.
    pub fn patient(&self) -> Option<&Patient> {
        let subject = match self.focus() {
            Some(Resource::Patient(p)) => return Some(p),
            Some(Resource::Communication(c)) => c.subject.as_ref(),
            Some(Resource::Encounter(e)) => e.subject.as_ref(),
            Some(Resource::EpisodeOfCare(e)) => e.patient.as_ref(),
            Some(Resource::Immunization(i)) => i.patient.as_ref(),
            _ => None,
        };
        if let Some(p) = subject
            .and_then(|r| r.reference.str_value())
            .and_then(|r| self.resolve(r))
            .and_then(|r| r.get::<Patient>())
        {
            return Some(p);
        }
        let mut pats = self
            .bundle
            .entry
            .iter()
            .filter_map(|e| e.resource.as_ref().and_then(|r| r.get::<Patient>()));
        match (pats.next(), pats.next()) {
            (Some(p), None) => Some(p),
            _ => None,
        }
    }
}
