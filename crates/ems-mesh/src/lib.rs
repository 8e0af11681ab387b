//! Deliver and receive NEMS event messages over MESH.
//!
//! # Overview
//!
//! * [`MeshClient`] speaks MESH API v2 for one mailbox: handshake, send,
//!   inbox, download, acknowledge, tracking, with the `NHSMESH` HMAC-SHA256
//!   authorisation, retries with backoff on 429/5xx, and typed errors
//!   ([`MeshError`]).
//! * [`send_event`] fills the WorkflowID from the event type and the
//!   `Mex-Partnerid` from a matcher delivery; [`ReceivedMessage`] exposes the
//!   parsed MESH headers of a download.
//! * [`receive_once`] / [`run_receiver`] are the receiver loop: download →
//!   validate (Receive mode) → sequence/duplicate classification → user
//!   callback → **acknowledge only after the callback succeeded** (a message
//!   whose processing failed, or whose receiver crashed, is downloaded again).
//! * [`route_published`] is the router: match a published message against the
//!   subscriptions and send one copy per mailbox.
//!
//! ```no_run
//! use ems_mesh::*;
//! let client = MeshClient::new(MeshConfig::new("http://localhost:8700", "X26ABC1", "password", b"TestKey".to_vec()))?;
//! client.handshake()?;
//! for id in client.inbox()? {
//!     let m = client.download(&id)?;
//!     println!("{id}: {:?} {:?}", m.workflow_id(), m.partner_pairs());
//!     client.acknowledge(&id)?;
//! }
//! # Ok::<(), MeshError>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod tracking;

pub use client::{
    auth_header, MeshClient, MeshConfig, MeshError, OutgoingMessage, ReceivedMessage, TlsSettings,
    MESH_V2_JSON,
};

use ems::bundle::{Classification, EventMessage, SequenceTracker, TrackerStore};
use ems::matching::{Delivery, Matcher, NhsNumber, PatientContext};
use ems::profiles::{InputKind, Validation, Validator};

/// Content type of NEMS deliveries (XML only).
pub const FHIR_XML: &str = "application/fhir+xml";

/// Sends an event message to `to`: WorkflowID from the event type,
/// `Mex-Partnerid` from `partner_id` (e.g. [`Delivery::partner_id`]),
/// `mex-localid` = the MessageHeader id; the body is the message as
/// schema-ordered XML.
pub fn send_event(
    client: &MeshClient,
    to: &str,
    message: &EventMessage,
    partner_id: Option<&str>,
) -> Result<String, MeshError> {
    let event = message.event_type();
    let workflow = ems::matching::event_type(event.code())
        .map(|e| e.workflow_id)
        .ok_or_else(|| MeshError::Config(format!("`{}` has no MESH WorkflowID", event.code())))?;
    let body = ems::stu3::to_xml_of(message.bundle()).into_bytes();
    client.send(&OutgoingMessage {
        to: to.to_string(),
        workflow_id: workflow.to_string(),
        subject: Some(event.code().to_string()),
        local_id: message.message_id().map(str::to_string),
        partner_id: partner_id.map(str::to_string),
        content_type: FHIR_XML.to_string(),
        file_name: None,
        body,
    })
}

/// Sends the published bytes unchanged (NEMS does not modify payloads) for one delivery.
pub fn send_delivery(
    client: &MeshClient,
    delivery: &Delivery,
    message: &EventMessage,
    payload: &[u8],
) -> Result<String, MeshError> {
    client.send(&OutgoingMessage {
        to: delivery.mailbox.clone(),
        workflow_id: delivery.workflow_id.to_string(),
        subject: Some(message.event_type().code().to_string()),
        local_id: message.message_id().map(str::to_string),
        partner_id: delivery.partner_id.clone(),
        content_type: FHIR_XML.to_string(),
        file_name: None,
        body: payload.to_vec(),
    })
}

/// What the receiver callback gets for one downloaded message.
#[derive(Debug)]
pub struct Incoming<'a> {
    /// The MESH message (headers and body).
    pub mesh: &'a ReceivedMessage,
    /// Validation in Receive mode.
    pub validation: &'a Validation,
    /// The event message, when the body is a readable event message.
    pub message: Option<&'a EventMessage>,
    /// New / stale / gap (duplicates are acknowledged without a callback).
    pub classification: Classification,
}

