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

/// One bucket: `slot + 1` (0 when empty) and the key itself when it has at
/// most 8 bytes (little-endian, zero-padded), else the key's hash. A lookup
/// of a short key thus reads one bucket per probe and nothing else.
#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    word: u64,
    slot: u32,
}

/// Key bytes to slot numbers.
#[derive(Debug)]
pub(super) struct HashIndex {
    key_size: usize,
    /// Key bytes of every slot, `key_size` apiece (slot `s` at `s * key_size`).
    keys: Vec<u8>,
    /// A power of two long, at most half full.
    table: Vec<Bucket>,
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
            table: vec![Bucket::default(); buckets_for((max_entries as usize).min(1 << 12))],
            len: 0,
            free: (0..max_entries).rev().collect(),
            seed: RandomState::new().hash_one(0x6c75_6162_7066u64),
        }
    }

    /// Number of keys present.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether keys are short enough to live in their bucket.
    #[inline(always)]
    fn short(&self) -> bool {
        self.key_size <= 8
    }

    /// The bucket word of `key`: the key itself (short keys) or its hash.
    #[inline(always)]
    fn word(&self, key: &[u8]) -> u64 {
        match *key {
            [a, b, c, d] => u32::from_le_bytes([a, b, c, d]) as u64,
            [a, b, c, d, e, f, g, h] => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            _ if key.len() <= 8 => {
                let mut w = [0u8; 8];
                w[..key.len()].copy_from_slice(key);
                u64::from_le_bytes(w)
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

    /// The home bucket of a bucket word.
    #[inline(always)]
    fn home(&self, word: u64) -> usize {
        let h = if self.short() {
            fold(word ^ self.seed, K)
        } else {
            word
        };
        h as usize & (self.table.len() - 1)
    }

    /// The key of `slot`.
    #[inline(always)]
    fn key_of(&self, slot: u32) -> &[u8] {
        let at = slot as usize * self.key_size;
        &self.keys[at..at + self.key_size]
    }

    /// The bucket holding `key` (`Ok`), or the empty bucket where it would go.
    #[inline(always)]
    fn find(&self, key: &[u8]) -> Result<usize, usize> {
        let word = self.word(key);
        let mask = self.table.len() - 1;
        let mut i = self.home(word);
        loop {
            let b = self.table[i];
            if b.slot == 0 {
                return Err(i);
            }
            if b.word == word && (self.short() || self.key_of(b.slot - 1) == key) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `key`, if present (a key of another size never is).
    #[inline]
    pub(super) fn get(&self, key: &[u8]) -> Option<u32> {
        if key.len() != self.key_size {
            return None;
        }
        self.find(key).ok().map(|i| self.table[i].slot - 1)
    }

    /// Adds `key` (absent, `key_size` bytes) in a free slot and returns it;
    /// `None` when full.
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
        self.table[i] = Bucket {
            word: self.word(key),
            slot: slot + 1,
        };
        self.len += 1;
        Some(slot)
    }

    /// Removes `key`, returning the slot it had.
    pub(super) fn remove(&mut self, key: &[u8]) -> Option<u32> {
        if key.len() != self.key_size {
            return None;
        }
        let mut hole = self.find(key).ok()?;
        let slot = self.table[hole].slot - 1;
        self.table[hole] = Bucket::default();
        // Backward shift: move later entries of the run into the hole when
        // their home bucket does not lie between the hole and them.
        let mask = self.table.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let b = self.table[j];
            if b.slot == 0 {
                break;
            }
            let home = self.home(b.word);
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.table[hole] = b;
                self.table[j] = Bucket::default();
                hole = j;
            }
        }
        self.free.push(slot);
        self.len -= 1;
        Some(slot)
    }

    fn grow(&mut self) {
        let size = buckets_for(self.len + 1);
        let old = std::mem::replace(&mut self.table, vec![Bucket::default(); size]);
        let mask = size - 1;
        for b in old.into_iter().filter(|b| b.slot != 0) {
            let mut i = self.home(b.word);
            while self.table[i].slot != 0 {
                i = (i + 1) & mask;
            }
            self.table[i] = b;
        }
    }

    /// Every `(key, slot)` present, in no particular order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&[u8], u32)> {
        self.table
            .iter()
            .filter(|b| b.slot != 0)
            .map(|b| (self.key_of(b.slot - 1), b.slot - 1))
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
        for key_size in [4usize, 8, 3, 13, 16] {
            let mut ix = HashIndex::new(key_size, 300);
            ix.table = vec![Bucket::default(); 16];
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
