//! The requirement rows of sections 2 and 10 of the digest as data: one
//! declarative table per event ([`EVENT_TABLES`]) plus the generic rows
//! ([`GENERIC`]), and the evaluator that checks a message against them.
//!
//! A [`Row`] names a resource [`Role`] (a resource type, narrowed by a
//! selector such as "the Observation coded 364589006" or "the Patient the
//! RelatedPerson points at"), the messageEventTypes it applies to, and one
//! [`Check`]: the role's cardinality in the bundle, an element's cardinality,
//! a fixed coding or value, a code system, a reference target, a value form
//! ([`Form`]: UUID, integer, a value drawn from the event-type table, ...),
//! a list that includes a value, or a reference inside the bundle; a row can
//! be conditional on a property of the event ([`Row::when`]). Rows whose
//! requirement is cross-resource logic (routing consistency, the
//! change-of-GP interpretation, sequencing) are [`Check::Logic`]: they name
//! the hand-written check and are listed here so that the table (and
//! `docs/conformance.md`, generated from it) holds every row.

use crate::rules::{id as R, RuleId, Strength};

mod eval;
mod plan;
#[rustfmt::skip]
mod events;
#[rustfmt::skip]
mod generic;

pub use eval::members_of;
pub(crate) use eval::str_of;
pub(crate) use eval::{evaluate, View};
pub use events::EVENT_TABLES;
pub use generic::{GENERIC, MESSAGE_EVENT_TYPES};

/// Which messageEventTypes a row applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Met {
    /// Every message of the event.
    Any,
    /// `new` only (the "new" column of the screening tables).
    New,
    /// `new` and `update` (not `delete`).
    NotDelete,
    /// `delete` only.
    Delete,
}

impl Met {
    /// Whether the row applies to a message with messageEventType `met`
    /// (unknown: the rows for `new`, the commonest, apply).
    pub fn applies(self, met: Option<&str>) -> bool {
        match self {
            Met::Any => true,
            Met::New => matches!(met, Some("new") | None),
            Met::NotDelete => met != Some("delete"),
            Met::Delete => met == Some("delete"),
        }
    }
    /// Name used in `docs/conformance.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            Met::Any => "all",
            Met::New => "new",
            Met::NotDelete => "new, update",
            Met::Delete => "delete",
        }
    }
}

/// How the resources of a role are found in the bundle.
#[derive(Clone, Copy, Debug)]
pub enum Sel {
    /// Every resource of the role's type.
    All,
    /// The resource `MessageHeader.focus` points at.
    Focus,
    /// Resources of the type with a coding of one of `codes` at `path`.
    Coded {
        /// Path of the CodeableConcept or Coding inside the resource.
        path: &'static str,
        /// The codes that select the resource.
        codes: &'static [&'static str],
    },
    /// Resources that the members of role `role` reference at `path`.
    RefBy {
        /// Name of the referring role.
        role: &'static str,
        /// Path of the Reference inside the referring resources.
        path: &'static str,
    },
}

/// A resource role of an event: what the digest's "Resource" column names.
#[derive(Debug)]
pub struct Role {
    /// Name used in row ids (`DiagnosticReport`, `Observation-weight`).
    pub name: &'static str,
    /// Resource type.
    pub ty: &'static str,
    /// How its members are selected.
    pub sel: Sel,
}

/// What a reference must point at.
#[derive(Clone, Copy, Debug)]
pub enum To {
    /// A resource of one of these types (in the bundle, or an absolute URL
    /// naming the type, such as the ODS directory URL of an Organization).
    Types(&'static [&'static str]),
    /// A member of this role (in the bundle).
    Role(&'static str),
    /// A resource of the focus type the event-type table gives the
    /// message's event (`event-types.json` `focus`; unknown event: any).
    EventFocus,
}

/// What an in-bundle reference must point at ([`Check::InBundle`]).
#[derive(Clone, Copy, Debug)]
pub enum Points {
    /// Any resource of the bundle.
    Any,
    /// A resource of one of these types.
    Types(&'static [&'static str]),
    /// A resource of the focus type the event-type table gives the
    /// message's event (`event-types.json` `focus`; unknown event: any).
    EventFocus,
}

