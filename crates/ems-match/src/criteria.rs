//! EMS subscription criteria (digest section 6): parsing, checking and a
//! canonical string form.
//!
//! The input is the criteria as it appears after XML unescaping
//! (`&amp;` already turned into `&`).

use crate::events::{classify_unknown_event, event_type, UnknownEvent};
use crate::nhs::NhsNumber;
use std::fmt;
use std::str::FromStr;

/// `serviceType` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceType {
    /// `GP`: GP practice services.
    Gp,
    /// `CHO`: child health organisation.
    Cho,
    /// `UHV`: health visiting.
    Uhv,
    /// `EPCHR`: electronic personal child health record.
    Epchr,
}

impl ServiceType {
    /// The criteria code.
    pub fn code(self) -> &'static str {
        match self {
            ServiceType::Gp => "GP",
            ServiceType::Cho => "CHO",
            ServiceType::Uhv => "UHV",
            ServiceType::Epchr => "EPCHR",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "GP" => ServiceType::Gp,
            "CHO" => ServiceType::Cho,
            "UHV" => ServiceType::Uhv,
            "EPCHR" => ServiceType::Epchr,
            _ => return None,
        })
    }
}

/// `subscriptionRuleType` values (digest 6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleType {
    /// `GP_GP_GP`: registered GP practice = X.
    GpGpGp,
    /// `UHV_POSTCODE_LACODE`: home postcode in local authority X.
    UhvPostcodeLacode,
    /// `CHO_GP_CCG`: registered practice belongs to sub-ICB location X.
    ChoGpCcg,
    /// `CHO_POSTCODE_CCG`: home postcode in sub-ICB location X.
    ChoPostcodeCcg,
    /// `COUNTRYCODE`: home postcode in country X.
    CountryCode,
}

impl RuleType {
    /// All rule types.
    pub const ALL: [RuleType; 5] = [
        RuleType::GpGpGp,
        RuleType::UhvPostcodeLacode,
        RuleType::ChoGpCcg,
        RuleType::ChoPostcodeCcg,
        RuleType::CountryCode,
    ];
    /// The criteria code.
    pub fn code(self) -> &'static str {
        match self {
            RuleType::GpGpGp => "GP_GP_GP",
            RuleType::UhvPostcodeLacode => "UHV_POSTCODE_LACODE",
            RuleType::ChoGpCcg => "CHO_GP_CCG",
            RuleType::ChoPostcodeCcg => "CHO_POSTCODE_CCG",
            RuleType::CountryCode => "COUNTRYCODE",
        }
    }
    /// Parses a criteria code.
    pub fn parse(s: &str) -> Option<Self> {
        RuleType::ALL.into_iter().find(|r| r.code() == s)
    }
    /// `true` for the rules evaluated against the home address, which match
    /// the old and the new address of a PDS change of address (7.1).
    pub fn is_residential(self) -> bool {
        matches!(
            self,
            RuleType::UhvPostcodeLacode | RuleType::ChoPostcodeCcg | RuleType::CountryCode
        )
    }
}

/// Country codes allowed with `COUNTRYCODE`.
pub const COUNTRY_CODES: [(&str, &str); 6] = [
    ("E92000001", "England"),
    ("W92000004", "Wales"),
    ("S92000003", "Scotland"),
    ("N92000002", "Northern Ireland"),
    ("L93000001", "Channel Islands"),
    ("M83000003", "Isle of Man"),
];

/// `GPRegistration` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GpRegistration {
    /// `RegisteredOnly`: the patient has a registered GP.
    RegisteredOnly,
    /// `UnregisteredOnly`: the patient has none.
    UnregisteredOnly,
}

impl GpRegistration {
    /// The criteria code.
    pub fn code(self) -> &'static str {
        match self {
            GpRegistration::RegisteredOnly => "RegisteredOnly",
            GpRegistration::UnregisteredOnly => "UnregisteredOnly",
        }
    }
}

/// A `Patient.age` component: `lt` or `gt` a number of whole years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgeFilter {
    /// `Patient.age=ltN`: age in whole years < N.
    LessThan(u32),
    /// `Patient.age=gtN`: age in whole years > N.
    GreaterThan(u32),
}

