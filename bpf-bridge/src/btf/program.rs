//! A program described in BTF: one `FUNC` per subprogram, the source line
//! table, and (for ELF objects) its maps the way libbpf expects BTF-defined
//! maps (`struct { __uint(type, …); … } name SEC(".maps")`).
//!
//! Records are in instruction (slot) units; the kernel loader passes them as
//! they are, the ELF writer turns them into per-section byte offsets.

use super::{identifier, BtfBuilder, FuncLinkage, TypeId, VAR_GLOBAL_ALLOCATED};
use crate::isa::Insn;
use crate::program::{MapDef, Program};
use std::collections::HashMap;

/// `BPF_JMP | BPF_CALL`.
const CALL: u8 = 0x85;
/// `BPF_LD | BPF_IMM | BPF_DW`.
const LDDW: u8 = 0x18;
/// `BPF_PSEUDO_CALL`: a local call.
const PSEUDO_CALL: u8 = 1;

/// Size of one BTF-defined map in `.maps`: four pointer members.
pub const MAP_DEF_SIZE: u32 = 32;

/// `bpf_func_info` before it is encoded: the first slot of a (sub)program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncRecord {
    /// First slot of the function.
    pub insn: usize,
    /// Its `BTF_KIND_FUNC`.
    pub type_id: TypeId,
    /// Its name (a C identifier).
    pub name: String,
}

/// `bpf_line_info` before it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRecord {
    /// First slot the entry covers.
    pub insn: usize,
    /// String offset of the file name.
    pub file_name_off: u32,
    /// String offset of the source line's text.
    pub line_off: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (the kernel keeps 10 bits; larger ones are clamped).
    pub col: u32,
}

impl LineRecord {
    /// The packed `line_col` field: line in the top 22 bits, column in the low 10.
    pub fn line_col(&self) -> u32 {
        (self.line << 10) | self.col.min(0x3ff)
    }
}

/// A program's BTF, still open for more strings (the ELF writer adds section names).
#[derive(Clone, Debug)]
pub struct ProgramBtf {
    /// Types and strings.
    pub builder: BtfBuilder,
    /// One per subprogram, by first slot; the first is the program itself.
    pub funcs: Vec<FuncRecord>,
    /// Strictly increasing slots, one at every function start; empty without a source.
    pub lines: Vec<LineRecord>,
    /// The `VAR` of each map, in [`Program::maps`] order (empty unless asked for).
    pub map_vars: Vec<TypeId>,
}

