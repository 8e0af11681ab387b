//! The MESH `Mex-Partnerid` header (digest 7.4): `subscriptionId|tag` pairs
//! joined by `~~~`.

/// One `subscriptionId|tag` pair of a `Mex-Partnerid` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerPair {
    /// The subscription's logical id.
    pub subscription_id: String,
    /// The subscription's `tag` criteria value.
    pub tag: String,
}

/// A `Mex-Partnerid` value that cannot be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Mex-Partnerid pair {index} (`{pair}`): {message}")]
pub struct PartnerIdError {
    /// 0-based index of the bad pair.
    pub index: usize,
    /// The pair's text.
    pub pair: String,
    /// What is wrong.
    pub message: &'static str,
}

/// Parses a `Mex-Partnerid` header value. Pairs are split on `~~~`, each
/// pair on its **first** `|` (tags may contain `|`).
///
/// ```
/// let p = ems_match::parse_partner_id("subA|tagA~~~subB|t|b").unwrap();
/// assert_eq!(p.len(), 2);
/// assert_eq!(p[1].subscription_id, "subB");
/// assert_eq!(p[1].tag, "t|b");
/// ```
pub fn parse_partner_id(value: &str) -> Result<Vec<PartnerPair>, PartnerIdError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split("~~~")
        .enumerate()
        .map(|(index, pair)| {
            let bad = |message| PartnerIdError {
                index,
                pair: pair.to_string(),
                message,
            };
            let (id, tag) = pair
                .split_once('|')
                .ok_or_else(|| bad("no `|` between subscription id and tag"))?;
            if id.is_empty() {
                return Err(bad("empty subscription id"));
            }
            if tag.is_empty() {
                return Err(bad("empty tag"));
            }
            Ok(PartnerPair {
                subscription_id: id.to_string(),
                tag: tag.to_string(),
            })
        })
        .collect()
}

/// Appends `id|tag` to an existing header value (or starts one).
pub fn format_partner_id(existing: Option<&str>, id: &str, tag: &str) -> String {
    match existing {
        Some(e) if !e.is_empty() => format!("{e}~~~{id}|{tag}"),
        _ => format!("{id}|{tag}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn round_trip() {
        let v = format_partner_id(Some(&format_partner_id(None, "a", "x|y")), "b", "z");
        assert_eq!(v, "a|x|y~~~b|z");
        let p = parse_partner_id(&v).unwrap();
        assert_eq!(p[0].tag, "x|y");
        assert!(parse_partner_id("a").is_err());
        assert!(parse_partner_id("|t").is_err());
        assert!(parse_partner_id("a|t~~~").is_err());
        assert!(parse_partner_id("").unwrap().is_empty());
    }
}
