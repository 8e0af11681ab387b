//! The subscription criteria parser (ems-match).

use crate::{ensure, Check};
use ems::matching::Criteria;

/// On any string: `parse` succeeds exactly when `check` finds nothing, and
/// otherwise fails with `check`'s first error; every error points at a
/// character boundary inside the string and carries a rule id of the rule
/// table; a parsed value's `Display` re-parses to an equal value and is its
/// own canonical form.
pub fn criteria(data: &[u8]) -> Check {
    let s = String::from_utf8_lossy(data);
    let parsed = Criteria::parse(&s);
    let checked = Criteria::check(&s);
    match &parsed {
        Ok(_) => ensure(checked.is_empty(), "parse-check-agree", || {
            format!("{s:?} parses but check reports {checked:?}")
        })?,
        Err(e) => ensure(checked.first() == Some(e), "parse-check-agree", || {
            format!(
                "{s:?}: parse fails with {e:?}, check's first error is {:?}",
                checked.first()
            )
        })?,
    }
    for e in &checked {
        ensure(
            e.offset <= s.len() && s.is_char_boundary(e.offset),
            "error-offset-inside",
            || {
                format!(
                    "{s:?}: error offset {} is not a character boundary of the string: {e:?}",
                    e.offset
                )
            },
        )?;
        ensure(
            ems::profiles::rule(e.rule).is_some(),
            "rule-id-registered",
            || format!("{s:?}: criteria error with a rule id missing from the rule table: {e:?}"),
        )?;
    }
    if let Ok(c) = parsed {
        let shown = c.to_string();
        let again = Criteria::parse(&shown);
        ensure(again.as_ref() == Ok(&c), "display-reparses-equal", || {
            format!("{s:?} displays as {shown:?}, which parses to {again:?}, not {c:?}")
        })?;
        if let Ok(a) = again {
            let twice = a.to_string();
            ensure(twice == shown, "display-canonical", || {
                format!("{s:?}: Display is not stable: {shown:?} then {twice:?}")
            })?;
        }
    }
    Ok(())
}
