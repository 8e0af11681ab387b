//! Checks of `Narrative.div`: well-formed XHTML and FHIR's narrative rules.
//!
//! The XML reader reads the div as part of the document; the JSON reader gets
//! it as a string, which before issue 14 (finding 5) went into the model and
//! out of the XML writer unchecked (`</text><active value="true"/>` injected
//! elements, `<b>unclosed` gave malformed XML). Both readers now run
//! [`check`] on the div:
//!
//! * well-formedness (the reader's scanner plus entity references, duplicate
//!   attributes, one `div` root and nothing else): a failure is
//!   `XHTML-MALFORMED` and the div is not kept — it cannot be represented in
//!   XML, so no writer may emit it;
//! * every element in the XHTML namespace (`XML-NAMESPACE`);
//! * FHIR STU3 invariant txt-1 (`TXT-1`): only the elements and attributes of
//!   its XPath (`Narrative.div` constraint in every STU3 StructureDefinition,
//!   e.g. `../shared/fhir-assets/nhs/StructureDefinitions/*.xml`),
//!   transcribed below — no `script`, `form`, `style` elements, no `on*`
//!   event attributes; decision: `href`/`src` values with a `javascript:`
//!   scheme break it too (the invariant's "no scripts" intent, which the
//!   XPath cannot express);
//! * txt-2 (`TXT-2`): some non-whitespace text or an `img` with `src`.

use crate::read::XHTML_NS;
use crate::scan::{Attrs, Scanner, Tok};
use std::collections::HashMap;

/// Elements txt-1 allows (local names; the invariant's XPath list).
const ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

/// Attributes txt-1 allows (names as written; the invariant's XPath list).
/// Namespace declarations are not attributes in XPath and are not listed.
const ATTRIBUTES: &[&str] = &[
    "abbr",
    "accesskey",
    "align",
    "alt",
    "axis",
    "bgcolor",
    "border",
    "cellhalign",
    "cellpadding",
    "cellspacing",
    "cellvalign",
    "char",
    "charoff",
    "charset",
    "cite",
    "class",
    "colspan",
    "compact",
    "coords",
    "dir",
    "frame",
    "headers",
    "height",
    "href",
    "hreflang",
    "hspace",
    "id",
    "lang",
    "longdesc",
    "name",
    "nowrap",
    "rel",
    "rev",
    "rowspan",
    "rules",
    "scope",
    "shape",
    "span",
    "src",
    "start",
    "style",
    "summary",
    "tabindex",
    "title",
    "type",
    "valign",
    "value",
    "vspace",
    "width",
];

