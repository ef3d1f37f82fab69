//! Text to bytecode, in the syntax of the bpf_conformance `-- asm` sections:
//!
//! ```text
//! .map counts hash key=4 value=8 entries=256   # luabpf extension
//! start:
//!     ldxh %r2, [%r1+12]        # loads: ldx{b,h,w,dw}, ldxs{b,h,w}
//!     jne %r2, 0x800, done      # jumps take a label or +N/-N
//!     lddw %r1, map:counts      # also map_value:NAME+OFF
//!     lock fetch add [%r10-8], %r1
//! done:
//!     exit
//! ```
//!
//! A jump to the label `exit` that no line defines goes to the first `exit`
//! instruction, as in bpf_conformance. Every instruction is checked with
//! [`crate::isa::decode_one`], so what assembles also decodes.

mod lexer;
mod parser;

use crate::isa::{self, Insn, Op};
use crate::program::{LineInfo, MapDef, ProgType, Program, SourceMap};
use parser::{Item, JumpKind, MapRef, Stmt, Target};
use std::collections::HashMap;

/// A positioned assembly error (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct AsmError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub col: usize,
    /// What is wrong.
    pub message: String,
}

impl AsmError {
    pub(crate) fn new(line: usize, col: usize, message: impl Into<String>) -> AsmError {
        AsmError {
            line,
            col,
            message: message.into(),
        }
    }
}

/// The output of [`assemble`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assembled {
    /// The bytecode.
    pub insns: Vec<Insn>,
    /// Maps declared with `.map`, in order; pseudo `lddw`s hold indices into it.
    pub maps: Vec<MapDef>,
    /// Where each instruction came from (one entry per instruction, sorted by slot).
    pub lines: Vec<LineInfo>,
}

impl Assembled {
    /// A [`Program`] of this bytecode and maps (license GPL, no source).
    pub fn into_program(self, name: impl Into<String>, prog_type: ProgType) -> Program {
        let mut p = Program::new(name, prog_type, self.insns);
        p.maps = self.maps;
        p
    }

    /// Like [`Assembled::into_program`], keeping the line table against `file`/`text`.
    pub fn into_program_with_source(
        self,
        name: impl Into<String>,
        prog_type: ProgType,
        file: &str,
        text: &str,
    ) -> Program {
        let lines = self.lines.clone();
        let mut p = self.into_program(name, prog_type);
        p.source = Some(SourceMap {
            file: file.to_string(),
            text: text.to_string(),
            lines,
        });
        p
    }
}

/// An instruction waiting for the label and map tables.
struct Pending<'a> {
    item: Item<'a>,
    slot: usize,
    line: usize,
    col: usize,
}

