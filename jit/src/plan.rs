//! The frame a program needs, planned before any code is emitted: registers
//! used, whether it needs the run context and the host, which arguments are
//! dead at entry. Read off the [`Shape`] and, for what it cannot say, the slots.

use crate::masm::{Frame, VReg};
use crate::Options;
use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{decode_one, is_load, AluOp, Insn, Op, Reg, Shape, Src};

/// The frame from the program's shape: registers used, whether the context
/// register is needed. Looks at the slots only for what the shape cannot say
/// (accesses the verifier left unproven).
pub(crate) fn plan(insns: &[Insn], shape: &Shape, facts: Option<&Facts>, opts: &Options) -> Frame {
    // r0 is the result, r1 always loaded.
    let mut used = shape.regs | 1 << 0 | 1 << 1;
    // Host calls or faults possible (a subset of what needs the context); a
    // map value address of a map without one faults.
    let mut host = shape.has(Shape::HELPER_CALL | Shape::LOCAL_CALL | Shape::MAP_VALUE);
    let mut ctx = shape.has(Shape::MAPS | Shape::MAY_GOTO);
    if shape.has(Shape::LOCAL_CALL) {
        used |= 1 << 10;
    }
    match facts {
        // Checked mode: backward jumps count down the host's budget, every
        // access is checked by it.
        None => host |= shape.has(Shape::BACK_JUMP | Shape::MEMORY),
        // Unproven loads need the context (converted ones only it), unproven
        // stores the host. Other slots are `Proven`.
        // (Looking for any unproven access first: a loop without branches.)
        Some(f)
            if shape.has(Shape::MEMORY)
                && f.accesses
                    .iter()
                    .fold(false, |u, a| u | (*a != Access::Proven)) =>
        {
            for (insn, a) in insns.iter().zip(&f.accesses) {
                if *a != Access::Proven {
                    let load = is_load(*insn);
                    ctx |= load;
                    host |= !load || *a == Access::Check;
                }
            }
        }
        Some(_) => {}
    }
    ctx |= host;
    if host {
        // Host calls receive the current r10 (the stack in use).
        used |= 1 << 10;
    }
    if opts.blind.is_some() {
        used |= 1 << VReg::T0.0 | 1 << VReg::T1.0;
    }
    let dead_in = dead_at_entry(insns, facts);
    Frame {
        used,
        ctx,
        host,
        dead_in,
    }
}

/// r1 and r2 (bits) when the code writes them before reading them: the
/// straight-line code from slot 0 to the first jump, call or exit is on every
/// path, so a write there before any read hides the entry value.
/// Gives up (both live) after [`DEAD_SCAN`] slots, decoding each on its own.
fn dead_at_entry(insns: &[Insn], facts: Option<&Facts>) -> u16 {
    let mut dead = 0u16;
    let mut live = 0u16;
    let bit = |r: Reg| 1u16 << r.num();
    let args = bit(Reg::R1) | bit(Reg::R2);
    let mut pc = 0;
    while (dead | live) & args != args {
        if pc >= insns.len().min(DEAD_SCAN) {
            return 0;
        }
        // A malformed slot stops the scan; the decoder reports it.
        let Ok(op) = decode_one(insns, pc) else {
            return 0;
        };
        let (reads, writes) = match op {
            Op::Alu { op, dst, src, .. } => {
                let s = match src {
                    Src::Reg(s) => bit(s),
                    Src::Imm(_) => 0,
                };
                let d = match op {
                    AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32 => 0,
                    _ => bit(dst),
                };
                (s | d, bit(dst))
            }
            Op::Neg { dst, .. } | Op::Endian { dst, .. } => (bit(dst), bit(dst)),
            Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } => (0, bit(dst)),
            Op::Load { dst, base, .. } => {
                // A converted context load reads the run context, not `base`.
                let converted = facts.is_some_and(|f| matches!(f.accesses[pc], Access::Ctx(_)));
                (if converted { 0 } else { bit(base) }, bit(dst))
            }
            Op::Store { base, src, .. } => {
                let s = match src {
                    Src::Reg(s) => bit(s),
                    Src::Imm(_) => 0,
                };
                (bit(base) | s, 0)
            }
            // Control flow or anything else: stop, the rest stays live.
            _ => break,
        };
        live |= reads & !dead;
        dead |= writes & !live;
        pc += op.slots();
    }
    dead & args
}

/// Slots [`dead_at_entry`] looks at, at most.
const DEAD_SCAN: usize = 64;
