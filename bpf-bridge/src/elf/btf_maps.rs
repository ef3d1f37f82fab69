//! Map definitions of an object: BTF-defined maps in `.maps` (read through the
//! `.BTF` type table, as libbpf does) and legacy `struct bpf_map_def` entries in
//! `maps`. Only what map declarations need of BTF is parsed here.

use super::ElfError;
use crate::program::{MapDef, MapKind};

/// BTF kinds (`BTF_KIND_*`).
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

const BTF_MAGIC: u16 = 0xeb9f;
/// Longest chain of typedefs/modifiers/arrays followed before giving up (cycles).
const MAX_DEPTH: usize = 32;

/// One BTF type: the common header plus the kind-specific data we use.
#[derive(Clone, Debug)]
struct Type {
    kind: u32,
    name_off: u32,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
    /// ARRAY: (elem type, nelems).
    array: Option<(u32, u32)>,
    /// STRUCT/UNION: (name_off, type) per member.
    members: Vec<(u32, u32)>,
}

/// The parsed type table of a `.BTF` section.
pub(super) struct Btf<'a> {
    /// Index 0 is `void`.
    types: Vec<Type>,
    strings: &'a [u8],
}

fn bad(msg: impl Into<String>) -> ElfError {
    ElfError::Malformed(format!(".BTF: {}", msg.into()))
}

fn u32_at(data: &[u8], off: usize) -> Result<u32, ElfError> {
    data.get(off..off.checked_add(4).ok_or_else(|| bad("offset overflow"))?)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| bad(format!("truncated at byte {off}")))
}

impl<'a> Btf<'a> {
    /// Parses a little-endian `.BTF` section.
    pub(super) fn parse(data: &'a [u8]) -> Result<Btf<'a>, ElfError> {
        if data.len() < 24 {
            return Err(bad("section shorter than its header"));
        }
        let magic = u16::from_le_bytes([data[0], data[1]]);
        if magic != BTF_MAGIC {
            return Err(bad(format!(
                "bad magic {magic:#06x} (big-endian BTF is not supported)"
            )));
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let (type_off, type_len) = (u32_at(data, 8)? as usize, u32_at(data, 12)? as usize);
        let (str_off, str_len) = (u32_at(data, 16)? as usize, u32_at(data, 20)? as usize);
        let range = |off: usize, len: usize, what: &str| {
            let start = hdr_len.checked_add(off);
            let end = start.and_then(|s| s.checked_add(len));
            match (start, end) {
                (Some(s), Some(e)) if e <= data.len() => Ok(&data[s..e]),
                _ => Err(bad(format!("{what} section out of bounds"))),
            }
        };
        let tdata = range(type_off, type_len, "type")?;
        let strings = range(str_off, str_len, "string")?;
        let mut types = vec![Type {
            kind: 0,
            name_off: 0,
            size_or_type: 0,
            array: None,
            members: Vec::new(),
        }];
        let mut off = 0;
        while off < tdata.len() {
            let name_off = u32_at(tdata, off)?;
            let info = u32_at(tdata, off + 4)?;
            let size_or_type = u32_at(tdata, off + 8)?;
            off += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let mut t = Type {
                kind,
                name_off,
                size_or_type,
                array: None,
                members: Vec::new(),
            };
            let extra = match kind {
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => {
                    t.array = Some((u32_at(tdata, off)?, u32_at(tdata, off + 8)?));
                    12
                }
                KIND_STRUCT | KIND_UNION => {
                    for i in 0..vlen {
                        let m = off + i * 12;
                        t.members.push((u32_at(tdata, m)?, u32_at(tdata, m + 4)?));
                    }
                    vlen * 12
                }
                KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
                KIND_DATASEC | KIND_ENUM64 => vlen * 12,
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                k => return Err(bad(format!("unknown type kind {k} (type {})", types.len()))),
            };
            off += extra;
            if off > tdata.len() {
                return Err(bad(format!("type {} is truncated", types.len())));
            }
            types.push(t);
        }
        Ok(Btf { types, strings })
    }

    fn name(&self, off: u32) -> Result<&'a str, ElfError> {
        let rest = self
            .strings
            .get(off as usize..)
            .ok_or_else(|| bad(format!("string offset {off} out of bounds")))?;
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        std::str::from_utf8(&rest[..end]).map_err(|_| bad("string is not UTF-8"))
    }

    fn get(&self, id: u32) -> Result<&Type, ElfError> {
        self.types
            .get(id as usize)
            .ok_or_else(|| bad(format!("type id {id} out of range")))
    }

    /// Follows typedefs and qualifiers.
    fn strip(&self, mut id: u32) -> Result<&Type, ElfError> {
        for _ in 0..MAX_DEPTH {
            let t = self.get(id)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Ok(t),
            }
        }
        Err(bad("type chain too long (a cycle?)"))
    }

