//! The seam: everything the server needs from its durable log, as one trait.
//!
//! [`Pipeline`] is the boundary between the HTTP front (validation, matching,
//! responses) and durability. Every write is a *commit*: its future resolves
//! only once the change is durable, so the front answers `202`/`201` after
//! the commit and never before. [`crate::sqlite::SqlitePipeline`] implements
//! it today (one writer thread, group commit); a NATS JetStream
//! implementation (streams for messages/audit, a KV bucket for subscriptions,
//! a work-queue stream as the outbox) and a web console on the admin API are
//! meant to sit on the same trait. See docs/architecture.md, "ems-server".

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;

/// A durable write in progress; resolves after the commit.
pub type Commit<T> = Pin<Box<dyn Future<Output = Result<T, PipelineError>> + Send + 'static>>;

/// Why the log could not do what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PipelineError {
    /// A subscription with the same duplicate key exists (its id).
    #[error("an identical subscription exists: {0}")]
    Duplicate(String),
    /// The store failed (I/O, corruption, writer gone).
    #[error("store: {0}")]
    Store(String),
}

/// A published message as accepted.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `MessageHeader.id`.
    pub message_id: String,
    /// `MessageHeader.event.code`.
    pub event_code: String,
    /// When the server accepted it.
    pub received_at: DateTime<Utc>,
    /// The bytes exactly as published (delivered unchanged).
    pub bytes: Vec<u8>,
}

/// One outbox row to create: one copy of a message for one mailbox.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// MESH mailbox.
    pub mailbox: String,
    /// MESH WorkflowID.
    pub workflow_id: String,
    /// `Mex-Partnerid` value.
    pub partner_id: Option<String>,
    /// Ids of the matching subscriptions.
    pub subscriptions: Vec<String>,
}

/// What kind of call an audit record describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    /// `POST $process-message` (accepted or not).
    Publish,
    /// `POST /Subscription`.
    SubscriptionCreate,
    /// `GET /Subscription/{id}`.
    SubscriptionRead,
    /// `DELETE /Subscription/{id}`.
    SubscriptionDelete,
    /// Admin activation.
    SubscriptionActivate,
    /// A request no API answers: an unknown path (`400 BAD_REQUEST`), a
    /// method or interaction that is not implemented (`501`).
    Rejected,
}

impl AuditKind {
    /// Stable name (`publish`, `subscription-create`, ...).
    pub fn name(self) -> &'static str {
        match self {
            AuditKind::Publish => "publish",
            AuditKind::SubscriptionCreate => "subscription-create",
            AuditKind::SubscriptionRead => "subscription-read",
            AuditKind::SubscriptionDelete => "subscription-delete",
            AuditKind::SubscriptionActivate => "subscription-activate",
            AuditKind::Rejected => "rejected",
        }
    }

    /// The kind of a stable [`AuditKind::name`] (`None` for any other text).
    pub fn from_name(name: &str) -> Option<AuditKind> {
        [
            AuditKind::Publish,
            AuditKind::SubscriptionCreate,
            AuditKind::SubscriptionRead,
            AuditKind::SubscriptionDelete,
            AuditKind::SubscriptionActivate,
            AuditKind::Rejected,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// An append-only audit record (digest 3.1, 9.3).
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: AuditKind,
    /// Calling ASID (`fromASID`), when sent.
    pub asid: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// Everything else as JSON: headers and JWT as received, message id,
    /// event, sequence number, subscription details, the response body.
    pub record: serde_json::Value,
    /// The request payload, when it is not stored as the accepted message.
    pub payload: Option<Vec<u8>>,
}

/// A stored audit record.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// Position in the log (ascending).
    pub seq: i64,
    /// The entry.
    pub entry: AuditEntry,
    /// The accepted message the record refers to (its payload), if any.
    pub message_seq: Option<i64>,
}

/// A stored subscription: the matcher's fields plus the resource.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSubscription {
    /// Logical id.
    pub id: String,
    /// ASID that created it.
    pub owner_asid: String,
    /// ODS code of the first contact.
    pub contact_ods: String,
    /// MESH mailbox (`channel.endpoint`).
    pub mailbox: String,
    /// `requested`, `active`, ...
    pub status: String,
    /// Creation time (`meta.lastUpdated`).
    pub created: DateTime<Utc>,
    /// `Subscription.end`.
    pub end: Option<DateTime<Utc>>,
    /// Criteria string as sent.
    pub criteria: String,
    /// Identity for duplicate detection: canonical criteria, mailbox, contact.
    pub dup_key: String,
    /// The Subscription as FHIR JSON (with id, meta.lastUpdated, status).
    pub resource_json: String,
}

