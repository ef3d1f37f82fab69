//! A temporary computed and then copied into a variable is computed in the
//! variable: `t = sum; t += x; sum = t` becomes `sum += x`. It runs after
//! register allocation, only for variables that got a register and already
//! live where the temporary does, so the allocation stays valid as it is.
//!
//! The code generator evaluates an assigned expression into a fresh register
//! and then moves it into the variable's; the register allocator's intervals
//! (hulls, without holes) keep the two apart when the variable lives across
//! a loop, so the copies stay. Renaming is sound when the temporary lives
//! only in one straight-line run ending at the copy, and the variable is
//! neither read nor written inside that run (so writing it early changes
//! nothing anyone sees, and no jump leaves the run in between).

use crate::codegen::vcode::*;
use bpf_bridge::isa::AluOp;

/// Renames and removes the copies into variables `in_reg` accepts (those
/// the register allocator kept in a register: computing a spilled variable in
/// place costs a reload and a store per instruction); whether anything changed.
///
/// `first` and `last` hold the positions of the first and last mention of
/// each virtual register (as [`crate::regalloc::Allocation`] has them:
/// instruction `i` at `2i` and `2i + 1`).
pub(crate) fn run(
    code: &mut Vec<VInsn>,
    first: &mut [u32],
    last: &[u32],
    in_reg: impl Fn(V) -> bool,
) -> bool {
    let mut changed = false;
    for j in 0..code.len() {
        let VOp::Alu {
            op: AluOp::Mov,
            dst: x,
            src: VSrc::Reg(t),
        } = code[j].op
        else {
            continue;
        };
        if x == t
            || x.is_phys()
            || t.is_phys()
            || last.get(t.0 as usize).map(|&p| p / 2) != Some(j as u32)
            || !in_reg(x)
        {
            continue;
        }
        let i = (first[t.0 as usize] / 2) as usize;
        // `x` already lives from `i` (or earlier) to `j`: its register is
        // free of other values there, so the allocation stays valid.
        if i >= j
            || first
                .get(x.0 as usize)
                .is_none_or(|&f| (f / 2) as usize > i)
            || !defines_only(code[i].op, t)
        {
            continue;
        }
        // Straight line strictly inside, without `x`.
        let clean = code[i + 1..j].iter().all(|ins| {
            let op = ins.op;
            op.target().is_none()
                && op.falls_through()
                && !matches!(op, VOp::Label(_) | VOp::Call { .. })
                && !op.mentions(x)
        });
        if !clean || writes(code[i].op, x) {
            continue;
        }
        for ins in &mut code[i..=j] {
            ins.op = rename(ins.op, t, x);
        }
        changed = true;
        // `t` is gone; `x` is now mentioned from `i` on (its first mention
        // can only move earlier, which later candidates check against).
        let xn = x.0 as usize;
        first[xn] = first[xn].min(2 * i as u32);
    }
    if !changed {
        return false;
    }
    // The copy, and a renamed `t = x`, are now `x = x`.
    code.retain(
        |ins| !matches!(ins.op, VOp::Alu { op: AluOp::Mov, dst, src: VSrc::Reg(s) } if dst == s),
    );
    true
}

/// Whether `op` writes `t` without reading it (the temporary's first def).
fn defines_only(op: VOp, t: V) -> bool {
    op.defs().contains(&t) && !op.uses().contains(&t)
}

fn writes(op: VOp, v: V) -> bool {
    op.defs().contains(&v)
}

