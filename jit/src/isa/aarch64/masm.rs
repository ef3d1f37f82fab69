//! [`MacroAssembler`] for AArch64. Division needs no special cases here:
//! `udiv`/`sdiv` by zero give 0 and `INT_MIN / -1` wraps, exactly eBPF's rules;
//! modulo is `msub` of the quotient. Atomics are exclusive-load/store loops,
//! so the code runs on any ARMv8.0 core.

use super::asm::{Asm, Cond, Imm12, MemOp, SImm9, UImm12Scaled};
use super::regs::{XReg, LIMIT, MAP, MAP16, S0, S1, S2, S3};
use crate::abi;
use crate::buffer::{BufferError, Label, Offsets};
use crate::masm::{BinOp, Cmp, DivOp, Frame, HostFn, MacroAssembler, Operand, VReg};
use alloc::vec::Vec;
use bpf_bridge::isa::{AtomicOp, JmpOp, Size, Width};

/// The AArch64 macro-assembler.
pub struct A64Masm {
    pub asm: Asm,
}

/// The condition under which a compare's flags say `op` holds (`jset`
/// aside: a `tst` gives `Ne`).
fn cond_of(op: JmpOp) -> Cond {
    match op {
        JmpOp::Eq => Cond::Eq,
        JmpOp::Ne => Cond::Ne,
        JmpOp::Gt => Cond::Hi,
        JmpOp::Ge => Cond::Hs,
        JmpOp::Lt => Cond::Lo,
        JmpOp::Le => Cond::Ls,
        JmpOp::Sgt => Cond::Gt,
        JmpOp::Sge => Cond::Ge,
        JmpOp::Slt => Cond::Lt,
        _ => Cond::Le,
    }
}

#[inline]
fn r(v: VReg) -> XReg {
    debug_assert!(v.idx() < VReg::COUNT);
    MAP16[v.idx() & 15]
}

#[inline]
fn w64(w: Width) -> bool {
    w == Width::W64
}

const CTX: XReg = XReg(26);

impl A64Masm {
    /// An empty assembler with room for `cap` bytes.
    pub fn new(cap: usize) -> A64Masm {
        A64Masm {
            asm: Asm {
                buf: crate::buffer::CodeBuffer::with_capacity(cap),
            },
        }
    }

    /// The operand in a register: immediates go to `scratch` (as the width sees them).
    fn reg_of(&mut self, w: Width, src: Operand, scratch: XReg) -> XReg {
        match src {
            Operand::Reg(s) => r(s),
            Operand::Imm(0) => XReg::ZR,
            Operand::Imm(i) => {
                let v = if w64(w) {
                    i as i64 as u64
                } else {
                    i as u32 as u64
                };
                self.asm.mov_imm(scratch, v);
                scratch
            }
        }
    }

    fn callee_saved(frame: &Frame) -> Vec<XReg> {
        let mut v = Vec::new();
        for (i, &g) in MAP.iter().enumerate() {
            let used = frame.uses(VReg(i as u8)) || (i == VReg::CTX.idx() && frame.ctx);
            if used && g.callee_saved() && !v.contains(&g) {
                v.push(g);
            }
        }
        v
    }

    fn push_list(&mut self, regs: &[XReg]) {
        for pair in regs.chunks(2) {
            self.asm
                .push_pair(pair[0], *pair.get(1).unwrap_or(&XReg::ZR));
        }
    }

    fn pop_list(&mut self, regs: &[XReg]) {
        let pairs: Vec<&[XReg]> = regs.chunks(2).collect();
        for pair in pairs.iter().rev() {
            self.asm
                .pop_pair(pair[0], *pair.get(1).unwrap_or(&XReg::ZR));
        }
    }

    /// Load or store `rt` at `[rn + off]`.
    fn mem(&mut self, op: MemOp, rt: XReg, rn: XReg, off: i32) {
        let bytes = Asm::mem_bytes(op);
        if let Some(o) = UImm12Scaled::new(off as i64, bytes) {
            self.asm.mem_scaled(op, rt, rn, o);
        } else if let Ok(o) = SImm9::try_from(off as i64) {
            self.asm.mem_unscaled(op, rt, rn, o);
        } else {
            self.asm.mov_imm(S3, off as i64 as u64);
            self.asm.mem_reg(op, rt, rn, S3);
        }
    }

