//! FHIR JSON: a pull parser straight into the model, and a writer.
//!
//! FHIR JSON rules handled: `resourceType`, `_name` siblings that carry the
//! `id` and `extension` of primitives, arrays of primitives aligned with
//! `null`, decimals kept exactly as written, integer ranges checked, unknown
//! properties reported with their location. STU3 `fhir_comments` are skipped.

use crate::issue::IssueType;
use crate::node::{ChoiceMut, ChoiceRef, FieldKind, FieldMut, FieldRef, Node, PrimVec};
use crate::primitive::{JsonKind, PrimKind, PrimNode, PrimView};
use crate::read::{precheck, rules, Parsed, ReadError, ReadOptions, Reporter};
use crate::{Extension, Resource};
use std::borrow::Cow;

/// Reads a resource from FHIR JSON with default [`ReadOptions`].
///
/// ```
/// let json = br#"{"resourceType":"Observation","status":"final",
///   "code":{"text":"x"},"valueQuantity":{"value":1.50}}"#;
/// let parsed = ems_stu3::from_json(json).unwrap();
/// assert!(ems_stu3::to_json(&parsed.resource).contains("1.50"));
/// ```
pub fn from_json(input: &[u8]) -> Result<Parsed, ReadError> {
    read(input, &ReadOptions::default())
}

type R<T> = Result<T, ReadError>;

enum Scalar<'a> {
    Str(Cow<'a, str>),
    Num(&'a str),
    Bool(bool),
    Null,
}

struct P<'a> {
    b: &'a [u8],
    s: &'a str,
    pos: usize,
    rep: Reporter<'a>,
    depth: usize,
    max_depth: usize,
}

pub(crate) fn read(input: &[u8], opts: &ReadOptions) -> Result<Parsed, ReadError> {
    let s = precheck(input, opts)?;
    let mut p = P {
        b: s.as_bytes(),
        s,
        pos: 0,
        rep: Reporter::new(s.as_bytes()),
        depth: 0,
        max_depth: opts.max_depth,
    };
    let s_pos = {
        p.ws();
        p.pos
    };
    if p.peek() != Some(b'{') {
        return Err(p.malformed("a FHIR JSON resource must be an object"));
    }
    let res = match p.resource(true)? {
        Some(r) => r,
        None => {
            return Err(p.rep.fatal(
                IssueType::Structure,
                rules::RESOURCE_TYPE,
                s_pos,
                "no usable `resourceType`".into(),
            ))
        }
    };
    p.ws();
    if p.pos != p.b.len() {
        return Err(p.malformed("content after the resource object"));
    }
    Ok(Parsed {
        resource: res,
        outcome: p.rep.finish(),
    })
}

