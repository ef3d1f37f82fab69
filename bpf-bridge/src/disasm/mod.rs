//! Bytecode to text, in two styles:
//!
//! - [`Style::Conformance`]: the bpf_conformance syntax that [`crate::asm`] reads.
//!   Jump targets become labels `L<slot>`, maps are declared with `.map` first,
//!   so `assemble(disassemble(p))` gives back the same bytecode.
//! - [`Style::Llvm`]: llvm-objdump's BPF syntax (`r0 = 1`, `if w1 s> w2 goto -4`),
//!   with jump offsets relative to the next slot. Map loads print as
//!   `r1 = map[NAME] ll` and `r1 = map_value[NAME] + 8 ll` (bpftool-like;
//!   llvm-objdump shows a relocation there). Read-only: there is no parser for it.

mod conformance;
mod llvm;

use crate::isa::{self, DecodeError, Insn, Op};
use crate::program::MapDef;
use std::collections::BTreeSet;
use std::fmt::Write;

/// The text syntax to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Style {
    /// bpf_conformance `-- asm` syntax; re-assembles.
    Conformance,
    /// llvm-objdump syntax.
    Llvm,
}

/// One op as text, without a trailing newline. `pc` is the op's slot index: jump
/// targets print as `L<pc + 1 + off>` in [`Style::Conformance`] and as `+off` in
/// [`Style::Llvm`]. Maps are named from `maps` (by index when it has no such entry).
/// [`Op::LddwHigh`] gives an empty string.
pub fn format_op(op: &Op, pc: usize, maps: &[MapDef], style: Style) -> String {
    match style {
        Style::Conformance => conformance::format(op, pc, maps, false),
        Style::Llvm => llvm::format(op, maps, false),
    }
}

/// Decodes and prints a whole program, one line per op (`lddw` once). In
/// [`Style::Conformance`] the text starts with a `.map` line per map and every
/// jump target gets a label line `L<slot>:`; the result re-assembles to `insns`.
pub fn disassemble(insns: &[Insn], maps: &[MapDef], style: Style) -> Result<String, DecodeError> {
    let ops = isa::decode_program(insns)?;
    for (pc, op) in ops.iter().enumerate() {
        let map = match *op {
            Op::LoadMap { map, .. } | Op::LoadMapValue { map, .. } => map,
            _ => continue,
        };
        if map as usize >= maps.len() {
            return Err(DecodeError {
                index: pc,
                reason: format!("map index {map} out of range ({} maps)", maps.len()),
            });
        }
    }
    let mut out = String::new();
    match style {
        Style::Conformance => {
            for m in maps {
                let _ = writeln!(out, "{}", conformance::map_directive(m));
            }
            let targets: BTreeSet<usize> = ops
                .iter()
                .enumerate()
                .filter_map(|(pc, op)| op.target(pc).map(|t| t as usize))
                .collect();
            for (pc, op) in ops.iter().enumerate() {
                if *op == Op::LddwHigh {
                    continue;
                }
                if targets.contains(&pc) {
                    let _ = writeln!(out, "L{pc}:");
                }
                let long = isa::is_gotol(insns[pc]);
                let _ = writeln!(out, "{}", conformance::format(op, pc, maps, long));
            }
        }
        Style::Llvm => {
            for (pc, op) in ops.iter().enumerate() {
                if *op != Op::LddwHigh {
                    let long = isa::is_gotol(insns[pc]);
                    let _ = writeln!(out, "{}", llvm::format(op, maps, long));
                }
            }
        }
    }
    Ok(out)
}

/// `+3`, `-4`, `+0`.
fn signed_off(off: i64) -> String {
    if off < 0 {
        format!("{off}")
    } else {
        format!("+{off}")
    }
}

/// Name of map `index`, or the index itself when `maps` has no such entry.
fn map_name(maps: &[MapDef], index: u32) -> String {
    match maps.get(index as usize) {
        Some(m) => m.name.clone(),
        None => index.to_string(),
    }
}

#[cfg(test)]
mod tests;
