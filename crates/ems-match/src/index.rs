//! Compact building blocks of the matcher: a string interner, a chunked
//! record store and a sorted multi-map with a radix directory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplicative (Fibonacci) mixing; a bijection on `u64`.
#[inline]
pub(crate) fn mix(k: u64) -> u64 {
    k.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A fast hasher for integer keys (the keys are NHS numbers or hashes).
#[derive(Default, Clone, Copy)]
pub(crate) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        // FNV-1a, 8 bytes at a time
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            h = (h ^ u64::from_le_bytes(a))
                .wrapping_mul(0x0000_0100_0000_01b3)
                .rotate_left(29);
        }
        for b in chunks.remainder() {
            h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
    fn write_u32(&mut self, v: u32) {
        self.0 ^= v as u64;
    }
    fn write_u8(&mut self, v: u8) {
        self.0 = self.0.rotate_left(8) ^ v as u64;
    }
}

pub(crate) type MixMap<K, V> = HashMap<K, V, BuildHasherDefault<MixHasher>>;

/// FNV-1a hash of a string (used to index subscription ids by 32 bits).
#[inline]
pub(crate) fn id_hash(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Interns strings as `u32` ids (0 is reserved for "none").
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    map: MixMap<Box<str>, u32>,
    strings: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        if self.strings.is_empty() {
            self.strings.push("".into());
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.into());
        self.map.insert(s.into(), i);
        i
    }
    pub fn get(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    pub fn resolve(&self, i: u32) -> &str {
        self.strings.get(i as usize).map(|s| &**s).unwrap_or("")
    }
    pub fn strings(&self) -> &[Box<str>] {
        &self.strings
    }
    pub fn from_strings(strings: Vec<Box<str>>) -> Interner {
        let map = strings
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, s)| (s.clone(), i as u32))
            .collect();
        Interner { map, strings }
    }
}

const CHUNK_BITS: u32 = 16;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Append-only storage in fixed chunks: no doubling overshoot and no large
/// re-allocation copies while millions of records are added.
#[derive(Clone, Debug)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    pub fn push(&mut self, v: T) -> u32 {
        if self.len.is_multiple_of(CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        let i = self.len;
        if let Some(c) = self.chunks.last_mut() {
            c.push(v);
        }
        self.len += 1;
        i as u32
    }
    #[inline]
    pub fn get(&self, i: u32) -> Option<&T> {
        let i = i as usize;
        self.chunks.get(i >> CHUNK_BITS)?.get(i & (CHUNK - 1))
    }
    #[inline]
    pub fn get_mut(&mut self, i: u32) -> Option<&mut T> {
        let i = i as usize;
        self.chunks
            .get_mut(i >> CHUNK_BITS)?
            .get_mut(i & (CHUNK - 1))
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter())
    }
    pub fn heap_bytes(&self) -> usize {
        self.chunks.len() * CHUNK * std::mem::size_of::<T>()
    }
}

/// Bits of a packed entry that hold the record number: record numbers are
/// below 2^30 (about a billion subscriptions).
pub(crate) const VAL_BITS: u32 = 30;
/// Largest record number an index can hold.
pub(crate) const MAX_VAL: u32 = (1 << VAL_BITS) - 1;

/// Key types of [`SortedIndex`]: at most 34 bits (NHS numbers are below
/// 10^10 < 2^34; id hashes are 32 bits), so that key and record number pack
/// into one `u64` and a lookup touches one cache line.
pub(crate) trait IndexKey: Copy + Eq + std::hash::Hash + Default {
    fn to_u64(self) -> u64;
    fn from_u64(v: u64) -> Self;
}
impl IndexKey for u64 {
    fn to_u64(self) -> u64 {
        self
    }
    fn from_u64(v: u64) -> Self {
        v
    }
}
impl IndexKey for u32 {
    fn to_u64(self) -> u64 {
        self as u64
    }
    fn from_u64(v: u64) -> Self {
        v as u32
    }
}

#[inline]
fn pack<K: IndexKey>(k: K, v: u32) -> u64 {
    k.to_u64() << VAL_BITS | (v & MAX_VAL) as u64
}

#[inline]
fn unpack<K: IndexKey>(e: u64) -> (K, u32) {
    (K::from_u64(e >> VAL_BITS), (e & MAX_VAL as u64) as u32)
}

/// A multi-map from keys to record numbers.
///
/// The bulk of the entries sit in two parallel arrays sorted by `mix(key)`,
/// found through a radix directory on the top bits (about four entries per
/// bucket, so a lookup is one directory read and a short scan). Online
/// inserts go to a small hash map (`delta`) that is merged into the arrays
/// when it reaches a quarter of their size, which keeps inserts amortised
/// O(1). Removal is by tombstone: callers skip dead record numbers, and
/// merges drop them.
#[derive(Clone, Debug, Default)]
pub(crate) struct SortedIndex<K: IndexKey> {
    /// `key << 30 | record`, sorted by (mix(key), record)
    entries: Vec<u64>,
    dir: Vec<u32>,
    shift: u32,
    /// key → index of the newest entry of its chain in `chain`
    delta: MixMap<K, u32>,
    /// (value, index of the next older entry or `u32::MAX`)
    chain: Vec<(u32, u32)>,
    delta_len: usize,
}

impl<K: IndexKey> SortedIndex<K> {
    #[inline]
    fn bucket(&self, k: K) -> usize {
        mix(k.to_u64()).checked_shr(self.shift).unwrap_or(0) as usize
    }