/// A narrative finding: rule id, byte offset in the div, message.
#[derive(Debug, PartialEq)]
pub(crate) struct Finding {
    /// `XHTML-MALFORMED`, `XML-NAMESPACE`, `TXT-1` or `TXT-2`.
    pub rule: &'static str,
    /// Byte offset in the div text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

fn malformed(offset: usize, message: impl Into<String>) -> Finding {
    Finding {
        rule: crate::read::rules::XHTML_MALFORMED,
        offset,
        message: format!("Narrative.div is not well-formed XHTML: {}", message.into()),
    }
}

/// A `javascript:` URL (scheme compared without case, after leading
/// whitespace and control characters, as browsers do).
fn is_script_url(v: &str) -> bool {
    let t = v.trim_start_matches(|c: char| c <= ' ');
    t.get(..11)
        .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
}

/// Checks `div`. Rule findings (namespace, txt-1, txt-2) go to `report`;
/// `Err` when the text is not a well-formed XHTML `div` element (then it
/// must not be kept).
pub(crate) fn check(div: &str, report: &mut dyn FnMut(Finding)) -> Result<(), Finding> {
    let mut sc = Scanner::new(div);
    // prefix -> namespaces in scope (innermost last); per open element the
    // default namespace and the prefixes it declared
    let mut prefixes: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut open: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut root_done = false;
    let mut content = false;
    let mut ns_reported = false;
    let mut names: Vec<&str> = Vec::new();
    loop {
        let (pos, tok) = sc.next().map_err(|e| malformed(e.pos, e.msg))?;
        let tag = match tok {
            Tok::Eof if root_done => break,
            Tok::Eof => return Err(malformed(pos, "no `<div>` element")),
            Tok::Comment => continue,
            Tok::Text(t) => {
                if open.is_empty() {
                    return Err(malformed(pos, "text outside the `<div>` element"));
                }
                if let Err(e) = quick_xml::escape::unescape(t) {
                    return Err(malformed(pos, e.to_string()));
                }
                content = true;
                continue;
            }
            Tok::CData => {
                if open.is_empty() {
                    return Err(malformed(pos, "CDATA outside the `<div>` element"));
                }
                let inner = &div[pos + 9..sc.pos() - 3];
                content |= inner.bytes().any(|b| !b.is_ascii_whitespace());
                continue;
            }
            Tok::PI | Tok::Decl => {
                return Err(malformed(pos, "processing instructions are not allowed"))
            }
            Tok::DocType => return Err(malformed(pos, "a DOCTYPE is not allowed")),
            Tok::End => {
                if let Some((_, declared)) = open.pop() {
                    for p in declared {
                        if let Some(v) = prefixes.get_mut(p) {
                            v.pop();
                        }
                    }
                }
                root_done |= open.is_empty();
                continue;
            }
            Tok::Start(t) | Tok::Empty(t) => (t, matches!(tok, Tok::Empty(_))),
        };
        let (tag, empty) = tag;
        if root_done {
            return Err(malformed(pos, "content after the `<div>` element"));
        }
        // attributes: syntax, entity references, duplicates, declarations
        let mut default_ns = open.last().map_or("", |(d, _)| *d);
        let mut declared = Vec::new();
        names.clear();
        for a in Attrs::new(tag.attrs) {
            let (k, raw) = a.map_err(|m| malformed(pos, m))?;
            let v = quick_xml::escape::unescape(raw).map_err(|e| malformed(pos, e.to_string()))?;
            names.push(k);
            if k == "xmlns" {
                default_ns = raw;
                if v != raw {
                    // a namespace written with references: compare decoded
                    default_ns = if v == XHTML_NS { XHTML_NS } else { "?" };
                }
            } else if let Some(p) = k.strip_prefix("xmlns:") {
                let uri = if v == XHTML_NS { XHTML_NS } else { raw };
                prefixes.entry(p).or_default().push(uri);
                declared.push(p);
            } else {
                if !ATTRIBUTES.contains(&k) {
                    report(Finding {
                        rule: crate::read::rules::TXT_1,
                        offset: pos,
                        message: format!(
                            "attribute `{k}` on `<{}>` is not allowed in a narrative (txt-1)",
                            tag.name
                        ),
                    });
                } else if (k == "href" || k == "src") && is_script_url(&v) {
                    report(Finding {
                        rule: crate::read::rules::TXT_1,
                        offset: pos,
                        message: format!(
                            "`{k}` with a `javascript:` URL is not allowed in a narrative (txt-1)"
                        ),
                    });
                }
                if k == "src" && tag.name.rsplit(':').next() == Some("img") {
                    content = true;
                }
            }
        }
        if names.len() > 1 {
            names.sort_unstable();
            if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(malformed(
                    pos,
                    format!("attribute `{}` appears twice", w[0]),
                ));
            }
        }
        let (prefix, local) = match tag.name.split_once(':') {
            Some((p, l)) => (Some(p), l),
            None => (None, tag.name),
        };
        let ns = match prefix {
            None => default_ns,
            Some(p) => match prefixes.get(p).and_then(|v| v.last()) {
                Some(u) => u,
                None => {
                    return Err(malformed(
                        pos,
                        format!("namespace prefix `{p}` is not declared"),
                    ))
                }
            },
        };
        if open.is_empty() && local != "div" {
            return Err(malformed(
                pos,
                format!("the root element is `<{}>`, not `<div>`", tag.name),
            ));
        }
        if ns != XHTML_NS && !ns_reported {
            ns_reported = true;
            report(Finding {
                rule: crate::read::rules::XML_NAMESPACE,
                offset: pos,
                message: if open.is_empty() {
                    format!("Narrative.div must declare xmlns=\"{XHTML_NS}\"")
                } else {
                    format!(
                        "`<{}>` in Narrative.div is not in the XHTML namespace",
                        tag.name
                    )
                },
            });
        }
        if !ELEMENTS.contains(&local) {
            report(Finding {
                rule: crate::read::rules::TXT_1,
                offset: pos,
                message: format!(
                    "element `<{}>` is not allowed in a narrative (txt-1)",
                    tag.name
                ),
            });
        }
        if empty {
            for p in declared {
                if let Some(v) = prefixes.get_mut(p) {
                    v.pop();
                }
            }
            root_done |= open.is_empty();
        } else {
            let d = if default_ns == XHTML_NS {
                XHTML_NS
            } else {
                default_ns
            };
            open.push((d, declared));
        }
    }
    if !content {
        report(Finding {
            rule: crate::read::rules::TXT_2,
            offset: 0,
            message: "the narrative has no text (txt-2: some non-whitespace content or an image)"
                .into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(div: &str) -> Result<Vec<&'static str>, &'static str> {
        let mut v = Vec::new();
        check(div, &mut |f| v.push(f.rule)).map_err(|f| f.rule)?;
        Ok(v)
    }

    const NS: &str = r#"xmlns="http://www.w3.org/1999/xhtml""#;

    #[test]
    fn narratives() {
        let ok = |d: &str| assert_eq!(rules(d), Ok(vec![]), "{d}");
        ok(&format!("<div {NS}>x</div>"));
        ok(&format!(
            "<div {NS}><p>a &amp; b &#233; &#x20AC;</p><img src=\"x.png\"/></div>"
        ));
        ok(&format!(
            "  <div {NS}><table border=\"1\"><tr><td colspan=\"2\">x</td></tr></table></div>\n"
        ));
        ok(&format!("<!-- c --><div {NS}><![CDATA[ x ]]></div>"));
        ok(r#"<h:div xmlns:h="http://www.w3.org/1999/xhtml"><h:p>x</h:p></h:div>"#);
        ok(&format!("<div {NS}><img src=\"a.png\"/></div>"));
        let one = |d: &str, want: &[&str]| assert_eq!(rules(d).as_deref(), Ok(want), "{d}");
        one(&format!("<div {NS}><script>x()</script></div>"), &["TXT-1"]);
        one(
            &format!("<div {NS}><form><p>x</p></form></div>"),
            &["TXT-1"],
        );
        one(
            &format!("<div {NS}><p onclick=\"x()\">x</p></div>"),
            &["TXT-1"],
        );
        one(
            &format!("<div {NS}><a href=\" JavaScript:x()\">x</a></div>"),
            &["TXT-1"],
        );
        one(&format!("<div {NS}> </div>"), &["TXT-2"]);
        one(&format!("<div {NS}><p/></div>"), &["TXT-2"]);
        one("<div>x</div>", &["XML-NAMESPACE"]);
        one(
            &format!("<div {NS}><p xmlns=\"urn:x\">x</p><p xmlns=\"urn:y\">y</p></div>"),
            &["XML-NAMESPACE"],
        );
        let bad = |d: &str| assert_eq!(rules(d), Err("XHTML-MALFORMED"), "{d}");
        bad("");
        bad("   ");
        bad("x");
        bad(&format!("<div {NS}><b>unclosed</div>"));
        bad(&format!("<div {NS}>x</div></text><active value=\"true\"/>"));
        bad(&format!("<div {NS}>x</div><div {NS}>y</div>"));
        bad(&format!("<div {NS}>x</div>tail"));
        bad(&format!("<p {NS}>x</p>"));
        bad(&format!("<div {NS}>a &nbsp; b</div>"));
        bad(&format!("<div {NS}>a & b</div>"));
        bad(&format!("<div {NS}><p class=\"a\" class=\"b\">x</p></div>"));
        bad(&format!("<div {NS}><p title=\"a<b\">x</p></div>"));
        bad(&format!("<div {NS}><x:p>x</x:p></div>"));
        bad(&format!("<div {NS}><?pi x?>x</div>"));
        bad(&format!("<!DOCTYPE div><div {NS}>x</div>"));
        bad(&format!("<div {NS}>x"));
    }
}