impl<'a> P<'a> {
    fn malformed(&mut self, msg: &str) -> ReadError {
        let pos = self.pos;
        self.rep.fatal(
            IssueType::Structure,
            rules::JSON_MALFORMED,
            pos,
            format!("JSON is not well-formed: {msg}"),
        )
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> R<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            let m = format!("expected `{}`", c as char);
            Err(self.malformed(&m))
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            let pos = self.pos;
            return Err(self.rep.fatal(
                IssueType::TooCostly,
                rules::INPUT_DEPTH,
                pos,
                format!("JSON nested deeper than {} levels", self.max_depth),
            ));
        }
        Ok(())
    }

    fn string(&mut self) -> R<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return Err(self.malformed("expected a string"));
        }
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.b.get(self.pos) {
                None => return Err(self.malformed("unterminated string")),
                Some(b'"') => {
                    let s = &self.s[start..self.pos];
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(c) if *c < 0x20 => return Err(self.malformed("control character in string")),
                Some(_) => self.pos += 1,
            }
        }
        let mut out = String::from(&self.s[start..self.pos]);
        loop {
            match self.b.get(self.pos) {
                None => return Err(self.malformed("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let e = self.b.get(self.pos).copied();
                    self.pos += 1;
                    match e {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if self.b.get(self.pos) == Some(&b'\\')
                                    && self.b.get(self.pos + 1) == Some(&b'u')
                                {
                                    self.pos += 2;
                                    let lo = self.hex4()?;
                                    if !(0xDC00..0xE000).contains(&lo) {
                                        return Err(self.malformed("invalid surrogate pair"));
                                    }
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                } else {
                                    None
                                }
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => out.push(c),
                                None => return Err(self.malformed("invalid \\u escape")),
                            }
                        }
                        _ => return Err(self.malformed("invalid escape")),
                    }
                }
                Some(c) if *c < 0x20 => return Err(self.malformed("control character in string")),
                Some(_) => {
                    let start = self.pos;
                    while let Some(c) = self.b.get(self.pos) {
                        if *c == b'"' || *c == b'\\' || *c < 0x20 {
                            break;
                        }
                        self.pos += 1;
                    }
                    out.push_str(&self.s[start..self.pos]);
                }
            }
        }
    }

    fn hex4(&mut self) -> R<u32> {
        let h = self
            .b
            .get(self.pos..self.pos + 4)
            .and_then(|h| std::str::from_utf8(h).ok());
        match h.and_then(|h| u32::from_str_radix(h, 16).ok()) {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.malformed("invalid \\u escape")),
        }
    }

    fn number(&mut self) -> R<&'a str> {
        let start = self.pos;
        let b = self.b;
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == int_start || (b[int_start] == b'0' && i - int_start > 1) {
            self.pos = i;
            return Err(self.malformed("invalid number"));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let f = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == f {
                self.pos = i;
                return Err(self.malformed("invalid number"));
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let f = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == f {
                self.pos = i;
                return Err(self.malformed("invalid number"));
            }
        }
        self.pos = i;
        Ok(&self.s[start..i])
    }

    fn literal(&mut self, word: &str) -> R<()> {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.malformed("invalid literal"))
        }
    }

    /// Reads a scalar; `Ok(None)` (position unchanged) when the next value is
    /// an object or array.
    fn scalar(&mut self) -> R<Option<Scalar<'a>>> {
        match self.peek() {
            Some(b'"') => Ok(Some(Scalar::Str(self.string()?))),
            Some(b't') => self.literal("true").map(|_| Some(Scalar::Bool(true))),
            Some(b'f') => self.literal("false").map(|_| Some(Scalar::Bool(false))),
            Some(b'n') => self.literal("null").map(|_| Some(Scalar::Null)),
            Some(b'-' | b'0'..=b'9') => Ok(Some(Scalar::Num(self.number()?))),
            Some(b'{' | b'[') => Ok(None),
            _ => Err(self.malformed("expected a value")),
        }
    }

    fn skip_value(&mut self) -> R<()> {
        match self.peek() {
            Some(b'{') => {
                self.pos += 1;
                self.enter()?;
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.string()?;
                        self.expect(b':')?;
                        self.skip_value()?;
                        if self.comma_or(b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            Some(b'[') => {
                self.pos += 1;
                self.enter()?;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.skip_value()?;
                        if self.comma_or(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            _ => self.scalar().map(|_| ()),
        }
    }

    /// After a member: consumes `,` (returns false) or `close` (returns true).
    fn comma_or(&mut self, close: u8) -> R<bool> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.malformed(if close == b'}' {
                "expected `,` or `}`"
            } else {
                "expected `,` or `]`"
            })),
        }
    }

    fn wrong_shape(&mut self, pos: usize, extra: Option<&str>, want: &str) -> R<()> {
        self.rep.error(
            IssueType::Structure,
            rules::SCHEMA_CONTENT,
            extra,
            pos,
            format!("expected {want}"),
        );
        self.skip_value()
    }

    /// Reads a resource object (at `{`); `None` when its type is unusable
    /// (reported, skipped).
    fn resource(&mut self, root: bool) -> R<Option<Resource>> {
        let start = self.pos;
        // find resourceType
        self.expect(b'{')?;
        let mut rt: Option<Cow<'a, str>> = None;
        if self.peek() != Some(b'}') {
            self.enter()?;
            loop {
                let key = self.string()?;
                self.expect(b':')?;
                if key == "resourceType" {
                    if let Some(Scalar::Str(s)) = self.scalar()? {
                        rt = Some(s);
                    }
                    break;
                }
                self.skip_value()?;
                if self.comma_or(b'}')? {
                    break;
                }
            }
            self.depth -= 1;
        }
        self.pos = start;
        let res = rt.as_deref().and_then(Resource::new_of_type);
        let Some(mut res) = res else {
            let msg = match rt {
                Some(t) => format!("`{t}` is not an STU3 resource type"),
                None => "object has no `resourceType`".to_string(),
            };
            if root {
                return Err(self.rep.fatal(
                    IssueType::NotSupported,
                    rules::RESOURCE_TYPE,
                    start,
                    msg,
                ));
            }
            self.rep.error(
                IssueType::NotSupported,
                rules::RESOURCE_TYPE,
                None,
                start,
                msg,
            );
            self.skip_value()?;
            return Ok(None);
        };
        let ty = res.resource_type();
        if root {
            self.rep.path.push(ty, None, None);
        } else {
            self.rep.path.push("", None, Some(ty));
        }
        self.object(res.as_node_mut(), true)?;
        self.rep.path.pop();
        Ok(Some(res))
    }

    /// Reads an object into `node` (at `{`).
    fn object(&mut self, node: &mut dyn Node, is_resource: bool) -> R<()> {
        let desc = node.desc();
        self.expect(b'{')?;
        self.enter()?;
        let mut hint = 0usize;
        let mut seen = [0u64; 2];
        let mut seen_u = [0u64; 2];
        let mut prims = [0u64; 2];
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let kpos = self.pos;
            let key = self.string()?;
            self.expect(b':')?;
            let vpos = {
                self.ws();
                self.pos
            };
            let key: &str = &key;
            if (is_resource && key == "resourceType") || key == "fhir_comments" {
                self.skip_value()?;
            } else {
                let (under, name) = match key.strip_prefix('_') {
                    Some(n) => (true, n),
                    None => (false, key),
                };
                match crate::node::find_field(desc, name, hint) {
                    None => {
                        self.rep.error(
                            IssueType::Structure,
                            rules::SCHEMA_UNKNOWN,
                            Some(key),
                            kpos,
                            format!("`{key}` is not a property of {}", desc.name),
                        );
                        self.skip_value()?;
                    }
                    Some((i, alt)) => {
                        hint = i;
                        let set = if under { &mut seen_u } else { &mut seen };
                        let bit = (set[i / 64] >> (i % 64)) & 1 == 1;
                        set[i / 64] |= 1 << (i % 64);
                        if bit {
                            self.rep.error(
                                IssueType::Structure,
                                rules::SCHEMA_REPEATED,
                                Some(key),
                                kpos,
                                format!("property `{key}` appears more than once"),
                            );
                            self.skip_value()?;
                        } else {
                            let is_prim = self.member(node, i, alt, under, key, vpos)?;
                            if is_prim {
                                prims[i / 64] |= 1 << (i % 64);
                            }
                        }
                    }
                }
            }
            if self.comma_or(b'}')? {
                break;
            }
        }
        self.depth -= 1;
        // primitives with neither value nor extension
        for (i, f) in desc.fields.iter().enumerate() {
            if (prims[i / 64] >> (i % 64)) & 1 == 0 {
                continue;
            }
            // a value that was given but could not be kept is reported as
            // PRIMITIVE-FORMAT / SCHEMA-CONTENT already
            let value_given = (seen[i / 64] >> (i % 64)) & 1 == 1;
            let empty_at: Option<Option<usize>> = match node.field(i) {
                _ if value_given && !f.many => None,
                FieldRef::Prim(Some(p)) if !p.has_value() && p.extension().is_empty() => Some(None),
                FieldRef::PrimList(v) => (0..v.len())
                    .find(|&k| {
                        v.get(k)
                            .is_some_and(|p| !p.has_value() && p.extension().is_empty())
                    })
                    .map(Some),
                FieldRef::Choice(Some((_, ChoiceRef::Prim(p))))
                    if !p.has_value() && p.extension().is_empty() =>
                {
                    Some(None)
                }
                _ => None,
            };
            if let Some(idx) = empty_at {
                let mut loc = f.name.to_string();
                if let Some(k) = idx {
                    loc.push_str(&format!("[{k}]"));
                }
                self.rep.error(
                    IssueType::Required,
                    rules::PRIMITIVE_EMPTY,
                    Some(&loc),
                    self.pos.saturating_sub(1),
                    "primitive has neither a value nor an extension".into(),
                );
            }
        }
        Ok(())
    }

    /// Reads one member value; returns `true` when the element is a primitive.
    fn member(
        &mut self,
        node: &mut dyn Node,
        i: usize,
        alt: Option<usize>,
        under: bool,
        key: &str,
        vpos: usize,
    ) -> R<bool> {
        let f = &node.desc().fields[i];
        let fname = f.name;
        let prim_kind = match &f.kind {
            FieldKind::Prim(k) => Some(*k),
            FieldKind::Choice(alts) => alts[alt.unwrap_or(0)].prim,
            _ => None,
        };
        if under && prim_kind.is_none() {
            self.rep.error(
                IssueType::Structure,
                rules::SCHEMA_UNKNOWN,
                Some(key),
                vpos,
                format!("`{key}`: only primitive elements have `_` properties"),
            );
            self.skip_value()?;
            return Ok(false);
        }
        match node.field_mut(i) {
            FieldMut::Attr(slot) => match self.scalar()? {
                Some(Scalar::Str(s)) => *slot = Some(crate::Str::from(&*s)),
                _ => {
                    self.pos = vpos;
                    self.wrong_shape(vpos, Some(key), "a string")?
                }
            },
            FieldMut::Prim(slot) => {
                self.rep.path.push(fname, None, None);
                let k = prim_kind.unwrap_or(PrimKind::String);
                if under {
                    self.prim_ext(slot.get_or_insert(), vpos)?;
                } else {
                    self.prim_value(slot.get_or_insert(), k, vpos)?;
                }
                self.rep.path.pop();
            }
            FieldMut::PrimList(v) => {
                let k = prim_kind.unwrap_or(PrimKind::String);
                if self.peek() != Some(b'[') {
                    self.wrong_shape(vpos, Some(key), "an array")?;
                    return Ok(true);
                }
                self.pos += 1;
                self.enter()?;
                let mut idx = 0usize;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let ipos = self.pos;
                        if self.b[self.pos..].starts_with(b"null") {
                            self.pos += 4;
                            if idx >= v.len() {
                                v.ensure(idx);
                            }
                        } else {
                            self.rep.path.push(fname, Some(idx), None);
                            if under {
                                self.prim_ext(v.ensure(idx), ipos)?;
                            } else {
                                self.prim_value(v.ensure(idx), k, ipos)?;
                            }
                            self.rep.path.pop();
                        }
                        idx += 1;
                        if self.comma_or(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            FieldMut::One(slot) => {
                if self.peek() != Some(b'{') {
                    self.wrong_shape(vpos, Some(key), "an object")?;
                    return Ok(false);
                }
                self.rep.path.push(fname, None, None);
                self.object(slot.get_or_insert(), false)?;
                self.rep.path.pop();
            }
            FieldMut::Many(v) => {
                if self.peek() != Some(b'[') {
                    self.wrong_shape(vpos, Some(key), "an array")?;
                    return Ok(false);
                }
                self.pos += 1;
                self.enter()?;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        let ipos = self.pos;
                        if self.peek() != Some(b'{') {
                            self.wrong_shape(ipos, Some(key), "an object")?;
                        } else {
                            self.rep.path.push(fname, Some(v.len()), None);
                            self.object(v.push_default(), false)?;
                            self.rep.path.pop();
                        }
                        if self.comma_or(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            FieldMut::Choice(slot) => {
                let a = alt.unwrap_or(0);
                let alts = match &f.kind {
                    FieldKind::Choice(alts) => *alts,
                    _ => &[],
                };
                let ad = &alts[a];
                if let Some((cur, _)) = slot.get() {
                    if cur != a {
                        self.rep.error(
                            IssueType::Structure,
                            rules::SCHEMA_REPEATED,
                            Some(key),
                            vpos,
                            format!("`{key}`: only one `{fname}[x]` alternative may be given"),
                        );
                        self.skip_value()?;
                        return Ok(false);
                    }
                }
                self.rep.path.push(fname, None, Some(ad.type_name));
                let keep = matches!(slot.get(), Some((cur, _)) if cur == a);
                let target = if keep {
                    slot.get_mut()
                } else {
                    slot.set_variant(a)
                };
                match target {
                    Some(ChoiceMut::Prim(p)) => {
                        let k = ad.prim.unwrap_or(PrimKind::String);
                        if under {
                            self.prim_ext(p, vpos)?;
                        } else {
                            self.prim_value(p, k, vpos)?;
                        }
                    }
                    Some(ChoiceMut::Node(n)) => {
                        if self.peek() != Some(b'{') {
                            self.rep.path.pop();
                            self.wrong_shape(vpos, Some(key), "an object")?;
                            return Ok(false);
                        }
                        self.object(n, false)?;
                    }
                    None => self.skip_value()?,
                }
                self.rep.path.pop();
                return Ok(ad.prim.is_some());
            }
            FieldMut::Resource(slot) => {
                if self.peek() != Some(b'{') {
                    self.wrong_shape(vpos, Some(key), "a resource object")?;
                    return Ok(false);
                }
                self.rep.path.push(fname, None, None);
                if let Some(r) = self.resource(false)? {
                    *slot = Some(r);
                }
                self.rep.path.pop();
            }
            FieldMut::Resources(v) => {
                if self.peek() != Some(b'[') {
                    self.wrong_shape(vpos, Some(key), "an array")?;
                    return Ok(false);
                }
                self.pos += 1;
                self.enter()?;
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        let ipos = self.pos;
                        if self.peek() != Some(b'{') {
                            self.wrong_shape(ipos, Some(key), "a resource object")?;
                        } else {
                            self.rep.path.push(fname, Some(v.len()), None);
                            if let Some(r) = self.resource(false)? {
                                v.push(r);
                            }
                            self.rep.path.pop();
                        }
                        if self.comma_or(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
            }
            FieldMut::Xhtml(slot) => match self.scalar()? {
                Some(Scalar::Str(s)) => {
                    // checked before it is kept: a div is XML the XML writer
                    // inserts as it is (issue 14, finding 5)
                    if self.rep.xhtml(&s, Some(key), |_| vpos) {
                        *slot = Some(s.into_owned());
                    }
                }
                _ => {
                    self.pos = vpos;
                    self.wrong_shape(vpos, Some(key), "an XHTML string")?
                }
            },
        }
        Ok(prim_kind.is_some())
    }

    fn prim_value(&mut self, p: &mut dyn PrimNode, kind: PrimKind, vpos: usize) -> R<()> {
        let sc = match self.scalar()? {
            Some(s) => s,
            None => {
                return self.wrong_shape(vpos, None, &format!("a {} value", kind.fhir_name()));
            }
        };
        let (text, ok_shape): (Cow<'_, str>, bool) = match (&sc, kind.json_kind()) {
            (Scalar::Str(s), JsonKind::String) => (Cow::Borrowed(&**s), true),
            (Scalar::Num(n), JsonKind::Number) => (Cow::Borrowed(*n), true),
            (Scalar::Bool(b), JsonKind::Bool) => {
                (Cow::Borrowed(if *b { "true" } else { "false" }), true)
            }
            (Scalar::Null, _) => (Cow::Borrowed(""), false),
            (Scalar::Str(s), _) => (Cow::Borrowed(&**s), false),
            (Scalar::Num(n), _) => (Cow::Borrowed(*n), false),
            (Scalar::Bool(b), _) => (Cow::Borrowed(if *b { "true" } else { "false" }), false),
        };
        if !ok_shape {
            let want = match kind.json_kind() {
                JsonKind::Bool => "a JSON boolean",
                JsonKind::Number => "a JSON number",
                JsonKind::String => "a JSON string",
            };
            self.rep.error(
                IssueType::Structure,
                rules::SCHEMA_CONTENT,
                None,
                vpos,
                format!("{} value must be {want}", kind.fhir_name()),
            );
            if matches!(sc, Scalar::Null) {
                return Ok(());
            }
        }
        self.rep.set_value(p, kind, &text, vpos);
        Ok(())
    }

    /// `_name`: `{"id": ..., "extension": [...]}`.
    fn prim_ext(&mut self, p: &mut dyn PrimNode, vpos: usize) -> R<()> {
        if self.peek() != Some(b'{') {
            return self.wrong_shape(vpos, None, "an object with `id` and/or `extension`");
        }
        self.pos += 1;
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            let kpos = self.pos;
            let key = self.string()?;
            self.expect(b':')?;
            match &*key {
                "id" => match self.scalar()? {
                    Some(Scalar::Str(s)) => p.set_id(Some(s.into_owned())),
                    _ => self.wrong_shape(kpos, Some("id"), "a string")?,
                },
                "extension" => {
                    if self.peek() != Some(b'[') {
                        self.wrong_shape(kpos, Some("extension"), "an array")?;
                    } else {
                        self.pos += 1;
                        self.enter()?;
                        if self.peek() == Some(b']') {
                            self.pos += 1;
                        } else {
                            loop {
                                let ext = p.extension_mut();
                                self.rep.path.push("extension", Some(ext.len()), None);
                                ext.push(Extension::default());
                                let last = ext.len() - 1;
                                self.object(&mut ext[last], false)?;
                                self.rep.path.pop();
                                if self.comma_or(b']')? {
                                    break;
                                }
                            }
                        }
                        self.depth -= 1;
                    }
                }
                "fhir_comments" => self.skip_value()?,
                other => {
                    let other = other.to_owned();
                    self.rep.error(
                        IssueType::Structure,
                        rules::SCHEMA_UNKNOWN,
                        Some(&other),
                        kpos,
                        format!("`{other}` is not allowed in a primitive's `_` object"),
                    );
                    self.skip_value()?;
                }
            }
            if self.comma_or(b'}')? {
                break;
            }
        }
        self.depth -= 1;
        Ok(())
    }
}

// ---------------------------------------------------------------- writer

/// Writes compact FHIR JSON.
///
/// ```
/// use ems_stu3::{Patient, Resource, Primitive};
/// let p = Patient { birth_date: Some(Primitive::from("2019-10")), ..Default::default() };
/// assert_eq!(ems_stu3::to_json(&Resource::from(p)),
///            r#"{"resourceType":"Patient","birthDate":"2019-10"}"#);
/// ```
pub fn to_json(resource: &Resource) -> String {
    write_root(resource.as_node(), false)
}

/// Writes compact FHIR JSON of a resource held as its own type (`&Bundle`,
/// `&Patient`, ...) — the same bytes as [`to_json`], without moving or
/// copying the value into a [`Resource`].
///
/// ```
/// use ems_stu3::{Patient, Resource, Primitive};
/// let p = Patient { birth_date: Some(Primitive::from("2019-10")), ..Default::default() };
/// assert_eq!(ems_stu3::to_json_of(&p), ems_stu3::to_json(&Resource::from(p.clone())));
/// ```
pub fn to_json_of<R: Node>(resource: &R) -> String
where
    Resource: From<R>,
{
    write_root(resource, false)
}

/// Writes indented FHIR JSON of a resource held as its own type (see
/// [`to_json_of`]).
pub fn to_json_pretty_of<R: Node>(resource: &R) -> String
where
    Resource: From<R>,
{
    write_root(resource, true)
}

/// Writes indented FHIR JSON (two spaces per level).
pub fn to_json_pretty(resource: &Resource) -> String {
    write_root(resource.as_node(), true)
}

/// Writes resource `n` as the document (pretty output ends with a newline).
fn write_root(n: &dyn Node, pretty: bool) -> String {
    let mut w = JsonWriter {
        out: String::with_capacity(if pretty { 8192 } else { 4096 }),
        pretty,
        depth: 0,
        scratch: String::new(),
    };
    w.object(n, Some(n.desc().name));
    if pretty {
        w.out.push('\n');
    }
    w.out
}

struct JsonWriter {
    out: String,
    pretty: bool,
    depth: usize,
    /// Formatting space for the values that are not stored as text
    /// (integers, booleans).
    scratch: String,
}

/// `b` must be escaped in a JSON string.
#[inline(always)]
const fn json_escaped(b: u8) -> bool {
    (b < 0x20) | (b == b'"') | (b == b'\\')
}

/// The bytes of [`escape_json`].
struct JsonEscapes;

impl crate::xml::EscapeSet for JsonEscapes {
    #[inline(always)]
    fn hit(b: u8) -> bool {
        json_escaped(b)
    }
    #[inline(always)]
    fn word_hit(w: u64) -> bool {
        use crate::xml::{word_has, word_has_less};
        word_has_less(w, 0x20) | word_has(w, b'"') | word_has(w, b'\\')
    }
    const TABLE: [bool; 256] = crate::xml::escape_table!(json_escaped);
}

/// Appends `s` as a JSON string literal.
#[inline]
pub(crate) fn escape_json(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    // most values need no escaping: checked a block or a word at a time,
    // copied whole
    if crate::xml::none_escaped::<JsonEscapes>(s.as_bytes()) {
        out.push_str(s);
    } else {
        escape_json_slow(out, s);
    }
    out.push('"');
}

/// The escaping loop of [`escape_json`] for text that needs it.
fn escape_json_slow(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if !json_escaped(b) {
            continue;
        }
        out.push_str(&s[last..i]);
        last = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out.push_str(&s[last..]);
}

impl JsonWriter {
    #[inline]
    fn newline(&mut self) {
        if self.pretty {
            self.out.push('\n');
            for _ in 0..self.depth {
                self.out.push_str("  ");
            }
        }
    }

    /// Starts a member: separator, newline, `"key":`.
    #[inline(always)]
    fn key(&mut self, first: &mut bool, under: bool, name: &str) {
        self.out.reserve(name.len() + 6);
        if !*first {
            self.out.push(',');
        }
        *first = false;
        self.newline();
        // single characters are pushed, not copied (a copy is a call)
        self.out.push('"');
        if under {
            self.out.push('_');
        }
        self.out.push_str(name);
        self.out.push('"');
        self.out.push(':');
        if self.pretty {
            self.out.push(' ');
        }
    }

    #[inline]
    fn open(&mut self, c: char) {
        self.out.push(c);
        self.depth += 1;
    }

    #[inline]
    fn close(&mut self, c: char, empty: bool) {
        self.depth -= 1;
        if !empty {
            self.newline();
        }
        self.out.push(c);
    }

    #[inline]
    fn item_sep(&mut self, first: &mut bool) {
        if !*first {
            self.out.push(',');
        }
        *first = false;
        self.newline();
    }

    fn resource(&mut self, r: &Resource) {
        self.object(r.as_node(), Some(r.resource_type()));
    }

    fn object(&mut self, n: &dyn Node, resource_type: Option<&str>) {
        self.open('{');
        let mut first = true;
        if let Some(rt) = resource_type {
            self.key(&mut first, false, "resourceType");
            escape_json(&mut self.out, rt);
        }
        for (i, f) in crate::node::present_fields(n) {
            match n.field(i) {
                FieldRef::Attr(Some(v)) => {
                    self.key(&mut first, false, f.name);
                    escape_json(&mut self.out, v);
                }
                FieldRef::Prim(Some(p)) => {
                    let k = match f.kind {
                        FieldKind::Prim(k) => k,
                        _ => PrimKind::String,
                    };
                    self.prim(&mut first, f.name, p, k);
                }
                FieldRef::PrimList(v) if !v.is_empty() => {
                    let k = match f.kind {
                        FieldKind::Prim(k) => k,
                        _ => PrimKind::String,
                    };
                    self.prim_list(&mut first, f.name, v, k);
                }
                FieldRef::One(Some(c)) => {
                    self.key(&mut first, false, f.name);
                    self.object(c, None);
                }
                FieldRef::Many(v) if !v.is_empty() => {
                    self.key(&mut first, false, f.name);
                    self.open('[');
                    let mut f2 = true;
                    for j in 0..v.len() {
                        if let Some(c) = v.get(j) {
                            self.item_sep(&mut f2);
                            self.object(c, None);
                        }
                    }
                    self.close(']', false);
                }
                FieldRef::Choice(Some((a, v))) => {
                    if let FieldKind::Choice(alts) = &f.kind {
                        let ad = &alts[a];
                        match v {
                            ChoiceRef::Prim(p) => self.prim(
                                &mut first,
                                ad.name,
                                p,
                                ad.prim.unwrap_or(PrimKind::String),
                            ),
                            ChoiceRef::Node(c) => {
                                self.key(&mut first, false, ad.name);
                                self.object(c, None);
                            }
                        }
                    }
                }
                FieldRef::Resource(Some(r)) => {
                    self.key(&mut first, false, f.name);
                    self.resource(r);
                }
                FieldRef::Resources(v) if !v.is_empty() => {
                    self.key(&mut first, false, f.name);
                    self.open('[');
                    let mut f2 = true;
                    for r in v {
                        self.item_sep(&mut f2);
                        self.resource(r);
                    }
                    self.close(']', false);
                }
                FieldRef::Xhtml(Some(s)) => {
                    self.key(&mut first, false, f.name);
                    escape_json(&mut self.out, s);
                }
                _ => {}
            }
        }
        self.close('}', first);
    }

    /// A repeating primitive: the value array (`null` where an item has no
    /// value) and the `_name` array (`null` where an item has no id or
    /// extension).
    fn prim_list(&mut self, first: &mut bool, name: &str, v: &dyn PrimVec, k: PrimKind) {
        let items = || (0..v.len()).filter_map(|j| v.get(j));
        let any_value = items().any(|p| p.has_value());
        if any_value {
            self.key(first, false, name);
            self.open('[');
            let mut f2 = true;
            for p in items() {
                self.item_sep(&mut f2);
                let view = p.view();
                if view.has_value {
                    self.value(p, &view, k);
                } else {
                    self.out.push_str("null");
                }
            }
            self.close(']', false);
        }
        // without a value array the `_` array carries the items, empty ones
        // as `{}` like a single empty primitive: a list of values that could
        // not be kept (`[0]` for positiveInt) is not dropped (issue 14,
        // finding 6)
        if !any_value || items().any(|p| p.view().has_extra()) {
            self.key(first, true, name);
            self.open('[');
            let mut f2 = true;
            for p in items() {
                self.item_sep(&mut f2);
                let view = p.view();
                if !any_value || view.has_extra() {
                    self.prim_ext(&view);
                } else {
                    self.out.push_str("null");
                }
            }
            self.close(']', false);
        }
    }

    /// Writes the value of `p` (which has one).
    fn value(&mut self, p: &dyn PrimNode, view: &PrimView<'_>, k: PrimKind) {
        let kind = k.json_kind();
        // text-backed values (strings, codes, dates, decimals) without a copy
        if let Some(s) = view.text {
            match kind {
                // a writer never emits what it did not check: an invalid
                // decimal kept from the input (`1 OR 1`, `1,"unit":"mg"`)
                // goes out as a JSON string, which reads back as the same
                // invalid value and cannot add members (issue 14, finding
                // 4). The decimal grammar is JSON's number grammar.
                JsonKind::Number if crate::lexical::is_decimal(s) => self.out.push_str(s),
                _ => escape_json(&mut self.out, s),
            }
            return;
        }
        self.scratch.clear();
        let mut s = std::mem::take(&mut self.scratch);
        p.write_value(&mut s);
        match kind {
            JsonKind::Number if crate::lexical::is_decimal(&s) => self.out.push_str(&s),
            JsonKind::Bool if s == "true" || s == "false" => self.out.push_str(&s),
            _ => escape_json(&mut self.out, &s),
        }
        self.scratch = s;
    }

    fn prim(&mut self, first: &mut bool, name: &str, p: &dyn PrimNode, k: PrimKind) {
        let view = p.view();
        if view.has_value {
            self.key(first, false, name);
            self.value(p, &view, k);
        }
        if view.has_extra() {
            self.key(first, true, name);
            self.prim_ext(&view);
        } else if !view.has_value {
            // an empty primitive (reported when read): keep it visible
            self.key(first, true, name);
            self.out.push_str("{}");
        }
    }

    /// `{"id": ..., "extension": [...]}` of a primitive.
    fn prim_ext(&mut self, p: &PrimView<'_>) {
        self.open('{');
        let mut first = true;
        if let Some(id) = p.id {
            self.key(&mut first, false, "id");
            escape_json(&mut self.out, id);
        }
        let ext = p.extension;
        if !ext.is_empty() {
            self.key(&mut first, false, "extension");
            self.open('[');
            let mut f2 = true;
            for x in ext {
                self.item_sep(&mut f2);
                self.object(x, None);
            }
            self.close(']', false);
        }
        self.close('}', first);
    }
}

#[cfg(test)]
mod tests {
    use super::escape_json;

    /// The byte-by-byte escaper `escape_json` replaced (its output is the
    /// contract: `\"`, `\\`, `\n`, `\r`, `\t`, other controls as `\u00xx`).
    fn reference(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Every byte class at every position of strings around the 16-byte
    /// blocks of the fast check.
    #[test]
    fn escaping_matches_the_byte_by_byte_reference() {
        let specials = [
            "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{8}", "\u{7f}", "é", "€", "𝄞", "a",
        ];
        for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 47] {
            for sp in specials {
                for at in 0..=len {
                    let s = format!("{}{sp}{}", "x".repeat(at), "y".repeat(len - at));
                    let mut out = String::new();
                    escape_json(&mut out, &s);
                    assert_eq!(out, reference(&s), "{s:?}");
                    let back: String = serde_json::from_str(&out).unwrap();
                    assert_eq!(back, s);
                }
            }
        }
    }
}
