//! The subscription model the matcher works on (plain Rust, no FHIR).

use crate::criteria::Criteria;
use chrono::{DateTime, Utc};

/// `Subscription.status`. Only `Active` subscriptions match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    /// `requested`: created, awaiting activation by NEMS.
    Requested,
    /// `active`.
    Active,
    /// `error`.
    Error,
    /// `off`.
    Off,
}

impl SubscriptionStatus {
    /// Parses the FHIR code.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "requested" => SubscriptionStatus::Requested,
            "active" => SubscriptionStatus::Active,
            "error" => SubscriptionStatus::Error,
            "off" => SubscriptionStatus::Off,
            _ => return None,
        })
    }
    /// The FHIR code.
    pub fn code(self) -> &'static str {
        match self {
            SubscriptionStatus::Requested => "requested",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Error => "error",
            SubscriptionStatus::Off => "off",
        }
    }
    pub(crate) fn to_u8(self) -> u8 {
        self as u8
    }
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            0 => SubscriptionStatus::Requested,
            1 => SubscriptionStatus::Active,
            2 => SubscriptionStatus::Error,
            _ => SubscriptionStatus::Off,
        }
    }
}

/// A subscription as the routing engine sees it.
///
/// ```
/// use ems_match::{Subscription, SubscriptionStatus};
/// let s = Subscription::new(
///     "sub-1",
///     "X26ABC1",
///     "/Bundle?type=message&subscriptionRuleType=GP_GP_GP&Organization.identifier=B86001&MessageHeader.event=pds-change-of-gp-1"
///         .parse().unwrap(),
///     "2024-01-01T00:00:00Z".parse().unwrap(),
/// );
/// assert_eq!(s.status, SubscriptionStatus::Active);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Subscription {
    /// Logical id assigned by NEMS.
    pub id: String,
    /// Status; only `Active` matches.
    pub status: SubscriptionStatus,
    /// `Subscription.end`: no match for events after it.
    pub end: Option<DateTime<Utc>>,
    /// Creation time (`meta.lastUpdated` of the stored subscription): events
    /// published before it do not match.
    pub created: DateTime<Utc>,
    /// MESH mailbox (`channel.endpoint`).
    pub mailbox: String,
    /// ODS code of the subscribing organisation (first `contact`).
    pub contact_ods: Option<String>,
    /// Parsed criteria (carries the `tag`).
    pub criteria: Criteria,
}

impl Subscription {
    /// An active subscription without end or contact.
    pub fn new(
        id: impl Into<String>,
        mailbox: impl Into<String>,
        criteria: Criteria,
        created: DateTime<Utc>,
    ) -> Self {
        Subscription {
            id: id.into(),
            status: SubscriptionStatus::Active,
            end: None,
            created,
            mailbox: mailbox.into(),
            contact_ods: None,
            criteria,
        }
    }
    /// The criteria `tag`, if any.
    pub fn tag(&self) -> Option<&str> {
        self.criteria.tag.as_deref()
    }
}