/// A value form or fixed value ([`Check::Is`]).
#[derive(Clone, Copy, Debug)]
pub enum Form {
    /// A UUID in its canonical text form.
    Uuid,
    /// An unsigned integer (digits only).
    Integer,
    /// Exactly this value.
    Equals(&'static str),
    /// The code of an event of the event-type table (`event-types.json`).
    EventCode,
    /// A Coding whose display is the event-type table's display of the
    /// message's event (unknown event: not checked) and that has no
    /// `userSelected`.
    EventDisplay,
    /// A ContactPoint with a `system` of these and a `value` of that
    /// system's shape.
    Contact(&'static [&'static str]),
    /// An extension whose valueCodeableConcept has exactly one coding from
    /// `system` (no text, version or userSelected) with one of `codes`, the
    /// code allowed for the event by the event-type table
    /// (`messageEventTypes`) and with its display.
    EventCoding {
        /// Code system.
        system: &'static str,
        /// The codes with their fixed displays.
        codes: &'static [(&'static str, &'static str)],
    },
}

/// A property of the message's event in the event-type table
/// (`event-types.json`) that a row is conditional on ([`Row::when`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// `metaLastUpdatedRequired`.
    MetaLastUpdatedRequired,
    /// `responsibleInBundle`.
    ResponsibleInBundle,
}

impl Flag {
    /// Whether event `e` has the property.
    pub fn of(self, e: &ems_match::EventType) -> bool {
        match self {
            Flag::MetaLastUpdatedRequired => e.meta_last_updated_required,
            Flag::ResponsibleInBundle => e.responsible_in_bundle,
        }
    }
    /// The flag's bit in a message's [`Class`] (bits 0 and 1).
    const fn bit(self) -> usize {
        match self {
            Flag::MetaLastUpdatedRequired => 1,
            Flag::ResponsibleInBundle => 2,
        }
    }
    /// Name used in `docs/conformance.md` (the event-types.json key).
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::MetaLastUpdatedRequired => "metaLastUpdatedRequired",
            Flag::ResponsibleInBundle => "responsibleInBundle",
        }
    }
}

/// What decides which rows apply to a message: its messageEventType
/// (`new` or unknown, `delete`, any other) and its event's [`Flag`]s, as
/// one number below [`CLASSES`].
pub(crate) type Class = usize;

/// The number of [`Class`]es.
pub(crate) const CLASSES: usize = 12;

/// The class of a message with messageEventType `met` of `event`.
pub(crate) fn class(met: Option<&str>, event: Option<&ems_match::EventType>) -> Class {
    let m = match met {
        Some("new") | None => 0,
        Some("delete") => 1,
        Some(_) => 2,
    };
    let flags = event.map_or(0, |e| {
        [Flag::MetaLastUpdatedRequired, Flag::ResponsibleInBundle]
            .iter()
            .filter(|f| f.of(e))
            .map(|f| f.bit())
            .sum()
    });
    m * 4 + flags
}

impl Row {
    /// Whether the row applies to the messages of class `c` (a `Logic`
    /// row is checked by its hand-written code, never here).
    pub(crate) fn applies(&self, c: Class) -> bool {
        // a messageEventType of the class (`new` stands for unknown too)
        let met = [Some("new"), Some("delete"), Some("update")][(c / 4).min(2)];
        !matches!(self.check, Check::Logic { .. })
            && self.met.applies(met)
            && self.when.is_none_or(|f| c & f.bit() != 0)
    }
}

