//! Event life cycle (digest section 4): active, deprecated, no longer
//! supported, withdrawn — and what publishing or subscribing gets in each.

use crate::events::{event_type, EVENT_TYPES};
use chrono::NaiveDate;
use std::collections::HashMap;

/// Life-cycle state of an event type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LifecycleState {
    /// In normal use.
    Active,
    /// Publishing and subscribing still work, with a `DEPRECATED` warning.
    Deprecated,
    /// Publishing works with a warning; new subscriptions are rejected.
    NoLongerSupported,
    /// Publishing and new subscriptions are rejected.
    Withdrawn,
}

impl LifecycleState {
    /// The Spine ErrorOrWarningCode for this state (none for `Active`).
    pub fn spine_code(self) -> Option<&'static str> {
        match self {
            LifecycleState::Active => None,
            LifecycleState::Deprecated => Some("DEPRECATED"),
            LifecycleState::NoLongerSupported => Some("NO_LONGER_SUPPORTED"),
            LifecycleState::Withdrawn => Some("WITHDRAWN"),
        }
    }
    fn display(self) -> &'static str {
        match self {
            LifecycleState::Active => "active",
            LifecycleState::Deprecated => "Event message type has been deprecated",
            LifecycleState::NoLongerSupported => "Event message type is no longer supported",
            LifecycleState::Withdrawn => "Event message type has been withdrawn",
        }
    }
}

/// Severity of a [`LifecycleNotice`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeSeverity {
    /// The request is accepted; the caller's operations team must be alerted.
    Warning,
    /// The request is rejected.
    Error,
}

/// One warning or rejection, ready to become an `OperationOutcome.issue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleNotice {
    /// Event code.
    pub event: String,
    /// Warning or rejection.
    pub severity: NoticeSeverity,
    /// Spine ErrorOrWarningCode (`DEPRECATED`, `NO_LONGER_SUPPORTED`,
    /// `WITHDRAWN`, or `INVALID_CODE_VALUE` for codes that are not NEMS events).
    pub spine_code: &'static str,
    /// `issue.diagnostics`: what happened, the date of the next state and where
    /// to read more.
    pub diagnostics: String,
}

/// Outcome of a life-cycle check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleDecision {
    /// `false` when any notice is an error.
    pub accepted: bool,
    /// Warnings and rejections, one per affected event type.
    pub notices: Vec<LifecycleNotice>,
}

#[derive(Clone, Debug)]
struct Transition {
    from: NaiveDate,
    state: LifecycleState,
    url: Option<String>,
}

/// Per event type: dated state transitions.
///
/// ```
/// use chrono::NaiveDate;
/// use ems_match::{LifecycleRegistry, LifecycleState};
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// let mut reg = LifecycleRegistry::new();
/// reg.schedule("newborn-hearing-1", d("2019-01-01"), LifecycleState::Deprecated, Some("https://example.org/nh"));
/// reg.schedule("newborn-hearing-1", d("2019-06-22"), LifecycleState::NoLongerSupported, None);
/// let sub = reg.check_subscribe(&["newborn-hearing-1"], d("2019-03-01"));
/// assert!(sub.accepted);
/// assert_eq!(sub.notices[0].spine_code, "DEPRECATED");
/// assert!(sub.notices[0].diagnostics.contains("22/06/2019"));
/// assert!(!reg.check_subscribe(&["newborn-hearing-1"], d("2019-07-01")).accepted);
/// assert!(reg.check_publish("newborn-hearing-1", d("2019-07-01")).accepted);
/// ```
#[derive(Clone, Debug, Default)]
pub struct LifecycleRegistry {
    events: HashMap<String, Vec<Transition>>,
}

impl LifecycleRegistry {
    /// All ten supported events active, no transitions scheduled.
    pub fn new() -> Self {
        let mut r = LifecycleRegistry::default();
        for e in &EVENT_TYPES {
            r.events.insert(e.code.to_string(), Vec::new());
        }
        r
    }