    /// `sizeof` the type.
    fn size_of(&self, id: u32, depth: usize) -> Result<u64, ElfError> {
        if depth > MAX_DEPTH {
            return Err(bad("type chain too long (a cycle?)"));
        }
        let t = self.strip(id)?;
        Ok(match t.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT
            | KIND_DATASEC => t.size_or_type as u64,
            KIND_PTR => 8,
            KIND_ARRAY => {
                let (elem, n) = t.array.unwrap_or((0, 0));
                self.size_of(elem, depth + 1)?.saturating_mul(n as u64)
            }
            KIND_VAR => self.size_of(t.size_or_type, depth + 1)?,
            k => return Err(bad(format!("type of kind {k} has no size"))),
        })
    }

    /// The struct of the `.maps` variable `name`, as (member name, member type) pairs.
    fn map_struct(&self, var: &str) -> Result<Option<Vec<(&'a str, u32)>>, ElfError> {
        for t in &self.types {
            if t.kind != KIND_VAR || self.name(t.name_off)? != var {
                continue;
            }
            let s = self.strip(t.size_or_type)?;
            if s.kind != KIND_STRUCT {
                return Err(ElfError::Unsupported(format!(
                    "map {var}: its BTF type is not a struct"
                )));
            }
            let members = s
                .members
                .iter()
                .map(|&(n, ty)| Ok((self.name(n)?, ty)))
                .collect::<Result<Vec<_>, ElfError>>()?;
            return Ok(Some(members));
        }
        Ok(None)
    }
}

/// A map-carrying symbol: its name and offset in its section.
pub(super) struct MapSymbol<'a> {
    pub name: &'a str,
    pub offset: u64,
}

/// Builds a [`MapDef`], checking the kind and sizes.
fn map_def(name: &str, ty: u32, key: u64, value: u64, entries: u64) -> Result<MapDef, ElfError> {
    let err = |m: String| ElfError::Unsupported(format!("map {name}: {m}"));
    let kind = MapKind::from_kernel_type(ty).ok_or_else(|| {
        err(format!(
            "map type {ty} is not supported (hash, array, percpu_hash, percpu_array)"
        ))
    })?;
    let fit = |v: u64, what: &str| {
        u32::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| err(format!("{what} {v} must be between 1 and 2^32-1")))
    };
    // The kernel refuses any other key size for arrays (the index is a u32).
    if kind.is_array() && key != 4 {
        return Err(err(format!("array maps have 4-byte keys, not {key}")));
    }
    Ok(MapDef {
        name: name.to_string(),
        kind,
        key_size: fit(key, "key size")?,
        value_size: fit(value, "value size")?,
        max_entries: fit(entries, "max_entries")?,
    })
}

/// Maps declared in `.maps` (BTF-defined), one per symbol, in symbol order.
pub(super) fn btf_maps(btf: &Btf<'_>, syms: &[MapSymbol<'_>]) -> Result<Vec<MapDef>, ElfError> {
    let mut out = Vec::new();
    for sym in syms {
        let Some(members) = btf.map_struct(sym.name)? else {
            return Err(ElfError::Malformed(format!(
                "map {}: no BTF variable describes it",
                sym.name
            )));
        };
        let err = |m: String| ElfError::Unsupported(format!("map {}: {m}", sym.name));
        // `__uint(name, N)` is `int (*name)[N]`: N is the array length.
        let uint = |ty: u32, field: &str| -> Result<u64, ElfError> {
            let p = btf.strip(ty)?;
            let arr = if p.kind == KIND_PTR {
                btf.strip(p.size_or_type)?
            } else {
                p
            };
            match (arr.kind, arr.array) {
                (KIND_ARRAY, Some((_, n))) => Ok(n as u64),
                _ => Err(err(format!("{field} is not declared with __uint()"))),
            }
        };
        // `__type(name, T)` is `T *name`: the size of T.
        let type_size = |ty: u32, field: &str| -> Result<u64, ElfError> {
            let p = btf.strip(ty)?;
            if p.kind != KIND_PTR {
                return Err(err(format!("{field} is not declared with __type()")));
            }
            btf.size_of(p.size_or_type, 0)
        };
        let (mut ty, mut key, mut value, mut entries) = (None, None, None, None);
        let set = |slot: &mut Option<u64>, v: u64, what: &str| match *slot {
            Some(old) if old != v => Err(err(format!("{what} given as both {old} and {v}"))),
            _ => {
                *slot = Some(v);
                Ok(())
            }
        };
        for &(field, mty) in &members {
            match field {
                "type" => set(&mut ty, uint(mty, field)?, "type")?,
                "max_entries" => set(&mut entries, uint(mty, field)?, "max_entries")?,
                "key_size" => set(&mut key, uint(mty, field)?, "key size")?,
                "value_size" => set(&mut value, uint(mty, field)?, "value size")?,
                "key" => set(&mut key, type_size(mty, field)?, "key size")?,
                "value" => set(&mut value, type_size(mty, field)?, "value size")?,
                // Creation flags and pinning do not change what a program sees.
                "map_flags" | "pinning" | "numa_node" => {}
                f => return Err(err(format!("field {f} is not supported"))),
            }
        }
        let missing = |f: &str| err(format!("no {f} given"));
        let ty = ty.ok_or_else(|| missing("type"))?;
        let ty = u32::try_from(ty).map_err(|_| err(format!("map type {ty} out of range")))?;
        out.push(map_def(
            sym.name,
            ty,
            key.ok_or_else(|| missing("key or key_size"))?,
            value.ok_or_else(|| missing("value or value_size"))?,
            entries.ok_or_else(|| missing("max_entries"))?,
        )?);
    }
    Ok(out)
}