/// Counters of one receiver pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReceiverStats {
    /// Messages downloaded.
    pub downloaded: usize,
    /// Callbacks that succeeded (message acknowledged).
    pub handled: usize,
    /// Duplicates acknowledged without a callback.
    pub duplicates: usize,
    /// Callbacks that failed (message left in the inbox).
    pub failed: usize,
}

/// One receiver pass over the inbox. For each message: download, validate
/// (Receive mode), classify with `tracker` (peek), call `handler`; on success
/// record the message in the tracker and acknowledge it; on failure leave it
/// in the inbox so the next pass (or a restarted receiver) gets it again.
/// Duplicates (already processed ids) are acknowledged without a callback.
pub fn receive_once<S: TrackerStore, E: std::fmt::Display>(
    client: &MeshClient,
    validator: &Validator,
    tracker: &mut SequenceTracker<S>,
    mut handler: impl FnMut(&Incoming<'_>) -> Result<(), E>,
) -> Result<ReceiverStats, MeshError> {
    let mut stats = ReceiverStats::default();
    for id in client.inbox()? {
        let mesh = client.download(&id)?;
        stats.downloaded += 1;
        let validation = validator.validate_bytes(&mesh.body, InputKind::Event);
        let message = validation
            .resource
            .clone()
            .and_then(|r| EventMessage::from_resource(r).ok());
        let classification = message
            .as_ref()
            .map(|m| tracker.peek(m))
            .unwrap_or(Classification::Unidentified);
        if classification == Classification::Duplicate {
            client.acknowledge(&id)?;
            stats.duplicates += 1;
            continue;
        }
        let incoming = Incoming {
            mesh: &mesh,
            validation: &validation,
            message: message.as_ref(),
            classification: classification.clone(),
        };
        match handler(&incoming) {
            Ok(()) => {
                if let Some(m) = &message {
                    tracker.commit(m, &classification);
                }
                client.acknowledge(&id)?;
                stats.handled += 1;
            }
            Err(_) => stats.failed += 1,
        }
    }
    Ok(stats)
}

/// Polls every `interval` until `stop()` is true, running [`receive_once`].
pub fn run_receiver<S: TrackerStore, E: std::fmt::Display>(
    client: &MeshClient,
    validator: &Validator,
    tracker: &mut SequenceTracker<S>,
    interval: std::time::Duration,
    mut stop: impl FnMut(&ReceiverStats) -> bool,
    mut handler: impl FnMut(&Incoming<'_>) -> Result<(), E>,
) -> Result<ReceiverStats, MeshError> {
    let mut total = ReceiverStats::default();
    loop {
        let s = receive_once(client, validator, tracker, &mut handler)?;
        total.downloaded += s.downloaded;
        total.handled += s.handled;
        total.duplicates += s.duplicates;
        total.failed += s.failed;
        if stop(&total) {
            return Ok(total);
        }
        std::thread::sleep(interval);
    }
}

/// A published message the router could not route.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// Not a readable event message.
    #[error("not an event message: {0}")]
    NotAMessage(String),
    /// No timestamp to evaluate subscriptions at.
    #[error("the message has no usable timestamp")]
    NoTimestamp,
    /// Sending failed.
    #[error(transparent)]
    Mesh(#[from] MeshError),
}

/// Routes one published message: matches it against `matcher` (patient
/// context from `pds`, standing in for the PDS lookup) and sends one copy to
/// each matching mailbox with its WorkflowID and `Mex-Partnerid`. Returns
/// the deliveries and the MESH message ids, in the same order.
pub fn route_published(
    client: &MeshClient,
    matcher: &Matcher,
    pds: impl Fn(NhsNumber) -> Option<PatientContext>,
    payload: &[u8],
) -> Result<Vec<(Delivery, String)>, RouteError> {
    let message =
        EventMessage::from_xml(payload).map_err(|e| RouteError::NotAMessage(e.to_string()))?;
    let mut ev = message.to_match_event().ok_or(RouteError::NoTimestamp)?;
    if let Some(ctx) = ev.nhs_number.and_then(&pds) {
        let previous = ev.patient.previous_postcode.take();
        ev.patient = ctx;
        ev.patient.previous_postcode = previous;
    }
    let mut out = Vec::new();
    for d in matcher.match_event(&ev) {
        let id = send_delivery(client, &d, &message, payload)?;
        out.push((d, id));
    }
    Ok(out)
}