/// What a row checks.
#[derive(Clone, Copy, Debug)]
pub enum Check {
    /// The number of members of the role in the bundle.
    Count {
        /// Minimum.
        min: u32,
        /// Maximum (`None`: `*`).
        max: Option<u32>,
    },
    /// The number of values at `path` in each member.
    Card {
        /// Element path (`subject`, `code.coding`, `extension(url)`, `performedDateTime`).
        path: &'static str,
        /// Minimum.
        min: u32,
        /// Maximum (`None`: `*`).
        max: Option<u32>,
    },
    /// The number of values at `path` inside each value at `parent` of each
    /// member (`participant` / `role`: every participant has a role).
    CardEach {
        /// Path of the repeating parent element.
        parent: &'static str,
        /// Path inside each parent.
        path: &'static str,
        /// Minimum.
        min: u32,
        /// Maximum (`None`: `*`).
        max: Option<u32>,
    },
    /// The CodeableConcept or Coding at `path`, where present, has a
    /// coding `system`|`code`, with `display` where given.
    Fixed {
        /// Element path.
        path: &'static str,
        /// Code system (`None`: codes without a system, 10.8 BCG).
        system: Option<&'static str>,
        /// Code.
        code: &'static str,
        /// Display, when the digest fixes it.
        display: Option<&'static str>,
    },
    /// The CodeableConcept or Coding at `path`, where present, has a
    /// coding of `system` whose code is one of `codes` (code, display).
    OneOf {
        /// Element path.
        path: &'static str,
        /// Code system.
        system: &'static str,
        /// Allowed codes with their fixed displays.
        codes: &'static [(&'static str, &'static str)],
    },
    /// The CodeableConcept or Coding at `path`, where present, has a
    /// coding from `system`.
    System {
        /// Element path.
        path: &'static str,
        /// Code system.
        system: &'static str,
    },
    /// The primitive at `path`, where present, has `value`.
    Value {
        /// Element path.
        path: &'static str,
        /// The fixed value.
        value: &'static str,
    },
    /// The Reference at `path`, where present and resolvable, points at `to`.
    Target {
        /// Path of the Reference.
        path: &'static str,
        /// What it must point at.
        to: To,
    },
    /// Each value at `path` has the form `is`; with `required`, every
    /// value of the path's parent has one (`source.endpoint`: in the
    /// `source`, when there is one; a one-step path: in every member).
    /// Reported at the path, extension steps as `extension('url')`.
    Is {
        /// Element path (`id`, `event.code`, `source.contact`, `extension(url)`).
        path: &'static str,
        /// The form.
        is: Form,
        /// Whether the value must be present in each parent value.
        required: bool,
    },
    /// Some value at `path` is `value` (`meta.profile` carries a profile).
    Includes {
        /// Element path.
        path: &'static str,
        /// The value one of them must have.
        value: &'static str,
    },
    /// Each Reference at `path`, where it resolves inside the bundle,
    /// points at `to`; with `required` it must have a `reference` that
    /// resolves inside the bundle (otherwise an unresolved reference is
    /// left to `REF-UNRESOLVED`). Reported at `path[i].reference`.
    InBundle {
        /// Path of the Reference.
        path: &'static str,
        /// What it must point at.
        to: Points,
        /// Whether it must resolve inside the bundle.
        required: bool,
    },
    /// Cross-resource logic checked by the named hand-written code.
    Logic {
        /// The function that checks the row.
        code: &'static str,
        /// The test that shows it.
        test: &'static str,
    },
}

/// One requirement row.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    /// Stable row id: `<section>/<role>/<element or card-…>`.
    pub id: &'static str,
    /// Digest section the row is transcribed from.
    pub section: &'static str,
    /// Role name (a [`Role::name`] of the table).
    pub role: &'static str,
    /// messageEventTypes the row applies to.
    pub met: Met,
    /// What is checked.
    pub check: Check,
    /// Rule reported on a breach.
    pub rule: RuleId,
    /// Strength stated by the digest.
    pub strength: Strength,
    /// Receive-critical: an error in Receive mode too (a receiver cannot
    /// act on the event without it).
    pub critical: bool,
    /// The requirement, in the digest's words.
    pub text: &'static str,
    /// How an open point ([gap], section 12) was decided, if any.
    pub decision: Option<&'static str>,
    /// The event-type table property the row is conditional on, if any.
    pub when: Option<Flag>,
}