impl AgeFilter {
    /// `true` when a patient of `age` whole years passes.
    pub fn accepts(self, age: u32) -> bool {
        match self {
            AgeFilter::LessThan(n) => age < n,
            AgeFilter::GreaterThan(n) => age > n,
        }
    }
}

/// The NHS number system used in `Patient.identifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NhsNumberSystem {
    /// `http://fhir.nhs.net/Id/nhs-number` (the spec's criteria examples).
    Legacy,
    /// `https://fhir.nhs.uk/Id/nhs-number` (the message system).
    Current,
}

impl NhsNumberSystem {
    /// The system URL.
    pub fn url(self) -> &'static str {
        match self {
            NhsNumberSystem::Legacy => "http://fhir.nhs.net/Id/nhs-number",
            NhsNumberSystem::Current => "https://fhir.nhs.uk/Id/nhs-number",
        }
    }
}

/// Explicit (one patient) or generic (rule-based) subscription.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CriteriaKind {
    /// `Patient.identifier=system|nhs-number`.
    Explicit {
        /// The system as written.
        system: NhsNumberSystem,
        /// The patient.
        nhs_number: NhsNumber,
    },
    /// `subscriptionRuleType=...&Organization.identifier=...`.
    Generic {
        /// The rule.
        rule: RuleType,
        /// The organisation / area code the rule compares with.
        organization: String,
    },
}

/// Parsed subscription criteria.
///
/// ```
/// use ems_match::{Criteria, CriteriaKind};
/// let c: Criteria = "/Bundle?type=message&serviceType=GP&Patient.identifier=http://fhir.nhs.net/Id/nhs-number|9434765919&MessageHeader.event=pds-change-of-address-1"
///     .parse().unwrap();
/// assert!(matches!(c.kind, CriteriaKind::Explicit { .. }));
/// assert_eq!(c.events, vec!["pds-change-of-address-1".to_string()]);
/// // Display gives the canonical form, which parses to the same value
/// assert_eq!(c.to_string().parse::<Criteria>().unwrap(), c);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Criteria {
    /// Explicit or generic.
    pub kind: CriteriaKind,
    /// `serviceType` (descriptive; no documented filtering effect).
    pub service_type: Option<ServiceType>,
    /// `MessageHeader.event` codes (1..* explicit, 1..1 generic), in the order given.
    pub events: Vec<String>,
    /// `Patient.age` filters (0..2; `GreaterThan` first when both are given).
    pub age: Vec<AgeFilter>,
    /// `GPRegistration`.
    pub gp_registration: Option<GpRegistration>,
    /// `tag`.
    pub tag: Option<String>,
}