/// Assembles `text`. The first problem found is returned with its position.
pub fn assemble(text: &str) -> Result<Assembled, AsmError> {
    let mut labels: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut first_exit: Option<usize> = None;
    let mut maps: Vec<MapDef> = Vec::new();
    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut slot = 0usize;

    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let toks = lexer::lex_line(raw, line)?;
        let parsed = parser::parse_line(&toks, line, raw.chars().count() + 1)?;
        if let Some((name, col)) = parsed.label {
            if let Some(&(_, prev)) = labels.get(name) {
                return Err(AsmError::new(
                    line,
                    col,
                    format!("duplicate label {name} (first defined on line {prev})"),
                ));
            }
            labels.insert(name, (slot, line));
        }
        match parsed.stmt {
            None => {}
            Some(Stmt::Map(def, col)) => {
                if maps.iter().any(|m| m.name == def.name) {
                    return Err(AsmError::new(
                        line,
                        col,
                        format!("map {} declared twice", def.name),
                    ));
                }
                maps.push(def);
            }
            Some(Stmt::Insn(item, col)) => {
                if matches!(item, Item::Op(Op::Exit)) && first_exit.is_none() {
                    first_exit = Some(slot);
                }
                let n = item.slots();
                pending.push(Pending {
                    item,
                    slot,
                    line,
                    col,
                });
                slot += n;
            }
        }
    }

    let mut insns = Vec::with_capacity(slot);
    let mut lines = Vec::with_capacity(pending.len());
    for p in &pending {
        lines.push(LineInfo {
            insn: p.slot,
            line: p.line as u32,
            col: p.col as u32,
        });
        match p.item {
            Item::Op(op) => op.encode(&mut insns),
            Item::Map {
                dst,
                map,
                map_col,
                value_off,
            } => {
                let index = resolve_map(&maps, map).ok_or_else(|| {
                    let what = match map {
                        MapRef::Name(n) => format!("unknown map {n} (declare it with .map)"),
                        MapRef::Index(i) => {
                            format!("map index {i} out of range ({} maps declared)", maps.len())
                        }
                    };
                    AsmError::new(p.line, map_col, what)
                })?;
                let op = match value_off {
                    None => Op::LoadMap { dst, map: index },
                    Some(offset) => Op::LoadMapValue {
                        dst,
                        map: index,
                        offset,
                    },
                };
                op.encode(&mut insns);
            }
            Item::Jump { kind, target } => {
                let off = resolve_target(target, p, &labels, first_exit)?;
                encode_jump(kind, off, p, target, &mut insns)?;
            }
        }
    }

    // What assembles must decode: catches r10 as a destination and the like.
    for p in &pending {
        if let Err(e) = isa::decode_one(&insns, p.slot) {
            return Err(AsmError::new(p.line, p.col, e.reason));
        }
    }
    Ok(Assembled { insns, maps, lines })
}

fn resolve_map(maps: &[MapDef], map: MapRef<'_>) -> Option<u32> {
    match map {
        MapRef::Name(n) => maps.iter().position(|m| m.name == n).map(|i| i as u32),
        MapRef::Index(i) => (i < maps.len() as u64).then_some(i as u32),
    }
}

/// The offset (relative to the next slot) a jump target denotes.
fn resolve_target(
    target: Target<'_>,
    p: &Pending<'_>,
    labels: &HashMap<&str, (usize, usize)>,
    first_exit: Option<usize>,
) -> Result<i64, AsmError> {
    match target {
        Target::Offset(off, _) => Ok(off),
        Target::Label(name, col) => {
            let dest = match labels.get(name) {
                Some(&(slot, _)) => slot,
                None if name == "exit" && first_exit.is_some() => first_exit.unwrap_or(0),
                None => return Err(AsmError::new(p.line, col, format!("unknown label {name}"))),
            };
            Ok(dest as i64 - p.slot as i64 - 1)
        }
    }
}

fn encode_jump(
    kind: JumpKind,
    off: i64,
    p: &Pending<'_>,
    target: Target<'_>,
    out: &mut Vec<Insn>,
) -> Result<(), AsmError> {
    let col = match target {
        Target::Label(_, c) | Target::Offset(_, c) => c,
    };
    let range_err = |bits: u32| {
        let hint = if matches!(kind, JumpKind::Ja) {
            " (use ja32 for longer jumps)"
        } else {
            ""
        };
        AsmError::new(
            p.line,
            col,
            format!("jump offset {off} does not fit in {bits} bits{hint}"),
        )
    };
    let off16 = || i16::try_from(off).map_err(|_| range_err(16));
    let off32 = || i32::try_from(off).map_err(|_| range_err(32));
    match kind {
        JumpKind::Ja => Op::Ja {
            off: off16()? as i32,
        }
        .encode(out),
        JumpKind::Gotol => out.push(isa::gotol(off32()?)),
        JumpKind::MayGoto => Op::MayGoto { off: off16()? }.encode(out),
        JumpKind::CallLocal => Op::CallLocal { off: off32()? }.encode(out),
        JumpKind::Cond {
            width,
            op,
            dst,
            src,
        } => Op::Jmp {
            width,
            op,
            dst,
            src,
            off: off16()?,
        }
        .encode(out),
    }
    Ok(())
}

#[cfg(test)]
mod tests;
