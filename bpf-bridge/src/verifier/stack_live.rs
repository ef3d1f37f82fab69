//! Stack slot liveness: which 8-byte slots of the frame may still be read
//! (before being overwritten whole) from each instruction on. Pruning skips
//! the others, as the kernel skips stack slots never read below a state.
//!
//! Static and conservative: a forward pass finds which registers may hold
//! a frame pointer plus a known offset (`r10`, copies, constant adds); an
//! access through an unknown stack pointer, or a helper argument pointing
//! into the stack, reads every slot from there up. Programs with local calls
//! (several frames) get every slot live everywhere.

use crate::isa::{AluOp, Op, Reg, Size, Src, Width};
use alloc::vec;
use alloc::vec::Vec;

/// Every slot.
const ALL: u64 = u64::MAX;

/// What a register may hold, as far as the stack is concerned: [`NO`],
/// [`ANY`], or else the frame pointer plus that offset (kept small).
type Fp = i32;
/// Never a stack pointer.
const NO: Fp = i32::MIN;
/// Possibly a stack pointer with any offset.
const ANY: Fp = i32::MAX;

fn join(a: Fp, b: Fp) -> Fp {
    if a == NO || a == b {
        b
    } else if b == NO {
        a
    } else {
        ANY
    }
}

fn or_any(a: Fp) -> Fp {
    if a == NO {
        NO
    } else {
        ANY
    }
}

type Regs = [Fp; 11];

/// Slots holding any byte of `[off, off + len)` (frame offsets, negative).
fn slots(off: i64, len: i64) -> u64 {
    let (lo, hi) = (off.max(-512), (off + len).min(0));
    if lo >= hi {
        return 0;
    }
    let first = ((-hi) / 8) as u32; // slot of byte hi-1
    let last = ((-lo - 1) / 8) as u32; // slot of byte lo
    let n = last - first + 1;
    let m = if n >= 64 { ALL } else { (1u64 << n) - 1 };
    m << first
}

/// Slots an access of `len` bytes at `base + off` may read.
fn reads(v: Fp, off: i64, len: i64) -> u64 {
    match v {
        NO => 0,
        ANY => ALL,
        c => slots(c as i64 + off, len),
    }
}

fn args(n: usize) -> core::ops::RangeInclusive<usize> {
    1..=n
}

/// Registers on entry to each slot (`None` = unreached); `spilled`: some
/// stack pointer may have been stored, so loads may yield one. `ordered`:
/// every jump goes forward, so one pass in slot order reaches the fixpoint.
fn forward(ops: &[Op], raw: bool, spilled: bool, ordered: bool) -> (Vec<Option<Regs>>, bool) {
    let n = ops.len();
    let mut at: Vec<Option<Regs>> = vec![None; n];
    let mut entry = [NO; 11];
    entry[10] = 0;
    at[0] = Some(entry);
    let mut work = if ordered { Vec::new() } else { vec![0usize] };
    let mut order = 0..if ordered { n } else { 0 };
    let mut stores_fp = false;
    let loaded = if spilled { ANY } else { NO };
    while let Some(pc) = order.next().or_else(|| work.pop()) {
        let Some(mut v) = at[pc] else { continue };
        let op = ops[pc];
        match op {
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => {
                let d = dst.idx();
                let s = match src {
                    Src::Reg(r) => v[r.idx()],
                    Src::Imm(_) => NO,
                };
                v[d] = match (width, op, src) {
                    (Width::W64, AluOp::Mov, _) => s,
                    (Width::W64, AluOp::Add, Src::Imm(i))
                    | (Width::W64, AluOp::Sub, Src::Imm(i)) => {
                        let k = if op == AluOp::Add {
                            i as i64
                        } else {
                            -(i as i64)
                        };
                        match v[d] {
                            NO => NO,
                            ANY => ANY,
                            c if (c as i64 + k).abs() < 1 << 20 => (c as i64 + k) as i32,
                            _ => ANY,
                        }
                    }
                    (_, AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32, _) => {
                        or_any(s)
                    }
                    _ => or_any(join(v[d], s)),
                };
            }
            Op::Neg { dst, .. } | Op::Endian { dst, .. } => v[dst.idx()] = or_any(v[dst.idx()]),
            Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
                v[dst.idx()] = NO
            }
            Op::Load { dst, .. } => v[dst.idx()] = loaded,
            Op::Store {
                src: Src::Reg(r), ..
            } => stores_fp |= v[r.idx()] != NO,
            Op::Store { .. } => {}
            Op::Atomic { op, fetch, src, .. } => {
                stores_fp |= v[src.idx()] != NO;
                if op == crate::isa::AtomicOp::Cmpxchg {
                    stores_fp |= v[0] != NO;
                    v[0] = loaded;
                } else if fetch {
                    v[src.idx()] = loaded;
                }
            }
            Op::Call { .. } | Op::CallReg { .. } => {
                // Helpers return numbers or map values; the conformance
                // helper of `raw` programs returns r1.
                let r0 = if raw { v[1] } else { NO };
                for r in v.iter_mut().take(6) {
                    *r = NO;
                }
                v[0] = r0;
            }
            _ => {}
        }
        v[10] = 0;
        // Joins `v` into the registers on entry to `t`, in place.
        let mut succ = |t: usize| {
            let changed = match at.get_mut(t) {
                None => false,
                Some(slot @ None) => {
                    *slot = Some(v);
                    true
                }
                Some(Some(old)) => {
                    let mut changed = false;
                    for (a, &b) in old.iter_mut().zip(v.iter()) {
                        let j = join(*a, b);
                        changed |= j != *a;
                        *a = j;
                    }
                    changed
                }
            };
            if changed && !ordered {
                work.push(t);
            }
        };
        if let Some(t) = op.target(pc) {
            succ(t as usize);
        }
        if op.falls_through() {
            succ(pc + op.slots().max(1));
        }
    }
    (at, stores_fp)
}