    /// Sets the flags for `c` and returns the condition that holds when it does.
    fn compare(&mut self, c: Cmp) -> Cond {
        let (wide, a) = (w64(c.w), r(c.a));
        if c.op == JmpOp::Set {
            let b = self.reg_of(c.w, c.b, S0);
            self.asm.tst_rr(wide, a, b);
            return Cond::Ne;
        }
        let imm = match c.b {
            Operand::Imm(i) => Some(i as i64),
            Operand::Reg(_) => None,
        };
        if let Some(i) = imm.and_then(|i| Imm12::try_from(i).ok()) {
            self.asm.cmp_ri(wide, a, i);
        } else if let Some(i) = imm.and_then(|i| Imm12::try_from(-i).ok()) {
            self.asm.cmn_ri(wide, a, i);
        } else {
            let b = self.reg_of(c.w, c.b, S0);
            self.asm.cmp_rr(wide, a, b);
        }
        cond_of(c.op)
    }

    /// `rd = rn + imm` for any 64-bit immediate.
    fn add_imm(&mut self, wide: bool, rd: XReg, rn: XReg, imm: i64) {
        if let Ok(i) = Imm12::try_from(imm) {
            self.asm.add_ri(wide, rd, rn, i);
        } else if let Ok(i) = Imm12::try_from(-imm) {
            self.asm.sub_ri(wide, rd, rn, i);
        } else {
            let v = if wide { imm as u64 } else { imm as u32 as u64 };
            self.asm.mov_imm(S0, v);
            self.asm.add_rr(wide, rd, rn, S0);
        }
    }
}

impl MacroAssembler for A64Masm {
    fn new_label(&mut self) -> Label {
        self.asm.buf.new_label()
    }

    fn new_labels(&mut self, n: usize) -> Label {
        self.asm.buf.new_labels(n)
    }

    fn bind(&mut self, l: Label) {
        self.asm.buf.bind(l)
    }

    fn pos(&self) -> usize {
        self.asm.buf.pos()
    }

    fn entry(&mut self, frame: &Frame, body: Label) {
        self.asm.push_pair(XReg::FP, XReg::LR);
        self.asm.mov_sp(XReg::FP, XReg::SP);
        let saved = Self::callee_saved(frame);
        self.push_list(&saved);
        let arg = XReg(0);
        if frame.ctx {
            self.asm.mov_rr(true, CTX, arg);
        }
        if frame.uses(VReg(2)) {
            self.mem(MemOp::load(8), r(VReg(2)), arg, abi::R2);
        }
        if frame.uses(VReg(10)) {
            self.mem(MemOp::load(8), r(VReg(10)), arg, abi::FP);
        }
        if frame.ctx {
            self.asm.mov_sp(S0, XReg::SP);
            self.mem(MemOp::store(8), S0, CTX, abi::SAVED_SP);
        }
        self.mem(MemOp::load(8), r(VReg(1)), arg, abi::R1);
        self.asm.bl(body);
    }

    fn leave(&mut self, frame: &Frame) {
        self.asm.mov_rr(true, XReg(0), r(VReg(0)));
        let saved = Self::callee_saved(frame);
        self.pop_list(&saved);
        self.asm.pop_pair(XReg::FP, XReg::LR);
        self.asm.ret();
    }

    fn unwind_to(&mut self, exit: Label) {
        self.mem(MemOp::load(8), S0, CTX, abi::SAVED_SP);
        self.asm.mov_sp(XReg::SP, S0);
        self.asm.b(exit);
    }

