//! EMS-Subscription-1 (digest 5.2) and the criteria grammar (section 6).

use crate::rules::id as R;
use crate::rules::Report;
use ems_match::Criteria;
use ems_stu3::{Bundle, OptStrExt, Resource, Subscription};

/// Canonical URL of the subscription profile.
pub const SUB_PROFILE: &str = ems_nhs::vocab::SUBSCRIPTION_PROFILE;
const DIRECTORY: &str = ems_nhs::vocab::ODS_DIRECTORY;

pub(crate) fn validate(r: &Resource, rep: &mut Report, cx: SubscriptionContext) {
    match r {
        Resource::Subscription(sub) => one(sub, "Subscription", rep, cx),
        // a searchset of stored subscriptions (a search or read response)
        Resource::Bundle(b) => bundle(b, rep),
        other => rep.add(
            R::RESOURCE_TYPE,
            other.resource_type(),
            format!(
                "expected a Subscription (or a searchset Bundle of them), got a {}",
                other.resource_type()
            ),
        ),
    }
}

fn bundle(b: &Bundle, rep: &mut Report) {
    let n = b.entry.iter().filter(|e| e.resource.is_some()).count();
    if let Some(t) = b.total.as_ref().and_then(|t| t.value) {
        if t as usize != n {
            rep.add(
                R::BUNDLE_TOTAL,
                "Bundle.total",
                format!("Bundle.total is {t} but the bundle holds {n} entries"),
            );
        }
    }
    for (i, e) in b.entry.iter().enumerate() {
        match &e.resource {
            Some(Resource::Subscription(sub)) => one(
                sub,
                &format!("Bundle.entry[{i}].resource.ofType(Subscription)"),
                rep,
                SubscriptionContext::Stored,
            ),
            Some(Resource::OperationOutcome(_)) => {}
            Some(other) => rep.add(
                R::RESOURCE_TYPE,
                format!("Bundle.entry[{i}].resource"),
                format!("expected a Subscription, got a {}", other.resource_type()),
            ),
            None => {}
        }
    }
}

/// Whether a Subscription is validated as a create request or as a stored
/// subscription (5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum SubscriptionContext {
    /// Inferred: a Subscription with `status = requested` or without `id` is
    /// a create request (only a create request may lack the id NEMS
    /// assigns); otherwise stored. A stored subscription that is still
    /// `requested` needs [`SubscriptionContext::Stored`].
    #[default]
    Auto,
    /// A create request (POST): no `id`, `meta.versionId`,
    /// `meta.lastUpdated`; status `requested`.
    Create,
    /// A stored subscription (read, search): any Subscription status.
    Stored,
}

impl SubscriptionContext {
    /// Whether `sub` is validated as a create request.
    pub fn is_create(self, sub: &Subscription) -> bool {
        match self {
            SubscriptionContext::Create => true,
            SubscriptionContext::Stored => false,
            SubscriptionContext::Auto => {
                sub.status.str_value() == Some("requested") || sub.id.is_none()
            }
        }
    }
}

