//! FHIR XML: streaming reader (own tokenizer, no DOM) and schema-order writer.

use crate::issue::IssueType;
use crate::node::{ChoiceMut, ChoiceRef, FieldKind, FieldMut, FieldRef, Node};
use crate::primitive::{PrimKind, PrimNode};
use crate::read::{precheck, rules, Parsed, ReadError, ReadOptions, Reporter, FHIR_NS};
use crate::scan::{Attrs, Scanner, Tag, Tok};
use crate::{Extension, Resource};
use std::borrow::Cow;

/// Reads a resource from FHIR XML with default [`ReadOptions`].
///
/// ```
/// let xml = br#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-10"/></Patient>"#;
/// let parsed = ems_stu3::from_xml(xml).unwrap();
/// assert_eq!(parsed.resource.resource_type(), "Patient");
/// assert!(parsed.outcome.issues.is_empty());
/// ```
pub fn from_xml(input: &[u8]) -> Result<Parsed, ReadError> {
    read(input, &ReadOptions::default())
}

type R<T> = Result<T, ReadError>;

struct Ctx<'a> {
    src: &'a str,
    sc: Scanner<'a>,
    rep: Reporter<'a>,
    max_depth: usize,
    depth: usize,
    /// Namespace prefixes in scope (`xmlns:p=...`), innermost last:
    /// (prefix, bound to the FHIR namespace).
    prefixes: Vec<(String, bool)>,
    /// Searches attribute text for `xmlns:` (built once per document).
    xmlns_finder: memchr::memmem::Finder<'static>,
    /// The document contains `xmlns:` somewhere (prefix declarations are
    /// rare; without any, elements are not scanned for them).
    any_prefixes: bool,
    /// Element lookups by name, kept per thread between documents.
    fields: Box<FieldCache>,
}

/// Direct-mapped cache of element lookups: `(TypeDesc address, name words
/// (see [`name_words`]), name length << 32 | field index << 16 | choice
/// alternative + 1)`, filled from `find_field`.
type FieldCache = [(usize, u64, u64, u64); 512];

thread_local! {
    /// Each thread's [`FieldCache`] (the answers are properties of the
    /// static tables, so they stay valid from one document to the next).
    static FIELDS: std::cell::Cell<Option<Box<FieldCache>>> =
        const { std::cell::Cell::new(None) };
}

/// An element name's first and last eight bytes (four below eight bytes,
/// all of them below four), read as fixed-size words: with the length they
/// determine every name of up to sixteen bytes.
#[inline]
fn name_words(b: &[u8]) -> (u64, u64) {
    fn w8(b: &[u8]) -> u64 {
        u64::from_le_bytes(b.try_into().expect("eight bytes"))
    }
    fn w4(b: &[u8]) -> u64 {
        u32::from_le_bytes(b.try_into().expect("four bytes")) as u64
    }
    let n = b.len();
    match n {
        8.. => (w8(&b[..8]), w8(&b[n - 8..])),
        4.. => (w4(&b[..4]), w4(&b[n - 4..])),
        _ => (b.iter().fold(0, |a, &x| (a << 8) | x as u64), 0),
    }
}

