//! The MESH `Mex-Partnerid` header (ems-match, digest 7.4).

use crate::{ensure, Check};
use ems::matching::{format_partner_id, parse_partner_id, PartnerPair};

/// Characters of a FHIR logical id (`[A-Za-z0-9\-\.]{1,64}`): what a
/// subscription id can be.
const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";
/// Characters of a criteria `tag` (`[A-Za-z0-9_\-|,]{1,100}`, digest 6).
const TAG_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_|,";

/// Two properties on the same bytes.
///
/// * Identity: the bytes describe pairs (split on `~`, then on the first
///   `|`; every byte mapped into the id or tag alphabet, lengths capped at
///   64 and 100); joining them with `format_partner_id` and parsing gives
///   exactly those pairs.
/// * Stability: the bytes as a header value (lossy UTF-8) parse without
///   panicking; when they parse, formatting the pairs again and parsing
///   gives the same pairs, and error indices name an existing pair.
pub fn partner_id(data: &[u8]) -> Check {
    let pairs = pairs_of(data);
    if let Some(h) = &header(&pairs) {
        let back = parse_partner_id(h);
        ensure(back.as_ref() == Ok(&pairs), "format-parse-identity", || {
            format!("{pairs:?} formats as {h:?}, which parses to {back:?}")
        })?;
    }

    let text = String::from_utf8_lossy(data);
    match parse_partner_id(&text) {
        Ok(parsed) => {
            let again = header(&parsed);
            let reparsed = parse_partner_id(again.as_deref().unwrap_or(""));
            ensure(
                reparsed.as_ref() == Ok(&parsed),
                "parse-format-parse-stable",
                || {
                    format!("{text:?} parses to {parsed:?}; formatted again as {again:?} it parses to {reparsed:?}")
                },
            )
        }
        Err(e) => ensure(
            e.index < text.trim().split("~~~").count(),
            "error-index-inside",
            || {
                format!(
                    "{text:?}: error names pair {} of {}",
                    e.index,
                    text.split("~~~").count()
                )
            },
        ),
    }
}

/// The header value of `pairs`, each appended with `format_partner_id` as
/// the matcher does; `None` for no pairs.
fn header(pairs: &[PartnerPair]) -> Option<String> {
    pairs.iter().fold(None, |h, p| {
        Some(format_partner_id(h.as_deref(), &p.subscription_id, &p.tag))
    })
}

/// The pairs the bytes describe (see [`partner_id`]).
fn pairs_of(data: &[u8]) -> Vec<PartnerPair> {
    let map = |raw: &[u8], alphabet: &[u8], max: usize| -> String {
        raw.iter()
            .take(max)
            .map(|b| alphabet[*b as usize % alphabet.len()] as char)
            .collect()
    };
    data.split(|b| *b == b'~')
        .filter_map(|chunk| {
            let bar = chunk.iter().position(|b| *b == b'|')?;
            let (id, tag) = (&chunk[..bar], &chunk[bar + 1..]);
            (!id.is_empty() && !tag.is_empty()).then(|| PartnerPair {
                subscription_id: map(id, ID_CHARS, 64),
                tag: map(tag, TAG_CHARS, 100),
            })
        })
        .collect()
}