impl Row {
    /// A row with the default rule of its check, MUST, not receive-critical.
    pub const fn new(
        id: &'static str,
        role: &'static str,
        met: Met,
        check: Check,
        text: &'static str,
    ) -> Row {
        let rule = match check {
            Check::Count { .. } => R::EVENT_RESOURCE_COUNT,
            Check::Card { .. } | Check::CardEach { .. } => R::EVENT_ELEMENT,
            Check::Fixed { .. }
            | Check::OneOf { .. }
            | Check::System { .. }
            | Check::Value { .. }
            | Check::Is { .. }
            | Check::Includes { .. } => R::EVENT_CODE,
            Check::Target { .. } | Check::InBundle { .. } => R::EVENT_REFERENCE,
            Check::Logic { .. } => R::EVENT_ELEMENT,
        };
        Row {
            id,
            section: section_of(id),
            role,
            met,
            check,
            rule,
            strength: Strength::Must,
            critical: false,
            text,
            decision: None,
            when: None,
        }
    }
    /// Reports `rule` instead of the default.
    pub const fn rule(mut self, rule: RuleId) -> Row {
        self.rule = rule;
        self
    }
    /// A SHOULD row.
    pub const fn should(mut self) -> Row {
        self.strength = Strength::Should;
        self
    }
    /// A row that applies only to events with property `flag`.
    pub const fn when(mut self, flag: Flag) -> Row {
        self.when = Some(flag);
        self
    }
    /// A receive-critical row.
    pub const fn critical(mut self) -> Row {
        self.critical = true;
        self
    }
    /// Records how an open point was decided.
    pub const fn decided(mut self, how: &'static str) -> Row {
        self.decision = Some(how);
        self
    }
    /// Where a breach is reported, relative to a member (or `Bundle.entry`).
    pub fn element(&self) -> Option<&'static str> {
        match self.check {
            Check::Count { .. } | Check::Logic { .. } => None,
            Check::Card { path, .. }
            | Check::CardEach { parent: path, .. }
            | Check::Fixed { path, .. }
            | Check::OneOf { path, .. }
            | Check::System { path, .. }
            | Check::Value { path, .. }
            | Check::Target { path, .. }
            | Check::Is { path, .. }
            | Check::Includes { path, .. }
            | Check::InBundle { path, .. } => Some(path),
        }
    }
}

/// The digest section of a row id (`10.6` of `10.6/DiagnosticReport/card-new`).
const fn section_of(id: &'static str) -> &'static str {
    let b = id.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i] != b'/' {
        i += 1;
    }
    // the section is the prefix before the first '/'
    match std::str::from_utf8(b.split_at(i).0) {
        Ok(s) => s,
        Err(_) => id,
    }
}

/// The rows of one event (or the generic rows).
#[derive(Debug)]
pub struct Table {
    /// Event code (`*` for the generic rows).
    pub event: &'static str,
    /// Digest section.
    pub section: &'static str,
    /// The resource roles the rows name.
    pub roles: &'static [Role],
    /// The rows.
    pub rows: &'static [Row],
    /// Role indexes by row, resource-type numbers by role (built on first use).
    pub(crate) index: std::sync::OnceLock<Index>,
}

/// What the evaluator looks up per row, resolved once per table.
#[derive(Debug)]
pub(crate) struct Index {
    /// The [`desc_key`] of each role's type ([`NO_TYPE`]: none).
    pub role_ty: Vec<usize>,
    /// Role index of each row.
    pub row_role: Vec<usize>,
    /// Role index of each role's `RefBy` source, and of each row's `To::Role`.
    pub ref_role: Vec<Option<usize>>,
    /// For each `Coded` and `RefBy` role: its selector's path compiled into
    /// slots of the role's source type (`eval::compile`).
    pub role_steps: Vec<Option<Box<[eval::Step]>>>,
    /// For each `Coded` role: the `Coded` roles of the table with its type
    /// and selector path (itself among them, in role order, at most 64),
    /// selected together in one visit of each entry.
    pub coded_group: Vec<Box<[usize]>>,
    /// Target role index of each row.
    pub row_target: Vec<Option<usize>>,
    /// For each row whose path is one plain element: its slot in the role's
    /// resource type (`ems_stu3::node::find_field`).
    pub row_field: Vec<Option<(usize, Option<usize>)>>,
    /// Per role, the trie of the paths its rows read (`plan::build`).
    pub plan: plan::Plan,
    /// Per message [`Class`], whether each row applies.
    pub active: Vec<Box<[bool]>>,
}

