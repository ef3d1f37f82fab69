//! The key index of hash maps: open addressing with linear probing over slot
//! numbers. Each slot's key is stored once, in a flat array; a bucket holds
//! `slot + 1` (0 when empty). No operation allocates except a table growth,
//! and the hash is one widening multiply per 8 key bytes, seeded per map so
//! that keys chosen by packets cannot collide on purpose.

use std::hash::{BuildHasher, RandomState};

/// Multiplier of the folded multiply (2^64 / golden ratio).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// The 128-bit product of `a` and `b`, folded to 64 bits.
#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let p = a as u128 * b as u128;
    p as u64 ^ (p >> 64) as u64
}

/// Buckets of a new table: room for `entries` at most half full (at least 16).
fn buckets_for(entries: usize) -> usize {
    (entries.max(8) * 2).next_power_of_two()
}

/// Key bytes to slot numbers.
#[derive(Debug)]
pub(super) struct HashIndex {
    key_size: usize,
    /// Key bytes of every slot, `key_size` apiece (slot `s` at `s * key_size`).
    keys: Vec<u8>,
    /// `slot + 1` per bucket, 0 when empty; a power of two long, at most half full.
    table: Vec<u32>,
    len: usize,
    /// Free slots, reused last-freed first.
    free: Vec<u32>,
    seed: u64,
}

impl HashIndex {
    /// An empty index of `max_entries` slots for keys of `key_size` bytes.
    pub(super) fn new(key_size: usize, max_entries: u32) -> HashIndex {
        HashIndex {
            key_size,
            keys: vec![0; key_size * max_entries as usize],
            table: vec![0; buckets_for((max_entries as usize).min(1 << 12))],
            len: 0,
            free: (0..max_entries).rev().collect(),
            seed: RandomState::new().hash_one(0x6c75_6162_7066u64),
        }
    }

