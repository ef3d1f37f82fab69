//! The ELF reader: sections, symbols and relocations to linked [`Program`]s.

use super::btf_maps::{self, Btf, MapSymbol};
use super::{
    prog_type_for_section, ElfError, ElfObject, ElfProgram, ReadOptions, UnsupportedProgram,
};
use crate::isa::{self, Insn, Op, INSN_SIZE};
use crate::program::{MapDef, Program};
use object::{
    Architecture, BinaryFormat, Endianness, Object, ObjectKind, ObjectSection, ObjectSymbol,
    RelocationFlags, RelocationTarget, SectionIndex, SectionKind,
};
use std::collections::HashMap;

/// `R_BPF_*` relocation types.
const R_BPF_NONE: u32 = 0;
const R_BPF_64_64: u32 = 1;
const R_BPF_64_32: u32 = 10;

const BTF_MAPS_SECTION: &str = ".maps";
const LEGACY_MAPS_SECTION: &str = "maps";

fn malformed(m: impl Into<String>) -> ElfError {
    ElfError::Malformed(m.into())
}

/// What a relocation points at.
#[derive(Clone, Debug)]
struct Target {
    name: String,
    section: Option<SectionIndex>,
    value: u64,
}

/// An executable section: its slots and relocations by slot index.
struct Code {
    name: String,
    insns: Vec<Insn>,
    relocs: HashMap<usize, (u32, Target)>,
}

/// A function: a range of slots in an executable section.
#[derive(Clone, Debug)]
struct Func {
    name: String,
    section: SectionIndex,
    start: usize,
    len: usize,
    global: bool,
}

/// Everything [`link`] needs.
struct Objects {
    code: HashMap<SectionIndex, Code>,
    funcs: Vec<Func>,
    /// (section, offset) of each map symbol → map index.
    map_at: HashMap<(SectionIndex, u64), u32>,
    section_names: HashMap<SectionIndex, String>,
}

