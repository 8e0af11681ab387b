//! [`ModelSink`]: an [`ElementSink`] that assembles the typed model.

use crate::issue::{Issue, IssueType, Outcome, Severity};
use crate::node::{find_field, ChoiceMut, FieldKind, FieldMut, Node, TypeDesc};
use crate::primitive::{PrimKind, PrimNode};
use crate::read::{rules, Parsed, ReadError};
use crate::sink::ElementSink;
use crate::{Resource, Str};

/// Assembles the typed [`Resource`] from [`ElementSink`] calls through the
/// reflection layer ([`Node`]) the readers use: elements are found by name
/// in the type's table, values are set from their lexical form by the same
/// checks, and an unknown element, a schema-order slip or a repeated
/// single-valued element is reported with the reader's rule id
/// (`SCHEMA-UNKNOWN`, `SCHEMA-ORDER`, `SCHEMA-REPEATED`, `PRIMITIVE-FORMAT`,
/// `RESOURCE-TYPE`). A structural slip stops assembling: [`ModelSink::finish`]
/// then fails, because the model would no longer be what was described.
///
/// ```
/// use ems_stu3::{ElementSink, ModelSink, Resource, xml::XmlStream};
/// fn describe(s: &mut impl ElementSink) {
///     s.value("id", "p1");
///     s.start("name");
///     s.value_static("use", "official");
///     s.value("family", "O'Brien");
///     s.end("name");
///     s.value("birthDate", "2019-10-01");
/// }
/// let mut m = ModelSink::new("Patient").unwrap();
/// describe(&mut m);
/// let model = m.finish().unwrap().resource;
/// let mut x = XmlStream::with_capacity(256);
/// x.root("Patient");
/// describe(&mut x);
/// x.end("Patient");
/// assert_eq!(ems_stu3::to_xml(&model), x.as_str());
///
/// // a slip is reported as the reader reports it
/// let mut m = ModelSink::new("Patient").unwrap();
/// m.value("birthDate", "2019-10-01");
/// m.value("gender", "female");
/// let e = m.finish().unwrap_err();
/// assert_eq!(e.issue().unwrap().rule, "SCHEMA-ORDER");
/// ```
#[derive(Debug)]
pub struct ModelSink {
    /// The root resource.
    root: Resource,
    /// Resources opened inside the root (entries' and contained resources),
    /// innermost last: each is assembled on its own and moved into its slot
    /// when closed.
    nested: [Option<Resource>; MAX_NESTED],
    /// How many of `nested` are open.
    depth: usize,
    /// Per open resource (the root first): where its path starts in
    /// `steps`, and the schema position of its own elements.
    base: [usize; MAX_NESTED + 1],
    at: [Position; MAX_NESTED + 1],
    /// The open elements, outermost first, of all open resources (fixed
    /// storage: the sink allocates nothing but the model).
    steps: [Step; MAX_STEPS],
    len: usize,
    outcome: Outcome,
    /// A structural slip was reported: later calls are ignored.
    failed: bool,
}

/// Deepest resource nesting inside the root.
const MAX_NESTED: usize = 8;
/// Most elements open at once (over all open resources).
const MAX_STEPS: usize = 48;

const NO_STEP: Step = Step {
    field: 0,
    how: How::Slot,
    name: "",
    at: Position(0),
};

/// Index + 1 of the last element written at one level (0: none yet).
#[derive(Clone, Copy, Debug, Default)]
struct Position(usize);

#[derive(Clone, Copy, Debug)]
struct Step {
    /// Field index in the parent node.
    field: usize,
    how: How,
    /// Element name (for locations and the end check).
    name: &'static str,
    /// Schema position inside the element this step opens.
    at: Position,
}

/// How a step reaches the element it opens from its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// A single-valued complex element.
    One,
    /// The last item of a repeating complex element.
    Many,
    /// The alternative of a choice element.
    Choice,
    /// A single-valued primitive (opened for its extensions).
    Prim,
    /// The last item of a repeating primitive.
    PrimList,
    /// The last extension of the primitive of the previous step.
    Ext,
    /// A resource slot (`resource`, `contained`): the next call opens the resource.
    Slot,
}