    fn mov(&mut self, w: Width, dst: VReg, src: Operand) {
        match src {
            Operand::Reg(s) => {
                if s != dst || !w64(w) {
                    self.asm.mov_rr(w64(w), r(dst), r(s));
                }
            }
            Operand::Imm(i) => {
                let v = if w64(w) {
                    i as i64 as u64
                } else {
                    i as u32 as u64
                };
                self.asm.mov_imm(r(dst), v);
            }
        }
    }

    fn mov_imm64(&mut self, dst: VReg, v: u64) {
        self.asm.mov_imm(r(dst), v);
    }

    fn movsx(&mut self, w: Width, bits: u8, dst: VReg, src: VReg) {
        self.asm.sbfm(w64(w), r(dst), r(src), 0, bits - 1);
    }

    // Inlined so that lowering's constant `op` selects the form statically.
    #[inline(always)]
    fn alu(&mut self, w: Width, op: BinOp, dst: VReg, src: Operand) {
        let wide = w64(w);
        let d = r(dst);
        match (op, src) {
            (BinOp::Add, Operand::Imm(i)) => return self.add_imm(wide, d, d, i as i64),
            (BinOp::Sub, Operand::Imm(i)) => return self.add_imm(wide, d, d, -(i as i64)),
            (BinOp::Lsh | BinOp::Rsh | BinOp::Arsh, Operand::Imm(i)) => {
                let bits = if wide { 64 } else { 32 };
                let n = (i as u32 % bits) as u8;
                let top = bits as u8 - 1;
                return match op {
                    BinOp::Lsh => self
                        .asm
                        .ubfm(wide, d, d, (bits as u8 - n) % bits as u8, top - n),
                    BinOp::Rsh => self.asm.ubfm(wide, d, d, n, top),
                    _ => self.asm.sbfm(wide, d, d, n, top),
                };
            }
            _ => {}
        }
        let s = self.reg_of(w, src, S0);
        match op {
            BinOp::Add => self.asm.add_rr(wide, d, d, s),
            BinOp::Sub => self.asm.sub_rr(wide, d, d, s),
            BinOp::Mul => self.asm.madd(wide, d, d, s, XReg::ZR),
            BinOp::Or => self.asm.orr_rr(wide, d, d, s),
            BinOp::And => self.asm.and_rr(wide, d, d, s),
            BinOp::Xor => self.asm.eor_rr(wide, d, d, s),
            BinOp::Lsh => self.asm.lslv(wide, d, d, s),
            BinOp::Rsh => self.asm.lsrv(wide, d, d, s),
            BinOp::Arsh => self.asm.asrv(wide, d, d, s),
        }
    }

    fn divmod(&mut self, w: Width, op: DivOp, dst: VReg, src: Operand) {
        let wide = w64(w);
        let d = r(dst);
        let s = self.reg_of(w, src, S0);
        match op {
            DivOp::Div => self.asm.udiv(wide, d, d, s),
            DivOp::Sdiv => self.asm.sdiv(wide, d, d, s),
            DivOp::Mod | DivOp::Smod => {
                if op == DivOp::Mod {
                    self.asm.udiv(wide, S1, d, s);
                } else {
                    self.asm.sdiv(wide, S1, d, s);
                }
                self.asm.msub(wide, d, S1, s, d);
            }
        }
    }

    fn neg(&mut self, w: Width, dst: VReg) {
        self.asm.sub_rr(w64(w), r(dst), XReg::ZR, r(dst));
    }

    fn zext(&mut self, bits: u8, dst: VReg) {
        match bits {
            16 => self.asm.ubfm(false, r(dst), r(dst), 0, 15),
            32 => self.asm.mov_rr(false, r(dst), r(dst)),
            _ => {}
        }
    }

    fn bswap(&mut self, bits: u8, dst: VReg) {
        let d = r(dst);
        match bits {
            16 => {
                self.asm.rev16(d, d);
                self.asm.ubfm(false, d, d, 0, 15);
            }
            32 => self.asm.rev(false, d, d),
            _ => self.asm.rev(true, d, d),
        }
    }

