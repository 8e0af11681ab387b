//! Test helpers: corpus location and semantic comparison.
#![allow(dead_code)]

use quick_xml::events::Event;

pub use ems_testdata::{files, shared};

/// A canonical XML tree: element name, sorted attributes, trimmed non-empty
/// text; whitespace and comments dropped.
#[derive(Debug, PartialEq)]
pub enum XNode {
    El(String, Vec<(String, String)>, Vec<XNode>),
    Text(String),
}

pub fn canon_xml(s: &str) -> XNode {
    let mut r = quick_xml::Reader::from_str(s);
    let mut stack: Vec<XNode> = vec![XNode::El("#doc".into(), vec![], vec![])];
    loop {
        match r.read_event().expect("well-formed") {
            Event::Start(e) | Event::Empty(e) if false => drop(e),
            Event::Start(e) => {
                stack.push(el(&e));
            }
            Event::Empty(e) => {
                let n = el(&e);
                push(&mut stack, n);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                push(&mut stack, n);
            }
            Event::Text(t) => {
                let t = t.unescape().unwrap().trim().to_string();
                if !t.is_empty() {
                    push(&mut stack, XNode::Text(t));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap()
}

fn el(e: &quick_xml::events::BytesStart) -> XNode {
    let mut attrs: Vec<(String, String)> = e
        .attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.unescape_value().unwrap().into_owned(),
            )
        })
        .collect();
    attrs.sort();
    XNode::El(
        String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
        attrs,
        vec![],
    )
}

fn push(stack: &mut [XNode], n: XNode) {
    if let Some(XNode::El(_, _, c)) = stack.last_mut() {
        c.push(n);
    }
}

/// Drops `xmlns="http://hl7.org/fhir"` declarations (the writer puts the
/// namespace on the root only, and adds it where the input lacked it; tests
/// check the root declaration separately).
pub fn strip_inner_ns(n: &mut XNode, root: bool) {
    if let XNode::El(name, attrs, kids) = n {
        let _ = root;
        if name != "div" {
            attrs.retain(|(k, v)| !(k == "xmlns" && v == "http://hl7.org/fhir"));
        }
        for k in kids {
            strip_inner_ns(k, name == "#doc");
        }
    }
}

/// All JSON number lexemes in `s`, sorted (to check decimals are kept exactly).
pub fn number_lexemes(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_str = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let st = i;
            while i < b.len()
                && (b[i].is_ascii_digit() || matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E'))
            {
                i += 1;
            }
            out.push(s[st..i].to_string());
            continue;
        }
        i += 1;
    }
    out.sort();
    out
}

/// Stable-sorts children by element name: order between different names is
/// ignored, order within a repeated element is kept (used only where the
/// input is known to be out of schema order and the writer fixes it).
pub fn group_by_name(n: &mut XNode) {
    if let XNode::El(_, _, kids) = n {
        kids.sort_by(|a, b| key(a).cmp(key(b)));
        kids.iter_mut().for_each(group_by_name);
    }
    fn key(n: &XNode) -> &str {
        match n {
            XNode::El(name, _, _) => name,
            XNode::Text(_) => "",
        }
    }
}