fn one(sub: &Subscription, loc: &str, rep: &mut Report, cx: SubscriptionContext) {
    let l = |x: &str| format!("{loc}.{x}");
    let create = cx.is_create(sub);
    if create && sub.id.is_some() {
        rep.add(
            R::SUB_CREATE_META,
            l("id"),
            "a create request carries no id; NEMS assigns it",
        );
    }
    let meta = sub.meta.as_ref();
    if !meta.is_some_and(|m| {
        m.profile
            .iter()
            .any(|p| p.value.as_deref() == Some(SUB_PROFILE))
    }) {
        rep.add(
            R::SUB_PROFILE,
            l("meta.profile"),
            format!("meta.profile should carry {SUB_PROFILE}"),
        );
    }
    if create {
        if let Some(m) = meta {
            if m.version_id.is_some() {
                rep.add(
                    R::SUB_CREATE_META,
                    l("meta.versionId"),
                    "meta.versionId must not be sent on create; NEMS assigns it",
                );
            }
            if m.last_updated.is_some() {
                rep.add(
                    R::SUB_CREATE_META,
                    l("meta.lastUpdated"),
                    "meta.lastUpdated must not be sent on create; NEMS assigns it",
                );
            }
        }
    }
    match sub.status.str_value() {
        None => rep.add(R::SUB_STATUS, l("status"), "status is required"),
        Some(st) if create && st != "requested" => rep.add(
            R::SUB_STATUS,
            l("status"),
            format!("a new subscription has status `requested`, not `{st}`"),
        ),
        Some(st) if !matches!(st, "requested" | "active" | "error" | "off") => rep.add(
            R::SUB_STATUS,
            l("status"),
            format!("`{st}` is not a Subscription status"),
        ),
        _ => {}
    }
    if sub.contact.is_empty() {
        rep.add(
            R::SUB_CONTACT,
            l("contact"),
            "contact (the subscribing organisation's ODS directory URL) is required",
        );
    }
    for (j, c) in sub.contact.iter().enumerate() {
        let cl = l(&format!("contact[{j}]"));
        if c.system.str_value() != Some("url") {
            rep.add(
                R::SUB_CONTACT,
                format!("{cl}.system"),
                "contact.system must be `url`",
            );
        }
        if c.use_.str_value() != Some("work") {
            rep.add(
                R::SUB_CONTACT,
                format!("{cl}.use"),
                "contact.use must be `work`",
            );
        }
        match c.value.str_value() {
            Some(v) => match v.strip_prefix(DIRECTORY) {
                Some(ods)
                    if !ods.is_empty()
                        && ods
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) => {}
                _ => rep.add(
                    R::SUB_CONTACT,
                    format!("{cl}.value"),
                    format!("`{v}` is not {DIRECTORY}<ODS code>"),
                ),
            },
            None => rep.add(
                R::SUB_CONTACT,
                format!("{cl}.value"),
                "contact.value is required",
            ),
        }
    }
    if sub.reason.str_value().is_none() {
        rep.add(
            R::SUB_REASON,
            l("reason"),
            "reason (why the subscription exists) is required",
        );
    }
    match sub.criteria.str_value() {
        None => rep.add(R::SUB_CRITERIA_PATH, l("criteria"), "criteria is required"),
        Some(c) => {
            for e in Criteria::check(c) {
                rep.add(
                    crate::RuleId::known(e.rule).unwrap_or(R::SUB_CRITERIA_VALUE),
                    l("criteria"),
                    format!(
                        "component `{}` at character {}: {}",
                        e.component,
                        e.offset + 1,
                        e.message
                    ),
                );
            }
        }
    }
    match &sub.channel {
        None => rep.add(R::SUB_CHANNEL, l("channel"), "channel is required"),
        Some(ch) => {
            if ch.type_.str_value() != Some("message") {
                rep.add(
                    R::SUB_CHANNEL,
                    l("channel.type"),
                    format!(
                        "channel.type must be `message` (MESH), not `{}`",
                        ch.type_.str_value().unwrap_or("(missing)")
                    ),
                );
            }
            if ch.endpoint.str_value().is_none() {
                rep.add(
                    R::SUB_CHANNEL,
                    l("channel.endpoint"),
                    "channel.endpoint (the MESH mailbox id) is required",
                );
            }
        }
    }
    if sub.error.str_value().is_some() {
        rep.add(
            R::SUB_PROHIBITED,
            l("error"),
            "Subscription.error is prohibited by EMS-Subscription-1",
        );
    }
    if !sub.tag.is_empty() {
        rep.add(
            R::SUB_PROHIBITED,
            l("tag"),
            "Subscription.tag is prohibited (use the criteria `tag` component)",
        );
    }
    for (j, c) in sub.contained.iter().enumerate() {
        if c.resource_type() != "Provenance" {
            rep.add(
                R::SUB_PROHIBITED,
                l(&format!("contained[{j}]")),
                format!(
                    "only Provenance may be contained, not {}",
                    c.resource_type()
                ),
            );
        }
    }
}
