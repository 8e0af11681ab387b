//! FNV-style hashing (eight bytes per step, the tail as one word, final
//! avalanche) for the small string maps of one validation run
//! (`std`'s SipHash is DoS-resistant but slow for short keys; these maps
//! only ever hold one message's fullUrls).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Default, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        // final avalanche so the low bits (the bucket index) depend on
        // every input bit
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        // eight bytes per step (URLs are 40-80 bytes), then the tail
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // the tail as one word: the last eight bytes (overlapping the
            // last chunk) when there are eight, else the bytes themselves;
            // with the length, so tails of different lengths differ
            let w = match bytes.len().checked_sub(8) {
                Some(i) => {
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&bytes[i..]);
                    u64::from_le_bytes(w)
                }
                None => rest.iter().fold(0, |a, &b| (a << 8) | b as u64),
            };
            h = (h ^ w ^ ((rest.len() as u64) << 59))
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(29);
        }
        self.0 = h;
    }
    fn write_u8(&mut self, b: u8) {
        // `str`'s terminator byte: one step, not a call of `write`
        let h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        self.0 = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
}

pub(crate) type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hash;

    fn h(s: &str) -> u64 {
        let mut f = Fnv::default();
        s.hash(&mut f);
        f.finish()
    }

    /// fullUrls that differ in one character anywhere, and by length,
    /// hash apart, and their low bits (the bucket index) spread.
    #[test]
    fn distinguishes_and_spreads_urls() {
        let base = "urn:uuid:5d5845f3-398f-474b-af59-14882fc7b0ca";
        let mut seen = std::collections::HashSet::new();
        let mut low = std::collections::HashSet::new();
        for i in 9..base.len() {
            let mut v = base.as_bytes().to_vec();
            v[i] = if v[i] == b'0' { b'1' } else { b'0' };
            let s = String::from_utf8(v).unwrap();
            assert!(seen.insert(h(&s)), "collision at {i}");
            low.insert(h(&s) & 63);
        }
        assert!(seen.insert(h(base)) && seen.insert(h(&base[..44])));
        assert!(low.len() > 20, "low bits poorly spread: {}", low.len());
        let map: FnvMap<&str, usize> = [(base, 0), ("urn:uuid:1", 1)].into_iter().collect();
        assert!(map.contains_key(base) && !map.contains_key("urn:uuid:2"));
    }
}
