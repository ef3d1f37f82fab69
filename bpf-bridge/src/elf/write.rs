//! Writes a [`Program`] as the ELF64 relocatable `EM_BPF` object clang would
//! produce for it, so libbpf (`bpftool prog load`) accepts it:
//!
//! - the program's entry function in a section named for its type (`xdp`),
//!   its subprograms in `.text` (libbpf wants static functions there);
//! - `license`;
//! - BTF-defined maps in `.maps`, one global object symbol each; every map
//!   `lddw` has its immediate zeroed and an `R_BPF_64_64` relocation naming
//!   the map's symbol;
//! - `.BTF` (functions, maps, source lines) and `.BTF.ext` (`func_info` and
//!   `line_info` by section), so `bpftool prog dump xlated … linum` prints
//!   the source line beside each instruction.

use crate::btf::ext::{self, ExtSection};
use crate::btf::program::MAP_DEF_SIZE;
use crate::btf::{self, identifier, BtfError};
use crate::isa::{Insn, INSN_SIZE};
use crate::program::{ProgType, Program};
use object::write::{Object, Relocation, StandardSegment, Symbol, SymbolSection};
use object::{
    elf, Architecture, BinaryFormat, Endianness, RelocationFlags, SectionKind, SymbolFlags,
    SymbolKind, SymbolScope,
};

/// `BPF_LD | BPF_IMM | BPF_DW`.
const LDDW: u8 = 0x18;
/// `BPF_JMP | BPF_CALL`.
const CALL: u8 = 0x85;
/// Pseudo sources of `lddw` (map fd) and `call` (local).
const PSEUDO_MAP_FD: u8 = 1;
const PSEUDO_CALL: u8 = 1;

/// Why a program cannot be written as an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// No instructions.
    #[error("the program has no instructions")]
    Empty,
    /// An `lddw` names a map the program does not declare.
    #[error("instruction {insn}: map index {map} out of range ({count} maps)")]
    MapIndex {
        /// Slot of the `lddw`.
        insn: usize,
        /// The index it carries.
        map: u32,
        /// Number of maps declared.
        count: usize,
    },
    /// A pseudo `lddw` that an object file with BTF-defined maps cannot express
    /// (libbpf relocates map *values* only for its own `.data`/`.bss` maps).
    #[error(
        "instruction {insn}: lddw with pseudo source {src} cannot be written to an ELF object"
    )]
    UnsupportedLddw {
        /// Slot of the `lddw`.
        insn: usize,
        /// Its source field.
        src: u8,
    },
    /// A call of the entry function or outside the program.
    #[error("instruction {insn}: local call to slot {target} is not a subprogram start")]
    BadCall {
        /// Slot of the call.
        insn: usize,
        /// Slot it targets.
        target: i64,
    },
    /// Encoding BTF failed.
    #[error(transparent)]
    Btf(#[from] BtfError),
    /// The `object` crate refused the layout.
    #[error("writing the ELF object: {0}")]
    Object(String),
}

impl From<object::write::Error> for WriteError {
    fn from(e: object::write::Error) -> Self {
        WriteError::Object(e.to_string())
    }
}

/// The ELF section name of a program type (libbpf's `SEC()` name for XDP).
pub fn section_name(t: ProgType) -> &'static str {
    t.name()
}