    /// Number of keys present.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn hash(&self, key: &[u8]) -> u64 {
        match *key {
            [a, b, c, d] => fold(u32::from_le_bytes([a, b, c, d]) as u64 ^ self.seed, K),
            [a, b, c, d, e, f, g, h] => {
                fold(u64::from_le_bytes([a, b, c, d, e, f, g, h]) ^ self.seed, K)
            }
            _ => {
                let mut h = self.seed ^ key.len() as u64;
                for chunk in key.chunks(8) {
                    let mut w = [0u8; 8];
                    w[..chunk.len()].copy_from_slice(chunk);
                    h = fold(h ^ u64::from_le_bytes(w), K);
                }
                h
            }
        }
    }

    /// The key of `slot`.
    #[inline(always)]
    fn key_of(&self, slot: u32) -> &[u8] {
        let at = slot as usize * self.key_size;
        &self.keys[at..at + self.key_size]
    }

    #[inline(always)]
    fn key_is(&self, slot: u32, key: &[u8]) -> bool {
        let k = self.key_of(slot);
        // Fixed small sizes compare as one word instead of calling memcmp.
        match (k, key) {
            ([a, b, c, d], [e, f, g, h]) => {
                u32::from_ne_bytes([*a, *b, *c, *d]) == u32::from_ne_bytes([*e, *f, *g, *h])
            }
            _ if k.len() == 8 && key.len() == 8 => {
                u64::from_ne_bytes(k.try_into().expect("8 bytes"))
                    == u64::from_ne_bytes(key.try_into().expect("8 bytes"))
            }
            _ => k == key,
        }
    }

    /// The bucket holding `key` (`Ok`), or the empty bucket where it would go.
    #[inline(always)]
    fn find(&self, key: &[u8]) -> Result<usize, usize> {
        let mask = self.table.len() - 1;
        let mut i = self.hash(key) as usize & mask;
        loop {
            match self.table[i] {
                0 => return Err(i),
                e if self.key_is(e - 1, key) => return Ok(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The slot of `key` (which has `key_size` bytes).
    #[inline]
    pub(super) fn get(&self, key: &[u8]) -> Option<u32> {
        debug_assert_eq!(key.len(), self.key_size);
        self.find(key).ok().map(|i| self.table[i] - 1)
    }

    /// Adds `key` (absent) in a free slot and returns it; `None` when full.
    pub(super) fn insert(&mut self, key: &[u8]) -> Option<u32> {
        let slot = *self.free.last()?;
        if (self.len + 1) * 2 > self.table.len() {
            self.grow();
        }
        let Err(i) = self.find(key) else {
            unreachable!("insert of a present key")
        };
        self.free.pop();
        let at = slot as usize * self.key_size;
        self.keys[at..at + self.key_size].copy_from_slice(key);
        self.table[i] = slot + 1;
        self.len += 1;
        Some(slot)
    }

    /// Removes `key`, returning the slot it had.
    pub(super) fn remove(&mut self, key: &[u8]) -> Option<u32> {
        let mut hole = self.find(key).ok()?;
        let slot = self.table[hole] - 1;
        self.table[hole] = 0;
        // Backward shift: move later entries of the run into the hole when
        // their home bucket does not lie between the hole and them.
        let mask = self.table.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let e = self.table[j];
            if e == 0 {
                break;
            }
            let home = self.hash(self.key_of(e - 1)) as usize & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.table[hole] = e;
                self.table[j] = 0;
                hole = j;
            }
        }
        self.free.push(slot);
        self.len -= 1;
        Some(slot)
    }

    fn grow(&mut self) {
        let old = std::mem::replace(&mut self.table, vec![0; buckets_for(self.len + 1)]);
        let mask = self.table.len() - 1;
        for e in old.into_iter().filter(|&e| e != 0) {
            let mut i = self.hash(self.key_of(e - 1)) as usize & mask;
            while self.table[i] != 0 {
                i = (i + 1) & mask;
            }
            self.table[i] = e;
        }
    }

    /// Every `(key, slot)` present, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.table
            .iter()
            .filter(|&&e| e != 0)
            .map(|&e| (self.key_of(e - 1), e - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Random inserts and removes agree with std's HashMap, across growths
    /// and backward shifts (a tiny table forces long runs).
    #[test]
    fn agrees_with_std_hashmap() {
        for key_size in [4usize, 8, 3, 13] {
            let mut ix = HashIndex::new(key_size, 300);
            ix.table = vec![0; 16];
            let mut std_map: HashMap<Vec<u8>, u32> = HashMap::new();
            let mut x = 0x1234_5678_9abc_def1u64;
            for _ in 0..5000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k: Vec<u8> = (0..key_size)
                    .map(|i| (x >> (i % 8 * 3)) as u8 & 7)
                    .collect();
                if x & 3 == 0 {
                    assert_eq!(ix.remove(&k), std_map.remove(&k), "remove {k:?}");
                } else if let Some(&s) = std_map.get(&k) {
                    assert_eq!(ix.get(&k), Some(s));
                } else {
                    match ix.insert(&k) {
                        Some(s) => {
                            std_map.insert(k, s);
                        }
                        None => assert_eq!(std_map.len(), 300),
                    }
                }
                assert_eq!(ix.len(), std_map.len());
            }
            let mut got: Vec<(Vec<u8>, u32)> = ix.iter().map(|(k, s)| (k.to_vec(), s)).collect();
            let mut want: Vec<(Vec<u8>, u32)> = std_map.into_iter().collect();
            got.sort();
            want.sort();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn full_index_refuses_new_keys_and_reuses_freed_slots_last_first() {
        let mut ix = HashIndex::new(4, 2);
        assert_eq!(ix.insert(&[1, 0, 0, 0]), Some(0));
        assert_eq!(ix.insert(&[2, 0, 0, 0]), Some(1));
        assert_eq!(ix.insert(&[3, 0, 0, 0]), None);
        assert_eq!(ix.remove(&[1, 0, 0, 0]), Some(0));
        assert_eq!(ix.get(&[2, 0, 0, 0]), Some(1));
        assert_eq!(ix.insert(&[3, 0, 0, 0]), Some(0));
    }
}
