//! [`TailIndex`]: finding a string among a fixed list by an integer key of
//! its length and last bytes, then one string comparison. Made for lists of
//! URLs and names that share long prefixes (code-system URLs, codes,
//! resource type names), where a binary search compares the shared prefix
//! at every step.

/// An index of a fixed list of strings by a key of their length and last
/// sixteen bytes. Equal strings have equal keys; candidates with the key of
/// the string sought are confirmed by the caller's exact comparison.
///
/// ```
/// let names = ["Patient", "Organization", "MessageHeader"];
/// let ix = ems_nhs::lookup::TailIndex::new(names);
/// assert_eq!(ix.find("Organization", |i| names[i] == "Organization"), Some(1));
/// assert_eq!(ix.find("Person", |i| names[i] == "Person"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TailIndex {
    /// `(key, position)`, sorted (position breaks ties, so the first of
    /// equal strings is found first).
    keys: Vec<(u64, u32)>,
}

/// The lookup key of `s`: its length and last sixteen bytes (all of them
/// when shorter), read as fixed-size words (no copy loop, no library call).
fn tail_key(s: &str) -> u64 {
    fn w8(b: &[u8]) -> u64 {
        u64::from_le_bytes(b.try_into().expect("eight bytes"))
    }
    fn w4(b: &[u8]) -> u64 {
        u32::from_le_bytes(b.try_into().expect("four bytes")) as u64
    }
    let b = s.as_bytes();
    let n = b.len();
    // overlapping reads below sixteen bytes still cover every byte
    let (hi, lo) = match n {
        16.. => (w8(&b[n - 16..n - 8]), w8(&b[n - 8..])),
        8.. => (w8(&b[..8]), w8(&b[n - 8..])),
        4.. => (w4(&b[..4]), w4(&b[n - 4..])),
        _ => (b.iter().fold(0, |a, &x| (a << 8) | x as u64), 0),
    };
    lo ^ hi.rotate_left(23) ^ (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl TailIndex {
    /// Indexes `strings` by position.
    pub fn new<'a>(strings: impl IntoIterator<Item = &'a str>) -> TailIndex {
        let mut keys: Vec<(u64, u32)> = strings
            .into_iter()
            .enumerate()
            .map(|(i, s)| (tail_key(s), i as u32))
            .collect();
        keys.sort_unstable();
        TailIndex { keys }
    }

    /// The lowest position whose string has `s`'s key and for which `is`
    /// (the caller's exact comparison with `s`) holds.
    pub fn find(&self, s: &str, is: impl Fn(usize) -> bool) -> Option<usize> {
        let k = tail_key(s);
        let from = self.keys.partition_point(|e| e.0 < k);
        self.keys[from..]
            .iter()
            .take_while(|e| e.0 == k)
            .map(|e| e.1 as usize)
            .find(|&i| is(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal keys (same length and tail) are told apart by the comparison,
    /// and the first of duplicates wins.
    #[test]
    fn colliding_keys_and_duplicates() {
        let s = ["aXtail-of-sixteen!", "bXtail-of-sixteen!", "", "dup", "dup"];
        let ix = TailIndex::new(s);
        for (i, x) in s.iter().enumerate().take(3) {
            assert_eq!(ix.find(x, |j| s[j] == *x), Some(i));
        }
        assert_eq!(ix.find("dup", |j| s[j] == "dup"), Some(3));
        assert_eq!(
            ix.find("cXtail-of-sixteen!", |j| s[j] == "cXtail-of-sixteen!"),
            None
        );
    }
}
