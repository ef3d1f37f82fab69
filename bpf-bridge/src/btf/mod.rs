//! BTF (BPF Type Format) encoding: the type and string sections the kernel and
//! libbpf read to name functions, describe maps and map instructions back to
//! source lines.
//!
//! [`BtfBuilder`] writes raw types (uapi `linux/btf.h` layout); [`program`]
//! describes a [`crate::program::Program`] with it (functions, line table,
//! maps); [`ext`] encodes the `.BTF.ext` section of ELF objects. Both the
//! kernel loader (BPF_BTF_LOAD) and the ELF writer use the same description,
//! so what `bpftool` shows for an object and for a loaded program agree.

pub mod ext;
pub mod program;

use std::collections::HashMap;

pub use program::{describe, subprogram_starts, FuncRecord, LineRecord, ProgramBtf};

/// `BTF_MAGIC`.
pub const BTF_MAGIC: u16 = 0xeb9f;
/// Size of `struct btf_header`.
const HEADER_LEN: u32 = 24;
/// The kernel's limit on string section offsets (`BTF_MAX_NAME_OFFSET`).
const MAX_NAME_OFFSET: usize = 0x00ff_ffff;
/// The kernel's limit on type ids (`BTF_MAX_TYPE`).
const MAX_TYPE: u32 = 0x000f_ffff;

/// BTF kinds (`BTF_KIND_*`) that luabpf emits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// `BTF_KIND_INT`.
    Int = 1,
    /// `BTF_KIND_PTR`.
    Ptr = 2,
    /// `BTF_KIND_ARRAY`.
    Array = 3,
    /// `BTF_KIND_STRUCT`.
    Struct = 4,
    /// `BTF_KIND_FUNC`.
    Func = 12,
    /// `BTF_KIND_FUNC_PROTO`.
    FuncProto = 13,
    /// `BTF_KIND_VAR`.
    Var = 14,
    /// `BTF_KIND_DATASEC`.
    Datasec = 15,
}

/// Linkage of a `BTF_KIND_FUNC` (its `vlen` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FuncLinkage {
    /// `BTF_FUNC_STATIC`: the verifier checks it in its caller's context.
    Static = 0,
    /// `BTF_FUNC_GLOBAL`: an entry point, or a function verified on its own.
    Global = 1,
}

/// Linkage of a `BTF_KIND_VAR`: `BTF_VAR_GLOBAL_ALLOCATED`.
pub const VAR_GLOBAL_ALLOCATED: u32 = 1;

/// A type id; 0 is `void`.
pub type TypeId = u32;

/// Errors building BTF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    /// The string section outgrew the kernel's 16 MiB offset limit.
    #[error("BTF string section is over the kernel's 16 MiB limit")]
    StringsTooLarge,
    /// More types than the kernel accepts.
    #[error("BTF has more than {MAX_TYPE} types")]
    TooManyTypes,
    /// A struct, prototype or section with more than 65,535 entries.
    #[error("BTF type `{0}` has more than 65535 members")]
    TooManyMembers(String),
}

/// Accumulates BTF types and strings; [`BtfBuilder::encode`] produces the
/// section (`struct btf_header`, types, strings).
#[derive(Clone, Debug)]
pub struct BtfBuilder {
    types: Vec<u8>,
    count: u32,
    strings: Vec<u8>,
    string_index: HashMap<String, u32>,
    error: Option<BtfError>,
}

impl Default for BtfBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BtfBuilder {
    /// An empty builder; the string section starts with the empty string.
    pub fn new() -> BtfBuilder {
        let mut string_index = HashMap::new();
        string_index.insert(String::new(), 0);
        BtfBuilder {
            types: Vec::new(),
            count: 0,
            strings: vec![0],
            string_index,
            error: None,
        }
    }

    /// Offset of `s` in the string section, adding it once. NUL bytes (which
    /// would end the string early) become spaces.
    pub fn string(&mut self, s: &str) -> u32 {
        if let Some(&off) = self.string_index.get(s) {
            return off;
        }
        let off = self.strings.len();
        if off + s.len() + 1 > MAX_NAME_OFFSET {
            self.error.get_or_insert(BtfError::StringsTooLarge);
            return 0;
        }
        self.strings
            .extend(s.bytes().map(|b| if b == 0 { b' ' } else { b }));
        self.strings.push(0);
        self.string_index.insert(s.to_string(), off as u32);
        off as u32
    }

    /// Number of types so far (the id of the last one).
    pub fn type_count(&self) -> u32 {
        self.count
    }

    fn push(&mut self, name: &str, kind: Kind, vlen: usize, size_or_type: u32) -> TypeId {
        let name_off = self.string(name);
        if vlen > 0xffff {
            self.error
                .get_or_insert(BtfError::TooManyMembers(name.to_string()));
        }
        if self.count >= MAX_TYPE {
            self.error.get_or_insert(BtfError::TooManyTypes);
        }
        let info = ((kind as u32) << 24) | (vlen as u32 & 0xffff);
        self.word(name_off);
        self.word(info);
        self.word(size_or_type);
        self.count += 1;
        self.count
    }