/// Reads an object: every program, its maps and license. See [`super`] for the rules.
pub fn read_elf(bytes: &[u8], opts: &ReadOptions) -> Result<ElfObject, ElfError> {
    let file = object::File::parse(bytes).map_err(|e| malformed(e.to_string()))?;
    if file.format() != BinaryFormat::Elf {
        return Err(ElfError::NotBpf(format!(
            "{:?} file, not ELF",
            file.format()
        )));
    }
    if file.architecture() != Architecture::Bpf {
        return Err(ElfError::NotBpf(format!(
            "machine is {:?}, not BPF",
            file.architecture()
        )));
    }
    if file.endianness() != Endianness::Little || !file.is_64() {
        return Err(ElfError::NotBpf(
            "only 64-bit little-endian objects (-target bpfel) are supported".into(),
        ));
    }
    if file.kind() != ObjectKind::Relocatable {
        return Err(ElfError::NotBpf(format!(
            "{:?} file, not a relocatable object (.o)",
            file.kind()
        )));
    }

    let mut section_names = HashMap::new();
    let mut code = HashMap::new();
    let mut license = String::new();
    let (mut btf_maps_sec, mut legacy_sec, mut btf_data) = (None, None, None);
    for s in file.sections() {
        let name = s
            .name()
            .map_err(|e| malformed(format!("section name: {e}")))?;
        section_names.insert(s.index(), name.to_string());
        let data = || {
            s.data()
                .map_err(|e| malformed(format!("section {name}: {e}")))
        };
        match name {
            BTF_MAPS_SECTION => btf_maps_sec = Some((s.index(), data()?)),
            LEGACY_MAPS_SECTION => legacy_sec = Some((s.index(), data()?)),
            ".BTF" => btf_data = Some(data()?),
            "license" => {
                let d = data()?;
                let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
                license = String::from_utf8_lossy(&d[..end]).into_owned();
            }
            _ => {}
        }
        if s.kind() != SectionKind::Text || s.size() == 0 {
            continue;
        }
        let d = data()?;
        let insns =
            isa::insns_from_bytes(d).map_err(|e| malformed(format!("section {name}: {e}")))?;
        let mut relocs = HashMap::new();
        for (off, r) in s.relocations() {
            let RelocationFlags::Elf { r_type } = r.flags() else {
                return Err(malformed(format!("section {name}: non-ELF relocation")));
            };
            if r_type.0 == R_BPF_NONE {
                continue;
            }
            if off % INSN_SIZE as u64 != 0 || off >= d.len() as u64 {
                return Err(malformed(format!(
                    "section {name}: relocation at offset {off} is not on an instruction"
                )));
            }
            let RelocationTarget::Symbol(si) = r.target() else {
                return Err(malformed(format!(
                    "section {name}: relocation at offset {off} has no symbol"
                )));
            };
            let sym = file
                .symbol_by_index(si)
                .map_err(|e| malformed(format!("section {name}: relocation symbol: {e}")))?;
            let target = Target {
                name: sym.name().unwrap_or("?").to_string(),
                section: sym.section_index(),
                value: sym.address(),
            };
            relocs.insert(off as usize / INSN_SIZE, (r_type.0, target));
        }
        code.insert(
            s.index(),
            Code {
                name: name.to_string(),
                insns,
                relocs,
            },
        );
    }

    // Functions and map symbols.
    let mut funcs = Vec::new();
    let (mut btf_syms, mut legacy_syms) = (Vec::new(), Vec::new());
    for sym in file.symbols() {
        let Some(sec) = sym.section_index() else {
            continue;
        };
        let name = sym.name().unwrap_or("");
        if btf_maps_sec.as_ref().is_some_and(|(i, _)| *i == sec) && !name.is_empty() {
            btf_syms.push((sym.address(), name));
        } else if legacy_sec.as_ref().is_some_and(|(i, _)| *i == sec) && !name.is_empty() {
            legacy_syms.push((sym.address(), name));
        }
        let Some(c) = code.get(&sec) else {
            continue;
        };
        if sym.kind() != object::SymbolKind::Text || name.is_empty() {
            continue;
        }
        let (value, size) = (sym.address(), sym.size());
        if value % INSN_SIZE as u64 != 0 || value / INSN_SIZE as u64 >= c.insns.len() as u64 {
            return Err(malformed(format!(
                "function {name} at offset {value} lies outside section {}",
                c.name
            )));
        }
        let start = (value / INSN_SIZE as u64) as usize;
        let len = (size / INSN_SIZE as u64) as usize;
        if len > c.insns.len() - start {
            return Err(malformed(format!(
                "function {name} runs past section {}",
                c.name
            )));
        }
        funcs.push(Func {
            name: name.to_string(),
            section: sec,
            start,
            len,
            global: sym.is_global(),
        });
    }
    funcs.sort_by_key(|f| (f.section.0, f.start));
    // Size 0 (hand-written assembly): up to the next function or the section end.
    for i in 0..funcs.len() {
        if funcs[i].len == 0 {
            let end = funcs
                .get(i + 1)
                .filter(|n| n.section == funcs[i].section)
                .map_or(code[&funcs[i].section].insns.len(), |n| n.start);
            funcs[i].len = end.saturating_sub(funcs[i].start);
        }
    }
    // An executable section without function symbols is one program named after it.
    let mut bare: Vec<_> = code
        .iter()
        .filter(|(sec, c)| c.name != ".text" && !funcs.iter().any(|f| f.section == **sec))
        .map(|(sec, c)| Func {
            name: c.name.clone(),
            section: *sec,
            start: 0,
            len: c.insns.len(),
            global: true,
        })
        .collect();
    funcs.append(&mut bare);
    funcs.sort_by_key(|f| (f.section.0, f.start));

    // Maps: .maps first, then legacy, each in offset order.
    btf_syms.sort();
    legacy_syms.sort();
    let mut maps: Vec<MapDef> = Vec::new();
    let mut map_at = HashMap::new();
    if let Some((sec, _)) = btf_maps_sec {
        let btf = Btf::parse(btf_data.ok_or_else(|| {
            malformed("section .maps needs BTF, but there is no .BTF section (compile with -g)")
        })?)?;
        let syms: Vec<MapSymbol<'_>> = btf_syms
            .iter()
            .map(|&(offset, name)| MapSymbol { name, offset })
            .collect();
        for (def, s) in btf_maps::btf_maps(&btf, &syms)?.into_iter().zip(&syms) {
            map_at.insert((sec, s.offset), maps.len() as u32);
            maps.push(def);
        }
    }
    if let Some((sec, data)) = legacy_sec {
        let syms: Vec<MapSymbol<'_>> = legacy_syms
            .iter()
            .map(|&(offset, name)| MapSymbol { name, offset })
            .collect();
        for (def, s) in btf_maps::legacy_maps(data, &syms)?.into_iter().zip(&syms) {
            map_at.insert((sec, s.offset), maps.len() as u32);
            maps.push(def);
        }
    }
    if let Some(dup) = maps
        .iter()
        .enumerate()
        .find(|(i, m)| maps[..*i].iter().any(|o| o.name == m.name))
    {
        return Err(malformed(format!("map {} is defined twice", dup.1.name)));
    }

    let objs = Objects {
        code,
        funcs,
        map_at,
        section_names,
    };
    let mut programs = Vec::new();
    let mut unsupported = Vec::new();
    for (i, f) in objs.funcs.iter().enumerate() {
        let section = &objs.code[&f.section].name;
        if section == ".text" || !f.global {
            continue;
        }
        let Some(prog_type) = prog_type_for_section(section).or(opts.other_sections_as) else {
            unsupported.push(UnsupportedProgram {
                name: f.name.clone(),
                section: section.clone(),
            });
            continue;
        };
        let insns = link(&objs, i)
            .map_err(|m| ElfError::Unsupported(format!("program {}: {m}", f.name)))?;
        isa::decode_program(&insns)
            .map_err(|e| ElfError::Unsupported(format!("program {}: {e}", f.name)))?;
        let mut program = Program::new(f.name.clone(), prog_type, insns);
        program.maps = maps.clone();
        program.license = license.clone();
        programs.push(ElfProgram {
            section: section.clone(),
            program,
        });
    }
    Ok(ElfObject {
        programs,
        unsupported,
        maps,
        license,
    })
}

