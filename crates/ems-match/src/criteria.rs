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
            NhsNumberSystem::Legacy => ems_nhs::vocab::NHS_NUMBER_SYSTEM_LEGACY,
            NhsNumberSystem::Current => ems_nhs::vocab::NHS_NUMBER_SYSTEM,
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
    /// Parses and checks a criteria string; the first problem is the error.
    pub fn parse(s: &str) -> Result<Criteria, CriteriaError> {
        let mut errs = Vec::new();
        match Criteria::parse_all(s, &mut errs) {
            Some(c) if errs.is_empty() => Ok(c),
            _ => Err(errs
                .into_iter()
                .next()
                .unwrap_or_else(|| err("criteria", 0, rules::VALUE, "invalid criteria"))),
        }
    }

    /// Checks a criteria string and returns every problem found (empty when
    /// valid), for validators that report all defects at once.
    ///
    /// ```
    /// let errs = ems_match::Criteria::check(
    ///     "/Bundle?type=message&Organization.identifier=X1&MessageHeader.event=nope-1&MessageHeader.event=vaccinations-1&MessageHeader.event=pds-change-of-gp-1");
    /// assert_eq!(errs.len(), 3); // unknown event, no rule type, two events on a generic subscription
    /// ```
    pub fn check(s: &str) -> Vec<CriteriaError> {
        let mut errs = Vec::new();
        Criteria::parse_all(s, &mut errs);
        errs
    }

    fn parse_all(s: &str, errs: &mut Vec<CriteriaError>) -> Option<Criteria> {
        let Some(query) = s.strip_prefix("/Bundle?") else {
            errs.push(err(
                "criteria",
                0,
                rules::PATH,
                "criteria must start with `/Bundle?`",
            ));
            return None;
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
                {
                    errs.push(err(
                        "criteria",
                        at,
                        rules::VALUE,
                        "empty component (`&&` or trailing `&`)",
                    ));
                    continue;
                }
            }
            let Some((name, value)) = comp.split_once('=') else {
                {
                    errs.push(err(comp, at, rules::VALUE, "component has no `=`"));
                    continue;
                }
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
                {
                    errs.push(err(
                        name,
                        at,
                        rules::VALUE,
                        format!("`{name}` has an empty value"),
                    ));
                    continue;
                }
            }
            match name {
                "type" => {
                    if let Err(e) = dup(type_message) {
                        errs.push(e);
                        continue;
                    }
                    if value != "message" {
                        {
                            errs.push(err(name, at, rules::PATH, "`type` must be `message`"));
                            continue;
                        }
                    }
                    type_message = true;
                }
                "serviceType" => {
                    if let Err(e) = dup(service_type.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    match ServiceType::parse(value) {
                        Some(v) => service_type = Some(v),
                        None => {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("`{value}` is not a service type (GP, CHO, UHV, EPCHR)"),
                            ));
                            continue;
                        }
                    }
                }
                "Patient.identifier" => {
                    if let Err(e) = dup(identifier.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    let Some((system, number)) = value.split_once('|') else {
                        {
                            errs.push(err(name, at, rules::VALUE, "expected `system|NHS number`"));
                            continue;
                        }
                    };
                    let system = match system {
                        ems_nhs::vocab::NHS_NUMBER_SYSTEM_LEGACY => NhsNumberSystem::Legacy,
                        ems_nhs::vocab::NHS_NUMBER_SYSTEM => NhsNumberSystem::Current,
                        _ => {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("`{system}` is not an NHS number system (use https://fhir.nhs.uk/Id/nhs-number)"),
                            ));
                            continue;
                        }
                    };
                    explicit_at = Some(at);
                    match NhsNumber::parse(number) {
                        Ok(n) => identifier = Some((system, n)),
                        Err(e) => {
                            errs.push(err(name, at, rules::NHS_NUMBER, format!("`{number}`: {e}")));
                            continue;
                        }
                    }
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
                        {
                            errs.push(err(name, at, rules::EVENT, format!("`{value}` {why}")));
                            continue;
                        }
                    }
                    if events.iter().any(|e| e == value) {
                        {
                            errs.push(err(
                                name,
                                at,
                                rules::CARDINALITY,
                                format!("event `{value}` is listed twice"),
                            ));
                            continue;
                        }
                    }
                    events.push(value.to_string());
                    event_offsets.push(at);
                }
                "Patient.age" => {
                    // `split_at_checked`, not `split_at`: byte 2 may fall inside a
                    // multi-byte character (`gé5`), which is a bad value, not a panic
                    let (cmp, num) = value.split_at_checked(2).unwrap_or((value, ""));
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
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!(
                                    "`{value}`: expected `lt` or `gt` and whole years, e.g. `gt5`"
                                ),
                            ));
                            continue;
                        }
                    };
                    if age.len() == 2 {
                        errs.push(err(
                            name,
                            at,
                            rules::CARDINALITY,
                            "`Patient.age` may appear at most twice",
                        ));
                        continue;
                    }
                    if let Some(prev) = age.first() {
                        let (lo, hi) = match (*prev, f) {
                            (AgeFilter::GreaterThan(g), AgeFilter::LessThan(l))
                            | (AgeFilter::LessThan(l), AgeFilter::GreaterThan(g)) => (g, l),
                            _ => {
                                errs.push(err(name, at, rules::CARDINALITY, "two `Patient.age` components must be one `gt` and one `lt` (a range)"));
                                continue;
                            }
                        };
                        if hi <= lo.saturating_add(1) {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("age range gt{lo} and lt{hi} contains no whole year"),
                            ));
                            continue;
                        }
                    }
                    age.push(f);
                }
                "GPRegistration" => {
                    if let Err(e) = dup(gp_registration.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    gp_registration = Some(match value {
                        "RegisteredOnly" => GpRegistration::RegisteredOnly,
                        "UnregisteredOnly" => GpRegistration::UnregisteredOnly,
                        _ => {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!(
                                    "`{value}`: expected `RegisteredOnly` or `UnregisteredOnly`"
                                ),
                            ));
                            continue;
                        }
                    });
                }
                "subscriptionRuleType" => {
                    if let Err(e) = dup(rule.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    first_generic.get_or_insert((name, at));
                    match RuleType::parse(value) {
                        Some(v) => rule = Some(v),
                        None => {
                            errs.push(err(name, at, rules::VALUE, format!("`{value}` is not a rule type (GP_GP_GP, UHV_POSTCODE_LACODE, CHO_GP_CCG, CHO_POSTCODE_CCG, COUNTRYCODE)")));
                            continue;
                        }
                    }
                }
                "Organization.identifier" => {
                    if let Err(e) = dup(organization.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                        {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!(
                                    "`{value}`: an organisation code is letters and digits only"
                                ),
                            ));
                            continue;
                        }
                    }
                    organization = Some(value.to_string());
                    first_generic.get_or_insert((name, at));
                }
                "tag" => {
                    if let Err(e) = dup(tag.is_some()) {
                        errs.push(e);
                        continue;
                    }
                    if value.len() > MAX_TAG {
                        {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("tag is {} characters; at most {MAX_TAG}", value.len()),
                            ));
                            continue;
                        }
                    }
                    if let Some(c) = value.chars().find(|c| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '|' | ','))
                    }) {
                        {
                            errs.push(err(
                                name,
                                at,
                                rules::VALUE,
                                format!("tag character `{c}` not allowed (A-Z a-z 0-9 - _ | ,)"),
                            ));
                            continue;
                        }
                    }
                    tag = Some(value.to_string());
                }
                _ => {
                    errs.push(err(
                        name,
                        at,
                        rules::UNKNOWN,
                        format!("unknown criteria component `{name}`"),
                    ));
                    continue;
                }
            }
        }
        if !type_message {
            errs.push(err("type", base, rules::PATH, "`type=message` is required"));
        }
        let kind = match (identifier, first_generic) {
            (Some(_), Some((gname, gat))) => {
                let _ = explicit_at;
                errs.push(err(
                    gname,
                    gat,
                    rules::KIND,
                    format!("`{gname}` is not allowed with `Patient.identifier`: a subscription is explicit or generic, not both"),
                ));
                return None;
            }
            (None, None) => {
                if explicit_at.is_none() {
                    errs.push(err(
                        "criteria",
                        0,
                        rules::KIND,
                        "neither `Patient.identifier` (explicit) nor `subscriptionRuleType` (generic) is given",
                    ));
                }
                return None;
            }
            (Some((system, nhs_number)), None) => CriteriaKind::Explicit { system, nhs_number },
            (None, Some(_)) => {
                if events.len() > 1 {
                    errs.push(err(
                        "MessageHeader.event",
                        event_offsets[1],
                        rules::CARDINALITY,
                        "a generic subscription has exactly one `MessageHeader.event`",
                    ));
                }
                let Some(rule) = rule else {
                    if !errs.iter().any(|e| e.component == "subscriptionRuleType") {
                        errs.push(err(
                            "subscriptionRuleType",
                            s.len(),
                            rules::CARDINALITY,
                            "a generic subscription needs `subscriptionRuleType`",
                        ));
                    }
                    return None;
                };
                let Some(organization) = organization else {
                    if !errs
                        .iter()
                        .any(|e| e.component == "Organization.identifier")
                    {
                        errs.push(err(
                            "Organization.identifier",
                            s.len(),
                            rules::CARDINALITY,
                            format!(
                                "rule `{}` needs `Organization.identifier` to compare with",
                                rule.code()
                            ),
                        ));
                    }
                    return None;
                };
                if rule == RuleType::CountryCode
                    && !COUNTRY_CODES.iter().any(|(c, _)| *c == organization)
                {
                    let at = s.find("Organization.identifier=").unwrap_or(0);
                    errs.push(err("Organization.identifier", at, rules::VALUE, format!("`{organization}` is not a country code (E92000001, W92000004, S92000003, N92000002, L93000001, M83000003)")));
                }
                CriteriaKind::Generic { rule, organization }
            }
        };
        if events.is_empty() && !errs.iter().any(|e| e.component == "MessageHeader.event") {
            errs.push(err(
                "MessageHeader.event",
                s.len(),
                rules::CARDINALITY,
                "at least one `MessageHeader.event` is required",
            ));
        }
        // a range is the same whichever component came first: gt before lt
        age.sort_by_key(|a| matches!(a, AgeFilter::LessThan(_)));
        Some(Criteria {
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
