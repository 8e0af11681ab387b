//! A small XML tokenizer for the FHIR XML reader.
//!
//! FHIR XML uses a narrow part of XML: elements, attributes (almost always
//! one `value`), comments, processing instructions, the XML declaration and
//! whitespace. This scanner reads that part in one pass over the
//! (already UTF-8 checked) input, handing out names and attribute regions as
//! slices of it, and checks what the reader relies on for well-formedness:
//! every start tag has its end tag with the same name, attributes are
//! `name="value"` or `name='value'` with no `<` in the value, comments,
//! CDATA sections and processing instructions are closed, and nothing
//! follows an unclosed `<`. Entity and character references in attribute
//! values are decoded (and checked) by `quick_xml::escape::unescape` when
//! the reader takes a value; a DOCTYPE is reported as a token so the reader
//! can reject it without expanding anything.
//!
//! It replaced quick-xml's general tokenizer in the reader because tag
//! bookkeeping there (generic event types, a second pass over attributes,
//! buffer-position arithmetic) was about a third of the typed read time;
//! see docs/benchmarks.md.

/// One token. Positions are byte offsets of the token's first byte.
#[derive(Debug)]
pub(crate) enum Tok<'a> {
    /// `<name ...>`
    Start(Tag<'a>),
    /// `<name .../>`
    Empty(Tag<'a>),
    /// `</name>` (its name matched the innermost open element)
    End,
    /// Character data that is not only whitespace (whitespace-only text
    /// between tags is skipped). The reader only reports where it is (the
    /// text itself is checked by the tests against quick-xml); the narrative
    /// checker decodes it.
    Text(&'a str),
    /// `<![CDATA[...]]>`
    CData,
    /// `<!-- ... -->`
    Comment,
    /// `<?target ...?>` other than the XML declaration
    PI,
    /// `<?xml ...?>`
    Decl,
    /// `<!DOCTYPE ...` (not read further)
    DocType,
    /// End of input with every element closed.
    Eof,
}

/// A start tag: its name and the text between the name and `>` / `/>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag<'a> {
    /// Element name as written (may carry a prefix).
    pub name: &'a str,
    /// The attribute part of the tag (starts with whitespace when not empty).
    pub attrs: &'a str,
    /// The value when the attribute part is exactly ` value="..."` with
    /// nothing to unescape (the usual FHIR primitive), found while scanning.
    pub value: Option<&'a str>,
}

/// A well-formedness error: where and what.
#[derive(Debug)]
pub(crate) struct ScanError {
    /// Byte offset.
    pub pos: usize,
    /// Description.
    pub msg: String,
}

fn err<T>(pos: usize, msg: impl Into<String>) -> Result<T, ScanError> {
    Err(ScanError {
        pos,
        msg: msg.into(),
    })
}

/// Element name bytes: 0 = part of the name, 1 = ends it (whitespace, `/`,
/// `>`), 2 = not allowed (`<`, `=`, quotes, `&`).
static NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b' ' as usize] = 1;
    t[b'\t' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[b'\n' as usize] = 1;
    t[b'/' as usize] = 1;
    t[b'>' as usize] = 1;
    t[b'<' as usize] = 2;
    t[b'=' as usize] = 2;
    t[b'"' as usize] = 2;
    t[b'\'' as usize] = 2;
    t[b'&' as usize] = 2;
    t
};

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The tokenizer state: input, position and the names of open elements.
pub(crate) struct Scanner<'a> {
    src: &'a str,
    pos: usize,
    /// (start, end) of the names of the open elements, innermost last.
    open: Vec<(usize, usize)>,
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `src`.
    pub fn new(src: &'a str) -> Self {
        Scanner {
            src,
            pos: 0,
            open: Vec::with_capacity(32),
        }
    }

    /// Offset of the next unread byte.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next token and the offset where it starts.
    pub fn next(&mut self) -> Result<(usize, Tok<'a>), ScanError> {
        let b = self.src.as_bytes();
        loop {
            let start = self.pos;
            if start >= b.len() {
                if let Some(&(s, e)) = self.open.last() {
                    let name = &self.src[s..e];
                    return err(b.len(), format!("end of input inside `<{name}>`"));
                }
                return Ok((start, Tok::Eof));
            }
            if b[start] != b'<' {
                // indentation between tags: skip it without a search
                let mut i = start;
                while i < b.len() && is_ws(b[i]) {
                    i += 1;
                }
                if i < b.len() && b[i] == b'<' {
                    self.pos = i;
                    continue;
                }
                let end = memchr::memchr(b'<', &b[i..]).map_or(b.len(), |j| i + j);
                self.pos = end;
                if b[start..end].iter().all(|&c| is_ws(c)) {
                    continue;
                }
                return Ok((start, Tok::Text(&self.src[start..end])));
            }
            return self.markup(start).map(|t| (start, t));
        }
    }

    fn markup(&mut self, lt: usize) -> Result<Tok<'a>, ScanError> {
        let b = self.src.as_bytes();
        match b.get(lt + 1) {
            Some(b'/') => self.end_tag(lt),
            Some(b'!') => {
                let rest = &b[lt + 2..];
                if rest.starts_with(b"--") {
                    self.pos = self.find_after(lt + 4, b"-->", lt, "comment")?;
                    Ok(Tok::Comment)
                } else if rest.starts_with(b"[CDATA[") {
                    self.pos = self.find_after(lt + 9, b"]]>", lt, "CDATA section")?;
                    Ok(Tok::CData)
                } else if rest.starts_with(b"DOCTYPE") {
                    self.pos = b.len();
                    Ok(Tok::DocType)
                } else {
                    err(lt, "`<!` starts neither a comment, CDATA nor DOCTYPE")
                }
            }
            Some(b'?') => {
                let after = self.find_after(lt + 2, b"?>", lt, "processing instruction")?;
                let target = &b[lt + 2..after - 2];
                self.pos = after;
                let decl = target.starts_with(b"xml") && target.get(3).is_none_or(|&c| is_ws(c));
                Ok(if decl { Tok::Decl } else { Tok::PI })
            }
            Some(_) => self.start_tag(lt),
            None => err(lt, "input ends after `<`"),
        }
    }

    fn find_after(
        &self,
        from: usize,
        close: &[u8],
        lt: usize,
        what: &str,
    ) -> Result<usize, ScanError> {
        let b = self.src.as_bytes();
        match b.get(from..).and_then(|r| memchr::memmem::find(r, close)) {
            Some(i) => Ok(from + i + close.len()),
            None => err(lt, format!("{what} is not closed")),
        }
    }

    /// Name: up to whitespace, `/`, `>` (or the end); must not be empty and
    /// must not contain markup characters.
    #[inline]
    fn name_end(&self, from: usize, lt: usize) -> Result<usize, ScanError> {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < b.len() {
            match NAME_CLASS[b[i] as usize] {
                0 => i += 1,
                1 => break,
                _ => return err(i, "invalid character in an element name"),
            }
        }
        if i == from {
            return err(lt, "element name missing after `<`");
        }
        Ok(i)
    }

    fn start_tag(&mut self, lt: usize) -> Result<Tok<'a>, ScanError> {
        let b = self.src.as_bytes();
        let name_end = self.name_end(lt + 1, lt)?;
        if let Some(t) = self.simple_value_tag(lt, name_end) {
            return Ok(t);
        }
        // find the closing `>` outside quoted attribute values (attribute
        // names are short: a plain loop beats a vector search there)
        let mut i = name_end;
        loop {
            match b.get(i) {
                None => return err(lt, "start tag is not closed"),
                Some(b'>') => break,
                Some(&q @ (b'"' | b'\'')) => match memchr::memchr(q, &b[i + 1..]) {
                    Some(j) => i += j + 2,
                    None => return err(i, "attribute value is not closed"),
                },
                Some(_) => i += 1,
            }
        }
        let empty = b[i - 1] == b'/' && i > name_end;
        let attrs_end = if empty { i - 1 } else { i };
        self.pos = i + 1;
        let tag = Tag {
            name: &self.src[lt + 1..name_end],
            attrs: &self.src[name_end..attrs_end],
            value: None,
        };
        if empty {
            Ok(Tok::Empty(tag))
        } else {
            self.open.push((lt + 1, name_end));
            Ok(Tok::Start(tag))
        }
    }

    /// `<name value="...">` or `<name value="..."/>` with a value free of
    /// `&` and `<`: the tag and its value in one step; `None` for anything
    /// else (the general path then scans the tag).
    #[inline]
    fn simple_value_tag(&mut self, lt: usize, name_end: usize) -> Option<Tok<'a>> {
        let b = self.src.as_bytes();
        let vs = name_end + 8;
        if b.get(name_end..vs)? != b" value=\"" {
            return None;
        }
        let ve = vs + memchr::memchr(b'"', &b[vs..])?;
        let value = &b[vs..ve];
        if memchr::memchr2(b'&', b'<', value).is_some() {
            return None;
        }
        let (empty, end) = match b.get(ve + 1)? {
            b'>' => (false, ve + 2),
            b'/' if b.get(ve + 2) == Some(&b'>') => (true, ve + 3),
            _ => return None,
        };
        self.pos = end;
        let tag = Tag {
            name: &self.src[lt + 1..name_end],
            attrs: &self.src[name_end..ve + 1],
            value: Some(&self.src[vs..ve]),
        };
        Some(if empty {
            Tok::Empty(tag)
        } else {
            self.open.push((lt + 1, name_end));
            Tok::Start(tag)
        })
    }

    fn end_tag(&mut self, lt: usize) -> Result<Tok<'a>, ScanError> {
        let b = self.src.as_bytes();
        let name_end = self.name_end(lt + 2, lt)?;
        let mut i = name_end;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'>') {
            return err(lt, "end tag is not closed");
        }
        let name = &self.src[lt + 2..name_end];
        match self.open.pop() {
            Some((s, e)) if crate::node::short_eq(&b[s..e], name.as_bytes()) => {
                self.pos = i + 1;
                Ok(Tok::End)
            }
            Some((s, e)) => {
                let open = &self.src[s..e];
                err(
                    lt,
                    format!("end tag `</{name}>` does not match the start tag `<{open}>`"),
                )
            }
            None => err(lt, format!("end tag `</{name}>` has no start tag")),
        }
    }

    /// After a [`Tok::Start`], consumes everything up to and including its
    /// end tag (still checking well-formedness).
    pub fn skip_element(&mut self) -> Result<(), ScanError> {
        let depth = self.open.len();
        loop {
            let (pos, t) = self.next()?;
            match t {
                Tok::End if self.open.len() < depth => return Ok(()),
                Tok::Eof => return err(pos, "unexpected end of input"),
                _ => {}
            }
        }
    }
}

