//! The shapes of ContactPoint values: one description for the contact-point
//! check of the walk (`CONTACTPOINT-VALUE`) and the table rows that fix a
//! contact (`MessageHeader.source.contact`).

/// Whether `value` has the shape of a `system` contact (`email`: an
/// address; `phone`, `fax`, `sms`: digits with `+ -()`); other systems have
/// no shape.
pub(crate) fn shape_ok(system: &str, value: &str) -> bool {
    match system {
        "email" => looks_like_email(value),
        "phone" | "fax" | "sms" => looks_like_phone(value),
        _ => true,
    }
}

fn looks_like_email(v: &str) -> bool {
    let v = v.strip_prefix("mailto:").unwrap_or(v);
    match v.split_once('@') {
        Some((a, d)) => {
            !a.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !d.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn looks_like_phone(v: &str) -> bool {
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    digits >= 6 && v.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)) && !v.is_empty()
}
