//! Ops lowered together when the neighbouring slots allow it: a copy and an
//! add as one instruction, a load folded into the compare that reads it
//! when nothing reads the register afterwards (liveness from
//! [`crate::regflow`] over the few slots concerned). The second op must not be
//! a jump target ([`Lowering::is_target`]); none applies when constants are
//! blinded (the immediates would have to be).
//!
//! (A copy `mov d, s` after `mov s, d; add s, k` in straight-line code was
//! also lowered as `add d, k`, to take `d` off the chain through `s`: the
//! packet loops ran 10-20% slower with it on Ice Lake, where the copy is
//! eliminated at rename and the add takes an ALU port.)

use super::Lowering;
use crate::fold::mem_compare;
use crate::masm::{MacroAssembler, VReg};
use crate::regflow::dead_from;
use bpf_bridge::facts::Access;
use bpf_bridge::isa::{decode_one, is_add_sub_imm, AluOp, Op, Reg, Size, Src, Width};

impl<M: MacroAssembler> Lowering<'_, M> {
    /// `mov dst, src` of a register at `pc`, lowered with an add that follows;
    /// returns whether it was (else the caller lowers it).
    #[inline(always)]
    pub(super) fn mov_reg(&mut self, pc: usize, op: Op) -> bool {
        let Op::Alu {
            width,
            dst,
            src: Src::Reg(src),
            ..
        } = op
        else {
            return false;
        };
        if !M::ADDS_COPIES || self.opts.blind.is_some() {
            return false;
        }
        let next = self.insns.get(pc + 1);
        next.is_some_and(|&i| is_add_sub_imm(i) && i.dst() == dst.num())
            && self.copy_add(pc, width, dst, src)
    }

    /// `mov dst, src; add dst, k` (or `sub`) at the same width as one
    /// [`MacroAssembler::add_copy`].
    #[inline(never)]
    fn copy_add(&mut self, pc: usize, width: Width, dst: Reg, src: Reg) -> bool {
        let Ok(Op::Alu {
            width: w2,
            op,
            dst: d2,
            src: Src::Imm(k),
        }) = decode_one(self.insns, pc + 1)
        else {
            return false;
        };
        let k = match op {
            AluOp::Add => k,
            AluOp::Sub if k != i32::MIN => -k,
            _ => return false,
        };
        if w2 != width
            || d2 != dst
            || self.is_target(pc + 1)
            || !self.m.add_copy(width, VReg::bpf(dst), VReg::bpf(src), k)
        {
            return false;
        }
        self.fused = pc + 2;
        true
    }

    /// A proven load whose register is compared with an immediate by the
    /// next slot (which the caller peeked) and then dead: one compare with
    /// memory and a branch. Returns whether it was.
    #[inline(always)]
    pub(super) fn load_compare(
        &mut self,
        pc: usize,
        size: Size,
        dst: Reg,
        base: Reg,
        off: i16,
    ) -> bool {
        M::COMPARES_MEM && self.fold_load(pc, size, dst, base, off)
    }

    #[inline(never)]
    fn fold_load(&mut self, pc: usize, size: Size, dst: Reg, base: Reg, off: i16) -> bool {
        if self.opts.blind.is_some() || self.access(pc) != Access::Proven {
            return false;
        }
        let Ok(Op::Jmp {
            width,
            op: jop,
            src,
            off: joff,
            ..
        }) = decode_one(self.insns, pc + 1)
        else {
            return false;
        };
        let Some(c) = mem_compare(size, width, jop, src, VReg::bpf(base), off as i32) else {
            return false;
        };
        if !self.m.compares_mem(c) || self.is_target(pc + 1) {
            return false;
        }
        let t = self.target(pc + 1, joff as i64);
        if pc + 2 >= self.insns.len() || !dead_from(self.insns, &[pc + 2, t], dst, self.exit_reads)
        {
            return false;
        }
        // A jump over one ALU op stays a load and a selection on the
        // register ([`crate::peephole`]): the selection on a compare with
        // memory ran the byte-count loop 3-4% slower on Ice Lake.
        if joff == 1 && !self.is_target(pc + 2) {
            return false;
        }
        let target = self.edge(pc + 1, t);
        if !self.m.branch_mem(c, target) {
            return false;
        }
        self.fused = pc + 2;
        true
    }
}