/// Where a path leads.
enum Cursor<'a> {
    Node(&'a mut dyn Node),
    Prim(&'a mut dyn PrimNode),
    Slot,
}

/// The schema position after the last element `n` holds.
fn last_present(n: &dyn Node) -> Position {
    Position(
        crate::node::present_fields(n)
            .last()
            .map_or(0, |(i, _)| i + 1),
    )
}

/// Follows `parent` then `last` from `root`.
fn walk<'a>(root: &'a mut dyn Node, parent: &[Step], last: &Step) -> Option<Cursor<'a>> {
    let mut cur = Cursor::Node(root);
    for s in parent.iter().chain(std::iter::once(last)) {
        cur = match (cur, s.how) {
            (Cursor::Prim(p), How::Ext) => Cursor::Node(p.extension_mut().last_mut()?),
            (Cursor::Node(n), how) => match (n.field_mut(s.field), how) {
                (FieldMut::One(o), How::One) => Cursor::Node(o.get_or_insert()),
                (FieldMut::Many(v), How::Many) => Cursor::Node(v.last_mut()?),
                (FieldMut::Choice(c), How::Choice) => match c.get_mut()? {
                    ChoiceMut::Node(n) => Cursor::Node(n),
                    ChoiceMut::Prim(p) => Cursor::Prim(p),
                },
                (FieldMut::Prim(p), How::Prim) => Cursor::Prim(p.get_or_insert()),
                (FieldMut::PrimList(v), How::PrimList) => {
                    let last = v.len().checked_sub(1)?;
                    Cursor::Prim(v.ensure(last))
                }
                (FieldMut::Resource(_) | FieldMut::Resources(_), How::Slot) => Cursor::Slot,
                _ => return None,
            },
            _ => return None,
        };
    }
    Some(cur)
}