    /// Registers an event type that is not in the built-in list (e.g. a successor
    /// `xxx-2` code announced by NHS England), active from now.
    pub fn register(&mut self, code: &str) {
        self.events.entry(code.to_string()).or_default();
    }

    /// Schedules `state` for `code` from `from` (inclusive); `url` points at details.
    pub fn schedule(
        &mut self,
        code: &str,
        from: NaiveDate,
        state: LifecycleState,
        url: Option<&str>,
    ) {
        let v = self.events.entry(code.to_string()).or_default();
        v.push(Transition {
            from,
            state,
            url: url.map(str::to_string),
        });
        v.sort_by_key(|t| t.from);
    }

    /// The state of `code` on `on`; `None` for codes that are not NEMS events.
    pub fn state(&self, code: &str, on: NaiveDate) -> Option<LifecycleState> {
        let v = self.events.get(code)?;
        Some(
            v.iter()
                .rev()
                .find(|t| t.from <= on)
                .map(|t| t.state)
                .unwrap_or(LifecycleState::Active),
        )
    }

    fn notice(&self, code: &str, on: NaiveDate, error: bool) -> Option<LifecycleNotice> {
        let v = self.events.get(code)?;
        let cur = v.iter().rev().find(|t| t.from <= on)?;
        let next = v.iter().find(|t| t.from > on);
        let url = v
            .iter()
            .rev()
            .filter(|t| t.from <= on)
            .find_map(|t| t.url.clone());
        let name = event_type(code).map(|e| e.display).unwrap_or(code);
        let mut d = format!("{} ({code}): {}", name, cur.state.display());
        if let Some(n) = next {
            d.push_str(&format!(
                "; it becomes {} on {}",
                n.state.display().to_lowercase(),
                n.from.format("%d/%m/%Y")
            ));
        }
        if let Some(u) = url {
            d.push_str(&format!("; for more information go to {u}"));
        }
        Some(LifecycleNotice {
            event: code.to_string(),
            severity: if error {
                NoticeSeverity::Error
            } else {
                NoticeSeverity::Warning
            },
            spine_code: cur.state.spine_code()?,
            diagnostics: d,
        })
    }

    fn unknown(code: &str) -> LifecycleNotice {
        LifecycleNotice {
            event: code.to_string(),
            severity: NoticeSeverity::Error,
            spine_code: "INVALID_CODE_VALUE",
            diagnostics: format!("`{code}` is not a NEMS event type"),
        }
    }

    /// What creating a subscription to `events` gets on `on`: deprecated →
    /// warning; no longer supported or withdrawn → rejected.
    pub fn check_subscribe(&self, events: &[&str], on: NaiveDate) -> LifecycleDecision {
        let mut notices = Vec::new();
        for code in events {
            match self.state(code, on) {
                None => notices.push(Self::unknown(code)),
                Some(LifecycleState::Active) => {}
                Some(s) => {
                    notices.extend(self.notice(code, on, s >= LifecycleState::NoLongerSupported))
                }
            }
        }
        LifecycleDecision {
            accepted: notices
                .iter()
                .all(|n| n.severity == NoticeSeverity::Warning),
            notices,
        }
    }

    /// What publishing an event of `code` gets on `on`: deprecated or no longer
    /// supported → accepted with a warning; withdrawn → rejected.
    pub fn check_publish(&self, code: &str, on: NaiveDate) -> LifecycleDecision {
        let mut notices = Vec::new();
        match self.state(code, on) {
            None => notices.push(Self::unknown(code)),
            Some(LifecycleState::Active) => {}
            Some(s) => notices.extend(self.notice(code, on, s == LifecycleState::Withdrawn)),
        }
        LifecycleDecision {
            accepted: notices
                .iter()
                .all(|n| n.severity == NoticeSeverity::Warning),
            notices,
        }
    }
}
