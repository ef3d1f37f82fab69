//! A program as every engine receives it: bytecode plus what it refers to.

use crate::isa::Insn;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How a program is entered and what its context is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProgType {
    /// r1 = pointer to the memory, r2 = its length (the bpf_conformance convention).
    Raw,
    /// r1 = `struct xdp_md` (data at +0, data_end at +4, 32-bit fields), as in Linux.
    Xdp,
}

impl ProgType {
    /// The name used by `--type` and ELF section names.
    pub fn name(self) -> &'static str {
        match self {
            ProgType::Raw => "raw",
            ProgType::Xdp => "xdp",
        }
    }

    /// Parses a `--type` value.
    pub fn from_name(s: &str) -> Option<ProgType> {
        match s {
            "raw" => Some(ProgType::Raw),
            "xdp" => Some(ProgType::Xdp),
            _ => None,
        }
    }
}

/// Kinds of maps, with their `bpf_map_type` numbers in Linux.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapKind {
    /// BPF_MAP_TYPE_HASH (1).
    Hash,
    /// BPF_MAP_TYPE_ARRAY (2).
    Array,
    /// BPF_MAP_TYPE_PERCPU_HASH (5).
    PercpuHash,
    /// BPF_MAP_TYPE_PERCPU_ARRAY (6).
    PercpuArray,
}

impl MapKind {
    /// The kernel's `bpf_map_type` value.
    pub fn kernel_type(self) -> u32 {
        match self {
            MapKind::Hash => 1,
            MapKind::Array => 2,
            MapKind::PercpuHash => 5,
            MapKind::PercpuArray => 6,
        }
    }

    /// From the kernel's `bpf_map_type` value.
    pub fn from_kernel_type(t: u32) -> Option<MapKind> {
        match t {
            1 => Some(MapKind::Hash),
            2 => Some(MapKind::Array),
            5 => Some(MapKind::PercpuHash),
            6 => Some(MapKind::PercpuArray),
            _ => None,
        }
    }

    /// Whether keys are indices `0..max_entries` (4-byte keys, preallocated values).
    pub fn is_array(self) -> bool {
        matches!(self, MapKind::Array | MapKind::PercpuArray)
    }
}

/// A map's declaration. Programs refer to maps by their index in [`Program::maps`]
/// (`lddw` pseudo src 1 and 2 carry that index; the kernel loader swaps in fds).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapDef {
    /// Symbol (ELF, assembly) or local variable (Lua) name, used in reports.
    pub name: String,
    /// Hash, array, …
    pub kind: MapKind,
    /// Key size in bytes (4 for arrays).
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
}

/// Where an instruction came from in a source file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LineInfo {
    /// First slot index the entry covers; it lasts until the next entry.
    pub insn: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// The source a program was compiled from, for line tables.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SourceMap {
    /// The file name as given by the user.
    pub file: String,
    /// Full source text (BTF line info carries line text).
    pub text: String,
    /// Entries sorted by `insn`.
    pub lines: Vec<LineInfo>,
}

impl SourceMap {
    /// The entry that covers slot `insn`.
    pub fn lookup(&self, insn: usize) -> Option<&LineInfo> {
        let i = self.lines.partition_point(|l| l.insn <= insn);
        i.checked_sub(1).map(|i| &self.lines[i])
    }
}

/// A whole program: bytecode, the maps it uses and its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// Function or section name.
    pub name: String,
    /// Program type (context layout and helpers).
    pub prog_type: ProgType,
    /// The bytecode; local calls are already resolved to slot offsets.
    pub insns: Vec<Insn>,
    /// Maps, indexed by the immediates of pseudo `lddw`s.
    pub maps: Vec<MapDef>,
    /// License string (the kernel wants "GPL" for GPL-only helpers).
    pub license: String,
    /// Line table back to the source, when the program came from one.
    pub source: Option<SourceMap>,
}

impl Program {
    /// A program without maps or source.
    pub fn new(name: impl Into<String>, prog_type: ProgType, insns: Vec<Insn>) -> Program {
        Program {
            name: name.into(),
            prog_type,
            insns,
            maps: Vec::new(),
            license: "GPL".to_string(),
            source: None,
        }
    }
}

/// Helper ids (Linux uapi `enum bpf_func_id`) that luabpf implements.
pub mod helper_id {
    /// `void *bpf_map_lookup_elem(map, key)`.
    pub const MAP_LOOKUP_ELEM: i32 = 1;
    /// `long bpf_map_update_elem(map, key, value, flags)`.
    pub const MAP_UPDATE_ELEM: i32 = 2;
    /// `long bpf_map_delete_elem(map, key)`.
    pub const MAP_DELETE_ELEM: i32 = 3;
    /// `u64 bpf_ktime_get_ns(void)`; for `raw` programs the conformance suite's
    /// helper 5, which returns its first argument.
    pub const KTIME_GET_NS: i32 = 5;
    /// `long bpf_trace_printk(fmt, fmt_size, ...)`.
    pub const TRACE_PRINTK: i32 = 6;
    /// `u32 bpf_get_prandom_u32(void)`.
    pub const GET_PRANDOM_U32: i32 = 7;
    /// `u32 bpf_get_smp_processor_id(void)`.
    pub const GET_SMP_PROCESSOR_ID: i32 = 8;
}
