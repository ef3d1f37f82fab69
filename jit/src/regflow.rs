//! Which eBPF registers an op reads and overwrites, as the generated code
//! treats them, and the question the peepholes of [`crate::lower`] ask with
//! it: is a register dead from some slots on. It looks only at the few slots
//! near the question and answers conservatively (live) when a program is
//! malformed or the look would go too far, so it is safe for unverified
//! programs too.

use bpf_bridge::isa::{decode_one, AluOp, AtomicOp, Insn, Op, Reg, Src};

/// A set of eBPF registers: bit `n` is `rn`.
pub(crate) type Regs = u16;

/// r0..=r5: the return and argument registers (what a call reads, what an
/// `exit` hands back to a caller).
const CALLER: Regs = 0b11_1111;
/// r1..=r5: a helper's arguments.
const ARGS: Regs = 0b11_1110;
/// Every register.
const ALL: Regs = 0x7ff;

/// The set holding `r` alone.
pub(crate) fn bit(r: Reg) -> Regs {
    1 << r.num()
}

fn src_bit(s: Src) -> Regs {
    match s {
        Src::Reg(r) => bit(r),
        Src::Imm(_) => 0,
    }
}

/// What one op does to registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Effects {
    /// Registers it may read.
    pub reads: Regs,
    /// Registers it surely overwrites, without reading them first.
    pub kills: Regs,
}

impl Effects {
    fn new(reads: Regs, kills: Regs) -> Effects {
        Effects { reads, kills }
    }
}

/// The registers `op` may read and surely overwrites.
pub(crate) fn effects(op: Op) -> Effects {
    match op {
        Op::Alu { op, dst, src, .. } => {
            let d = bit(dst);
            let moves = matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            Effects::new(src_bit(src) | if moves { 0 } else { d }, d)
        }
        Op::Neg { dst, .. } | Op::Endian { dst, .. } => Effects::new(bit(dst), bit(dst)),
        Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
            Effects::new(0, bit(dst))
        }
        Op::Load { dst, base, .. } => Effects::new(bit(base), bit(dst)),
        Op::Store { base, src, .. } => Effects::new(bit(base) | src_bit(src), 0),
        // (Read first: a fetch's write is no kill.)
        Op::Atomic { op, base, src, .. } => {
            let r0 = (op == AtomicOp::Cmpxchg) as Regs;
            Effects::new(bit(base) | bit(src) | r0, 0)
        }
        Op::Jmp { dst, src, .. } => Effects::new(bit(dst) | src_bit(src), 0),
        Op::Ja { .. } | Op::MayGoto { .. } | Op::LddwHigh => Effects::new(0, 0),
        // A helper reads its arguments and returns in r0 (r1..r5 it leaves
        // changed, not overwritten with anything known).
        Op::Call { .. } => Effects::new(ARGS, 1),
        Op::CallReg { reg } => Effects::new(ARGS | bit(reg), 1),
        // A local call may read anything.
        Op::CallLocal { .. } => Effects::new(ALL, 0),
        // See [`exit_reads`].
        Op::Exit => Effects::new(CALLER, 0),
    }
}

/// What an `exit` reads: r0, the result, in a program without local calls.
/// With them a caller sees r0..r5 after a call returns (its r6..r9 are
/// restored: `MacroAssembler::pop_regs`).
pub(crate) fn exit_reads(local_calls: bool) -> Regs {
    if local_calls {
        CALLER
    } else {
        1
    }
}

/// Slots [`dead_from`] visits at most before it gives up (live).
const LIVE_BUDGET: usize = 48;