/// A criteria string that is not valid, with the component and byte offset.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("criteria component `{component}` at byte {offset}: {message}")]
pub struct CriteriaError {
    /// The component name (`MessageHeader.event`, `tag`, ...), or `criteria`
    /// for problems with the string as a whole.
    pub component: String,
    /// Byte offset of the component in the criteria string.
    pub offset: usize,
    /// Stable rule id (`SUB-CRITERIA-KIND`, `SUB-CRITERIA-VALUE`, ...).
    pub rule: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Rule ids used by criteria errors.
pub mod rules {
    /// Explicit vs generic components mixed, or neither (digest 6.1).
    pub const KIND: &str = "SUB-CRITERIA-KIND";
    /// Leading `/Bundle?` or `type=message` missing.
    pub const PATH: &str = "SUB-CRITERIA-PATH";
    /// Unknown component name.
    pub const UNKNOWN: &str = "SUB-CRITERIA-UNKNOWN";
    /// Component repeated beyond its cardinality, or required one missing.
    pub const CARDINALITY: &str = "SUB-CRITERIA-CARDINALITY";
    /// Component value not allowed.
    pub const VALUE: &str = "SUB-CRITERIA-VALUE";
    /// Event code not a supported NEMS event.
    pub const EVENT: &str = "SUB-CRITERIA-EVENT";
    /// NHS number malformed or failing the check digit.
    pub const NHS_NUMBER: &str = "NHS-NUMBER-CHECKDIGIT";
}

fn err(
    component: &str,
    offset: usize,
    rule: &'static str,
    message: impl Into<String>,
) -> CriteriaError {
    CriteriaError {
        component: component.to_string(),
        offset,
        rule,
        message: message.into(),
    }
}

const MAX_TAG: usize = 100;

impl Criteria {
    /// Parses and checks a criteria string.
    pub fn parse(s: &str) -> Result<Criteria, CriteriaError> {
        let Some(query) = s.strip_prefix("/Bundle?") else {
            return Err(err(
                "criteria",
                0,
                rules::PATH,
                "criteria must start with `/Bundle?`",
            ));
        };
        let base = "/Bundle?".len();
        let mut type_message = false;
        let mut service_type = None;
        let mut identifier: Option<(NhsNumberSystem, NhsNumber)> = None;
        let mut events: Vec<String> = Vec::new();
        let mut event_offsets: Vec<usize> = Vec::new();
        let mut age: Vec<AgeFilter> = Vec::new();
        let mut gp_registration = None;
        let mut rule: Option<RuleType> = None;
        let mut organization: Option<String> = None;
        let mut tag: Option<String> = None;
        let mut first_generic: Option<(&str, usize)> = None;
        let mut explicit_at: Option<usize> = None;

        let mut offset = base;
        for comp in query.split('&') {
            let at = offset;
            offset += comp.len() + 1;
            if comp.is_empty() {
                return Err(err(
                    "criteria",
                    at,
                    rules::VALUE,
                    "empty component (`&&` or trailing `&`)",
                ));
            }
            let Some((name, value)) = comp.split_once('=') else {
                return Err(err(comp, at, rules::VALUE, "component has no `=`"));
            };
            let dup = |set: bool| -> Result<(), CriteriaError> {
                if set {
                    Err(err(
                        name,
                        at,
                        rules::CARDINALITY,
                        format!("`{name}` may appear only once"),
                    ))
                } else {
                    Ok(())
                }
            };
            if value.is_empty() {
                return Err(err(
                    name,
                    at,
                    rules::VALUE,
                    format!("`{name}` has an empty value"),
                ));
            }
            match name {
                "type" => {
                    dup(type_message)?;
                    if value != "message" {
                        return Err(err(name, at, rules::PATH, "`type` must be `message`"));
                    }
                    type_message = true;
                }
                "serviceType" => {
                    dup(service_type.is_some())?;
                    service_type = Some(ServiceType::parse(value).ok_or_else(|| {
                        err(
                            name,
                            at,
                            rules::VALUE,
                            format!("`{value}` is not a service type (GP, CHO, UHV, EPCHR)"),
                        )
                    })?);
                }
                "Patient.identifier" => {
                    dup(identifier.is_some())?;
                    let Some((system, number)) = value.split_once('|') else {
                        return Err(err(name, at, rules::VALUE, "expected `system|NHS number`"));
                    };
                    let system = match system {
                        "http://fhir.nhs.net/Id/nhs-number" => NhsNumberSystem::Legacy,
                        "https://fhir.nhs.uk/Id/nhs-number" => NhsNumberSystem::Current,
                        _ => {
                            return Err(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("`{system}` is not an NHS number system (use https://fhir.nhs.uk/Id/nhs-number)"),
                            ))
                        }
                    };
                    let n = NhsNumber::parse(number).map_err(|e| {
                        err(name, at, rules::NHS_NUMBER, format!("`{number}`: {e}"))
                    })?;
                    identifier = Some((system, n));
                    explicit_at = Some(at);
                }
                "MessageHeader.event" => {
                    if event_type(value).is_none() {
                        let why = match classify_unknown_event(value) {
                            UnknownEvent::Unsupported => {
                                "is an EventType-1 code that NEMS does not support"
                            }
                            UnknownEvent::Legacy => {
                                "is a pre-2.0.0 EMS-EventType-1 code, replaced by EventType-1"
                            }
                            UnknownEvent::Unknown => "is not a NEMS event code",
                        };
                        return Err(err(name, at, rules::EVENT, format!("`{value}` {why}")));
                    }
                    if events.iter().any(|e| e == value) {
                        return Err(err(
                            name,
                            at,
                            rules::CARDINALITY,
                            format!("event `{value}` is listed twice"),
                        ));
                    }
                    events.push(value.to_string());
                    event_offsets.push(at);
                }
                "Patient.age" => {
                    let (cmp, num) = value.split_at(value.len().min(2));
                    let years: Option<u32> =
                        if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) {
                            num.parse().ok()
                        } else {
                            None
                        };
                    let f = match (cmp, years) {
                        ("lt", Some(n)) => AgeFilter::LessThan(n),
                        ("gt", Some(n)) => AgeFilter::GreaterThan(n),
                        _ => {
                            return Err(err(
                                name,
                                at,
                                rules::VALUE,
                                format!(
                                    "`{value}`: expected `lt` or `gt` and whole years, e.g. `gt5`"
                                ),
                            ))
                        }
                    };
                    if age.len() == 2 {
                        return Err(err(
                            name,
                            at,
                            rules::CARDINALITY,
                            "`Patient.age` may appear at most twice",
                        ));
                    }
                    if let Some(prev) = age.first() {
                        let (lo, hi) = match (*prev, f) {
                            (AgeFilter::GreaterThan(g), AgeFilter::LessThan(l)) | (AgeFilter::LessThan(l), AgeFilter::GreaterThan(g)) => (g, l),
                            _ => {
                                return Err(err(name, at, rules::CARDINALITY, "two `Patient.age` components must be one `gt` and one `lt` (a range)"))
                            }
                        };
                        if hi <= lo.saturating_add(1) {
                            return Err(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("age range gt{lo} and lt{hi} contains no whole year"),
                            ));
                        }
                    }
                    age.push(f);
                }
                "GPRegistration" => {
                    dup(gp_registration.is_some())?;
                    gp_registration = Some(match value {
                        "RegisteredOnly" => GpRegistration::RegisteredOnly,
                        "UnregisteredOnly" => GpRegistration::UnregisteredOnly,
                        _ => {
                            return Err(err(
                                name,
                                at,
                                rules::VALUE,
                                format!(
                                    "`{value}`: expected `RegisteredOnly` or `UnregisteredOnly`"
                                ),
                            ))
                        }
                    });
                }
                "subscriptionRuleType" => {
                    dup(rule.is_some())?;
                    rule = Some(RuleType::parse(value).ok_or_else(|| {
                        err(name, at, rules::VALUE, format!("`{value}` is not a rule type (GP_GP_GP, UHV_POSTCODE_LACODE, CHO_GP_CCG, CHO_POSTCODE_CCG, COUNTRYCODE)"))
                    })?);
                    first_generic.get_or_insert((name, at));
                }
                "Organization.identifier" => {
                    dup(organization.is_some())?;
                    if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        return Err(err(
                            name,
                            at,
                            rules::VALUE,
                            format!("`{value}`: an organisation code is letters and digits only"),
                        ));
                    }
                    organization = Some(value.to_string());
                    first_generic.get_or_insert((name, at));
                }
                "tag" => {
                    dup(tag.is_some())?;
                    if value.len() > MAX_TAG {
                        return Err(err(
                            name,
                            at,
                            rules::VALUE,
                            format!("tag is {} characters; at most {MAX_TAG}", value.len()),
                        ));
                    }
                    if let Some(c) = value.chars().find(|c| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '|' | ','))
                    }) {
                        return Err(err(
                            name,
                            at,
                            rules::VALUE,
                            format!("tag character `{c}` not allowed (A-Z a-z 0-9 - _ | ,)"),
                        ));
                    }
                    tag = Some(value.to_string());
                }
                _ => {
                    return Err(err(
                        name,
                        at,
                        rules::UNKNOWN,
                        format!("unknown criteria component `{name}`"),
                    ))
                }
            }
        }
        if !type_message {
            return Err(err("type", base, rules::PATH, "`type=message` is required"));
        }
        let kind = match (identifier, first_generic) {
            (Some(_), Some((gname, gat))) => {
                let _ = explicit_at;
                return Err(err(
                    gname,
                    gat,
                    rules::KIND,
                    format!("`{gname}` is not allowed with `Patient.identifier`: a subscription is explicit or generic, not both"),
                ));
            }
            (None, None) => {
                return Err(err(
                    "criteria",
                    0,
                    rules::KIND,
                    "neither `Patient.identifier` (explicit) nor `subscriptionRuleType` (generic) is given",
                ))
            }
            (Some((system, nhs_number)), None) => CriteriaKind::Explicit { system, nhs_number },
            (None, Some(_)) => {
                let Some(rule) = rule else {
                    return Err(err("subscriptionRuleType", s.len(), rules::CARDINALITY, "a generic subscription needs `subscriptionRuleType`"));
                };
                let Some(organization) = organization else {
                    return Err(err(
                        "Organization.identifier",
                        s.len(),
                        rules::CARDINALITY,
                        format!("rule `{}` needs `Organization.identifier` to compare with", rule.code()),
                    ));
                };
                if rule == RuleType::CountryCode && !COUNTRY_CODES.iter().any(|(c, _)| *c == organization) {
                    let at = s.find("Organization.identifier=").unwrap_or(0);
                    return Err(err("Organization.identifier", at, rules::VALUE, format!("`{organization}` is not a country code (E92000001, W92000004, S92000003, N92000002, L93000001, M83000003)")));
                }
                if events.len() > 1 {
                    return Err(err(
                        "MessageHeader.event",
                        event_offsets[1],
                        rules::CARDINALITY,
                        "a generic subscription has exactly one `MessageHeader.event`",
                    ));
                }
                CriteriaKind::Generic { rule, organization }
            }
        };
        if events.is_empty() {
            return Err(err(
                "MessageHeader.event",
                s.len(),
                rules::CARDINALITY,
                "at least one `MessageHeader.event` is required",
            ));
        }
        // a range is the same whichever component came first: gt before lt
        age.sort_by_key(|a| matches!(a, AgeFilter::LessThan(_)));
        Ok(Criteria {
            kind,
            service_type,
            events,
            age,
            gp_registration,
            tag,
        })
    }

    /// `true` for explicit (one patient) subscriptions.
    pub fn is_explicit(&self) -> bool {
        matches!(self.kind, CriteriaKind::Explicit { .. })
    }
}