/// Iterates over the attributes of a tag's attribute region, checking their
/// syntax: `(name, raw value)`; the value is not yet unescaped.
pub(crate) struct Attrs<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Attrs<'a> {
    /// Attributes of `region` ([`Tag::attrs`]).
    pub fn new(region: &'a str) -> Self {
        Attrs { s: region, i: 0 }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<(&'a str, &'a str), String>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        let mut i = self.i;
        let ws_start = i;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            self.i = i;
            return None;
        }
        // stop for good after an error
        self.i = b.len();
        if i == ws_start {
            return Some(Err("attributes must be separated by whitespace".into()));
        }
        let ks = i;
        while i < b.len() && !is_ws(b[i]) && b[i] != b'=' {
            if matches!(b[i], b'"' | b'\'' | b'<' | b'>' | b'/') {
                return Some(Err("invalid character in an attribute name".into()));
            }
            i += 1;
        }
        let key = &self.s[ks..i];
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        if b.get(i) != Some(&b'=') {
            return Some(Err(format!("attribute `{key}` has no value")));
        }
        i += 1;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let q = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Some(Err(format!("value of attribute `{key}` is not quoted"))),
        };
        let vs = i + 1;
        let Some(len) = memchr::memchr(q, &b[vs..]) else {
            return Some(Err(format!("value of attribute `{key}` is not closed")));
        };
        let value = &self.s[vs..vs + len];
        if value.as_bytes().contains(&b'<') {
            return Some(Err(format!("`<` in the value of attribute `{key}`")));
        }
        self.i = vs + len + 1;
        Some(Ok((key, value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Result<Vec<String>, ScanError> {
        let mut sc = Scanner::new(s);
        let mut out = Vec::new();
        loop {
            let (p, t) = sc.next()?;
            out.push(match t {
                Tok::Start(t) => format!("{p}<{}|{}|{:?}>", t.name, t.attrs, t.value),
                Tok::Empty(t) => format!("{p}<{}|{}|{:?}/>", t.name, t.attrs, t.value),
                Tok::End => format!("{p}</>"),
                Tok::Text(t) => format!("{p}T{t:?}"),
                Tok::Eof => return Ok(out),
                other => format!("{p}{other:?}"),
            });
        }
    }

    #[test]
    fn tokens_and_positions() {
        let t = toks("<?xml version=\"1.0\"?>\n<a x='1>2' y=\"/>\">\n <b value=\"v\"/><!-- c -->t<?pi x?></a >").unwrap();
        assert_eq!(
            t,
            [
                "0Decl",
                "22<a| x='1>2' y=\"/>\"|None>",
                "42<b| value=\"v\"|Some(\"v\")/>",
                "56Comment",
                "66T\"t\"",
                "67PI",
                "75</>"
            ]
        );
    }

    #[test]
    fn well_formedness_errors() {
        for bad in [
            "<a>",
            "<a></b>",
            "</a>",
            "<a",
            "<",
            "<a x=\"1></a>",
            "<!-- x",
            "<![CDATA[ x",
            "<?pi",
            "<!ELEMENT x>",
            "< a/>",
            "<a></a b>",
            "<a<b/>",
        ] {
            assert!(toks(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(matches!(
            Scanner::new("<!DOCTYPE x []><a/>").next().unwrap().1,
            Tok::DocType
        ));
    }

    #[test]
    fn attributes() {
        let a: Vec<_> = Attrs::new(" value=\"a b\"  id = 'x'\n").collect();
        assert_eq!(a, [Ok(("value", "a b")), Ok(("id", "x"))]);
        for bad in [
            " v",
            " v=1",
            " v=\"1",
            " a=\"1\"b=\"2\"",
            " v=\"<\"",
            " \"=1",
        ] {
            assert!(
                Attrs::new(bad).any(|r| r.is_err()),
                "{bad:?} must be rejected"
            );
        }
        assert_eq!(Attrs::new("").count(), 0);
        assert_eq!(Attrs::new("  ").count(), 0);
    }

    #[test]
    fn simple_value_fast_path_only_for_plain_values() {
        fn v(s: &str) -> (Option<&str>, &str) {
            match Scanner::new(s).next().unwrap().1 {
                Tok::Start(t) | Tok::Empty(t) => (t.value, t.attrs),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(v("<a value=\"x y\"/>"), (Some("x y"), " value=\"x y\""));
        assert_eq!(v("<a value=\"\">"), (Some(""), " value=\"\""));
        for general in [
            "<a value='x'/>",
            "<a value=\"a&amp;b\"/>",
            "<a value=\"x\" id=\"i\"/>",
            "<a  value=\"x\"/>",
            "<a value=\"x\" />",
            "<a id=\"i\"/>",
        ] {
            assert_eq!(v(general).0, None, "{general}");
        }
        // the general path still reads them
        assert_eq!(v("<a value=\"x\" />").1, " value=\"x\" ");
        assert!(toks("<a value=\"x</a>").is_err());
        assert!(toks("<a value=\"x\"").is_err());
    }

    #[test]
    fn skip_element_checks_nesting() {
        let mut sc = Scanner::new("<a><b><c/></b><d></d></a><e/>");
        assert!(matches!(sc.next().unwrap().1, Tok::Start(_)));
        sc.skip_element().unwrap();
        assert!(matches!(sc.next().unwrap().1, Tok::Empty(t) if t.name == "e"));
        let mut sc = Scanner::new("<a><b></a>");
        sc.next().unwrap();
        assert!(sc.skip_element().is_err());
    }

    /// Differential check against quick-xml on every NEMS corpus file: the
    /// same element structure (start/empty/end, names), the same attribute
    /// (name, raw value) pairs, and the same non-whitespace text.
    #[test]
    fn agrees_with_quick_xml_on_the_corpus() {
        use quick_xml::events::Event;
        let mut total = 0;
        for bytes in ems_testdata::nems_xml() {
            let src = std::str::from_utf8(&bytes).unwrap();
            let mut ours = Vec::new();
            let mut sc = Scanner::new(src);
            loop {
                match sc.next().unwrap().1 {
                    Tok::Start(t) | Tok::Empty(t) => {
                        let attrs: Vec<_> = Attrs::new(t.attrs).map(Result::unwrap).collect();
                        ours.push(format!("<{} {attrs:?}", t.name));
                    }
                    Tok::End => ours.push("</".into()),
                    Tok::Text(t) => ours.push(format!("T{}", t.trim())),
                    Tok::Eof => break,
                    _ => {}
                }
            }
            let mut theirs = Vec::new();
            let mut r = quick_xml::Reader::from_str(src);
            loop {
                match r.read_event().unwrap() {
                    Event::Start(e) | Event::Empty(e) => {
                        let attrs: Vec<_> = e
                            .attributes()
                            .map(|a| {
                                let a = a.unwrap();
                                (
                                    std::str::from_utf8(a.key.as_ref()).unwrap().to_owned(),
                                    std::str::from_utf8(&a.value).unwrap().to_owned(),
                                )
                            })
                            .collect();
                        let attrs: Vec<(&str, &str)> = attrs
                            .iter()
                            .map(|(k, v)| (k.as_str(), v.as_str()))
                            .collect();
                        theirs.push(format!(
                            "<{} {attrs:?}",
                            std::str::from_utf8(e.name().as_ref()).unwrap()
                        ));
                    }
                    Event::End(_) => theirs.push("</".into()),
                    Event::Text(t) => {
                        let t = std::str::from_utf8(&t).unwrap().trim().to_owned();
                        if !t.is_empty() {
                            theirs.push(format!("T{t}"));
                        }
                    }
                    Event::Eof => break,
                    _ => {}
                }
            }
            assert!(!ours.is_empty());
            total += ours.len();
            assert_eq!(ours, theirs);
        }
        assert!(total > 5000, "{total} tokens compared");
    }
}