/// Whether `reg`'s value is dead at each slot of `starts`: on every path
/// from them, an op overwrites `reg` before any op reads it (or the path
/// ends without reading it). Answers false (live) when unsure: a slot that
/// does not decode, a jump outside the program, more than [`LIVE_BUDGET`]
/// slots to look at. An `exit` reads `exit_reads` ([`exit_reads`]).
pub(crate) fn dead_from(insns: &[Insn], starts: &[usize], reg: Reg, exit_reads: Regs) -> bool {
    let r = bit(reg);
    let mut seen = [0usize; LIVE_BUDGET];
    let mut n_seen = 0;
    let mut stack = [0usize; LIVE_BUDGET];
    let mut top = 0;
    for &s in starts {
        if top == LIVE_BUDGET {
            return false;
        }
        stack[top] = s;
        top += 1;
    }
    while top > 0 {
        top -= 1;
        let pc = stack[top];
        if seen[..n_seen].contains(&pc) {
            continue;
        }
        if n_seen == LIVE_BUDGET || pc >= insns.len() {
            return false;
        }
        seen[n_seen] = pc;
        n_seen += 1;
        let Ok(op) = decode_one(insns, pc) else {
            return false;
        };
        let mut e = effects(op);
        if op == Op::Exit {
            e.reads = exit_reads;
        }
        if e.reads & r != 0 {
            return false;
        }
        if e.kills & r != 0 {
            continue;
        }
        // Where the op goes next: the following slot unless it only jumps
        // (or exits), and its target if it has one.
        let next = match op {
            Op::Exit => continue,
            Op::Ja { .. } => None,
            _ => Some((pc + op.slots().max(1)) as i64),
        };
        for t in next.into_iter().chain(op.target(pc)) {
            if t < 0 || top == LIVE_BUDGET {
                return false;
            }
            stack[top] = t as usize;
            top += 1;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use bpf_bridge::isa::{encode_program, JmpOp, Size, Width};

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }
    fn mov(d: u8, i: i32) -> Op {
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: r(d),
            src: Src::Imm(i),
        }
    }
    fn add(d: u8, s: u8) -> Op {
        Op::Alu {
            width: Width::W64,
            op: AluOp::Add,
            dst: r(d),
            src: Src::Reg(r(s)),
        }
    }
    fn jeq(d: u8, i: i32, off: i16) -> Op {
        Op::Jmp {
            width: Width::W64,
            op: JmpOp::Eq,
            dst: r(d),
            src: Src::Imm(i),
            off,
        }
    }
    fn ldxb(d: u8, b: u8) -> Op {
        Op::Load {
            size: Size::B,
            signed: false,
            dst: r(d),
            base: r(b),
            off: 0,
        }
    }

    #[track_caller]
    fn check(ops: &[Op], starts: &[usize], reg: u8, want: bool) {
        let insns = encode_program(ops);
        assert_eq!(dead_from(&insns, starts, r(reg), CALLER), want, "{ops:?}");
    }

    #[test]
    fn dead_needs_a_write_before_any_read_on_every_path() {
        // 0: r6 = [r2]; 1: if r6 == 1 goto 3; 2: r0 += r6; 3: r6 = 0; 4: exit
        let ops = [ldxb(6, 2), jeq(6, 1, 1), add(0, 6), mov(6, 0), Op::Exit];
        check(&ops, &[3], 6, true);
        check(&ops, &[2, 3], 6, false);
        check(&ops, &[4], 6, true);
        // r0 is read by exit, r1..r5 too (a caller may read them).
        check(&ops, &[4], 0, false);
        check(&ops, &[4], 3, false);
        // Without local calls an exit reads r0 only.
        let insns = encode_program(&ops);
        assert!(dead_from(&insns, &[4], r(3), exit_reads(false)));
        assert!(!dead_from(&insns, &[4], r(0), exit_reads(false)));
        // A loop that reads r6 again at its head: live.
        let ops = [ldxb(6, 2), jeq(6, 1, -2), mov(6, 0), Op::Exit];
        check(&ops, &[2], 6, true);
        check(&ops, &[1], 6, false);
        // Out of the program, or a bad slot: live.
        let ops = [jeq(1, 1, 5), Op::Exit];
        check(&ops, &[0], 6, false);
        // A local call may read anything; a helper call reads r1..r5 only.
        check(&[Op::CallLocal { off: 0 }, Op::Exit], &[0], 7, false);
        check(&[Op::Call { helper: 1 }, Op::Exit], &[0], 7, true);
        check(&[Op::Call { helper: 1 }, Op::Exit], &[0], 2, false);
        check(&[Op::Call { helper: 1 }, Op::Exit], &[0], 0, true);
    }
}