/// `find_field(desc, name, hint)`: the field at `hint` when it is the
/// one (repeats), else through the per-thread cache (element names are
/// unique within a type, so the cached answer is the answer from any
/// hint), else the scan.
#[inline]
fn field_of(
    cache: &mut FieldCache,
    desc: &'static crate::node::TypeDesc,
    name: &str,
    hint: usize,
) -> Option<(usize, Option<usize>)> {
    if let Some(f) = desc.fields.get(hint) {
        if !matches!(f.kind, FieldKind::Choice(_))
            && crate::node::short_eq(f.name.as_bytes(), name.as_bytes())
        {
            return Some((hint, None));
        }
    }
    let addr = desc as *const crate::node::TypeDesc as usize;
    let (head, tail) = name_words(name.as_bytes());
    let n = name.len() as u64;
    let slot = ((addr as u64 ^ head ^ tail.rotate_left(29) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        >> 55) as usize;
    let (a, h, t, v) = cache[slot];
    if a == addr && h == head && t == tail && v >> 32 == n {
        let (i, alt) = ((v >> 16) as u16 as usize, v as u16 as usize);
        // longer names are confirmed by comparison
        let f = &desc.fields[i];
        let confirmed = n <= 16
            || match (&f.kind, alt) {
                (FieldKind::Choice(alts), 1..) => alts[alt - 1].name == name,
                (_, 0) => f.name == name,
                _ => false,
            };
        if confirmed {
            return Some((i, alt.checked_sub(1)));
        }
    }
    let found = crate::node::find_field(desc, name, hint);
    if let Some((i, alt)) = found {
        if i < 1 << 16 && n < 1 << 32 {
            let alt = alt.map_or(0, |a| a as u64 + 1);
            cache[slot] = (addr, head, tail, n << 32 | (i as u64) << 16 | alt);
        }
    }
    found
}

pub(crate) fn read(input: &[u8], opts: &ReadOptions) -> Result<Parsed, ReadError> {
    let src = precheck(input, opts)?;
    let mut cx = Ctx {
        src,
        sc: Scanner::new(src),
        rep: Reporter::new(src.as_bytes()),
        max_depth: opts.max_depth,
        depth: 0,
        prefixes: Vec::new(),
        xmlns_finder: memchr::memmem::Finder::new(b"xmlns:"),
        any_prefixes: memchr::memmem::find(src.as_bytes(), b"xmlns:").is_some(),
        fields: FIELDS
            .with(|c| c.take())
            .unwrap_or_else(|| Box::new([(0, 0, 0, u64::MAX); 512])),
    };
    let resource = cx.document();
    let Ctx { rep, fields, .. } = cx;
    FIELDS.with(|c| c.set(Some(fields)));
    Ok(Parsed {
        resource: resource?,
        outcome: rep.finish(),
    })
}

/// Number of values already held by repeating element `i` of `node`.
fn count(node: &dyn Node, i: usize) -> usize {
    match node.field(i) {
        FieldRef::Many(v) => v.len(),
        FieldRef::PrimList(v) => v.len(),
        FieldRef::Resources(v) => v.len(),
        _ => 0,
    }
}

impl<'a> Ctx<'a> {
    fn pos(&self) -> usize {
        self.sc.pos()
    }

    /// Next token and the byte offset where it starts (`<` of a tag).
    fn next(&mut self) -> R<(usize, Tok<'a>)> {
        match self.sc.next() {
            Ok((pos, Tok::DocType)) => Err(self.rep.fatal(
                IssueType::Security,
                rules::XML_DTD,
                pos,
                "DOCTYPE declarations (DTDs, entity declarations) are not accepted".into(),
            )),
            Ok(t) => Ok(t),
            Err(e) => Err(self.rep.fatal(
                IssueType::Structure,
                rules::XML_MALFORMED,
                e.pos,
                format!("XML is not well-formed: {}", e.msg),
            )),
        }
    }

    /// Brings the `xmlns:p` declarations of `e` into scope; returns how many
    /// to drop with [`pop_prefixes`](Self::pop_prefixes) when `e` ends.
    #[inline]
    fn push_prefixes(&mut self, e: &Tag<'a>) -> usize {
        // documents without any `xmlns:` (nearly all) skip this per element
        if !self.any_prefixes || e.attrs.len() < 8 {
            return 0;
        }
        self.push_prefixes_slow(e)
    }

    #[cold]
    fn push_prefixes_slow(&mut self, e: &Tag<'a>) -> usize {
        if self.xmlns_finder.find(e.attrs.as_bytes()).is_none() {
            return 0;
        }
        let mut n = 0;
        for (k, v) in Attrs::new(e.attrs).flatten() {
            if let Some(p) = k.strip_prefix("xmlns:") {
                self.prefixes.push((p.to_owned(), v == FHIR_NS));
                n += 1;
            }
        }
        n
    }

    fn pop_prefixes(&mut self, n: usize) {
        let keep = self.prefixes.len().saturating_sub(n);
        self.prefixes.truncate(keep);
    }

    /// The local name of an element in the FHIR namespace: unprefixed names,
    /// or names whose prefix is bound to `http://hl7.org/fhir`. `None` for a
    /// prefix that is unbound or bound to another namespace.
    #[inline]
    fn resolve<'n>(&self, name: &'n str) -> Option<&'n str> {
        let Some(i) = name.bytes().position(|b| b == b':') else {
            return Some(name);
        };
        let (prefix, local) = (&name[..i], &name[i + 1..]);
        match self.prefixes.iter().rev().find(|(p, _)| p == prefix) {
            Some((_, true)) => Some(local),
            _ => None,
        }
    }

    fn foreign_element(&mut self, name: &str, pos: usize) {
        self.rep.error(
            IssueType::Structure,
            rules::XML_NAMESPACE,
            Some(name),
            pos,
            format!("element `{name}` is not in the FHIR namespace ({FHIR_NS}); it is ignored"),
        );
    }

    fn enter(&mut self, pos: usize) -> R<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.rep.fatal(
                IssueType::TooCostly,
                rules::INPUT_DEPTH,
                pos,
                format!("elements nested deeper than {} levels", self.max_depth),
            ));
        }
        Ok(())
    }

    fn skip(&mut self, empty: bool) -> R<()> {
        if !empty {
            if let Err(e) = self.sc.skip_element() {
                return Err(self.rep.fatal(
                    IssueType::Structure,
                    rules::XML_MALFORMED,
                    e.pos,
                    format!("XML is not well-formed: {}", e.msg),
                ));
            }
        }
        Ok(())
    }

    fn document(&mut self) -> R<Resource> {
        let mut result: Option<Resource> = None;
        loop {
            let (pos, ev) = self.next()?;
            match ev {
                Tok::Start(_) | Tok::Empty(_) if result.is_some() => {
                    return Err(self.rep.fatal(
                        IssueType::Structure,
                        rules::XML_MALFORMED,
                        pos,
                        "more than one root element".into(),
                    ));
                }
                Tok::Start(e) => {
                    result = Some(self.resource_element(&e, false, pos, true)?);
                }
                Tok::Empty(e) => {
                    result = Some(self.resource_element(&e, true, pos, true)?);
                }
                Tok::Eof => break,
                // (the scanner never hands out whitespace-only text)
                Tok::Comment | Tok::PI | Tok::Decl => {}
                _ => {
                    return Err(self.rep.fatal(
                        IssueType::Structure,
                        rules::XML_MALFORMED,
                        pos,
                        "content outside the root element".into(),
                    ))
                }
            }
        }
        match result {
            Some(r) => Ok(r),
            None => Err(self.rep.fatal(
                IssueType::Structure,
                rules::XML_MALFORMED,
                self.src.len(),
                "no root element".into(),
            )),
        }
    }

    /// Reads `<Patient ...>...</Patient>` (the start event already consumed).
    fn resource_element(
        &mut self,
        e: &Tag<'a>,
        empty: bool,
        pos: usize,
        root: bool,
    ) -> R<Resource> {
        let pushed = self.push_prefixes(e);
        let raw_name = e.name;
        let prefixed_fhir = raw_name.contains(':') && self.resolve(raw_name).is_some();
        let name = self.resolve(raw_name).unwrap_or(raw_name);
        let Some(mut res) = Resource::new_of_type(name) else {
            return Err(self.rep.fatal(
                IssueType::NotSupported,
                rules::RESOURCE_TYPE,
                pos,
                format!("`{name}` is not an STU3 resource type"),
            ));
        };
        let ty = res.resource_type();
        if root {
            self.rep.path.push(ty, None, None);
        } else {
            self.rep.path.push("", None, Some(ty));
        }
        self.enter(pos)?;
        let mut saw_ns = false;
        let mut dup = 0u8;
        for a in Attrs::new(e.attrs) {
            let a = self.attr(a, pos, &mut dup)?;
            match a.0 {
                "xmlns" => {
                    saw_ns = true;
                    if a.1 != FHIR_NS {
                        self.rep.error(
                            IssueType::Structure,
                            rules::XML_NAMESPACE,
                            None,
                            pos,
                            format!("namespace is `{}`; FHIR resources use `{FHIR_NS}`", a.1),
                        );
                    }
                }
                other => self.unknown_attr(other, pos),
            }
        }
        if root && !saw_ns && !prefixed_fhir {
            self.rep.error(
                IssueType::Structure,
                rules::XML_NAMESPACE,
                None,
                pos,
                format!("root element has no namespace; FHIR XML requires xmlns=\"{FHIR_NS}\""),
            );
        }
        if raw_name.contains(':') && !prefixed_fhir {
            self.rep.error(
                IssueType::Structure,
                rules::XML_NAMESPACE,
                None,
                pos,
                format!("`{raw_name}` is not in the FHIR namespace ({FHIR_NS})"),
            );
        }
        if !empty {
            self.children(res.as_node_mut())?;
        }
        self.depth -= 1;
        self.rep.path.pop();
        self.pop_prefixes(pushed);
        Ok(res)
    }

    /// Decodes one attribute: known FHIR attribute names come back as
    /// static strings; any other attribute is reported and returned as `""`.
    fn attr(
        &mut self,
        a: Result<(&'a str, &'a str), String>,
        pos: usize,
        dup: &mut u8,
    ) -> R<(&'static str, Cow<'a, str>)> {
        let (k, v) = match a {
            Ok(a) => a,
            Err(e) => {
                return Err(self.rep.fatal(
                    IssueType::Structure,
                    rules::XML_MALFORMED,
                    pos,
                    format!("malformed attribute: {e}"),
                ))
            }
        };
        let (key, bit): (&'static str, u8) = match k {
            "value" => ("value", 1),
            "id" => ("id", 2),
            "url" => ("url", 4),
            "xmlns" => ("xmlns", 8),
            other if other.starts_with("xmlns:") => return Ok(("", Cow::Borrowed(""))),
            other => {
                self.unknown_attr(other, pos);
                return Ok(("", Cow::Borrowed("")));
            }
        };
        if *dup & bit != 0 {
            return Err(self.rep.fatal(
                IssueType::Structure,
                rules::XML_MALFORMED,
                pos,
                format!("duplicate attribute `{key}`"),
            ));
        }
        *dup |= bit;
        if !v.as_bytes().contains(&b'&') {
            return Ok((key, Cow::Borrowed(v)));
        }
        match quick_xml::escape::unescape(v) {
            Ok(v) => Ok((key, v)),
            Err(err) => Err(self.rep.fatal(
                IssueType::Structure,
                rules::XML_MALFORMED,
                pos,
                format!("attribute `{key}`: {err}"),
            )),
        }
    }

    fn unknown_attr(&mut self, name: &str, pos: usize) {
        if name.is_empty() {
            return;
        }
        if name.starts_with("xmlns:") {
            self.rep.error(
                IssueType::Structure,
                rules::XML_NAMESPACE,
                None,
                pos,
                format!("namespace declaration `{name}` is not supported in FHIR XML"),
            );
        } else {
            self.rep.error(
                IssueType::Structure,
                rules::SCHEMA_UNKNOWN,
                Some(&format!("@{name}")),
                pos,
                format!("unknown attribute `{name}`"),
            );
        }
    }

    fn child_ns(&mut self, value: &str, pos: usize) {
        if value != FHIR_NS {
            self.rep.error(
                IssueType::Structure,
                rules::XML_NAMESPACE,
                None,
                pos,
                format!("element is in namespace `{value}`, not the FHIR namespace"),
            );
        }
    }

    /// Reads the children of a complex node up to its end tag.
    fn children(&mut self, node: &mut dyn Node) -> R<()> {
        let desc = node.desc();
        let mut cursor = 0usize;
        let mut prev_cursor = 0usize;
        // the element that last advanced the cursor: (field index, position);
        // its occurrence index is only computed when an issue names it
        let mut last: (usize, usize) = (usize::MAX, 0);
        let mut seen = [0u64; 2];
        loop {
            let (pos, ev) = self.next()?;
            let (e, empty) = match ev {
                Tok::Start(e) => (e, false),
                Tok::Empty(e) => (e, true),
                Tok::End => return Ok(()),
                Tok::Text(_) => {
                    self.rep.error(
                        IssueType::Structure,
                        rules::SCHEMA_CONTENT,
                        None,
                        pos,
                        "text content is not allowed here (FHIR XML carries values in `value` attributes)".into(),
                    );
                    continue;
                }
                Tok::CData => {
                    self.rep.error(
                        IssueType::Structure,
                        rules::SCHEMA_CONTENT,
                        None,
                        pos,
                        "CDATA is not allowed in FHIR XML".into(),
                    );
                    continue;
                }
                Tok::Comment | Tok::PI => continue,
                Tok::Eof => {
                    return Err(self.rep.fatal(
                        IssueType::Structure,
                        rules::XML_MALFORMED,
                        pos,
                        "unexpected end of input".into(),
                    ))
                }
                _ => {
                    return Err(self.rep.fatal(
                        IssueType::Structure,
                        rules::XML_MALFORMED,
                        pos,
                        "unexpected XML declaration".into(),
                    ))
                }
            };
            let pushed = self.push_prefixes(&e);
            let raw_name = e.name;
            // without any prefix declaration in the document, names are used
            // as they are (a prefixed one matches no element and is reported below)
            let resolved = if self.any_prefixes {
                self.resolve(raw_name)
            } else {
                Some(raw_name)
            };
            let Some(name) = resolved else {
                self.foreign_element(raw_name, pos);
                self.skip(empty)?;
                self.pop_prefixes(pushed);
                continue;
            };
            let Some((i, alt)) = field_of(&mut self.fields, desc, name, cursor) else {
                if name.contains(':') {
                    self.foreign_element(name, pos);
                    self.skip(empty)?;
                    self.pop_prefixes(pushed);
                    continue;
                }
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_UNKNOWN,
                    Some(name),
                    pos,
                    format!("`{name}` is not an element of {}", desc.name),
                );
                self.skip(empty)?;
                self.pop_prefixes(pushed);
                continue;
            };
            let f = &desc.fields[i];
            let bit = (seen[i / 64] >> (i % 64)) & 1 == 1;
            if bit && !f.many {
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_REPEATED,
                    Some(name),
                    pos,
                    format!(
                        "`{name}` may appear only once in {}; the repeat is ignored",
                        desc.name
                    ),
                );
                self.skip(empty)?;
                self.pop_prefixes(pushed);
                continue;
            }
            if i >= cursor {
                prev_cursor = cursor;
                cursor = i;
                last = (i, pos);
            } else if i >= prev_cursor && last.0 != i && last.0 < desc.fields.len() {
                // the previous element jumped ahead: it is the misplaced one
                // (no element of its field was read after it, so it is the last one held)
                let (li, lpos) = last;
                let lf = &desc.fields[li];
                let lname = lf.name;
                let extra = if lf.many {
                    format!("{lname}[{}]", count(node, li).saturating_sub(1))
                } else {
                    lname.to_string()
                };
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_ORDER,
                    Some(&extra),
                    lpos,
                    format!(
                        "`{lname}` is out of schema order: it must come after `{name}` in {}",
                        desc.name
                    ),
                );
                cursor = i;
                last = (i, pos);
            } else {
                let after = desc.fields[cursor].name;
                let extra = if f.many {
                    format!("{name}[{}]", count(node, i))
                } else {
                    name.to_string()
                };
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_ORDER,
                    Some(&extra),
                    pos,
                    format!(
                        "`{name}` is out of schema order: it must come before `{after}` in {}",
                        desc.name
                    ),
                );
            }
            seen[i / 64] |= 1 << (i % 64);
            self.field(node, i, alt, &e, empty, pos)?;
            self.pop_prefixes(pushed);
        }
    }

    fn field(
        &mut self,
        node: &mut dyn Node,
        i: usize,
        alt: Option<usize>,
        e: &Tag<'a>,
        empty: bool,
        pos: usize,
    ) -> R<()> {
        let f = &node.desc().fields[i];
        let fname = f.name;
        match (node.field_mut(i), &f.kind) {
            (FieldMut::Prim(slot), FieldKind::Prim(k)) => {
                self.rep.path.push(fname, None, None);
                self.prim(slot.get_or_insert(), *k, e, empty, pos)?;
            }
            (FieldMut::PrimList(v), FieldKind::Prim(k)) => {
                self.rep.path.push(fname, Some(v.len()), None);
                self.prim(v.push_default(), *k, e, empty, pos)?;
            }
            (FieldMut::One(slot), _) => {
                self.rep.path.push(fname, None, None);
                self.complex(slot.get_or_insert(), e, empty, pos)?;
            }
            (FieldMut::Many(v), _) => {
                self.rep.path.push(fname, Some(v.len()), None);
                self.complex(v.push_default(), e, empty, pos)?;
            }
            (FieldMut::Choice(slot), FieldKind::Choice(alts)) => {
                let a = alt.unwrap_or(0);
                let ad = &alts[a];
                self.rep.path.push(fname, None, Some(ad.type_name));
                match slot.set_variant(a) {
                    Some(ChoiceMut::Prim(p)) => {
                        self.prim(p, ad.prim.unwrap_or(PrimKind::String), e, empty, pos)?
                    }
                    Some(ChoiceMut::Node(n)) => self.complex(n, e, empty, pos)?,
                    None => self.skip(empty)?,
                }
            }
            (FieldMut::Resource(slot), _) => {
                self.rep.path.push(fname, None, None);
                if let Some(r) = self.wrapped_resource(empty, pos)? {
                    *slot = Some(r);
                }
            }
            (FieldMut::Resources(v), _) => {
                self.rep.path.push(fname, Some(v.len()), None);
                if let Some(r) = self.wrapped_resource(empty, pos)? {
                    v.push(r);
                }
            }
            (FieldMut::Xhtml(slot), _) => {
                self.rep.path.push(fname, None, None);
                self.skip(empty)?;
                let end = self.pos();
                let div = &self.src[pos..end];
                // namespace, txt-1, txt-2; a div that is not well-formed
                // XHTML (an undefined entity, a duplicate attribute) is not kept
                if self.rep.xhtml(div, None, |offset| pos + offset) {
                    *slot = Some(div.to_owned());
                }
            }
            (FieldMut::Attr(_), _) => {
                self.rep.path.push(fname, None, None);
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_UNKNOWN,
                    None,
                    pos,
                    format!("`{fname}` must be an XML attribute here, not an element"),
                );
                self.skip(empty)?;
            }
            _ => {
                self.rep.path.push(fname, None, None);
                self.skip(empty)?;
            }
        }
        self.rep.path.pop();
        Ok(())
    }

    fn prim(
        &mut self,
        p: &mut dyn PrimNode,
        kind: PrimKind,
        e: &Tag<'a>,
        empty: bool,
        pos: usize,
    ) -> R<()> {
        let mut value_given = false;
        let mut dup = 0u8;
        // fast path for the usual ` value="..."` with nothing to unescape
        if let Some(v) = e.value {
            value_given = true;
            self.rep.set_value(p, kind, v, pos);
        }
        let attrs = if value_given {
            None
        } else {
            Some(Attrs::new(e.attrs))
        };
        for a in attrs.into_iter().flatten() {
            let (k, v) = self.attr(a, pos, &mut dup)?;
            match k {
                "value" => {
                    value_given = true;
                    self.rep.set_value(p, kind, &v, pos);
                }
                "id" => p.set_id(Some(v.into_owned())),
                "xmlns" => self.child_ns(&v, pos),
                "" => {}
                other => self.unknown_attr(other, pos),
            }
        }
        if !empty {
            self.enter(pos)?;
            while let Some((cpos, ce, cempty)) = self.next_child(
                "text content is not allowed in a primitive element (use the `value` attribute)",
            )? {
                let pushed = self.push_prefixes(&ce);
                let raw = ce.name;
                let cname = match self.resolve(raw) {
                    Some(n) => n,
                    None => {
                        self.foreign_element(raw, cpos);
                        self.skip(cempty)?;
                        self.pop_prefixes(pushed);
                        continue;
                    }
                };
                if cname == "extension" {
                    let ext = p.extension_mut();
                    self.rep.path.push("extension", Some(ext.len()), None);
                    ext.push(Extension::default());
                    let last = ext.len() - 1;
                    self.complex(&mut ext[last], &ce, cempty, cpos)?;
                    self.rep.path.pop();
                } else {
                    self.rep.error(
                        IssueType::Structure,
                        rules::SCHEMA_UNKNOWN,
                        Some(cname),
                        cpos,
                        format!(
                            "`{cname}` is not allowed in a primitive element (only `extension`)"
                        ),
                    );
                    self.skip(cempty)?;
                }
                self.pop_prefixes(pushed);
            }
            self.depth -= 1;
        }
        if !value_given && p.extension().is_empty() {
            self.rep.error(
                IssueType::Required,
                rules::PRIMITIVE_EMPTY,
                None,
                pos,
                "primitive element has neither a value nor an extension".into(),
            );
        }
        Ok(())
    }

    /// The next child element of the element being read, `None` at its end
    /// tag. Comments and PIs are skipped (the scanner already drops
    /// whitespace); other content is reported (SCHEMA-CONTENT) with `what`.
    fn next_child(&mut self, what: &str) -> R<Option<(usize, Tag<'a>, bool)>> {
        loop {
            let (cpos, ev) = self.next()?;
            return Ok(Some(match ev {
                Tok::Start(ce) => (cpos, ce, false),
                Tok::Empty(ce) => (cpos, ce, true),
                Tok::End => return Ok(None),
                Tok::Comment | Tok::PI => continue,
                Tok::Eof => {
                    return Err(self.rep.fatal(
                        IssueType::Structure,
                        rules::XML_MALFORMED,
                        cpos,
                        "unexpected end of input".into(),
                    ))
                }
                _ => {
                    self.rep.error(
                        IssueType::Structure,
                        rules::SCHEMA_CONTENT,
                        None,
                        cpos,
                        what.into(),
                    );
                    continue;
                }
            }));
        }
    }

    fn complex(&mut self, n: &mut dyn Node, e: &Tag<'a>, empty: bool, pos: usize) -> R<()> {
        let desc = n.desc();
        let mut dup = 0u8;
        for a in Attrs::new(e.attrs) {
            let (k, v) = self.attr(a, pos, &mut dup)?;
            if k == "xmlns" {
                self.child_ns(&v, pos);
                continue;
            }
            if k.is_empty() {
                continue;
            }
            match crate::node::find_field(desc, k, 0) {
                Some((i, None)) if matches!(desc.fields[i].kind, FieldKind::Attr) => {
                    if let FieldMut::Attr(s) = n.field_mut(i) {
                        *s = Some(crate::Str::from(&*v));
                    }
                }
                _ => self.unknown_attr(k, pos),
            }
        }
        if !empty {
            self.enter(pos)?;
            self.children(n)?;
            self.depth -= 1;
        }
        Ok(())
    }

    /// `<resource><Patient>...</Patient></resource>` (the wrapper start consumed).
    fn wrapped_resource(&mut self, empty: bool, pos: usize) -> R<Option<Resource>> {
        if empty {
            self.rep.error(
                IssueType::Required,
                rules::SCHEMA_CONTENT,
                None,
                pos,
                "resource wrapper holds no resource".into(),
            );
            return Ok(None);
        }
        self.enter(pos)?;
        let mut out = None;
        while let Some((cpos, ce, cempty)) =
            self.next_child("unexpected content in a resource wrapper")?
        {
            let pushed = self.push_prefixes(&ce);
            let raw = ce.name;
            let n = self.resolve(raw).unwrap_or(raw);
            self.pop_prefixes(pushed);
            if out.is_some() {
                self.rep.error(
                    IssueType::Structure,
                    rules::SCHEMA_CONTENT,
                    Some(n),
                    cpos,
                    "a resource wrapper holds exactly one resource".into(),
                );
                self.skip(cempty)?;
            } else if crate::RESOURCE_TYPES.binary_search(&n).is_err() {
                self.rep.error(
                    IssueType::NotSupported,
                    rules::RESOURCE_TYPE,
                    Some(n),
                    cpos,
                    format!("`{n}` is not an STU3 resource type"),
                );
                self.skip(cempty)?;
            } else {
                out = Some(self.resource_element(&ce, cempty, cpos, false)?);
            }
        }
        self.depth -= 1;
        if out.is_none() {
            self.rep.error(
                IssueType::Required,
                rules::SCHEMA_CONTENT,
                None,
                pos,
                "resource wrapper holds no resource".into(),
            );
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------- writer

/// Writes compact FHIR XML (schema order, `xmlns` on the root only).
///
/// ```
/// use ems_stu3::{Patient, Resource, Primitive};
/// let p = Patient { birth_date: Some(Primitive::from("2019-10")), ..Default::default() };
/// let xml = ems_stu3::to_xml(&Resource::from(p));
/// assert_eq!(xml, r#"<Patient xmlns="http://hl7.org/fhir"><birthDate value="2019-10"/></Patient>"#);
/// ```
pub fn to_xml(resource: &Resource) -> String {
    write_root(resource.as_node(), false)
}

/// Writes compact FHIR XML of a resource held as its own type (`&Bundle`,
/// `&Patient`, ...) — the same bytes as [`to_xml`], without moving or
/// copying the value into a [`Resource`].
///
/// ```
/// use ems_stu3::{Patient, Resource, Primitive};
/// let p = Patient { birth_date: Some(Primitive::from("2019-10")), ..Default::default() };
/// assert_eq!(ems_stu3::to_xml_of(&p), ems_stu3::to_xml(&Resource::from(p.clone())));
/// ```
pub fn to_xml_of<R: Node>(resource: &R) -> String
where
    Resource: From<R>,
{
    write_root(resource, false)
}

/// Writes indented FHIR XML of a resource held as its own type (see
/// [`to_xml_of`]).
pub fn to_xml_pretty_of<R: Node>(resource: &R) -> String
where
    Resource: From<R>,
{
    write_root(resource, true)
}

/// Writes indented FHIR XML (two spaces per level).
pub fn to_xml_pretty(resource: &Resource) -> String {
    write_root(resource.as_node(), true)
}

/// Writes resource `n` as the document's root element.
fn write_root(n: &dyn Node, pretty: bool) -> String {
    let mut w = XmlWriter {
        out: String::with_capacity(if pretty { 8192 } else { 4096 }),
        pretty,
        depth: 0,
    };
    w.root(n);
    w.out
}

/// Compact FHIR XML written element by element, for producers that
/// already know their content and its schema order (the `ems-bundle`
/// publishers write wire XML this way without building the model first).
///
/// The writer does not check element order or names: the caller owns that.
/// Attribute values are escaped exactly as [`to_xml`] escapes them, so the
/// same content gives the same bytes as writing the model.
///
/// ```
/// use ems_stu3::{xml::XmlStream, Patient, Primitive};
/// let mut w = XmlStream::with_capacity(128);
/// w.root("Patient");
/// w.start("name");
/// w.value("family", "O'Brien & Sons");
/// w.end("name");
/// w.value("birthDate", "2019-10");
/// w.end("Patient");
/// let p = Patient {
///     name: vec![ems_stu3::HumanName { family: Some(Primitive::from("O'Brien & Sons")), ..Default::default() }],
///     birth_date: Some(Primitive::from("2019-10")),
///     ..Default::default()
/// };
/// assert_eq!(w.as_str(), ems_stu3::to_xml_of(&p));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XmlStream {
    out: String,
}

impl XmlStream {
    /// An empty stream with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> XmlStream {
        XmlStream {
            out: String::with_capacity(capacity),
        }
    }
    /// `<name xmlns="http://hl7.org/fhir">`: the document's root resource.
    pub fn root(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"http://hl7.org/fhir\">");
    }
    /// `<name>`.
    pub fn start(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }
    /// `<name url="url">` (an extension).
    pub fn start_url(&mut self, name: &str, url: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" url=\"");
        escape_attr(&mut self.out, url);
        self.out.push_str("\">");
    }
    /// `</name>`.
    pub fn end(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
    /// `<name/>`: an element with no content.
    pub fn empty(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str("/>");
    }
    /// `<name value="v"/>`: a primitive.
    pub fn value(&mut self, name: &str, v: &str) {
        self.value_open(name, v);
        self.out.push_str("/>");
    }
    /// `<name value="v">`: a primitive with extensions (close it with
    /// [`XmlStream::end`]).
    pub fn value_start(&mut self, name: &str, v: &str) {
        self.value_open(name, v);
        self.out.push('>');
    }
    /// `<name value="n"/>`: an integer or decimal primitive, formatted as
    /// the model formats an `i64` (inline, no heap allocation).
    pub fn value_i64(&mut self, name: &str, n: i64) {
        self.value(name, &compact_str::ToCompactString::to_compact_string(&n));
    }
    fn value_open(&mut self, name: &str, v: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" value=\"");
        escape_attr(&mut self.out, v);
        self.out.push('"');
    }
    /// Puts what `head` holds in front of what this stream holds (a part
    /// that could only be written after the rest, such as a header that
    /// refers to later entries).
    pub fn prepend(&mut self, head: &XmlStream) {
        self.out.insert_str(0, &head.out);
    }
    /// The bytes written so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }
    /// Nothing written yet.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }
    /// The document.
    pub fn into_string(self) -> String {
        self.out
    }
}