/// Writes `prog` as an ELF relocatable object (see the module docs). Program,
/// subprogram and map names are made C identifiers (BTF and libbpf want
/// them), so a name like `count-tcp` reads back as `count_tcp`.
pub fn write_object(prog: &Program) -> Result<Vec<u8>, WriteError> {
    if prog.insns.is_empty() {
        return Err(WriteError::Empty);
    }
    let mut desc = btf::describe(prog, true);
    let starts: Vec<usize> = desc.funcs.iter().map(|f| f.insn).collect();
    let main_end = starts.get(1).copied().unwrap_or(prog.insns.len());

    let mut obj = Object::new(BinaryFormat::Elf, Architecture::Bpf, Endianness::Little);
    let sec_name = section_name(prog.prog_type);
    let main_sec = obj.add_section(Vec::new(), sec_name.as_bytes().to_vec(), SectionKind::Text);
    let text_sec = (main_end < prog.insns.len()).then(|| {
        let seg = obj.segment_name(StandardSegment::Text).to_vec();
        obj.add_section(seg, b".text".to_vec(), SectionKind::Text)
    });

    // Maps: zeroed definitions, one global object symbol each.
    let mut map_syms = Vec::new();
    if !prog.maps.is_empty() {
        let maps_sec = obj.add_section(Vec::new(), b".maps".to_vec(), SectionKind::Data);
        let zeros = vec![0u8; MAP_DEF_SIZE as usize * prog.maps.len()];
        obj.set_section_data(maps_sec, zeros, 8);
        for (i, m) in prog.maps.iter().enumerate() {
            map_syms.push(obj.add_symbol(Symbol {
                name: identifier(&m.name).into_bytes(),
                value: i as u64 * MAP_DEF_SIZE as u64,
                size: MAP_DEF_SIZE as u64,
                kind: SymbolKind::Data,
                scope: SymbolScope::Dynamic,
                weak: false,
                section: SymbolSection::Section(maps_sec),
                flags: SymbolFlags::None,
            }));
        }
    }

    // Function symbols: the entry is global, subprograms static in `.text`.
    let mut func_syms = Vec::new();
    for (k, f) in desc.funcs.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(prog.insns.len());
        let (section, value, scope) = if k == 0 {
            (main_sec, 0, SymbolScope::Dynamic)
        } else {
            let base = (f.insn - main_end) * INSN_SIZE;
            (text_sec.unwrap_or(main_sec), base, SymbolScope::Compilation)
        };
        func_syms.push(obj.add_symbol(Symbol {
            name: f.name.clone().into_bytes(),
            value: value as u64,
            size: ((end - f.insn) * INSN_SIZE) as u64,
            kind: SymbolKind::Text,
            scope,
            weak: false,
            section: SymbolSection::Section(section),
            flags: SymbolFlags::None,
        }));
    }

    // Code, with map references and cross-section calls turned into relocations.
    let mut code: Vec<Insn> = prog.insns.clone();
    let mut relocs = Vec::new(); // (slot, symbol, r_type)
    let mut i = 0;
    while i < code.len() {
        let insn = code[i];
        if insn.code == LDDW {
            match insn.src() {
                0 => {}
                PSEUDO_MAP_FD => {
                    let map = insn.imm as u32;
                    let sym = *map_syms.get(map as usize).ok_or(WriteError::MapIndex {
                        insn: i,
                        map,
                        count: prog.maps.len(),
                    })?;
                    code[i] = Insn::new(LDDW, insn.dst(), 0, insn.off, 0);
                    relocs.push((i, sym, elf::R_BPF_64_64));
                }
                src => return Err(WriteError::UnsupportedLddw { insn: i, src }),
            }
            i += 2;
            continue;
        }
        if insn.code == CALL && insn.src() == PSEUDO_CALL {
            let target = i as i64 + 1 + insn.imm as i64;
            let k = starts.iter().position(|&s| s as i64 == target);
            match k {
                Some(k) if k > 0 => {
                    if i < main_end {
                        // From the entry section into `.text`: libbpf resolves
                        // the symbol's offset + imm + 1.
                        code[i].imm = -1;
                        relocs.push((i, func_syms[k], elf::R_BPF_64_32));
                    }
                    // Within `.text` the relative offset already holds.
                }
                _ => return Err(WriteError::BadCall { insn: i, target }),
            }
        }
        i += 1;
    }
    let bytes = |r: std::ops::Range<usize>| crate::isa::insns_to_bytes(&code[r]);
    obj.set_section_data(main_sec, bytes(0..main_end), 8);
    if let Some(t) = text_sec {
        obj.set_section_data(t, bytes(main_end..code.len()), 8);
    }
    for (slot, symbol, r_type) in relocs {
        let (section, base) = match text_sec {
            Some(t) if slot >= main_end => (t, main_end),
            _ => (main_sec, 0),
        };
        obj.add_relocation(
            section,
            Relocation {
                offset: ((slot - base) * INSN_SIZE) as u64,
                symbol,
                addend: 0,
                flags: RelocationFlags::Elf { r_type },
            },
        )?;
    }

    // License, NUL-terminated, with clang's `_license` symbol.
    let license_sec = obj.add_section(Vec::new(), b"license".to_vec(), SectionKind::Data);
    let mut license = prog.license.replace('\0', "").into_bytes();
    license.push(0);
    let license_len = license.len() as u64;
    obj.set_section_data(license_sec, license, 1);
    obj.add_symbol(Symbol {
        name: b"_license".to_vec(),
        value: 0,
        size: license_len,
        kind: SymbolKind::Data,
        scope: SymbolScope::Dynamic,
        weak: false,
        section: SymbolSection::Section(license_sec),
        flags: SymbolFlags::None,
    });

    // `.BTF.ext`: records by section, in byte offsets from each section's start.
    let mut main_ext = ExtSection {
        name_off: desc.builder.string(sec_name),
        ..ExtSection::default()
    };
    let mut text_ext = ExtSection {
        name_off: desc.builder.string(".text"),
        ..ExtSection::default()
    };
    let off = |slot: usize| {
        let base = if slot >= main_end { main_end } else { 0 };
        ((slot - base) * INSN_SIZE) as u32
    };
    for f in &desc.funcs {
        let target = if f.insn >= main_end {
            &mut text_ext
        } else {
            &mut main_ext
        };
        target.funcs.push((off(f.insn), f.type_id));
    }
    for l in &desc.lines {
        let target = if l.insn >= main_end {
            &mut text_ext
        } else {
            &mut main_ext
        };
        target.lines.push((off(l.insn), l.clone()));
    }
    let btf_bytes = desc.builder.encode()?;
    let ext_bytes = ext::encode(&[main_ext, text_ext]);
    for (name, data) in [(".BTF", btf_bytes), (".BTF.ext", ext_bytes)] {
        let s = obj.add_section(Vec::new(), name.as_bytes().to_vec(), SectionKind::Other);
        obj.set_section_data(s, data, 4);
    }
    Ok(obj.write()?)
}