/// The key of a resource type: the address of its element table `d`
/// (each type has one), so that an entry's type is compared without its
/// name; never [`NO_TYPE`] or [`REPEATED`].
pub(crate) fn desc_key(d: &'static ems_stu3::node::TypeDesc) -> usize {
    d as *const ems_stu3::node::TypeDesc as usize
}

/// The type key of a role whose name is no resource type (`*`).
pub(crate) const NO_TYPE: usize = 1;
/// The type key of an entry that repeats another's fullUrl.
pub(crate) const REPEATED: usize = 0;

impl Table {
    /// The table's index.
    pub(crate) fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let pos = |n: &str| self.roles.iter().position(|r| r.name == n);
            // each role's element table, looked up once
            let descs: Vec<Option<&'static ems_stu3::node::TypeDesc>> = self
                .roles
                .iter()
                .map(|r| ems_stu3::Resource::new_of_type(r.ty).map(|x| x.as_node().desc()))
                .collect();
            let mut index = Index {
                role_ty: descs.iter().map(|d| d.map_or(NO_TYPE, desc_key)).collect(),
                row_role: self
                    .rows
                    .iter()
                    .map(|r| pos(r.role).unwrap_or(usize::MAX))
                    .collect(),
                ref_role: self
                    .roles
                    .iter()
                    .map(|r| match r.sel {
                        Sel::RefBy { role, .. } => pos(role),
                        _ => None,
                    })
                    .collect(),
                role_steps: self
                    .roles
                    .iter()
                    .map(|r| match r.sel {
                        Sel::Coded { path, .. } => {
                            let mut blank = ems_stu3::Resource::new_of_type(r.ty)?;
                            eval::compile(&mut blank, &[path]).map(|s| s.0)
                        }
                        Sel::RefBy { role, path } => {
                            let from = self.roles.iter().find(|x| x.name == role)?;
                            let mut blank = ems_stu3::Resource::new_of_type(from.ty)?;
                            eval::compile(&mut blank, &[path]).map(|s| s.0)
                        }
                        _ => None,
                    })
                    .collect(),
                coded_group: self
                    .roles
                    .iter()
                    .map(|r| match r.sel {
                        Sel::Coded { path, .. } => self
                            .roles
                            .iter()
                            .enumerate()
                            .filter(|(_, x)| {
                                x.ty == r.ty
                                    && matches!(x.sel, Sel::Coded { path: p, .. } if p == path)
                            })
                            .map(|(i, _)| i)
                            .take(64)
                            .collect(),
                        _ => Box::default(),
                    })
                    .collect(),
                row_target: self
                    .rows
                    .iter()
                    .map(|r| match r.check {
                        Check::Target {
                            to: To::Role(n), ..
                        } => pos(n),
                        _ => None,
                    })
                    .collect(),
                row_field: self
                    .rows
                    .iter()
                    .map(|r| {
                        let path = r.element()?;
                        if path.contains('.') || path.starts_with("extension(") {
                            return None;
                        }
                        let desc = descs[pos(r.role)?]?;
                        ems_stu3::node::find_field(desc, path, 0)
                    })
                    .collect(),
                plan: plan::Plan::default(),
                active: (0..CLASSES)
                    .map(|c| self.rows.iter().map(|r| r.applies(c)).collect())
                    .collect(),
            };
            // one-element `Card` rows read the member's slot directly
            let direct: Vec<bool> = self
                .rows
                .iter()
                .zip(&index.row_field)
                .map(|(r, f)| matches!(r.check, Check::Card { .. }) && f.is_some())
                .collect();
            index.plan = plan::build(self, &index.row_role, &direct);
            index
        })
    }
}

impl Table {
    /// The role named `name`.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.name == name)
    }
}

/// The table of event `code`.
pub fn event_table(code: &str) -> Option<&'static Table> {
    EVENT_TABLES.iter().find(|t| t.event == code).copied()
}