/// What a `start*`/`value*` call creates.
enum Make<'v> {
    Complex,
    Extension(&'static str),
    Value(&'v str, bool),
    Static(&'static str, bool),
}

impl ModelSink {
    /// A sink whose root resource `rtype` is open (`None`: not a resource
    /// type).
    pub fn new(rtype: &str) -> Option<ModelSink> {
        Resource::new_of_type(rtype).map(ModelSink::with_root)
    }

    /// A sink that writes into `root` (elements it already holds count as
    /// written: the description continues after them). Lets a producer
    /// size the root's lists up front.
    pub fn with_root(root: Resource) -> ModelSink {
        let at = last_present(root.as_node());
        let mut sink = ModelSink {
            root,
            nested: Default::default(),
            depth: 0,
            base: [0; MAX_NESTED + 1],
            at: [Position(0); MAX_NESTED + 1],
            steps: [NO_STEP; MAX_STEPS],
            len: 0,
            outcome: Outcome::new(),
            failed: false,
        };
        sink.at[0] = at;
        sink
    }

    /// The assembled root resource and the non-structural issues (malformed
    /// values, kept as given, as the reader keeps them); `Err` after a
    /// structural slip or when elements are left open.
    pub fn finish(mut self) -> Result<Parsed, ReadError> {
        if !self.failed && (self.depth != 0 || self.len != 0) {
            self.slip(
                rules::SCHEMA_CONTENT,
                None,
                "the description left elements open".into(),
            );
        }
        if self.failed {
            return Err(ReadError {
                outcome: self.outcome,
            });
        }
        Ok(Parsed {
            resource: self.root,
            outcome: self.outcome,
        })
    }

    /// The issues reported so far.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The open resource and its path (the open elements inside it).
    fn current(&mut self) -> (&mut Resource, &mut [Step], &mut Position) {
        let d = self.depth;
        let r = match d.checked_sub(1).and_then(|k| self.nested[k].as_mut()) {
            Some(r) => r,
            None => &mut self.root,
        };
        (r, &mut self.steps[self.base[d]..self.len], &mut self.at[d])
    }

    /// `Type.element.element` of the open elements (and `name`).
    fn location(&self, name: Option<&str>) -> String {
        let mut s = String::from(self.root.resource_type());
        for d in 0..=self.depth {
            if d > 0 {
                if let Some(r) = &self.nested[d - 1] {
                    s.push('.');
                    s.push_str(r.resource_type());
                }
            }
            let end = if d == self.depth {
                self.len
            } else {
                self.base[d + 1]
            };
            for p in &self.steps[self.base[d]..end] {
                s.push('.');
                s.push_str(p.name);
            }
        }
        if let Some(n) = name {
            s.push('.');
            s.push_str(n);
        }
        s
    }

    fn slip(&mut self, rule: &'static str, name: Option<&str>, message: String) {
        let location = self.location(name);
        self.outcome.push(Issue::new(
            Severity::Error,
            IssueType::Structure,
            rule,
            location,
            message,
        ));
        self.failed = true;
    }

    fn push(&mut self, step: Step) {
        if self.len == MAX_STEPS {
            return self.slip(
                rules::INPUT_DEPTH,
                Some(step.name),
                format!("more than {MAX_STEPS} elements open"),
            );
        }
        self.steps[self.len] = step;
        self.len += 1;
    }

    /// Finds element `name` of the open node, checks its schema position,
    /// creates it as `make` says and, unless it is a plain value, opens it.
    fn element(&mut self, name: &str, make: Make<'_>) {
        if self.failed {
            return;
        }
        let (resource, path, top_at) = self.current();
        let placed = match path.split_last_mut() {
            None => place(resource.as_node_mut(), top_at, name, make),
            Some((last, parent)) => {
                let step = *last;
                let last_at = &mut last.at;
                let parent: &[Step] = parent;
                match walk(resource.as_node_mut(), parent, &step) {
                    Some(Cursor::Node(n)) => place(n, last_at, name, make),
                    Some(Cursor::Prim(p)) => match make {
                        Make::Extension(url) if name == "extension" => {
                            p.extension_mut().push(crate::Extension {
                                url: Some(Str::const_new(url)),
                                ..Default::default()
                            });
                            Ok(Placed {
                                step: Some(Step {
                                    field: 0,
                                    how: How::Ext,
                                    name: "extension",
                                    at: Position::default(),
                                }),
                                value_error: None,
                            })
                        }
                        _ => Err((
                            rules::SCHEMA_UNKNOWN,
                            format!("`{name}` is not allowed in a primitive (only `extension`)"),
                        )),
                    },
                    Some(Cursor::Slot) | None => Err((
                        rules::SCHEMA_CONTENT,
                        format!("`{name}` where a resource must start"),
                    )),
                }
            }
        };
        match placed {
            Ok(p) => {
                if let Some(msg) = p.value_error {
                    let location = self.location(Some(name));
                    self.outcome.push(Issue::new(
                        Severity::Error,
                        IssueType::Value,
                        rules::PRIMITIVE_FORMAT,
                        location,
                        msg,
                    ));
                }
                if let Some(step) = p.step {
                    self.push(step);
                }
            }
            Err((rule, msg)) => self.slip(rule, Some(name), msg),
        }
    }

    /// Closes the element opened last (`name` must be it).
    fn close(&mut self, name: &str) {
        if self.failed {
            return;
        }
        if self.len == self.base[self.depth] {
            return self.slip(
                rules::SCHEMA_CONTENT,
                Some(name),
                format!("`{name}` closed, but no element is open"),
            );
        }
        let top = self.steps[self.len - 1];
        if top.name != name {
            return self.slip(
                rules::SCHEMA_CONTENT,
                Some(name),
                format!("`{name}` closed while `{}` is open", top.name),
            );
        }
        self.len -= 1;
    }
}

/// What [`place`] did: the step that opens the new element (none for a
/// plain value) and a malformed value's message.
struct Placed {
    step: Option<Step>,
    value_error: Option<String>,
}

type Slip = (&'static str, String);

/// Element `name` in node `n` at schema position `at`: checks the position
/// as the reader does and creates the element.
fn place(n: &mut dyn Node, at: &mut Position, name: &str, make: Make<'_>) -> Result<Placed, Slip> {
    let desc: &'static TypeDesc = n.desc();
    let Some((i, alt)) = find_field(desc, name, at.0.saturating_sub(1)) else {
        return Err((
            rules::SCHEMA_UNKNOWN,
            format!("`{name}` is not an element of {}", desc.name),
        ));
    };
    let f = &desc.fields[i];
    if at.0 == i + 1 && !f.many {
        return Err((
            rules::SCHEMA_REPEATED,
            format!("`{name}` may appear only once in {}", desc.name),
        ));
    }
    if at.0 > i + 1 {
        let after = desc.fields[at.0 - 1].name;
        return Err((
            rules::SCHEMA_ORDER,
            format!(
                "`{name}` is out of schema order: it must come before `{after}` in {}",
                desc.name
            ),
        ));
    }
    at.0 = i + 1;
    // a choice element is opened and closed by its alternative's name
    let elem_name = match (&f.kind, alt) {
        (FieldKind::Choice(alts), Some(a)) => alts[a].name,
        _ => f.name,
    };
    let step = |how| Step {
        field: i,
        how,
        name: elem_name,
        at: Position::default(),
    };
    let not = |what: &str| {
        Err((
            rules::SCHEMA_CONTENT,
            format!("`{name}` is not {what} in {}", desc.name),
        ))
    };
    match make {
        Make::Complex | Make::Extension(_) => {
            let (node, how): (&mut dyn Node, How) = match n.field_mut(i) {
                FieldMut::One(o) => (o.get_or_insert(), How::One),
                FieldMut::Many(v) => (v.push_default(), How::Many),
                FieldMut::Choice(c) => match alt.and_then(|a| c.set_variant(a)) {
                    Some(ChoiceMut::Node(n)) => (n, How::Choice),
                    _ => return not("a complex element"),
                },
                FieldMut::Resource(_) | FieldMut::Resources(_) if matches!(make, Make::Complex) => {
                    return Ok(Placed {
                        step: Some(step(How::Slot)),
                        value_error: None,
                    })
                }
                _ => return not("a complex element"),
            };
            if let Make::Extension(url) = make {
                match find_field(node.desc(), "url", 0).map(|(u, _)| node.field_mut(u)) {
                    Some(FieldMut::Attr(slot)) => *slot = Some(Str::const_new(url)),
                    _ => return not("an extension"),
                }
            }
            Ok(Placed {
                step: Some(step(how)),
                value_error: None,
            })
        }
        Make::Value(v, open) | Make::Static(v, open) => {
            let lit = match make {
                Make::Static(s, _) => Some(s),
                _ => None,
            };
            let set = |p: &mut dyn PrimNode, k: PrimKind| {
                let r = match lit {
                    Some(s) => p.set_static(k, s),
                    None => p.set_lexical(k, v),
                };
                r.err().map(|exp| {
                    let shown: String = v.chars().take(80).collect();
                    format!("`{shown}` is not a valid {}: expected {exp}", k.fhir_name())
                })
            };
            let (value_error, how) = match (n.field_mut(i), &f.kind) {
                (FieldMut::Prim(p), FieldKind::Prim(k)) => (set(p.get_or_insert(), *k), How::Prim),
                (FieldMut::PrimList(l), FieldKind::Prim(k)) => {
                    (set(l.push_default(), *k), How::PrimList)
                }
                (FieldMut::Choice(c), FieldKind::Choice(alts)) => {
                    let k = alt.and_then(|a| alts[a].prim);
                    match (alt.and_then(|a| c.set_variant(a)), k) {
                        (Some(ChoiceMut::Prim(p)), Some(k)) => (set(p, k), How::Choice),
                        _ => return not("a primitive"),
                    }
                }
                (FieldMut::Attr(slot), _) if !open => {
                    *slot = Some(match lit {
                        Some(s) => Str::const_new(s),
                        None => Str::from(v),
                    });
                    (None, How::Prim)
                }
                _ => return not("a primitive"),
            };
            Ok(Placed {
                step: open.then(|| step(how)),
                value_error,
            })
        }
    }
}

impl ElementSink for ModelSink {
    fn start(&mut self, name: &str) {
        self.element(name, Make::Complex)
    }
    fn start_extension(&mut self, name: &str, url: &'static str) {
        self.element(name, Make::Extension(url))
    }
    fn end(&mut self, name: &str) {
        self.close(name)
    }
    fn value(&mut self, name: &str, v: &str) {
        self.element(name, Make::Value(v, false))
    }
    fn value_static(&mut self, name: &str, v: &'static str) {
        self.element(name, Make::Static(v, false))
    }
    fn start_value(&mut self, name: &str, v: &str) {
        self.element(name, Make::Value(v, true))
    }
    fn empty(&mut self, name: &str) {
        self.element(name, Make::Complex);
        self.close(name)
    }
    fn start_resource(&mut self, rtype: &str) {
        if self.failed {
            return;
        }
        let in_slot = self.len > self.base[self.depth] && self.steps[self.len - 1].how == How::Slot;
        match Resource::new_of_type(rtype) {
            Some(_) if self.depth == MAX_NESTED => self.slip(
                rules::INPUT_DEPTH,
                Some(rtype),
                format!("resources nested more than {MAX_NESTED} deep"),
            ),
            Some(resource) if in_slot => {
                self.nested[self.depth] = Some(resource);
                self.depth += 1;
                self.base[self.depth] = self.len;
                self.at[self.depth] = Position::default();
            }
            Some(_) => self.slip(
                rules::SCHEMA_CONTENT,
                Some(rtype),
                format!("a {rtype} outside a resource slot (`resource`, `contained`)"),
            ),
            None => self.slip(
                rules::RESOURCE_TYPE,
                Some(rtype),
                format!("`{rtype}` is not a resource type"),
            ),
        }
    }
    fn end_resource(&mut self, rtype: &str) {
        if self.failed {
            return;
        }
        let d = self.depth;
        let open = d
            .checked_sub(1)
            .and_then(|k| self.nested[k].as_ref())
            .map(Resource::resource_type);
        if open != Some(rtype) || self.len != self.base[d] {
            return self.slip(
                rules::SCHEMA_CONTENT,
                Some(rtype),
                format!("`{rtype}` closed while it is not the open resource"),
            );
        }
        let Some(done) = self.nested[d - 1].take() else {
            return;
        };
        self.depth -= 1;
        let (resource, path, _) = self.current();
        let placed = match path.split_last() {
            Some((slot, parent)) => {
                let field = slot.field;
                let mut up = parent.iter();
                // the slot's owner: the node the path before the slot leads to
                let owner = match up.next_back() {
                    None => Some(Cursor::Node(resource.as_node_mut())),
                    Some(last) => walk(resource.as_node_mut(), up.as_slice(), last),
                };
                match owner {
                    Some(Cursor::Node(n)) => match n.field_mut(field) {
                        FieldMut::Resource(r) if r.is_none() => {
                            *r = Some(done);
                            true
                        }
                        FieldMut::Resources(v) => {
                            v.push(done);
                            true
                        }
                        _ => false,
                    },
                    _ => false,
                }
            }
            None => false,
        };
        if !placed {
            self.slip(
                rules::SCHEMA_REPEATED,
                Some(rtype),
                "a second resource in one `resource` slot".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::XmlStream;

    fn rule(f: impl FnOnce(&mut ModelSink)) -> Option<&'static str> {
        let mut m = ModelSink::new("Bundle").unwrap();
        f(&mut m);
        m.finish().err().and_then(|e| e.issue().map(|i| i.rule))
    }

    #[test]
    fn slips_are_reported_with_the_readers_rules() {
        assert_eq!(rule(|m| m.value("nope", "x")), Some(rules::SCHEMA_UNKNOWN));
        assert_eq!(
            rule(|m| {
                m.value("type", "message");
                m.value("id", "b");
            }),
            Some(rules::SCHEMA_ORDER)
        );
        assert_eq!(
            rule(|m| {
                m.value("id", "a");
                m.value("id", "b");
            }),
            Some(rules::SCHEMA_REPEATED)
        );
        assert_eq!(rule(|m| m.start("entry")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.end("fullUrl");
            }),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.start("resource");
                m.start_resource("NotAResource");
            }),
            Some(rules::RESOURCE_TYPE)
        );
        assert_eq!(
            rule(|m| m.start_resource("Patient")),
            Some(rules::SCHEMA_CONTENT)
        );
        assert_eq!(rule(|m| m.start("id")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(rule(|m| m.value("entry", "x")), Some(rules::SCHEMA_CONTENT));
        assert_eq!(
            rule(|m| {
                m.start("entry");
                m.start("resource");
                m.start_resource("Patient");
                m.end_resource("Patient");
                m.start_resource("Patient");
                m.end_resource("Patient");
            }),
            Some(rules::SCHEMA_REPEATED)
        );
        // a slip stops assembling: what follows is not reported again
        let mut m = ModelSink::new("Bundle").unwrap();
        m.value("type", "message");
        m.value("id", "b");
        m.value("nope", "x");
        assert_eq!(m.finish().unwrap_err().outcome.issues.len(), 1);
    }

    #[test]
    fn malformed_values_are_kept_and_reported_as_the_reader_does() {
        let mut m = ModelSink::new("Patient").unwrap();
        m.value("birthDate", "2019-13-45");
        let p = m.finish().unwrap();
        assert_eq!(p.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
        let read = crate::from_xml(
            br#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-13-45"/></Patient>"#,
        )
        .unwrap();
        assert_eq!(read.resource, p.resource);
        assert_eq!(read.outcome.issues[0].rule, rules::PRIMITIVE_FORMAT);
    }

    /// Nested resources, choice alternatives, primitives with extensions and
    /// empty elements assemble the model the reader makes of the same XML.
    #[test]
    fn nested_resources_and_extensions_match_the_reader() {
        fn describe(s: &mut impl ElementSink) {
            s.value("id", "b1");
            s.value_static("type", "collection");
            s.start("entry");
            s.value("fullUrl", "urn:uuid:1");
            s.start("resource");
            s.start_resource("Patient");
            s.start_extension("extension", "http://example.org/x");
            s.start("valueCodeableConcept");
            s.value("text", "t");
            s.end("valueCodeableConcept");
            s.end("extension");
            s.start_value("birthDate", "2020-01-01");
            s.start_extension("extension", "http://example.org/time");
            s.value("valueDateTime", "2020-01-01T10:00:00+00:00");
            s.end("extension");
            s.end("birthDate");
            s.value_i64("multipleBirthInteger", 2);
            s.start("contact");
            s.empty("period");
            s.end("contact");
            s.end_resource("Patient");
            s.end("resource");
            s.end("entry");
        }
        let mut m = ModelSink::new("Bundle").unwrap();
        describe(&mut m);
        let model = m.finish().unwrap();
        assert!(model.outcome.issues.is_empty(), "{:?}", model.outcome);
        let mut x = XmlStream::with_capacity(512);
        x.root("Bundle");
        describe(&mut x);
        x.end("Bundle");
        let read = crate::from_xml(x.as_str().as_bytes()).unwrap();
        assert_eq!(read.resource, model.resource);
        assert_eq!(crate::to_xml(&model.resource), x.as_str());
    }
}