/// Maps declared in the legacy `maps` section: `struct bpf_map_def { type,
/// key_size, value_size, max_entries, map_flags }`, read at each symbol.
pub(super) fn legacy_maps(data: &[u8], syms: &[MapSymbol<'_>]) -> Result<Vec<MapDef>, ElfError> {
    let mut out = Vec::new();
    for sym in syms {
        let field = |i: usize| {
            let off = usize::try_from(sym.offset).ok()?.checked_add(i * 4)?;
            let b = data.get(off..off.checked_add(4)?)?;
            Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let get = |i| {
            field(i).ok_or_else(|| {
                ElfError::Malformed(format!(
                    "map {}: struct bpf_map_def at offset {} runs past the maps section",
                    sym.name, sym.offset
                ))
            })
        };
        out.push(map_def(
            sym.name,
            get(0)?,
            get(1)? as u64,
            get(2)? as u64,
            get(3)? as u64,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a tiny BTF blob: types as raw u32 words, then strings.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        v.extend_from_slice(&[1, 0]);
        let tlen = (types.len() * 4) as u32;
        for w in [24, 0, tlen, tlen, strings.len() as u32] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        for w in types {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v.extend_from_slice(strings);
        v
    }

    const fn info(kind: u32, vlen: u32) -> u32 {
        (kind << 24) | vlen
    }

    #[test]
    fn reads_uint_and_type_members() {
        // strings: 0 "", 1 "int", 5 "m", 7 "type", 12 "key", 16 "max_entries", 28 "value_size"
        let strings = b"\0int\0m\0type\0key\0max_entries\0value_size\0";
        #[rustfmt::skip]
        let types = [
            // 1: int, 4 bytes
            1, info(KIND_INT, 0), 4, 32,
            // 2: int[1] (type = hash)
            0, info(KIND_ARRAY, 0), 0, 1, 1, 1,
            // 3: ptr -> 2
            0, info(KIND_PTR, 0), 2,
            // 4: ptr -> int (key = int)
            0, info(KIND_PTR, 0), 1,
            // 5: int[64]
            0, info(KIND_ARRAY, 0), 0, 1, 1, 64,
            // 6: ptr -> 5
            0, info(KIND_PTR, 0), 5,
            // 7: int[24]
            0, info(KIND_ARRAY, 0), 0, 1, 1, 24,
            // 8: ptr -> 7
            0, info(KIND_PTR, 0), 7,
            // 9: struct { type; key; max_entries; value_size }
            0, info(KIND_STRUCT, 4), 32, 7, 3, 0, 12, 4, 64, 16, 6, 128, 28, 8, 192,
            // 10: var m
            5, info(KIND_VAR, 0), 9, 1,
        ];
        let data = blob(&types, strings);
        let btf = Btf::parse(&data).unwrap();
        let maps = btf_maps(
            &btf,
            &[MapSymbol {
                name: "m",
                offset: 0,
            }],
        )
        .unwrap();
        assert_eq!(
            maps,
            vec![MapDef {
                name: "m".into(),
                kind: MapKind::Hash,
                key_size: 4,
                value_size: 24,
                max_entries: 64
            }]
        );
        let e = btf_maps(
            &btf,
            &[MapSymbol {
                name: "x",
                offset: 0,
            }],
        )
        .unwrap_err();
        assert!(e.to_string().contains("no BTF variable"), "{e}");
    }

    #[test]
    fn array_maps_need_four_byte_keys() {
        let e = map_def("a", 2, 8, 8, 4).unwrap_err();
        assert!(e.to_string().contains("4-byte keys"), "{e}");
        assert_eq!(map_def("a", 2, 4, 8, 4).unwrap().key_size, 4);
        assert_eq!(map_def("h", 1, 8, 8, 4).unwrap().key_size, 8);
    }

    #[test]
    fn rejects_corrupt_btf() {
        assert!(Btf::parse(&[0; 10]).is_err());
        assert!(Btf::parse(&blob(&[1, info(KIND_INT, 0)], b"\0")).is_err());
        assert!(Btf::parse(&blob(&[1, info(30, 0), 0], b"\0")).is_err());
        let mut bad_hdr = blob(&[], b"\0");
        bad_hdr[8] = 0xff; // type_off far out of bounds
        assert!(Btf::parse(&bad_hdr).is_err());
        // A typedef cycle is an error, not a hang.
        let cyc = blob(
            &[0, info(KIND_TYPEDEF, 0), 1, 0, info(KIND_VAR, 0), 1, 0],
            b"\0",
        );
        let btf = Btf::parse(&cyc).unwrap();
        assert!(btf.size_of(2, 0).is_err());
    }
}
