//! From allocated virtual code to bytecode: dead-code removal, spill code,
//! label resolution and the line table.

use crate::cfgopt::NOWHERE;
use crate::codegen::vcode::*;
use crate::diag::{LineIndex, Span};
use crate::regalloc::{self, Loc};
use bpf_bridge::isa::{AluOp, Op, Reg, Size, Src, Width};
use bpf_bridge::program::LineInfo;

/// Removes unreachable instructions and jumps to the next instruction, and
/// runs the control-flow clean-ups of [`crate::cfgopt`], until nothing changes
/// (a few rounds at most); then drops the packet checks already made.
/// `nregs` and `nlabels` bound the register and label numbers in `code`.
pub fn simplify(code: &mut Vec<VInsn>, nregs: u32, nlabels: u32) {
    let mut s = crate::cfgopt::Scratch::new(nlabels as usize, code.len());
    for round in 0..12 {
        let removed = remove_dead(code, &mut s);
        // One pass removes all dead code and jumps to the next instruction;
        // the clean-ups reach their fixed point in one run on unchanged
        // code: they run again only when dead code went since.
        if round > 0 && !removed {
            break;
        }
        if !crate::cfgopt::run(code, &mut s) {
            break;
        }
    }
    crate::cfgopt::proven_packet_checks(code, &mut s, nregs);
}

/// Removes unreachable instructions, labels no jump names (they only split
/// straight-line runs for the clean-ups) and jumps whose target follows them
/// (past labels only); whether anything went.
fn remove_dead(code: &mut Vec<VInsn>, s: &mut crate::cfgopt::Scratch) -> bool {
    let n = code.len();
    if !std::mem::take(&mut s.indexed) {
        s.labels_placed_and_named(code);
    }
    let named = &s.named;
    // Reachable instructions: straight-line runs from each entry.
    let reach = &mut s.keep;
    reach.clear();
    reach.resize(n, false);
    let work = &mut s.work;
    let label_at = &s.label_at;
    work.clear();
    work.push(0);
    // A run ends at the first instruction already reached (a target may be
    // queued twice: the second visit stops at once).
    while let Some(i) = work.pop() {
        let i = i as usize;
        let run = code.get(i..).unwrap_or_default();
        for (ins, r) in run.iter().zip(reach.get_mut(i..).unwrap_or_default()) {
            if *r {
                break;
            }
            *r = true;
            let (target, falls) = match ins.op {
                VOp::Jmp { target, .. } | VOp::MayGoto { target } => (Some(target), true),
                VOp::Ja { target } => (Some(target), false),
                VOp::Exit => (None, false),
                _ => (None, true),
            };
            if let Some(t) = target {
                let j = label_at[t.0 as usize];
                if j != NOWHERE {
                    work.push(j);
                }
            }
            if !falls {
                break;
            }
        }
    }
    // Decided backwards on the reachable code: a jump goes when a label it
    // names stands between it and the next kept instruction (the kept labels
    // since that instruction are listed).
    let labels_after = &mut s.labels;
    labels_after.clear();
    let mut removed = false;
    for (ins, r) in code.iter().zip(reach.iter_mut()).rev() {
        if !*r {
            removed = true;
            continue;
        }
        match ins.op {
            VOp::Label(l) => {
                if named[l.0 as usize] {
                    labels_after.push(l);
                } else {
                    *r = false;
                    removed = true;
                }
            }
            op => {
                if let Some(t) = op.target() {
                    if !matches!(op, VOp::MayGoto { .. }) && labels_after.contains(&t) {
                        *r = false;
                        removed = true;
                        continue;
                    }
                }
                labels_after.clear();
            }
        }
    }
    if removed {
        // The kept runs move down whole.
        let (mut w, mut r) = (0, 0);
        while r < n {
            let start = r + reach[r..].iter().position(|&k| k).unwrap_or(n - r);
            let end = start + reach[start..].iter().position(|&k| !k).unwrap_or(n - start);
            code.copy_within(start..end, w);
            w += end - start;
            r = end;
        }
        code.truncate(w);
    }
    removed
}

fn reg(n: u8) -> Reg {
    Reg::new(n).unwrap_or(Reg::R0)
}

const S1: u8 = 5;
const S2: u8 = 0;

