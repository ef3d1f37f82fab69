//! One map: preallocated value slots, and for hash maps an index from keys to slots.

use super::hash::HashIndex;
use super::{errno, flags, validate, MapError};
use crate::memory::{Region, Storage};
use crate::program::MapDef;
use crate::report::MapContents;

/// Where keys live.
#[derive(Debug)]
enum Index {
    /// Keys are indices `0..max_entries`; every slot always exists.
    Array,
    /// Key bytes to slot; free slots are reused last-freed first.
    Hash(HashIndex),
}

/// One map instance.
#[derive(Debug)]
pub struct Map {
    def: MapDef,
    /// `max_entries` slots of `stride` bytes (`value_size` rounded up to 8, as in Linux).
    values: Storage,
    stride: usize,
    index: Index,
}

impl Map {
    /// An empty map for `def`.
    pub fn new(def: &MapDef) -> Result<Map, MapError> {
        validate(def)?;
        let stride = (def.value_size as usize).div_ceil(8) * 8;
        let values = Storage::zeroed(stride * def.max_entries as usize);
        let index = if def.kind.is_array() {
            Index::Array
        } else {
            Index::Hash(HashIndex::new(def.key_size as usize, def.max_entries))
        };
        Ok(Map {
            def: def.clone(),
            values,
            stride,
            index,
        })
    }

    /// The declaration.
    pub fn def(&self) -> &MapDef {
        &self.def
    }

    /// The value storage (writable by programs).
    pub fn value_region(&self) -> Region {
        Region::new(self.values.as_ptr(), self.values.len(), true)
    }

    #[inline(always)]
    fn slot_ptr(&self, slot: u32) -> *mut u8 {
        // SAFETY: `slot < max_entries`, so the offset stays inside the storage.
        unsafe { self.values.as_ptr().add(slot as usize * self.stride) }
    }

    #[inline(always)]
    fn array_slot(&self, key: &[u8]) -> Option<u32> {
        let i = u32::from_le_bytes(key.get(..4)?.try_into().ok()?);
        (i < self.def.max_entries).then_some(i)
    }

    #[inline(always)]
    fn slot_of(&self, key: &[u8]) -> Option<u32> {
        match &self.index {
            Index::Array => self.array_slot(key),
            Index::Hash(h) => h.get(key),
        }
    }

    /// `bpf_map_lookup_elem`: a pointer to the value, stable for the map's life.
    /// `key` must hold `key_size` bytes.
    #[inline]
    pub fn lookup(&self, key: &[u8]) -> Option<*mut u8> {
        self.slot_of(key).map(|s| self.slot_ptr(s))
    }

    /// The value bytes for `key` (`value_size` of them).
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let slot = self.slot_of(key)?;
        self.values
            .bytes(slot as usize * self.stride, self.def.value_size as usize)
    }

    /// `bpf_map_update_elem` with a value in a slice. Errors are the (positive) errno.
    pub fn update(&mut self, key: &[u8], value: &[u8], flags: u64) -> Result<(), i64> {
        if value.len() < self.def.value_size as usize {
            return Err(errno::EINVAL);
        }
        // SAFETY: `value` is a live slice of at least `value_size` bytes.
        unsafe { self.update_raw(key, value.as_ptr(), flags) }
    }

    /// `bpf_map_update_elem` reading `value_size` bytes at `value`, which may lie in
    /// this map's own storage (the copy is a `memmove`).
    ///
    /// # Safety
    /// `value` must be readable for `value_size` bytes.
    pub(crate) unsafe fn update_raw(
        &mut self,
        key: &[u8],
        value: *const u8,
        flags: u64,
    ) -> Result<(), i64> {
        if flags > flags::BPF_EXIST {
            return Err(errno::EINVAL);
        }
        let slot = match &mut self.index {
            Index::Array => {
                let slot = match key.get(..4) {
                    Some(k)
                        if u32::from_le_bytes([k[0], k[1], k[2], k[3]]) < self.def.max_entries =>
                    {
                        u32::from_le_bytes([k[0], k[1], k[2], k[3]])
                    }
                    _ => return Err(errno::E2BIG),
                };
                if flags == flags::BPF_NOEXIST {
                    return Err(errno::EEXIST);
                }
                slot
            }
            Index::Hash(_) if key.len() != self.def.key_size as usize => return Err(errno::EINVAL),
            Index::Hash(h) => match h.get(key) {
                Some(_) if flags == flags::BPF_NOEXIST => return Err(errno::EEXIST),
                Some(slot) => slot,
                None if flags == flags::BPF_EXIST => return Err(errno::ENOENT),
                None => h.insert(key).ok_or(errno::E2BIG)?,
            },
        };
        let dst = self.slot_ptr(slot);
        // SAFETY: `dst` has `stride >= value_size` bytes; `value` is readable per the
        // contract; `copy` allows overlap.
        unsafe { core::ptr::copy(value, dst, self.def.value_size as usize) };
        Ok(())
    }

    /// `bpf_map_delete_elem`. Arrays refuse (`EINVAL`), as in Linux.
    pub fn delete(&mut self, key: &[u8]) -> Result<(), i64> {
        match &mut self.index {
            Index::Array => Err(errno::EINVAL),
            Index::Hash(h) => {
                let slot = h.remove(key).ok_or(errno::ENOENT)?;
                // Zero it so that a reused slot starts clean.
                self.values.zero(slot as usize * self.stride, self.stride);
                Ok(())
            }
        }
    }

    /// Number of elements present (every index of an array).
    pub fn count(&self) -> usize {
        match &self.index {
            Index::Array => self.def.max_entries as usize,
            Index::Hash(h) => h.len(),
        }
    }

    /// The contents as `(key, value)` pairs sorted by key bytes. Arrays list only
    /// the indices whose value is not all zero (keys as 4-byte little-endian).
    pub fn dump(&self) -> MapContents {
        let vs = self.def.value_size as usize;
        let value = |slot: u32| {
            self.values
                .bytes(slot as usize * self.stride, vs)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        };
        let mut out: MapContents = match &self.index {
            Index::Array => (0..self.def.max_entries)
                .map(|i| (i.to_le_bytes().to_vec(), value(i)))
                .filter(|(_, v)| v.iter().any(|&b| b != 0))
                .collect(),
            Index::Hash(h) => h.iter().map(|(k, s)| (k.to_vec(), value(s))).collect(),
        };
        out.sort();
        out
    }
}
