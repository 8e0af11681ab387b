//! The entry fullUrls of one event message, looked up by every reference
//! the validator resolves (the header's focus, the table rows, the profile
//! layer's `resolve`, the walk's unresolved-reference check).
//!
//! A message has a handful of entries, so the usual lookup is a scan of a
//! short list comparing a one-word tag (the length and last eight bytes) per
//! entry and the text once: about half the instructions of hashing the
//! 45-byte `urn:uuid:` URL and probing a map. Past [`SCAN_MAX`] distinct
//! URLs the list is backed by a map, so a hostile message with many entries
//! and many references stays linear.

use crate::fnv::FnvMap;

/// Distinct URLs up to which lookups scan the list.
const SCAN_MAX: usize = 16;

/// A map from fullUrl to entry index with `HashMap`'s semantics (a repeated
/// URL keeps the index inserted last; `len` counts distinct URLs).
#[derive(Default)]
pub(crate) struct FullUrls<'a> {
    /// Distinct URLs in first-insertion order, with their tags and the
    /// index inserted last.
    list: Vec<(u64, &'a str, usize)>,
    /// All of `list`, once it holds more than [`SCAN_MAX`] URLs.
    map: FnvMap<&'a str, usize>,
}

/// The length and the last eight bytes of `s` in one word (a filter before
/// comparing the text; equal strings have equal tags).
#[inline(always)]
fn tag(s: &str) -> u64 {
    let b = s.as_bytes();
    let n = b.len();
    let w = match n.checked_sub(8) {
        Some(i) => {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..]);
            u64::from_le_bytes(w)
        }
        None => b.iter().fold(0, |a, &c| (a << 8) | c as u64),
    };
    w ^ (n as u64).rotate_right(8)
}

impl<'a> FullUrls<'a> {
    /// Room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Self {
        FullUrls {
            list: Vec::with_capacity(n.min(SCAN_MAX + 1)),
            map: FnvMap::default(),
        }
    }

    /// Maps `url` to entry `k`; returns the index it mapped to before.
    pub(crate) fn insert(&mut self, url: &'a str, k: usize) -> Option<usize> {
        if self.list.len() > SCAN_MAX {
            let old = self.map.insert(url, k);
            if old.is_none() {
                self.list.push((tag(url), url, k));
            }
            return old;
        }
        let t = tag(url);
        if let Some(e) = self.list.iter_mut().find(|e| e.0 == t && e.1 == url) {
            return Some(std::mem::replace(&mut e.2, k));
        }
        self.list.push((t, url, k));
        if self.list.len() > SCAN_MAX {
            self.map.reserve(self.list.len());
            self.map.extend(self.list.iter().map(|e| (e.1, e.2)));
        }
        None
    }

    /// The entry index `url` maps to.
    #[inline]
    pub(crate) fn get(&self, url: &str) -> Option<usize> {
        if self.list.len() > SCAN_MAX {
            return self.map.get(url).copied();
        }
        let t = tag(url);
        self.list
            .iter()
            .find(|e| e.0 == t && e.1 == url)
            .map(|e| e.2)
    }

    /// The number of distinct URLs.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

impl<'a> FromIterator<(&'a str, usize)> for FullUrls<'a> {
    fn from_iter<I: IntoIterator<Item = (&'a str, usize)>>(it: I) -> Self {
        let mut m = FullUrls::default();
        for (u, k) in it {
            m.insert(u, k);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Inserts and lookups agree with a `HashMap` (returned previous
    /// indices, last index wins, distinct count) below and above the scan
    /// limit, for URLs that share tails, lengths and prefixes.
    #[test]
    fn agrees_with_a_hash_map() {
        let mut urls: Vec<String> = Vec::new();
        for i in 0..3 * SCAN_MAX {
            urls.push(format!("urn:uuid:5d5845f3-398f-474b-af59-{i:012}"));
            urls.push(format!("x{i}"));
            urls.push(format!("{i}"));
        }
        urls.push(String::new());
        urls.push("urn:uuid:5d5845f3-398f-474b-af59-000000000001".into());
        for n in [0, 1, 5, SCAN_MAX, SCAN_MAX + 1, urls.len()] {
            let mut ours = FullUrls::default();
            let mut std = HashMap::new();
            for (k, u) in urls
                .iter()
                .take(n)
                .chain(urls.iter().take(n / 2))
                .enumerate()
            {
                assert_eq!(ours.insert(u, k), std.insert(u.as_str(), k), "{u}");
                assert_eq!(ours.len(), std.len());
            }
            for u in &urls {
                assert_eq!(ours.get(u), std.get(u.as_str()).copied(), "{n} {u}");
                let near = format!("{u}0");
                assert_eq!(ours.get(&near), std.get(near.as_str()).copied());
            }
        }
    }
}