/// Ops as they are emitted, with their line table; jumps are patched once
/// every label is placed.
struct Out<'s> {
    ops: Vec<Op>,
    lines: Vec<LineInfo>,
    /// Source of the instruction being lowered.
    span: Span,
    index: LineIndex<'s>,
    /// The last span start looked up, and its line and column.
    last: Option<(u32, (u32, u32))>,
    /// Slot of each label (labels are dense small numbers).
    pos: Vec<usize>,
    /// Jumps to patch: slot, target and source.
    jumps: Vec<(usize, Label, Span)>,
}

impl Out<'_> {
    fn op(&mut self, op: Op) {
        let start = self.span.start;
        let (line, col) = match self.last {
            Some((s, lc)) if s == start => lc,
            _ => {
                let lc = self.index.line_col(start as usize);
                self.last = Some((start, lc));
                lc
            }
        };
        if self
            .lines
            .last()
            .is_none_or(|l| l.line != line || l.col != col)
        {
            self.lines.push(LineInfo {
                insn: self.ops.len(),
                line,
                col,
            });
        }
        self.ops.push(op);
        if op.slots() == 2 {
            self.ops.push(Op::LddwHigh);
        }
    }
    fn jump(&mut self, op: Op, target: Label) {
        self.jumps.push((self.ops.len(), target, self.span));
        self.op(op);
    }
    fn mark(&mut self, l: Label) {
        let l = l.0 as usize;
        if l >= self.pos.len() {
            self.pos.resize(l + 1, 0);
        }
        self.pos[l] = self.ops.len();
    }
    fn load_slot(&mut self, dst: u8, off: i16) {
        self.op(Op::Load {
            size: Size::DW,
            signed: false,
            dst: reg(dst),
            base: Reg::R10,
            off,
        });
    }
    fn store_slot(&mut self, off: i16, src: u8) {
        self.op(Op::Store {
            size: Size::DW,
            base: Reg::R10,
            off,
            src: Src::Reg(reg(src)),
        });
    }
}

