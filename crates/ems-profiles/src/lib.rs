//! NEMS conformance validator: event messages (all ten event types),
//! EMS-Subscription-1 subscriptions and NEMS OperationOutcomes.
//!
//! # Overview
//!
//! * [`Validator`] checks a resource (or raw bytes, XML or JSON) against the
//!   written NEMS requirements (`ems-requirements.md` sections 2, 5, 6, 10–12)
//!   and the NHS profiles, in one of two [`Mode`]s:
//!   [`Mode::Publish`] (assurance: every MUST is an error, every SHOULD a
//!   warning) or [`Mode::Receive`] (tolerant: errors only where a message
//!   cannot be processed safely).
//! * The result is an [`Outcome`] of [`Issue`]s, each with the stable rule id
//!   of the digest (`MH-ROUTING-MISMATCH`, `COA-ADDRESS-TEXT`, ...), a Spine
//!   ErrorOrWarningCode where one applies and a FHIRPath-like location;
//!   `Outcome::to_operation_outcome` renders it as an `OperationOutcome`.
//! * [`RULES`] lists every rule with its strength and classification; the
//!   same table is rendered in `docs/conformance.md`.
//!
//! ```
//! use ems_profiles::{InputKind, Mode, Validator};
//!
//! let xml = br#"<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>"#;
//! let v = Validator::new(Mode::Publish).validate_bytes(xml, InputKind::Event);
//! assert!(v.outcome.with_rule("BUNDLE-TYPE").next().is_some());
//! assert!(v.outcome.has_errors());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codes;
mod contact;
mod event;
mod fnv;
#[rustfmt::skip]
mod generated_profiles;
mod oo;
pub mod profiles;
mod rules;
mod subscription;
pub mod tables;
mod urls;
mod walk;

pub use codes::{code_system, CodeSystemDef, CODE_SYSTEMS};
pub use ems_stu3::{Issue, IssueType, Outcome, Severity};
pub use rules::{id, rule, Rule, RuleId, Strength, RULES};
pub use subscription::SubscriptionContext;

use ems_stu3::{ReadOptions, Resource};

/// Validation mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Assurance of what a publisher sends: every SHALL/MUST is an error,
    /// every SHOULD a warning.
    #[default]
    Publish,
    /// A tolerant receiver: errors only where the message cannot be processed
    /// safely (patient, event type, message id or focus cannot be determined,
    /// structure unreadable); everything else is a warning.
    Receive,
}

/// What kind of resource to expect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum InputKind {
    /// Decide from the resource type: Bundle → event message, Subscription,
    /// OperationOutcome.
    #[default]
    Auto,
    /// An event-message Bundle.
    Event,
    /// An EMS-Subscription-1 Subscription (or a Bundle of them).
    Subscription,
    /// A NEMS OperationOutcome.
    Outcome,
}

pub use ems_stu3::Format;

/// The result of validating bytes: the resource when it could be read, and
/// every issue (parse issues first).
#[derive(Debug, Clone)]
pub struct Validation {
    /// The resource, when the input was readable.
    pub resource: Option<Resource>,
    /// All issues.
    pub outcome: Outcome,
    /// Detected input format.
    pub format: Format,
}

impl Validation {
    /// `true` when no issue is an error or fatal.
    pub fn is_valid(&self) -> bool {
        !self.outcome.has_errors()
    }
}

/// The validator.
#[derive(Clone, Debug, Default)]
pub struct Validator {
    mode: Mode,
    read: ReadOptions,
    subscription: SubscriptionContext,
}

impl Validator {
    /// A validator in `mode` with default reader bounds (3 MiB, depth 100).
    pub fn new(mode: Mode) -> Validator {
        Validator {
            mode,
            read: ReadOptions::default(),
            subscription: SubscriptionContext::Auto,
        }
    }

    /// Validates Subscriptions as create requests, stored subscriptions, or
    /// (default) as their `status` says.
    pub fn with_subscription_context(mut self, cx: SubscriptionContext) -> Validator {
        self.subscription = cx;
        self
    }

    /// Uses `opts` when reading bytes.
    pub fn with_read_options(mut self, opts: ReadOptions) -> Validator {
        self.read = opts;
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Reads XML or JSON (detected by ems-stu3's [`Format::detect`], the
    /// one format detection) and validates it.
    pub fn validate_bytes(&self, bytes: &[u8], kind: InputKind) -> Validation {
        let format = Format::detect(bytes);
        let parsed = self.read.read_format(format, bytes);
        match parsed {
            Ok(p) => {
                let mut outcome = self.classify_parse_issues(p.outcome);
                let v = self.validate_resource(&p.resource, kind);
                // NEMS dateTime checks replace the reader's generic lexical
                // finding; the locations are looked up in a set (comparing
                // every pair was quadratic: issue 14, finding 3)
                let replaced: std::collections::HashSet<&str> = v
                    .with_rule("DATETIME-FORMAT")
                    .map(|d| d.location.as_str())
                    .collect();
                if !replaced.is_empty() {
                    outcome.issues.retain(|i| {
                        i.rule != ems_stu3::rules::PRIMITIVE_FORMAT
                            || !replaced.contains(i.location.as_str())
                    });
                }
                // at most MAX_ISSUES listed, the rest counted (issue 14)
                outcome.extend(v);
                Validation {
                    resource: Some(p.resource),
                    outcome,
                    format,
                }
            }
            Err(e) => {
                let mut outcome = self.classify_parse_issues(e.outcome);
                if let Some(last) = outcome.issues.last_mut() {
                    last.severity = Severity::Fatal;
                    if last.spine_code.is_none() {
                        last.spine_code = Some("MESSAGE_NOT_WELL_FORMED");
                    }
                }
                Validation {
                    resource: None,
                    outcome,
                    format,
                }
            }
        }
    }

    /// Parse issues are errors in Publish mode (the message must be exactly
    /// right) and warnings in Receive mode (the model was read, so the
    /// message can be processed); fatal issues stay fatal.
    /// Findings beyond the listed ones are classified too (the summary
    /// issue takes the worst severity of those it counts).
    fn classify_parse_issues(&self, mut o: Outcome) -> Outcome {
        o.reclassify(|id, severity| match rule(id) {
            _ if severity == Severity::Fatal => severity,
            Some(r) => r.severity(self.mode),
            None if self.mode == Mode::Receive && severity == Severity::Error => Severity::Warning,
            None => severity,
        });
        for i in &mut o.issues {
            if i.severity == Severity::Fatal || i.spine_code.is_some() {
                continue;
            }
            i.spine_code = rule(i.rule).and_then(|r| r.spine);
        }
        o
    }

    /// Validates a resource that is already in memory.
    pub fn validate_resource(&self, r: &Resource, kind: InputKind) -> Outcome {
        let mut rep = rules::Report::new(self.mode);
        let kind = match kind {
            InputKind::Auto => match r {
                Resource::Subscription(_) => InputKind::Subscription,
                Resource::OperationOutcome(_) => InputKind::Outcome,
                Resource::Bundle(b)
                    if b.type_.as_ref().and_then(|t| t.value.as_deref()) == Some("searchset") =>
                {
                    InputKind::Subscription
                }
                _ => InputKind::Event,
            },
            k => k,
        };
        let urls = match kind {
            InputKind::Subscription => {
                subscription::validate(r, &mut rep, self.subscription);
                None
            }
            InputKind::Outcome => {
                oo::validate(r, &mut rep);
                None
            }
            _ => event::validate(r, &mut rep),
        };
        walk::walk(r, &mut rep, urls.as_ref());
        rep.finish()
    }
}