    fn load(&mut self, size: Size, signed: bool, dst: VReg, base: VReg, off: i32) {
        let b = size.bytes() as u8;
        let op = if signed && b < 8 {
            MemOp::load_signed(b)
        } else {
            MemOp::load(b)
        };
        self.mem(op, r(dst), r(base), off);
    }

    fn load_swapped(&mut self, size: Size, dst: VReg, base: VReg, off: i32) {
        self.load(size, false, dst, base, off);
        if size != Size::B {
            self.bswap(size.bytes() as u8 * 8, dst);
        }
    }

    fn store(&mut self, size: Size, base: VReg, off: i32, src: Operand) {
        let s = self.reg_of(Width::W64, src, S0);
        self.mem(MemOp::store(size.bytes() as u8), s, r(base), off);
    }

    fn atomic(&mut self, w: Width, op: AtomicOp, fetch: bool, base: VReg, off: i32, src: VReg) {
        let wide = w64(w);
        let addr = if off == 0 {
            r(base)
        } else {
            self.add_imm(true, S2, r(base), off as i64);
            S2
        };
        let s = r(src);
        let again = self.new_label();
        self.bind(again);
        self.asm.ldaxr(wide, S0, addr);
        if op == AtomicOp::Cmpxchg {
            let done = self.new_label();
            let r0 = r(VReg(0));
            self.asm.cmp_rr(wide, S0, r0);
            self.asm.bcond(Cond::Ne, done);
            self.asm.stlxr(wide, S3, s, addr);
            self.asm.cbz(false, true, S3, again);
            self.bind(done);
            self.asm.mov_rr(wide, r0, S0);
            return;
        }
        let new = match op {
            AtomicOp::Add => {
                self.asm.add_rr(wide, S1, S0, s);
                S1
            }
            AtomicOp::Or => {
                self.asm.orr_rr(wide, S1, S0, s);
                S1
            }
            AtomicOp::And => {
                self.asm.and_rr(wide, S1, S0, s);
                S1
            }
            AtomicOp::Xor => {
                self.asm.eor_rr(wide, S1, S0, s);
                S1
            }
            _ => s,
        };
        self.asm.stlxr(wide, S3, new, addr);
        self.asm.cbz(false, true, S3, again);
        if fetch {
            self.asm.mov_rr(wide, s, S0);
        }
    }

    fn lea(&mut self, dst: VReg, base: VReg, off: i32) {
        self.add_imm(true, r(dst), r(base), off as i64);
    }

    fn load_ctx(&mut self, dst: VReg, off: i32) {
        self.mem(MemOp::load(8), r(dst), CTX, off);
    }

    fn store_ctx(&mut self, off: i32, src: Operand) {
        let s = self.reg_of(Width::W64, src, S0);
        self.mem(MemOp::store(8), s, CTX, off);
    }

    fn jump(&mut self, l: Label) {
        self.asm.b(l);
    }

    fn branch(&mut self, w: Width, op: JmpOp, a: VReg, b: Operand, l: Label) {
        if let (Operand::Imm(0), JmpOp::Eq | JmpOp::Ne) = (b, op) {
            return self.asm.cbz(w64(w), op == JmpOp::Ne, r(a), l);
        }
        let cond = self.compare(Cmp { w, op, a, b });
        self.asm.bcond(cond, l);
    }

    const ALU_UNLESS: bool = true;

    /// A count (`dst += 1` at 64 bits) as one `csinc`, a 64-bit copy as one
    /// `csel`; anything else computed in T0 and kept by a `csel`.
    fn alu_unless(&mut self, c: Cmp, w: Width, op: Option<BinOp>, dst: VReg, src: Operand) -> bool {
        let d = r(dst);
        if let (Some(BinOp::Add), Operand::Imm(1), true) = (op, src, w64(w)) {
            let cond = self.compare(c);
            self.asm.csinc(true, d, d, d, cond);
            return true;
        }
        let t = VReg::T0;
        match (op, src) {
            (None, Operand::Reg(s)) if w64(w) => {
                let cond = self.compare(c);
                self.asm.csel(true, d, d, r(s), cond);
                return true;
            }
            (None, _) => self.mov(w, t, src),
            (Some(op), _) => {
                self.asm.mov_rr(true, r(t), d);
                self.alu(w, op, t, src);
            }
        }
        let cond = self.compare(c);
        self.asm.csel(true, d, d, r(t), cond);
        true
    }