/// Whether `op` reads r10 (as an operand or a base).
fn reads_fp(op: &Op) -> bool {
    let fp = |r: &Reg| *r == Reg::R10;
    let src = |s: &Src| matches!(s, Src::Reg(r) if fp(r));
    match op {
        Op::Alu { dst, src: s, .. } => fp(dst) || src(s),
        Op::Neg { dst, .. } | Op::Endian { dst, .. } => fp(dst),
        Op::Load { base, .. } => fp(base),
        Op::Store { base, src: s, .. } => fp(base) || src(s),
        Op::Atomic { base, src: s, .. } => fp(base) || fp(s),
        Op::Jmp { dst, src: s, .. } => fp(dst) || src(s),
        Op::CallReg { reg } => fp(reg),
        Op::LoadImm64 { .. }
        | Op::LoadMap { .. }
        | Op::LoadMapValue { .. }
        | Op::LddwHigh
        | Op::Ja { .. }
        | Op::MayGoto { .. }
        | Op::Call { .. }
        | Op::CallLocal { .. }
        | Op::Exit => false,
    }
}

/// Live slots on entry to each instruction; `forward`: every jump goes
/// forward ([`super::cfg::jumps_forward`]).
pub fn stack_liveness(ops: &[Op], raw: bool, forward: bool) -> Vec<u64> {
    let n = ops.len();
    if ops.iter().any(|o| matches!(o, Op::CallLocal { .. })) {
        return vec![ALL; n];
    }
    // Stack pointers all derive from r10: where no op reads it, no slot is
    // ever read (the common case of filters without locals, and cheap).
    if !ops.iter().any(reads_fp) {
        return vec![0; n];
    }
    full(ops, raw, forward)
}

/// [`stack_liveness`] by the forward and backward passes.
fn full(ops: &[Op], raw: bool, ordered: bool) -> Vec<u64> {
    let n = ops.len();
    let (mut at, spilled) = forward(ops, raw, false, ordered);
    if spilled {
        at = forward(ops, raw, true, ordered).0;
    }
    // Per slot: slots read, and the slot overwritten whole.
    let mut gen = vec![0u64; n];
    let mut kill = vec![0u64; n];
    for (pc, op) in ops.iter().enumerate() {
        let Some(v) = at[pc] else { continue };
        let base = |b: Reg| v[b.idx()];
        match *op {
            Op::Load {
                size, base: b, off, ..
            } => gen[pc] = reads(base(b), off as i64, size.bytes() as i64),
            Op::Atomic {
                width,
                base: b,
                off,
                ..
            } => {
                let len = if width == Width::W64 { 8 } else { 4 };
                gen[pc] = reads(base(b), off as i64, len);
            }
            Op::Store {
                size: Size::DW,
                base: b,
                off,
                ..
            } => {
                // Only a store through r10 surely hits the stack.
                let o = off as i64;
                if b == Reg::R10 && o % 8 == 0 {
                    kill[pc] = slots(o, 8);
                }
            }
            Op::Call { helper } => {
                for r in args(super::cfg::helper_args(helper)) {
                    gen[pc] |= reads(v[r], 0, 512);
                }
            }
            Op::CallReg { .. } => {
                for r in args(5) {
                    gen[pc] |= reads(v[r], 0, 512);
                }
            }
            _ => {}
        }
    }
    let mut live = vec![0u64; n];
    let mut changed = true;
    while changed {
        changed = false;
        for pc in (0..n).rev() {
            let op = ops[pc];
            if op == Op::LddwHigh {
                continue;
            }
            let mut out = 0;
            if let Some(t) = op.target(pc) {
                out |= live.get(t as usize).copied().unwrap_or(0);
            }
            if op.falls_through() {
                out |= live.get(pc + op.slots().max(1)).copied().unwrap_or(0);
            }
            let v = gen[pc] | (out & !kill[pc]);
            if v != live[pc] {
                live[pc] = v;
                changed = true;
            }
        }
        changed &= !ordered;
    }
    live
}

#[cfg(test)]
mod tests {
    use super::{full, reads_fp, slots};
    use crate::asm::assemble;
    use crate::isa::decode_program;
    use crate::program::ProgType;

    #[test]
    fn no_fp_no_live_slots() {
        let text = "ldxw %r2, [%r1+0]\nmov %r3, %r2\ncall 1\nexit\n";
        let prog = assemble(text).unwrap().into_program("t", ProgType::Xdp);
        let ops = decode_program(&prog.insns).unwrap();
        assert!(!ops.iter().any(reads_fp));
        for raw in [false, true] {
            assert_eq!(full(&ops, raw, true), vec![0; ops.len()]);
        }
    }

    #[test]
    fn slot_masks() {
        assert_eq!(slots(-8, 8), 1);
        assert_eq!(slots(-4, 4), 1);
        assert_eq!(slots(-16, 8), 2);
        assert_eq!(slots(-12, 8), 3);
        assert_eq!(slots(-16, 512), 3);
        assert_eq!(slots(-512, 512), u64::MAX);
        assert_eq!(slots(0, 8), 0);
    }
}