/// First slots of the program and of every local-call target, sorted, each once.
/// Targets outside the program are left out (the verifier reports them).
pub fn subprogram_starts(insns: &[Insn]) -> Vec<usize> {
    let mut starts = vec![0];
    let mut i = 0;
    while i < insns.len() {
        let insn = insns[i];
        if insn.code == CALL && insn.src() == PSEUDO_CALL {
            let target = i as i64 + 1 + insn.imm as i64;
            if (0..insns.len() as i64).contains(&target) {
                starts.push(target as usize);
            }
        }
        i += if insn.code == LDDW { 2 } else { 1 };
    }
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// Slots that hold the second half of an `lddw` (no line entry may start there).
fn lddw_high_slots(insns: &[Insn]) -> Vec<bool> {
    let mut high = vec![false; insns.len()];
    let mut i = 0;
    while i < insns.len() {
        if insns[i].code == LDDW {
            if let Some(h) = high.get_mut(i + 1) {
                *h = true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    high
}

/// Describes `prog`: functions and line table always, its maps when `with_maps`.
pub fn describe(prog: &Program, with_maps: bool) -> ProgramBtf {
    let mut b = BtfBuilder::new();
    let mut ints = IntTypes::default();

    // `struct xdp_md`, the context of every program luabpf loads.
    let u32_t = ints.get(&mut b, 4, false);
    let fields = [
        "data",
        "data_end",
        "data_meta",
        "ingress_ifindex",
        "rx_queue_index",
        "egress_ifindex",
    ];
    let members: Vec<(&str, TypeId, u32)> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| (*f, u32_t, i as u32 * 32))
        .collect();
    let xdp_md = b.structure("xdp_md", 24, &members);
    let ctx_ptr = b.ptr(xdp_md);
    let int_t = ints.get(&mut b, 4, true);
    let main_proto = b.func_proto(int_t, &[("ctx", ctx_ptr)]);
    let long_t = ints.get(&mut b, 8, true);
    let sub_proto = b.func_proto(long_t, &[]);

    let main_name = identifier(&prog.name);
    let mut funcs = Vec::new();
    for start in subprogram_starts(&prog.insns) {
        let (name, id) = if start == 0 {
            let id = b.func(&main_name, main_proto, FuncLinkage::Global);
            (main_name.clone(), id)
        } else {
            // Static: the verifier checks a static subprogram in its caller's
            // context, whatever registers it takes.
            let name = format!("{main_name}__sub{start}");
            let id = b.func(&name, sub_proto, FuncLinkage::Static);
            (name, id)
        };
        funcs.push(FuncRecord {
            insn: start,
            type_id: id,
            name,
        });
    }

    let lines = line_records(prog, &funcs, &mut b);
    let map_vars = if with_maps {
        map_types(&prog.maps, &mut b, &mut ints)
    } else {
        Vec::new()
    };
    ProgramBtf {
        builder: b,
        funcs,
        lines,
        map_vars,
    }
}

/// The kernel's rules for `line_info`: slots strictly increasing, inside the
/// program, never the second half of an `lddw`, and one entry exactly at each
/// function start (the covering entry is repeated there when needed).
fn line_records(prog: &Program, funcs: &[FuncRecord], b: &mut BtfBuilder) -> Vec<LineRecord> {
    let Some(src) = &prog.source else {
        return Vec::new();
    };
    if src.lines.is_empty() || prog.insns.is_empty() {
        return Vec::new();
    }
    let high = lddw_high_slots(&prog.insns);
    let n = prog.insns.len();
    // slot -> (line, col); later entries for the same slot win, as in `SourceMap::lookup`.
    let mut at: Vec<Option<(u32, u32)>> = vec![None; n];
    for l in &src.lines {
        let mut slot = l.insn;
        if slot < n && high[slot] {
            slot += 1;
        }
        if slot < n {
            at[slot] = Some((l.line, l.col));
        }
    }
    for f in funcs {
        if at[f.insn].is_none() {
            let covering = src.lookup(f.insn).or_else(|| src.lines.first());
            at[f.insn] = covering.map(|l| (l.line, l.col));
        }
    }
    let file_name_off = b.string(&src.file);
    let text: Vec<&str> = src.text.lines().collect();
    let mut out = Vec::new();
    for (slot, entry) in at.into_iter().enumerate() {
        let Some((line, col)) = entry else { continue };
        let line_text = line
            .checked_sub(1)
            .and_then(|i| text.get(i as usize))
            .map_or("", |t| t.trim_end());
        out.push(LineRecord {
            insn: slot,
            file_name_off,
            line_off: b.string(line_text),
            line,
            col,
        });
    }
    out
}

/// Integer types by (size, signedness), each added once.
#[derive(Default)]
struct IntTypes(HashMap<(u32, bool), TypeId>);

impl IntTypes {
    fn get(&mut self, b: &mut BtfBuilder, size: u32, signed: bool) -> TypeId {
        *self.0.entry((size, signed)).or_insert_with(|| {
            let name = match (size, signed) {
                (1, false) => "unsigned char",
                (2, false) => "unsigned short",
                (4, false) => "unsigned int",
                (8, false) => "unsigned long long",
                (4, true) => "int",
                (8, true) => "long",
                _ => "__int",
            };
            b.int(name, size, signed)
        })
    }
}

/// Maps as libbpf's BTF-defined maps: a `VAR` per map of an anonymous struct
/// `{ int (*type)[T]; int (*max_entries)[N]; K *key; V *value; }`, and the
/// `.maps` `DATASEC` holding them. K and V are unsigned integers of 1, 2, 4
/// or 8 bytes, else `unsigned char[S]`: libbpf passes both to the kernel,
/// which wants a key and a value type of the map's sizes (so `key_size`
/// without a key type would make it retry the map without BTF).
fn map_types(maps: &[MapDef], b: &mut BtfBuilder, ints: &mut IntTypes) -> Vec<TypeId> {
    if maps.is_empty() {
        return Vec::new();
    }
    let int_t = ints.get(b, 4, true);
    let index_t = b.int("__ARRAY_SIZE_TYPE__", 4, false);
    let uint_field = |b: &mut BtfBuilder, n: u32| {
        let arr = b.array(int_t, index_t, n);
        b.ptr(arr)
    };
    let mut vars = Vec::new();
    for m in maps {
        let type_ptr = uint_field(b, m.kind.kernel_type());
        let max_ptr = uint_field(b, m.max_entries);
        let mut typed = |b: &mut BtfBuilder, size: u32| {
            let t = if matches!(size, 1 | 2 | 4 | 8) {
                ints.get(b, size, false)
            } else {
                let byte = ints.get(b, 1, false);
                b.array(byte, index_t, size)
            };
            b.ptr(t)
        };
        let key_ptr = typed(b, m.key_size);
        let value_ptr = typed(b, m.value_size);
        let def = b.structure(
            "",
            MAP_DEF_SIZE,
            &[
                ("type", type_ptr, 0),
                ("max_entries", max_ptr, 64),
                ("key", key_ptr, 128),
                ("value", value_ptr, 192),
            ],
        );
        vars.push(b.var(&identifier(&m.name), def, VAR_GLOBAL_ALLOCATED));
    }
    let entries: Vec<(TypeId, u32, u32)> = vars
        .iter()
        .enumerate()
        .map(|(i, &v)| (v, i as u32 * MAP_DEF_SIZE, MAP_DEF_SIZE))
        .collect();
    b.datasec(".maps", MAP_DEF_SIZE * maps.len() as u32, &entries);
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::{LineInfo, ProgType, SourceMap};

    fn call(off: i32) -> Insn {
        Insn::new(CALL, 0, PSEUDO_CALL, 0, off)
    }
    const EXIT: Insn = Insn::new(0x95, 0, 0, 0, 0);
    const MOV0: Insn = Insn::new(0xb7, 0, 0, 0, 0);

    #[test]
    fn subprograms_are_call_targets() {
        // 0: call +2 (-> 3); 1: lddw (2 slots) ; 3: call -1 (-> 3) ; 4: exit
        let lddw = Insn::new(LDDW, 0, 0, 0, 0x85);
        let insns = [call(2), lddw, Insn::new(0x85, 0, 1, 0, 5), MOV0, EXIT];
        // The second lddw slot looks like a call but is data.
        assert_eq!(subprogram_starts(&insns), vec![0, 3]);
        assert_eq!(subprogram_starts(&[call(100), EXIT]), vec![0]);
    }

    #[test]
    fn line_table_follows_kernel_rules() {
        let lddw = Insn::new(LDDW, 0, 0, 0, 0);
        // main: 0 call +3 ; 1-2 lddw ; 3 exit ; sub at 4: mov ; 5 exit
        let insns = vec![call(3), lddw, Insn::default(), EXIT, MOV0, EXIT];
        let mut prog = Program::new("count-tcp", ProgType::Xdp, insns);
        prog.source = Some(SourceMap {
            file: "f.lua".into(),
            text: "local a = 1\nreturn a  \r\n".into(),
            lines: vec![
                LineInfo {
                    insn: 0,
                    line: 1,
                    col: 1,
                },
                LineInfo {
                    insn: 0,
                    line: 1,
                    col: 7,
                },
                LineInfo {
                    insn: 2,
                    line: 2,
                    col: 1,
                },
            ],
        });
        let d = describe(&prog, false);
        let funcs: Vec<(usize, &str)> = d.funcs.iter().map(|f| (f.insn, f.name.as_str())).collect();
        assert_eq!(funcs, vec![(0, "count_tcp"), (4, "count_tcp__sub4")]);
        let lines: Vec<(usize, u32, u32)> =
            d.lines.iter().map(|l| (l.insn, l.line, l.col)).collect();
        // slot 2 is an lddw high half: moved to 3; slot 4 repeats the covering entry.
        assert_eq!(lines, vec![(0, 1, 7), (3, 2, 1), (4, 2, 1)]);
        assert_eq!(d.lines[0].line_col(), (1 << 10) | 7);
        let btf = d.builder.encode().unwrap();
        let text = String::from_utf8_lossy(&btf);
        assert!(text.contains("\0return a\0"));
        assert!(text.contains("\0f.lua\0"));
    }

    #[test]
    fn maps_become_btf_defined_maps() {
        let mut prog = Program::new("p", ProgType::Xdp, vec![MOV0, EXIT]);
        prog.maps.push(MapDef {
            name: "counts".into(),
            kind: crate::program::MapKind::Hash,
            key_size: 6,
            value_size: 8,
            max_entries: 16,
        });
        let d = describe(&prog, true);
        assert_eq!(d.map_vars.len(), 1);
        let btf = d.builder.encode().unwrap();
        let text = String::from_utf8_lossy(&btf);
        for s in [
            "\0counts\0",
            "\0.maps\0",
            "\0key\0",
            "\0value\0",
            "\0max_entries\0",
            "\0unsigned char\0", // the 6-byte key is `unsigned char[6]`
        ] {
            assert!(text.contains(s), "{s:?} missing");
        }
        assert!(!text.contains("key_size"));
    }
}