    const LOOP_LIMIT: bool = true;

    fn limit_from_t0(&mut self) {
        self.asm.mov_rr(true, LIMIT, r(VReg::T0));
    }

    fn limit_add(&mut self, k: i32) {
        self.add_imm(true, LIMIT, LIMIT, k as i64);
    }

    fn branch_limit(&mut self, op: JmpOp, a: VReg, l: Label) {
        self.asm.cmp_rr(true, r(a), LIMIT);
        self.asm.bcond(cond_of(op), l);
    }

    fn count_down(&mut self, off: i32, l: Label) {
        self.mem(MemOp::load(8), S0, CTX, off);
        self.asm.cbz(true, false, S0, l);
        self.asm
            .sub_ri(true, S0, S0, Imm12::try_from(1).expect("1 fits"));
        self.mem(MemOp::store(8), S0, CTX, off);
    }

    fn branch_ctx_nonzero(&mut self, off: i32, l: Label) {
        self.mem(MemOp::load(8), S0, CTX, off);
        self.asm.cbz(true, true, S0, l);
    }

    fn push_regs(&mut self, regs: &[VReg]) {
        // The link register holds this frame's return address: keep it too.
        let mut list: Vec<XReg> = regs.iter().map(|&v| r(v)).collect();
        list.push(XReg::LR);
        self.push_list(&list);
    }

    fn pop_regs(&mut self, regs: &[VReg]) {
        let mut list: Vec<XReg> = regs.iter().map(|&v| r(v)).collect();
        list.push(XReg::LR);
        self.pop_list(&list);
    }

    fn call(&mut self, l: Label) {
        self.asm.bl(l);
    }

    fn ret(&mut self) {
        self.asm.ret();
    }

    fn call_host(&mut self, f: HostFn) {
        let slot = f.ctx_offset();
        self.asm.push1(XReg::LR);
        self.mem(MemOp::load(8), XReg::IP0, CTX, slot);
        self.asm.mov_rr(true, XReg(5), CTX);
        self.asm.blr(XReg::IP0);
        self.asm.mov_rr(true, r(VReg(0)), XReg(0));
        self.asm.pop1(XReg::LR);
    }

    fn call_check(&mut self, check: Label) {
        self.asm.push1(XReg::LR);
        self.asm.bl(check);
        self.asm.pop1(XReg::LR);
    }

    fn check_routine(&mut self, fault: Label) {
        let save = [
            XReg(0),
            XReg(1),
            XReg(2),
            XReg(3),
            XReg(4),
            XReg(7),
            XReg::LR,
        ];
        self.push_list(&save);
        self.mem(MemOp::store(8), r(VReg(10)), CTX, abi::CUR_FP);
        self.asm.mov_rr(true, XReg(0), CTX);
        self.asm.mov_rr(true, XReg(1), r(VReg::T0));
        self.asm.mov_rr(true, XReg(2), r(VReg::T1));
        self.mem(MemOp::load(8), XReg::IP0, CTX, abi::HOST_CHECK);
        self.asm.blr(XReg::IP0);
        self.asm.mov_rr(true, r(VReg::T1), XReg(0));
        self.asm.mov_rr(true, r(VReg::T0), XReg(1));
        self.pop_list(&save);
        self.asm.cmp_ri(
            true,
            r(VReg::T1),
            Imm12::try_from(abi::CHECK_FAULT as i64).expect("2 fits"),
        );
        self.asm.bcond(Cond::Eq, fault);
        self.asm.ret();
    }

    fn trap(&mut self) {
        self.asm.brk();
    }

    fn finish(
        self,
        shrink: bool,
        first: Label,
        n: usize,
    ) -> Result<(Vec<u8>, Offsets), BufferError> {
        self.asm.buf.finish(shrink, first, n)
    }
}