struct XmlWriter {
    out: String,
    pretty: bool,
    depth: usize,
}

/// A set of bytes an escaper replaces, with the ways [`none_escaped`]
/// tests for them: one byte, eight bytes at once (SWAR; may report bytes
/// outside the set, which only sends a value down the escaping loop), and
/// a table.
pub(crate) trait EscapeSet {
    /// `b` is in the set.
    fn hit(b: u8) -> bool;
    /// Some byte of the little-endian word `w` may be in the set (never
    /// `false` when one is).
    fn word_hit(w: u64) -> bool;
    /// [`hit`](Self::hit) as a table.
    const TABLE: [bool; 256];
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Some byte of `w` is below `n` (`n <= 128`; exact as a yes/no answer).
#[inline(always)]
pub(crate) const fn word_has_less(w: u64, n: u8) -> bool {
    w.wrapping_sub(LO * n as u64) & !w & HI != 0
}

/// Some byte of `w` is `c`.
#[inline(always)]
pub(crate) const fn word_has(w: u64, c: u8) -> bool {
    word_has_less(w ^ (LO * c as u64), 1)
}

/// The table of a `const fn` byte predicate, computed at compile time.
macro_rules! escape_table {
    ($hit:path) => {{
        let mut t = [false; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $hit(i as u8);
            i += 1;
        }
        t
    }};
}
pub(crate) use escape_table;

/// `b` is one of the bytes [`escape_attr`] replaces.
#[inline(always)]
const fn attr_escaped(b: u8) -> bool {
    (b == b'&')
        | (b == b'<')
        | (b == b'>')
        | (b == b'"')
        | (b == b'\n')
        | (b == b'\r')
        | (b == b'\t')
}

/// The bytes of [`escape_attr`].
struct AttrEscapes;

impl EscapeSet for AttrEscapes {
    #[inline(always)]
    fn hit(b: u8) -> bool {
        attr_escaped(b)
    }
    #[inline(always)]
    fn word_hit(w: u64) -> bool {
        // `\t`, `\n`, `\r` are below 14 (so are other controls, rare)
        word_has_less(w, 14)
            | word_has(w, b'&')
            | word_has(w, b'<')
            | word_has(w, b'>')
            | word_has(w, b'"')
    }
    const TABLE: [bool; 256] = escape_table!(attr_escaped);
}

/// `true` when no byte of `bytes` is in the set `E`. Values of 16 bytes
/// or more are checked 16 bytes at a time without early exit inside a
/// block, so the compiler tests all 16 at once (vector compares), the last
/// block overlapping the one before; 8 to 15 bytes as two overlapping
/// words; shorter values through the table. (Copying a short tail into a
/// padded block instead stalled on the store: a third of the JSON writer's
/// time.) Shared by the XML attribute and JSON string escapers.
#[inline(always)]
pub(crate) fn none_escaped<E: EscapeSet>(bytes: &[u8]) -> bool {
    let n = bytes.len();
    if n >= 16 {
        let mut chunks = bytes.chunks_exact(16);
        chunks.by_ref().all(|c| !block_hit::<E>(c))
            && ((n & 15) == 0 || !block_hit::<E>(&bytes[n - 16..]))
    } else if n >= 8 {
        !word_hit::<E>(&bytes[..8]) && !word_hit::<E>(&bytes[n - 8..])
    } else {
        !bytes.iter().fold(false, |m, &b| m | E::TABLE[b as usize])
    }
}

/// Some byte of the first 16 of `c` is in `E` (all 16 tested).
#[inline(always)]
fn block_hit<E: EscapeSet>(c: &[u8]) -> bool {
    let Ok(c) = <&[u8; 16]>::try_from(&c[..16]) else {
        return true;
    };
    let mut m = 0u8;
    for &b in c {
        m |= E::hit(b) as u8;
    }
    m != 0
}

/// Some byte of the first 8 of `c` may be in `E`.
#[inline(always)]
fn word_hit<E: EscapeSet>(c: &[u8]) -> bool {
    match <[u8; 8]>::try_from(&c[..8]) {
        Ok(w) => E::word_hit(u64::from_le_bytes(w)),
        Err(_) => true,
    }
}

/// Escapes text for an XML attribute value (keeping newlines and tabs as
/// character references, so attribute-value normalisation cannot change them).
pub(crate) fn escape_attr(out: &mut String, s: &str) {
    // Most values need no escaping: check them 16 bytes at a time and copy
    // them whole.
    let clean = none_escaped::<AttrEscapes>(s.as_bytes());
    if clean {
        out.push_str(s);
        return;
    }
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\n' => "&#10;",
            b'\r' => "&#13;",
            b'\t' => "&#9;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

impl XmlWriter {
    fn indent(&mut self) {
        if self.pretty {
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }
    fn nl(&mut self) {
        if self.pretty {
            self.out.push('\n');
        }
    }

    /// The root element of a resource given as its node.
    fn root(&mut self, n: &dyn Node) {
        let name = n.desc().name;
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"http://hl7.org/fhir\"");
        self.body(name, n);
    }

    /// A contained or entry resource (the namespace is inherited).
    fn resource(&mut self, r: &Resource) {
        let name = r.resource_type();
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.body(name, r.as_node());
    }

    /// After `<name attrs`: writes `>children</name>` or `/>`.
    fn body(&mut self, name: &str, n: &dyn Node) {
        let close_at = self.out.len();
        self.out.push('>');
        self.nl();
        let mark = self.out.len();
        self.depth += 1;
        self.fields(n);
        self.depth -= 1;
        if self.out.len() == mark {
            self.out.truncate(close_at);
            self.out.push_str("/>");
        } else {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self.nl();
    }

    fn fields(&mut self, n: &dyn Node) {
        for (i, f) in crate::node::present_fields(n) {
            match n.field(i) {
                FieldRef::Attr(_) => {}
                FieldRef::Prim(Some(p)) => self.prim(f.name, p),
                FieldRef::PrimList(v) => {
                    for k in 0..v.len() {
                        if let Some(p) = v.get(k) {
                            self.prim(f.name, p);
                        }
                    }
                }
                FieldRef::One(Some(c)) => self.complex(f.name, c),
                FieldRef::Many(v) => {
                    for k in 0..v.len() {
                        if let Some(c) = v.get(k) {
                            self.complex(f.name, c);
                        }
                    }
                }
                FieldRef::Choice(Some((a, v))) => {
                    if let FieldKind::Choice(alts) = &f.kind {
                        let cname = alts[a].name;
                        match v {
                            ChoiceRef::Prim(p) => self.prim(cname, p),
                            ChoiceRef::Node(c) => self.complex(cname, c),
                        }
                    }
                }
                FieldRef::Resource(Some(r)) => self.wrapped(f.name, r),
                FieldRef::Resources(v) => {
                    for r in v {
                        self.wrapped(f.name, r);
                    }
                }
                FieldRef::Xhtml(Some(s)) => {
                    self.indent();
                    // a writer never emits what it did not check: a div is
                    // inserted as it is only when it is a well-formed XHTML
                    // div (the readers keep no other); one set in code that
                    // is not goes out as escaped text in an empty div, which
                    // cannot change the document (issue 14, finding 5)
                    if crate::xhtml::check(s, &mut |_| {}).is_ok() {
                        self.out.push_str(s);
                    } else {
                        self.out.push_str("<div xmlns=\"");
                        self.out.push_str(crate::read::XHTML_NS);
                        self.out.push_str("\">");
                        escape_attr(&mut self.out, s);
                        self.out.push_str("</div>");
                    }
                    self.nl();
                }
                _ => {}
            }
        }
    }

    fn wrapped(&mut self, name: &str, r: &Resource) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self.nl();
        self.depth += 1;
        self.resource(r);
        self.depth -= 1;
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self.nl();
    }

    fn prim(&mut self, name: &str, p: &dyn PrimNode) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        if let Some(id) = p.id() {
            self.out.push_str(" id=\"");
            escape_attr(&mut self.out, id);
            self.out.push('"');
        }
        if p.has_value() {
            self.out.push_str(" value=\"");
            match p.value_str() {
                Some(v) => escape_attr(&mut self.out, v),
                None => {
                    let mut v = String::new();
                    p.write_value(&mut v);
                    escape_attr(&mut self.out, &v);
                }
            }
            self.out.push('"');
        }
        let ext = p.extension();
        if ext.is_empty() {
            self.out.push_str("/>");
        } else {
            self.out.push('>');
            self.nl();
            self.depth += 1;
            for x in ext {
                self.complex("extension", x);
            }
            self.depth -= 1;
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self.nl();
    }

    fn complex(&mut self, name: &str, n: &dyn Node) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        let desc = n.desc();
        for (i, f) in desc.fields.iter().enumerate() {
            if let FieldKind::Attr = f.kind {
                if let FieldRef::Attr(Some(v)) = n.field(i) {
                    self.out.push(' ');
                    self.out.push_str(f.name);
                    self.out.push_str("=\"");
                    escape_attr(&mut self.out, v);
                    self.out.push('"');
                }
            }
        }
        self.body(name, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{find_field, TypeDesc};

    /// Every element name of every resource type (and of their datatypes
    /// and backbone elements), cold and warm, from every hint: the cached
    /// lookup answers what the scan answers, also for near misses, with one
    /// cache shared by all types (so slots collide and are replaced).
    #[test]
    fn cached_field_lookup_answers_as_the_scan() {
        let mut descs: Vec<&'static TypeDesc> = crate::RESOURCE_TYPES
            .iter()
            .map(|t| Resource::new_of_type(t).unwrap().as_node().desc())
            .collect();
        descs.extend([
            &crate::CODING_DESC,
            &crate::EXTENSION_DESC,
            &crate::REFERENCE_DESC,
        ]);
        let mut cache = Box::new([(0, 0, 0, u64::MAX); 512]);
        let mut checked = 0;
        for round in 0..2 {
            for d in &descs {
                let mut names: Vec<String> = Vec::new();
                for f in d.fields {
                    names.push(f.name.to_string());
                    if let FieldKind::Choice(alts) = &f.kind {
                        names.extend(alts.iter().map(|a| a.name.to_string()));
                    }
                }
                let misses: Vec<String> = names
                    .iter()
                    .flat_map(|n| [format!("{n}x"), n[..n.len() - 1].to_string()])
                    .collect();
                names.extend(misses);
                for n in &names {
                    for hint in [0, 1, d.fields.len() / 2, d.fields.len()] {
                        assert_eq!(
                            field_of(&mut cache, d, n, hint),
                            find_field(d, n, hint),
                            "{} {n} hint {hint} round {round}",
                            d.name
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}