/// Outbox row state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting (or waiting for a retry).
    Pending,
    /// Claimed by the worker: MESH may or may not have it.
    Sending,
    /// MESH accepted it.
    Sent,
}

impl DeliveryState {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
        }
    }
    /// Parses [`DeliveryState::name`].
    pub fn parse(s: &str) -> Option<DeliveryState> {
        Some(match s {
            "pending" => DeliveryState::Pending,
            "sending" => DeliveryState::Sending,
            "sent" => DeliveryState::Sent,
            _ => return None,
        })
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Row id.
    pub id: i64,
    /// The message's position in the log.
    pub message_seq: i64,
    /// `MessageHeader.id`.
    pub message_id: String,
    /// Recipient mailbox.
    pub mailbox: String,
    /// WorkflowID.
    pub workflow_id: String,
    /// `Mex-Partnerid`.
    pub partner_id: Option<String>,
    /// Matching subscription ids, comma-separated.
    pub subscriptions: String,
    /// MESH `mex-LocalID`: `<message id>:<mailbox>:<message seq>` (unique per row).
    pub local_id: String,
    /// State.
    pub state: DeliveryState,
    /// Send attempts so far.
    pub attempts: u32,
    /// Next attempt, Unix milliseconds.
    pub next_attempt_ms: i64,
    /// MESH message id once sent.
    pub mesh_message_id: Option<String>,
    /// Last failure.
    pub last_error: Option<String>,
}

/// The durable log behind the server. All writes are commits (durable when
/// they resolve); reads see every resolved commit.
pub trait Pipeline: Send + Sync + 'static {
    /// Stores an accepted message, its audit record and its outbox rows in
    /// one atomic commit; returns the message's position.
    fn accept(
        &self,
        message: NewMessage,
        deliveries: Vec<NewDelivery>,
        audit: AuditEntry,
    ) -> Commit<i64>;
    /// Appends an audit record on its own (rejections, reads).
    fn audit(&self, entry: AuditEntry) -> Commit<()>;
    /// Stores a new subscription with its audit record;
    /// [`PipelineError::Duplicate`] when its `dup_key` exists.
    fn create_subscription(&self, s: StoredSubscription, audit: AuditEntry) -> Commit<()>;
    /// Deletes a subscription with its audit record; `false` when absent.
    fn delete_subscription(&self, id: String, audit: AuditEntry) -> Commit<bool>;
    /// Sets status and stored resource of a subscription; `false` when absent.
    fn update_subscription(&self, s: StoredSubscription, audit: AuditEntry) -> Commit<bool>;
    /// One subscription.
    fn subscription(&self, id: &str) -> Result<Option<StoredSubscription>, PipelineError>;
    /// Visits every stored subscription (start-up load) with the matcher's
    /// fields; `resource_json` may be left empty (read it with
    /// [`Pipeline::subscription`]).
    fn for_each_subscription(
        &self,
        f: &mut dyn FnMut(StoredSubscription),
    ) -> Result<(), PipelineError>;
    /// A number that changes with every committed subscription change: a
    /// start-up snapshot of the index is valid for exactly one value.
    fn subscriptions_version(&self) -> Result<i64, PipelineError>;
    /// Claims up to `limit` pending rows due at `now_ms`: they become
    /// `sending` (durably) before the caller sends them.
    fn claim(&self, now_ms: i64, limit: usize) -> Commit<Vec<OutboxRow>>;
    /// Rows left `sending` (by a crash): resolve them before any resend.
    fn in_flight(&self) -> Result<Vec<OutboxRow>, PipelineError>;
    /// MESH accepted row `id` as `mesh_message_id`.
    fn mark_sent(&self, id: i64, mesh_message_id: String) -> Commit<()>;
    /// Row `id` goes back to `pending`, due at `next_attempt_ms`.
    fn reschedule(&self, id: i64, next_attempt_ms: i64, error: String) -> Commit<()>;
    /// The bytes of an accepted message.
    fn message_bytes(&self, message_seq: i64) -> Result<Option<Vec<u8>>, PipelineError>;
    /// Outbox rows after row `after`, ascending, at most `limit`.
    fn deliveries(&self, after: i64, limit: usize) -> Result<Vec<OutboxRow>, PipelineError>;
    /// Audit records after `after`, ascending, at most `limit`.
    fn audit_records(&self, after: i64, limit: usize) -> Result<Vec<AuditRecord>, PipelineError>;
}