/// Allocation plus rewriting: virtual code to ops with labels resolved.
/// Temporaries copied into a variable that got a register are computed in
/// place first (`crate::copyprop`; the allocation stays valid).
pub fn lower_to_ops(
    code: &mut Vec<VInsn>,
    nregs: u32,
    spill_base: i16,
    source: &str,
) -> Result<(Vec<Op>, Vec<LineInfo>), (Span, String)> {
    let mut alloc =
        regalloc::allocate(code, nregs, spill_base).map_err(|m| (Span::default(), m))?;
    let mut first = std::mem::take(&mut alloc.first);
    crate::copyprop::run(code, &mut first, &alloc.last, |x| {
        matches!(alloc.loc(x), Loc::Reg(_))
    });
    let code: &[VInsn] = code;
    let loc = |v: V| -> Loc { alloc.loc(v) };
    let mut out = Out {
        ops: Vec::with_capacity(code.len() + code.len() / 4),
        lines: Vec::with_capacity(code.len() / 2 + 4),
        span: Span::default(),
        index: LineIndex::new(source),
        last: None,
        pos: Vec::with_capacity(code.len() / 4 + 4),
        jumps: Vec::with_capacity(code.len() / 4 + 4),
    };
    for ins in code {
        out.span = ins.span;
        // Brings a use into a register (scratch `s` when spilled).
        let use_in = |out: &mut Out, v: V, s: u8| -> u8 {
            match loc(v) {
                Loc::Reg(r) => r,
                Loc::Stack(off) => {
                    out.load_slot(s, off);
                    s
                }
            }
        };
        let src_in = |out: &mut Out, s: VSrc, scratch: u8| -> Src {
            match s {
                VSrc::Imm(i) => Src::Imm(i),
                VSrc::Reg(v) => Src::Reg(reg(use_in(out, v, scratch))),
            }
        };
        match ins.op {
            VOp::Label(l) => out.mark(l),
            VOp::Alu {
                op: AluOp::Mov,
                dst,
                src,
            } => match (loc(dst), src) {
                (Loc::Reg(d), VSrc::Reg(s)) => match loc(s) {
                    Loc::Reg(r) if r == d => {}
                    Loc::Reg(r) => out.op(Op::Alu {
                        width: Width::W64,
                        op: AluOp::Mov,
                        dst: reg(d),
                        src: Src::Reg(reg(r)),
                    }),
                    Loc::Stack(off) => out.load_slot(d, off),
                },
                (Loc::Reg(d), VSrc::Imm(i)) => out.op(Op::Alu {
                    width: Width::W64,
                    op: AluOp::Mov,
                    dst: reg(d),
                    src: Src::Imm(i),
                }),
                (Loc::Stack(doff), src) => {
                    let s = match src {
                        VSrc::Reg(v) => use_in(&mut out, v, S1),
                        VSrc::Imm(i) => {
                            out.op(Op::Alu {
                                width: Width::W64,
                                op: AluOp::Mov,
                                dst: reg(S1),
                                src: Src::Imm(i),
                            });
                            S1
                        }
                    };
                    out.store_slot(doff, s);
                }
            },
            VOp::Alu { op, dst, src } => {
                let d = use_in(&mut out, dst, S1);
                let s = src_in(&mut out, src, S2);
                out.op(Op::Alu {
                    width: Width::W64,
                    op,
                    dst: reg(d),
                    src: s,
                });
                if let Loc::Stack(off) = loc(dst) {
                    out.store_slot(off, d);
                }
            }
            VOp::Neg { dst } | VOp::Be { dst, .. } => {
                let d = use_in(&mut out, dst, S1);
                let op = match ins.op {
                    VOp::Be { bits, .. } => Op::Endian {
                        kind: bpf_bridge::isa::Endian::Be,
                        bits,
                        dst: reg(d),
                    },
                    _ => Op::Neg {
                        width: Width::W64,
                        dst: reg(d),
                    },
                };
                out.op(op);
                if let Loc::Stack(off) = loc(dst) {
                    out.store_slot(off, d);
                }
            }
            VOp::LoadImm { dst, .. } | VOp::LoadMap { dst, .. } | VOp::Load { dst, .. } => {
                let d = match loc(dst) {
                    Loc::Reg(r) => r,
                    Loc::Stack(_) => S1,
                };
                let op = match ins.op {
                    VOp::LoadImm { value, .. } => Op::LoadImm64 { dst: reg(d), value },
                    VOp::LoadMap { map, .. } => Op::LoadMap { dst: reg(d), map },
                    VOp::Load {
                        size, base, off, ..
                    } => {
                        let b = use_in(&mut out, base, S2);
                        Op::Load {
                            size,
                            signed: false,
                            dst: reg(d),
                            base: reg(b),
                            off,
                        }
                    }
                    _ => unreachable!("matched above"),
                };
                out.op(op);
                if let Loc::Stack(off) = loc(dst) {
                    out.store_slot(off, d);
                }
            }
            VOp::Store {
                size,
                base,
                off,
                src,
            } => {
                let b = use_in(&mut out, base, S1);
                let s = src_in(&mut out, src, S2);
                out.op(Op::Store {
                    size,
                    base: reg(b),
                    off,
                    src: s,
                });
            }
            VOp::Jmp { op, a, b, target } => {
                let x = use_in(&mut out, a, S1);
                let y = src_in(&mut out, b, S2);
                out.jump(
                    Op::Jmp {
                        width: Width::W64,
                        op,
                        dst: reg(x),
                        src: y,
                        off: 0,
                    },
                    target,
                );
            }
            VOp::Ja { target } => out.jump(Op::Ja { off: 0 }, target),
            VOp::MayGoto { target } => out.jump(Op::MayGoto { off: 0 }, target),
            VOp::Call { helper, .. } => out.op(Op::Call { helper }),
            VOp::Exit => out.op(Op::Exit),
        }
    }
    // Jump offsets, now that every label is placed.
    let Out {
        mut ops,
        lines,
        pos,
        jumps,
        ..
    } = out;
    for (slot, l, span) in jumps {
        let t = pos.get(l.0 as usize).copied().unwrap_or(0) as i64;
        let off = t - (slot as i64 + 1);
        let off16 = i16::try_from(off).map_err(|_| {
            (
                span,
                "the program is too large for 16-bit jump offsets".to_string(),
            )
        })?;
        ops[slot] = match ops[slot] {
            Op::Jmp {
                width,
                op,
                dst,
                src,
                ..
            } => Op::Jmp {
                width,
                op,
                dst,
                src,
                off: off16,
            },
            Op::MayGoto { .. } => Op::MayGoto { off: off16 },
            _ => Op::Ja { off: off16 as i32 },
        };
    }
    Ok((ops, lines))
}