/// Links function `main` with every function it calls, transitively: callees are
/// appended in the order first called, local call offsets and map loads rewritten.
fn link(objs: &Objects, main: usize) -> Result<Vec<Insn>, String> {
    let mut placed: Vec<(usize, usize)> = vec![(main, 0)];
    let first = &objs.funcs[main];
    let mut out: Vec<Insn> =
        objs.code[&first.section].insns[first.start..first.start + first.len].to_vec();
    let mut next = 0;
    while next < placed.len() {
        let (fi, base) = placed[next];
        next += 1;
        let f = &objs.funcs[fi];
        let code = &objs.code[&f.section];
        let mut p = 0;
        while p < f.len {
            let slot = f.start + p;
            let here = format!("{}+{}", code.name, slot);
            let op = isa::decode_one(&code.insns[..f.start + f.len], slot)
                .map_err(|e| format!("{here}: {}", e.reason))?;
            let reloc = code.relocs.get(&slot);
            match (op, reloc) {
                (Op::LoadImm64 { dst, value }, Some((R_BPF_64_64, t))) => {
                    let index = map_index(objs, t, value)?;
                    let mut two = Vec::with_capacity(2);
                    Op::LoadMap { dst, map: index }.encode(&mut two);
                    out[base + p..base + p + 2].copy_from_slice(&two);
                }
                (Op::CallLocal { off }, reloc) => {
                    let (sec, target) = match reloc {
                        Some((R_BPF_64_32, t)) => {
                            let sec = t.section.ok_or_else(|| {
                                format!("{here}: call to undefined function {}", t.name)
                            })?;
                            (sec, (t.value / INSN_SIZE as u64) as i64 + off as i64 + 1)
                        }
                        Some((ty, t)) => {
                            return Err(format!(
                                "{here}: relocation type {ty} against {} on a call",
                                t.name
                            ))
                        }
                        None => (f.section, slot as i64 + off as i64 + 1),
                    };
                    let (ti, tbase) = place(objs, &mut placed, &mut out, sec, target)
                        .map_err(|m| format!("{here}: {m}"))?;
                    let t = &objs.funcs[ti];
                    let dest = tbase as i64 + (target - t.start as i64);
                    let new_off = i32::try_from(dest - (base + p) as i64 - 1)
                        .map_err(|_| format!("{here}: call offset out of range"))?;
                    let mut one = Vec::with_capacity(1);
                    Op::CallLocal { off: new_off }.encode(&mut one);
                    out[base + p] = one[0];
                }
                (_, Some((ty, t))) => {
                    return Err(match *ty {
                        R_BPF_64_64 | R_BPF_64_32 => format!(
                        "{here}: unsupported use of {} (only map loads and calls are relocated)",
                        t.name
                    ),
                        ty => format!(
                            "{here}: unsupported relocation type {ty} against {}",
                            t.name
                        ),
                    })
                }
                (_, None) => {}
            }
            p += op.slots().max(1);
        }
    }
    Ok(out)
}

/// The map a `lddw` relocation names; global data and externs are errors.
fn map_index(objs: &Objects, t: &Target, addend: u64) -> Result<u32, String> {
    let Some(sec) = t.section else {
        return Err(format!("extern symbol {} is not supported", t.name));
    };
    let sec_name = objs.section_names.get(&sec).map_or("?", |s| s.as_str());
    match objs.map_at.get(&(sec, t.value)) {
        Some(&i) if addend == 0 => Ok(i),
        Some(_) => Err(format!("map {} referenced with offset {addend}", t.name)),
        None if sec_name == BTF_MAPS_SECTION || sec_name == LEGACY_MAPS_SECTION => {
            Err(format!("no map at offset {} of {sec_name}", t.value))
        }
        None if objs.code.contains_key(&sec) => {
            Err(format!("function pointers ({}) are not supported", t.name))
        }
        None => Err(format!(
            "global data not supported ({} in section {sec_name}); use a map",
            t.name
        )),
    }
}

/// Index and base slot of the function holding slot `target` of section `sec`,
/// appending it to `out` the first time.
fn place(
    objs: &Objects,
    placed: &mut Vec<(usize, usize)>,
    out: &mut Vec<Insn>,
    sec: SectionIndex,
    target: i64,
) -> Result<(usize, usize), String> {
    let fi = objs
        .funcs
        .iter()
        .position(|f| {
            f.section == sec && (f.start as i64..(f.start + f.len) as i64).contains(&target)
        })
        .ok_or_else(|| {
            let name = objs.section_names.get(&sec).map_or("?", |s| s.as_str());
            format!("call target {name}+{target} is not inside a function")
        })?;
    if let Some(&(_, base)) = placed.iter().find(|(i, _)| *i == fi) {
        return Ok((fi, base));
    }
    let f = &objs.funcs[fi];
    let base = out.len();
    out.extend_from_slice(&objs.code[&f.section].insns[f.start..f.start + f.len]);
    placed.push((fi, base));
    Ok((fi, base))
}