impl FromStr for Criteria {
    type Err = CriteriaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Criteria::parse(s)
    }
}

impl fmt::Display for Criteria {
    /// Canonical order: type, serviceType, Patient.identifier, MessageHeader.event...,
    /// Patient.age (gt before lt), GPRegistration, subscriptionRuleType,
    /// Organization.identifier, tag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("/Bundle?type=message")?;
        if let Some(s) = self.service_type {
            write!(f, "&serviceType={}", s.code())?;
        }
        if let CriteriaKind::Explicit { system, nhs_number } = &self.kind {
            write!(f, "&Patient.identifier={}|{}", system.url(), nhs_number)?;
        }
        for e in &self.events {
            write!(f, "&MessageHeader.event={e}")?;
        }
        let mut ages = self.age.clone();
        ages.sort_by_key(|a| matches!(a, AgeFilter::LessThan(_)));
        for a in ages {
            match a {
                AgeFilter::GreaterThan(n) => write!(f, "&Patient.age=gt{n}")?,
                AgeFilter::LessThan(n) => write!(f, "&Patient.age=lt{n}")?,
            }
        }
        if let Some(g) = self.gp_registration {
            write!(f, "&GPRegistration={}", g.code())?;
        }
        if let CriteriaKind::Generic { rule, organization } = &self.kind {
            write!(
                f,
                "&subscriptionRuleType={}&Organization.identifier={organization}",
                rule.code()
            )?;
        }
        if let Some(t) = &self.tag {
            write!(f, "&tag={t}")?;
        }
        Ok(())
    }
}