    fn word(&mut self, w: u32) {
        self.types.extend_from_slice(&w.to_le_bytes());
    }

    /// `BTF_KIND_INT` of `size` bytes; `signed` sets `BTF_INT_SIGNED`.
    pub fn int(&mut self, name: &str, size: u32, signed: bool) -> TypeId {
        let id = self.push(name, Kind::Int, 0, size);
        let encoding = if signed { 1u32 } else { 0 };
        self.word((encoding << 24) | (size * 8));
        id
    }

    /// `BTF_KIND_PTR` to `target`.
    pub fn ptr(&mut self, target: TypeId) -> TypeId {
        self.push("", Kind::Ptr, 0, target)
    }

    /// `BTF_KIND_ARRAY` of `nelems` `elem`s indexed by `index_type`.
    pub fn array(&mut self, elem: TypeId, index_type: TypeId, nelems: u32) -> TypeId {
        let id = self.push("", Kind::Array, 0, 0);
        self.word(elem);
        self.word(index_type);
        self.word(nelems);
        id
    }

    /// `BTF_KIND_STRUCT` of `size` bytes; members are `(name, type, bit offset)`.
    /// An empty name makes an anonymous struct.
    pub fn structure(&mut self, name: &str, size: u32, members: &[(&str, TypeId, u32)]) -> TypeId {
        let id = self.push(name, Kind::Struct, members.len(), size);
        for &(m, ty, bit_off) in members {
            let off = self.string(m);
            self.word(off);
            self.word(ty);
            self.word(bit_off);
        }
        id
    }

    /// `BTF_KIND_FUNC_PROTO` returning `ret` with `(name, type)` parameters.
    pub fn func_proto(&mut self, ret: TypeId, params: &[(&str, TypeId)]) -> TypeId {
        let id = self.push("", Kind::FuncProto, params.len(), ret);
        for &(p, ty) in params {
            let off = self.string(p);
            self.word(off);
            self.word(ty);
        }
        id
    }

    /// `BTF_KIND_FUNC` named `name` of prototype `proto`.
    pub fn func(&mut self, name: &str, proto: TypeId, linkage: FuncLinkage) -> TypeId {
        self.push(name, Kind::Func, linkage as usize, proto)
    }

    /// `BTF_KIND_VAR` named `name` of type `ty`.
    pub fn var(&mut self, name: &str, ty: TypeId, linkage: u32) -> TypeId {
        let id = self.push(name, Kind::Var, 0, ty);
        self.word(linkage);
        id
    }

    /// `BTF_KIND_DATASEC` of `size` bytes holding `(var, offset, size)` entries.
    pub fn datasec(&mut self, name: &str, size: u32, vars: &[(TypeId, u32, u32)]) -> TypeId {
        let id = self.push(name, Kind::Datasec, vars.len(), size);
        for &(var, off, sz) in vars {
            self.word(var);
            self.word(off);
            self.word(sz);
        }
        id
    }

    /// The encoded section: header, types, strings.
    pub fn encode(&self) -> Result<Vec<u8>, BtfError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let type_len = self.types.len() as u32;
        let str_len = self.strings.len() as u32;
        let mut out = Vec::with_capacity((HEADER_LEN + type_len + str_len) as usize);
        out.extend_from_slice(&BTF_MAGIC.to_le_bytes());
        out.push(1); // version
        out.push(0); // flags
        for w in [HEADER_LEN, 0, type_len, type_len, str_len] {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out.extend_from_slice(&self.types);
        out.extend_from_slice(&self.strings);
        Ok(out)
    }
}

/// `name` made into a C identifier (BTF and the kernel accept only those):
/// other characters become `_`, a leading digit gets a `_` prefix.
pub fn identifier(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_layout() {
        let mut b = BtfBuilder::new();
        let int = b.int("int", 4, true);
        let ptr = b.ptr(int);
        assert_eq!((int, ptr), (1, 2));
        let out = b.encode().unwrap();
        assert_eq!(&out[..4], &[0x9f, 0xeb, 1, 0]);
        let w = |i: usize| u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
        assert_eq!(w(4), 24); // hdr_len
        assert_eq!(w(12), 16 + 12); // type_len: int (16) + ptr (12)
        assert_eq!(w(16), 28); // str_off
        assert_eq!(&out[24 + 28..], b"\0int\0");
        // int: name_off 1, kind 1, size 4, encoding signed, 32 bits
        assert_eq!(w(24), 1);
        assert_eq!(w(28), 1 << 24);
        assert_eq!(w(32), 4);
        assert_eq!(w(36), (1 << 24) | 32);
    }

    #[test]
    fn strings_are_shared_and_nul_free() {
        let mut b = BtfBuilder::new();
        assert_eq!(b.string(""), 0);
        let a = b.string("a\0b");
        assert_eq!(b.string("a\0b"), a);
        let out = b.encode().unwrap();
        assert!(out.ends_with(b"\0a b\0"));
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier("count-tcp"), "count_tcp");
        assert_eq!(identifier("9lives"), "_9lives");
        assert_eq!(identifier(""), "_");
    }
}