/// Every table: the generic rows first, then one per event.
pub fn all_tables() -> impl Iterator<Item = &'static Table> {
    std::iter::once(&GENERIC).chain(EVENT_TABLES.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row applies to a class of messages exactly when it applies to
    /// each message of the class (messageEventType, event flags).
    #[test]
    fn classes_decide_as_the_rows_do() {
        let mets = [
            None,
            Some("new"),
            Some("update"),
            Some("delete"),
            Some("other"),
        ];
        let events: Vec<Option<&ems_match::EventType>> = std::iter::once(None)
            .chain(ems_match::events::EVENT_TYPES.iter().map(Some))
            .collect();
        for t in all_tables() {
            for r in t.rows {
                for met in mets {
                    for e in &events {
                        let by_row = !matches!(r.check, Check::Logic { .. })
                            && r.met.applies(met)
                            && r.when.is_none_or(|f| e.is_some_and(|e| f.of(e)));
                        let c = class(met, *e);
                        assert!(c < CLASSES);
                        assert_eq!(
                            r.applies(c),
                            by_row,
                            "{} {met:?} {:?}",
                            r.id,
                            e.map(|e| e.code)
                        );
                        assert_eq!(
                            t.index().active[c][t.rows.iter().position(|x| x.id == r.id).unwrap()],
                            by_row
                        );
                    }
                }
            }
        }
    }

    /// Every resource type has a key of its own, which its resources
    /// carry; the markers are no type's key.
    #[test]
    fn type_keys() {
        let mut seen = std::collections::HashSet::new();
        for t in ems_stu3::RESOURCE_TYPES.iter() {
            let a = ems_stu3::Resource::new_of_type(t).unwrap();
            let b = ems_stu3::Resource::new_of_type(t).unwrap();
            let k = desc_key(a.as_node().desc());
            assert_eq!(desc_key(b.as_node().desc()), k, "{t}");
            assert!(k != NO_TYPE && k != REPEATED && seen.insert(k), "{t}");
        }
    }

    #[test]
    fn row_ids_are_unique_roles_exist_and_sections_match() {
        let mut ids = std::collections::HashSet::new();
        for t in all_tables() {
            for r in t.rows {
                assert!(ids.insert(r.id), "duplicate row id {}", r.id);
                assert!(
                    t.role(r.role).is_some(),
                    "{}: unknown role {}",
                    r.id,
                    r.role
                );
                assert!(
                    r.id.starts_with(&format!("{}/{}/", r.section, r.role)),
                    "{}: id is not <section>/<role>/…",
                    r.id
                );
                assert!(r.section.starts_with(t.section), "{}", r.id);
                if let Check::Target {
                    to: To::Role(n), ..
                } = r.check
                {
                    assert!(t.role(n).is_some(), "{}: unknown target role {n}", r.id);
                }
            }
            for role in t.roles {
                if let Sel::RefBy { role: n, .. } = role.sel {
                    assert!(t.role(n).is_some(), "{}: unknown role {n}", role.name);
                }
            }
        }
        for t in EVENT_TABLES.iter() {
            assert!(ems_match::event_type(t.event).is_some(), "{}", t.event);
        }
        // every row's path resolves into slots (a row outside the plan
        // would find no values)
        for t in all_tables() {
            let unplanned: Vec<&str> = t
                .index()
                .plan
                .unplanned
                .iter()
                .map(|&i| t.rows[i as usize].id)
                .collect();
            assert!(
                unplanned.is_empty(),
                "paths that do not compile: {unplanned:?}"
            );
        }
        // the selectors' paths compile too; a Coded role is in its group
        for t in all_tables() {
            for (ri, role) in t.roles.iter().enumerate() {
                if matches!(role.sel, Sel::Coded { .. }) {
                    assert!(t.index().coded_group[ri].contains(&ri), "{}", role.name);
                }
                if matches!(role.sel, Sel::Coded { .. } | Sel::RefBy { .. }) {
                    assert!(
                        t.index().role_steps[ri].is_some(),
                        "{}/{}: selector path does not compile",
                        t.event,
                        role.name
                    );
                }
            }
        }
        assert_eq!(EVENT_TABLES.len(), 10);
    }
}