/// `op` with register `from` renamed `to`.
fn rename(op: VOp, from: V, to: V) -> VOp {
    let r = |v: V| if v == from { to } else { v };
    let rs = |s: VSrc| match s {
        VSrc::Reg(v) => VSrc::Reg(r(v)),
        imm => imm,
    };
    match op {
        VOp::Alu { op, dst, src } => VOp::Alu {
            op,
            dst: r(dst),
            src: rs(src),
        },
        VOp::Neg { dst } => VOp::Neg { dst: r(dst) },
        VOp::Be { bits, dst } => VOp::Be { bits, dst: r(dst) },
        VOp::LoadImm { dst, value } => VOp::LoadImm { dst: r(dst), value },
        VOp::LoadMap { dst, map } => VOp::LoadMap { dst: r(dst), map },
        VOp::Load {
            size,
            dst,
            base,
            off,
        } => VOp::Load {
            size,
            dst: r(dst),
            base: r(base),
            off,
        },
        VOp::Store {
            size,
            base,
            off,
            src,
        } => VOp::Store {
            size,
            base: r(base),
            off,
            src: rs(src),
        },
        VOp::Jmp { op, a, b, target } => VOp::Jmp {
            op,
            a: r(a),
            b: rs(b),
            target,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    fn ins(op: VOp) -> VInsn {
        VInsn {
            op,
            span: Span::default(),
        }
    }

    fn alu(op: AluOp, dst: u32, src: VSrc) -> VInsn {
        ins(VOp::Alu {
            op,
            dst: V(dst),
            src,
        })
    }

    /// [`super::run`] with the mentions the register allocator finds.
    fn run(code: &mut Vec<VInsn>, nregs: u32, in_reg: impl Fn(V) -> bool) -> bool {
        let alloc = crate::regalloc::allocate(code, nregs, -8).expect("allocates");
        let mut first = alloc.first;
        super::run(code, &mut first, &alloc.last, in_reg)
    }

    fn ops(code: &[VInsn]) -> Vec<VOp> {
        code.iter().map(|i| i.op).collect()
    }

    #[test]
    fn a_copied_sum_is_computed_in_place() {
        // t = sum; t += x; sum = t  →  sum += x
        let mut code = vec![
            alu(AluOp::Mov, 20, VSrc::Reg(V(17))),
            alu(AluOp::Add, 20, VSrc::Reg(V(18))),
            alu(AluOp::Mov, 17, VSrc::Reg(V(20))),
            ins(VOp::Exit),
        ];
        assert!(run(&mut code, 64, |_| true));
        assert_eq!(
            ops(&code),
            vec![alu(AluOp::Add, 17, VSrc::Reg(V(18))).op, VOp::Exit]
        );
    }

    #[test]
    fn copies_stay_when_the_variable_is_read_between_or_spilled_or_a_jump_leaves() {
        // `sum` read inside the run.
        let read = vec![
            alu(AluOp::Mov, 20, VSrc::Reg(V(17))),
            alu(AluOp::Add, 20, VSrc::Imm(1)),
            alu(AluOp::Mov, 21, VSrc::Reg(V(17))),
            alu(AluOp::Add, 20, VSrc::Reg(V(21))),
            alu(AluOp::Mov, 17, VSrc::Reg(V(20))),
        ];
        // A jump inside the run.
        let jump = vec![
            alu(AluOp::Mov, 20, VSrc::Reg(V(18))),
            ins(VOp::Jmp {
                op: bpf_bridge::isa::JmpOp::Eq,
                a: V(20),
                b: VSrc::Imm(0),
                target: Label(0),
            }),
            alu(AluOp::Mov, 17, VSrc::Reg(V(20))),
            ins(VOp::Label(Label(0))),
        ];
        for code in [read, jump] {
            let mut c = code.clone();
            assert!(!run(&mut c, 64, |_| true));
            assert_eq!(ops(&c), ops(&code));
        }
        // The variable is spilled.
        let code = vec![
            alu(AluOp::Mov, 20, VSrc::Reg(V(17))),
            alu(AluOp::Add, 20, VSrc::Imm(1)),
            alu(AluOp::Mov, 17, VSrc::Reg(V(20))),
        ];
        let mut c = code.clone();
        assert!(!run(&mut c, 64, |x| x != V(17)));
        assert_eq!(ops(&c), ops(&code));
    }
}
