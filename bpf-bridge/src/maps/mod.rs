//! In-process maps: hash, array and their per-CPU variants, owned by a [`MapSet`]
//! that the interpreter and the JIT share.
//!
//! Map values live in preallocated [`Storage`](crate::memory::Storage) that never
//! moves: `bpf_map_lookup_elem` returns a host pointer into it, valid for the
//! map set's lifetime (a deleted element's slot may be reused by a later insert,
//! as with the kernel's preallocated maps).
//!
//! **Handles.** A program holds a map as a plain `u64` ([`map_handle`]): a tag in
//! the high 32 bits and the map's index in the low 32. The tag makes the value a
//! non-canonical address on x86_64/aarch64/riscv64, so it never aliases memory; a
//! JIT can embed it as an immediate, and [`MapSet::resolve`] validates any value a
//! helper receives.
//!
//! **Per-CPU maps** behave as on a machine with one CPU: one value per key, and
//! the dump (the sum over CPUs) is that value.

mod hash;
mod map;

pub use map::Map;

use crate::memory::Region;
use crate::program::{MapDef, MapKind};
use crate::report::MapContents;
use std::collections::BTreeMap;

/// High 32 bits of every map handle.
pub const MAP_HANDLE_TAG: u64 = 0x4d41_5000_0000_0000;

/// The handle of the map at `index` in the program's map list.
pub const fn map_handle(index: u32) -> u64 {
    MAP_HANDLE_TAG | index as u64
}

/// Update flags (`BPF_ANY`, …) as in Linux uapi.
pub mod flags {
    /// Create a new element or update an existing one.
    pub const BPF_ANY: u64 = 0;
    /// Create a new element only if it did not exist.
    pub const BPF_NOEXIST: u64 = 1;
    /// Update an existing element only.
    pub const BPF_EXIST: u64 = 2;
}

/// Error numbers map helpers return (negated), as in Linux.
pub mod errno {
    /// No such element.
    pub const ENOENT: i64 = 2;
    /// Map full, or array index out of range.
    pub const E2BIG: i64 = 7;
    /// Element already exists.
    pub const EEXIST: i64 = 17;
    /// Bad flags, or deleting from an array.
    pub const EINVAL: i64 = 22;
}

/// Largest key size accepted (helpers copy keys through a stack buffer of this size).
pub const MAX_KEY_SIZE: u32 = 512;
/// Largest total value storage of one map, in bytes.
pub const MAX_MAP_BYTES: u64 = 1 << 30;

/// Why a map declaration cannot be instantiated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("map {name}: {reason}")]
pub struct MapError {
    /// The map's name.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

/// All maps of one program, indexed as in [`crate::program::Program::maps`].
#[derive(Debug)]
pub struct MapSet {
    maps: Vec<Map>,
    regions: Vec<Region>,
}

impl MapSet {
    /// Creates empty maps for the declarations (arrays start zeroed, as in Linux).
    pub fn new(defs: &[MapDef]) -> Result<MapSet, MapError> {
        let maps = defs.iter().map(Map::new).collect::<Result<Vec<_>, _>>()?;
        let regions = maps.iter().map(Map::value_region).collect();
        Ok(MapSet { maps, regions })
    }

    /// Number of maps.
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether there are no maps.
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The map at `index`.
    pub fn get(&self, index: usize) -> Option<&Map> {
        self.maps.get(index)
    }

    /// The map at `index`, mutably.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut Map> {
        self.maps.get_mut(index)
    }

    /// The map by name.
    pub fn by_name(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.def().name == name)
    }

    /// The index a handle refers to, if it is a handle of a map of this set.
    #[inline]
    pub fn resolve(&self, handle: u64) -> Option<usize> {
        let index = (handle & 0xffff_ffff) as usize;
        (handle & !0xffff_ffff == MAP_HANDLE_TAG && index < self.maps.len()).then_some(index)
    }

    /// The value storage of every map, in index order: the regions programs may
    /// access through pointers returned by lookups (all writable).
    #[inline(always)]
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The definitions, in index order.
    pub fn defs(&self) -> impl Iterator<Item = &MapDef> {
        self.maps.iter().map(Map::def)
    }

    /// Address of byte `offset` of element 0 of array map `index` (pseudo
    /// `lddw` src 2), or `None` if it is not an array or the offset is outside the value.
    pub fn array_value_addr(&self, index: usize, offset: u32) -> Option<u64> {
        let m = self.maps.get(index)?;
        (m.def().kind.is_array() && offset < m.def().value_size)
            .then(|| m.value_region().start + offset as u64)
    }

    /// Every map's contents by name (see [`Map::dump`]).
    pub fn dump(&self) -> BTreeMap<String, MapContents> {
        self.maps
            .iter()
            .map(|m| (m.def().name.clone(), m.dump()))
            .collect()
    }
}

/// Checks a declaration; shared by [`Map::new`].
fn validate(def: &MapDef) -> Result<(), MapError> {
    let bad = |reason: &str| {
        Err(MapError {
            name: def.name.clone(),
            reason: reason.to_string(),
        })
    };
    if def.max_entries == 0 {
        return bad("max_entries must be positive");
    }
    if def.value_size == 0 {
        return bad("value_size must be positive");
    }
    if def.key_size == 0 || def.key_size > MAX_KEY_SIZE {
        return bad("key_size must be between 1 and 512");
    }
    if def.kind.is_array() && def.key_size != 4 {
        return bad("array maps need 4-byte keys");
    }
    let stride = (def.value_size as u64).div_ceil(8) * 8;
    if stride * def.max_entries as u64 > MAX_MAP_BYTES {
        return bad("values take more than 1 GiB");
    }
    if matches!(def.kind, MapKind::Hash | MapKind::PercpuHash)
        && def.key_size as u64 * def.max_entries as u64 > MAX_MAP_BYTES
    {
        return bad("keys take more than 1 GiB");
    }
    Ok(())
}