    /// Calls `f` with every value stored under `k` (dead ones included).
    #[inline]
    pub fn for_each(&self, k: K, mut f: impl FnMut(u32)) {
        if !self.entries.is_empty() {
            let b = self.bucket(k);
            let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
            let want = k.to_u64();
            for &e in &self.entries[lo..hi] {
                if e >> VAL_BITS == want {
                    f((e & MAX_VAL as u64) as u32);
                }
            }
        }
        if self.delta_len > 0 {
            if let Some(&head) = self.delta.get(&k) {
                let mut at = head;
                while let Some(&(v, next)) = self.chain.get(at as usize) {
                    f(v);
                    at = next;
                }
            }
        }
    }

    /// Adds `k → v`; `merge_if` is used to drop dead values when the delta is merged.
    pub fn insert(&mut self, k: K, v: u32, live: impl Fn(u32) -> bool) {
        let at = self.chain.len() as u32;
        let prev = self.delta.insert(k, at).unwrap_or(u32::MAX);
        self.chain.push((v, prev));
        self.delta_len += 1;
        if self.delta_len > 4096 && self.delta_len * 4 > self.entries.len() {
            self.merge(live);
        }
    }

    /// Moves the delta into the sorted arrays, dropping dead values: the
    /// delta is sorted and merged linearly with the (already sorted) arrays.
    pub fn merge(&mut self, live: impl Fn(u32) -> bool) {
        let mut delta: Vec<(u64, K, u32)> = self
            .delta_pairs()
            .filter(|(_, v)| live(*v))
            .map(|(k, v)| (mix(k.to_u64()), k, v))
            .collect();
        delta.sort_unstable_by_key(|e| (e.0, e.2));
        self.delta = MixMap::default();
        self.chain = Vec::new();
        self.delta_len = 0;
        let entries = std::mem::take(&mut self.entries);
        let mut out: Vec<(u64, K, u32)> = Vec::with_capacity(entries.len() + delta.len());
        let mut d = delta.into_iter().peekable();
        for (k, v) in entries.into_iter().map(unpack::<K>) {
            if !live(v) {
                continue;
            }
            let h = mix(k.to_u64());
            while let Some(&e) = d.peek() {
                if (e.0, e.2) < (h, v) {
                    out.push(e);
                    d.next();
                } else {
                    break;
                }
            }
            out.push((h, k, v));
        }
        out.extend(d);
        self.build_sorted(out);
    }

    /// Replaces the content with `entries` (hash, key, value), in any order.
    pub fn build(&mut self, mut entries: Vec<(u64, K, u32)>) {
        entries.sort_unstable_by_key(|e| (e.0, e.2));
        self.build_sorted(entries);
    }

    /// Replaces the content with `entries` already sorted by (hash, value).
    fn build_sorted(&mut self, entries: Vec<(u64, K, u32)>) {
        let n = entries.len();
        let bits = ((n / 4).max(1).next_power_of_two().trailing_zeros()).min(30);
        let nb = 1usize << bits;
        self.shift = 64 - bits;
        let mut packed = Vec::with_capacity(n);
        let mut dir = vec![0u32; nb + 1];
        for (h, k, v) in &entries {
            let b = h.checked_shr(self.shift).unwrap_or(0) as usize;
            dir[b + 1] += 1;
            packed.push(pack(*k, *v));
        }
        for b in 0..nb {
            dir[b + 1] += dir[b];
        }
        self.entries = packed;
        self.dir = dir;
    }

    fn delta_pairs(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.delta.iter().flat_map(move |(k, head)| {
            let mut at = *head;
            std::iter::from_fn(move || {
                let &(v, next) = self.chain.get(at as usize)?;
                at = next;
                Some((*k, v))
            })
        })
    }

    /// Every (key, value) pair, dead values included.
    pub fn pairs(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.entries
            .iter()
            .map(|e| unpack::<K>(*e))
            .chain(self.delta_pairs())
    }

    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * 8
            + self.dir.capacity() * 4
            + self.delta.capacity() * (std::mem::size_of::<K>() + 4 + 1)
            + self.chain.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sorted_index_finds_all() {
        let mut ix: SortedIndex<u64> = SortedIndex::default();
        for i in 0..20_000u32 {
            ix.insert((i % 5000) as u64 * 7919, i, |_| true);
        }
        ix.merge(|_| true);
        for k in [0u64, 7919, 4999 * 7919] {
            let mut got = Vec::new();
            ix.for_each(k, |v| got.push(v));
            assert_eq!(got.len(), 4, "{k}");
        }
        let mut none = Vec::new();
        ix.for_each(3, |v| none.push(v));
        assert!(none.is_empty());
        // tombstones dropped on merge
        ix.merge(|v| v % 2 == 0);
        let mut got = Vec::new();
        ix.for_each(0, |v| got.push(v));
        assert!(got.iter().all(|v| v % 2 == 0));
    }
    #[test]
    fn interner() {
        let mut i = Interner::default();
        let a = i.intern("X26ABC1");
        assert_eq!(i.intern("X26ABC1"), a);
        assert_ne!(a, 0);
        assert_eq!(i.resolve(a), "X26ABC1");
        let j = Interner::from_strings(i.strings().to_vec());
        assert_eq!(j.get("X26ABC1"), Some(a));
    }
}
