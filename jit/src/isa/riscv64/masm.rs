//! [`MacroAssembler`] for RV64IMA. Every 32-bit result is zero-extended
//! explicitly (the `w` instructions sign-extend); division by zero is
//! branched around (`div`/`divu` would give all ones), while `rem`/`remu` by
//! zero and the signed overflow cases already match eBPF.

use super::asm::{Amo, Asm, Bcc, Imm12, Iop, Rop, ShiftOp};
use super::regs::{Xr, LIMIT, MAP, MAP16, S0, S1, S2, S3, S4};
use crate::abi;
use crate::buffer::{BufferError, Label, Offsets};
use crate::masm::{BinOp, DivOp, Frame, HostFn, MacroAssembler, Operand, VReg};
use alloc::vec::Vec;
use bpf_bridge::isa::{AtomicOp, JmpOp, Size, Width};

/// The RISC-V 64 macro-assembler.
pub struct Rv64Masm {
    pub asm: Asm,
}

#[inline]
fn r(v: VReg) -> Xr {
    debug_assert!(v.idx() < VReg::COUNT);
    MAP16[v.idx() & 15]
}

#[inline]
fn w64(w: Width) -> bool {
    w == Width::W64
}

const CTX: Xr = Xr(22);

impl Rv64Masm {
    /// An empty assembler with room for `cap` bytes.
    pub fn new(cap: usize) -> Rv64Masm {
        Rv64Masm {
            asm: Asm {
                buf: crate::buffer::CodeBuffer::with_capacity(cap),
            },
        }
    }

    fn zext32(&mut self, rd: Xr, rs: Xr) {
        self.asm.shift_i(ShiftOp::Sll, false, rd, rs, 32);
        self.asm.shift_i(ShiftOp::Srl, false, rd, rd, 32);
    }

    fn sext32(&mut self, rd: Xr, rs: Xr) {
        self.asm.addiw(rd, rs, Imm12::try_from(0).expect("0 fits"));
    }

    /// The operand in a register (immediates sign-extended into `scratch`).
    fn reg_of(&mut self, src: Operand, scratch: Xr) -> Xr {
        match src {
            Operand::Reg(s) => r(s),
            Operand::Imm(0) => Xr::ZERO,
            Operand::Imm(i) => {
                self.asm.li(scratch, i as i64);
                scratch
            }
        }
    }

    fn callee_saved(frame: &Frame) -> Vec<Xr> {
        let mut v = Vec::new();
        for (i, &g) in MAP.iter().enumerate() {
            let used = frame.uses(VReg(i as u8)) || (i == VReg::CTX.idx() && frame.ctx);
            if used && g.callee_saved() && !v.contains(&g) {
                v.push(g);
            }
        }
        v
    }

    fn push_list(&mut self, regs: &[Xr]) {
        let size = regs.len().div_ceil(2) * 16;
        self.add_imm(Xr::SP, Xr::SP, -(size as i64));
        for (i, &g) in regs.iter().enumerate() {
            self.asm.store(
                8,
                g,
                Xr::SP,
                Imm12::try_from(8 * i as i64).expect("small frame"),
            );
        }
    }

    fn pop_list(&mut self, regs: &[Xr]) {
        let size = regs.len().div_ceil(2) * 16;
        for (i, &g) in regs.iter().enumerate() {
            self.asm.load(
                8,
                false,
                g,
                Xr::SP,
                Imm12::try_from(8 * i as i64).expect("small frame"),
            );
        }
        self.add_imm(Xr::SP, Xr::SP, size as i64);
    }

    fn add_imm(&mut self, rd: Xr, rs: Xr, imm: i64) {
        if let Ok(i) = Imm12::try_from(imm) {
            self.asm.ri(Iop::Addi, rd, rs, i);
        } else {
            self.asm.li(S4, imm);
            self.asm.rr(Rop::Add, false, rd, rs, S4);
        }
    }

    /// A base register and 12-bit offset for `base + off`.
    fn addr(&mut self, base: Xr, off: i32) -> (Xr, Imm12) {
        match Imm12::try_from(off as i64) {
            Ok(i) => (base, i),
            Err(()) => {
                self.asm.li(S3, off as i64);
                self.asm.rr(Rop::Add, false, S3, base, S3);
                (S3, Imm12::try_from(0).expect("0 fits"))
            }
        }
    }

    fn byte_swap(&mut self, bytes: u8, d: Xr) {
        let ff = Imm12::try_from(0xff).expect("fits");
        let n = bytes as u32;
        // S1 accumulates; byte i of d goes to byte n-1-i.
        self.asm.ri(Iop::Andi, S1, d, ff);
        self.asm
            .shift_i(ShiftOp::Sll, false, S1, S1, (8 * (n - 1)) as u8);
        for i in 1..n {
            self.asm.shift_i(ShiftOp::Srl, false, S0, d, (8 * i) as u8);
            self.asm.ri(Iop::Andi, S0, S0, ff);
            let sh = 8 * (n - 1 - i);
            if sh != 0 {
                self.asm.shift_i(ShiftOp::Sll, false, S0, S0, sh as u8);
            }
            self.asm.rr(Rop::Or, false, S1, S1, S0);
        }
        self.asm.mv(d, S1);
    }
}

impl MacroAssembler for Rv64Masm {
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
        let mut saved = Self::callee_saved(frame);
        saved.push(Xr::RA);
        self.push_list(&saved);
        let arg = Xr::A0;
        let z = |o: i32| Imm12::try_from(o as i64).expect("context offsets are small");
        if frame.ctx {
            self.asm.mv(CTX, arg);
        }
        if frame.uses(VReg(2)) {
            self.asm.load(8, false, r(VReg(2)), arg, z(abi::R2));
        }
        if frame.uses(VReg(10)) {
            self.asm.load(8, false, r(VReg(10)), arg, z(abi::FP));
        }
        if frame.ctx {
            self.asm.store(8, Xr::SP, CTX, z(abi::SAVED_SP));
        }
        self.asm.load(8, false, r(VReg(1)), arg, z(abi::R1));
        self.asm.jal(Xr::RA, body);
    }

    fn leave(&mut self, frame: &Frame) {
        self.asm.mv(Xr::A0, r(VReg(0)));
        let mut saved = Self::callee_saved(frame);
        saved.push(Xr::RA);
        self.pop_list(&saved);
        self.asm.jalr(Xr::ZERO, Xr::RA);
    }

    fn unwind_to(&mut self, exit: Label) {
        self.asm.load(
            8,
            false,
            Xr::SP,
            CTX,
            Imm12::try_from(abi::SAVED_SP as i64).expect("fits"),
        );
        self.asm.jal(Xr::ZERO, exit);
    }

    fn mov(&mut self, w: Width, dst: VReg, src: Operand) {
        let d = r(dst);
        match (src, w) {
            (Operand::Reg(s), Width::W64) => {
                if s != dst {
                    self.asm.mv(d, r(s));
                }
            }
            (Operand::Reg(s), Width::W32) => self.zext32(d, r(s)),
            (Operand::Imm(i), Width::W64) => self.asm.li(d, i as i64),
            (Operand::Imm(i), Width::W32) => self.asm.li(d, i as u32 as i64),
        }
    }

    fn mov_imm64(&mut self, dst: VReg, v: u64) {
        self.asm.li(r(dst), v as i64);
    }

    fn movsx(&mut self, w: Width, bits: u8, dst: VReg, src: VReg) {
        let (d, s) = (r(dst), r(src));
        if bits == 32 {
            self.sext32(d, s);
        } else {
            self.asm.shift_i(ShiftOp::Sll, false, d, s, 64 - bits);
            self.asm.shift_i(ShiftOp::Sra, false, d, d, 64 - bits);
        }
        if !w64(w) {
            self.zext32(d, d);
        }
    }

    // Inlined so that lowering's constant `op` selects the form statically.
    #[inline(always)]
    fn alu(&mut self, w: Width, op: BinOp, dst: VReg, src: Operand) {
        let wide = w64(w);
        let d = r(dst);
        match (op, src) {
            (BinOp::Lsh | BinOp::Rsh | BinOp::Arsh, Operand::Imm(i)) => {
                let n = (i as u32 & if wide { 63 } else { 31 }) as u8;
                let sop = match op {
                    BinOp::Lsh => ShiftOp::Sll,
                    BinOp::Rsh => ShiftOp::Srl,
                    _ => ShiftOp::Sra,
                };
                self.asm.shift_i(sop, !wide, d, d, n);
            }
            (BinOp::Add, Operand::Imm(i)) if Imm12::try_from(i as i64).is_ok() => {
                let k = Imm12::try_from(i as i64).expect("checked");
                if wide {
                    self.asm.ri(Iop::Addi, d, d, k);
                } else {
                    self.asm.addiw(d, d, k);
                }
            }
            (BinOp::Sub, Operand::Imm(i)) if Imm12::try_from(-(i as i64)).is_ok() => {
                let k = Imm12::try_from(-(i as i64)).expect("checked");
                if wide {
                    self.asm.ri(Iop::Addi, d, d, k);
                } else {
                    self.asm.addiw(d, d, k);
                }
            }
            (BinOp::Or | BinOp::And | BinOp::Xor, Operand::Imm(i))
                if Imm12::try_from(i as i64).is_ok() =>
            {
                let k = Imm12::try_from(i as i64).expect("checked");
                let iop = match op {
                    BinOp::Or => Iop::Ori,
                    BinOp::And => Iop::Andi,
                    _ => Iop::Xori,
                };
                self.asm.ri(iop, d, d, k);
            }
            _ => {
                let s = self.reg_of(src, S0);
                let (rop, word) = match op {
                    BinOp::Add => (Rop::Add, !wide),
                    BinOp::Sub => (Rop::Sub, !wide),
                    BinOp::Mul => (Rop::Mul, !wide),
                    BinOp::Or => (Rop::Or, false),
                    BinOp::And => (Rop::And, false),
                    BinOp::Xor => (Rop::Xor, false),
                    BinOp::Lsh => (Rop::Sll, !wide),
                    BinOp::Rsh => (Rop::Srl, !wide),
                    BinOp::Arsh => (Rop::Sra, !wide),
                };
                self.asm.rr(rop, word, d, d, s);
            }
        }
        if !wide {
            self.zext32(d, d);
        }
    }

    fn divmod(&mut self, w: Width, op: DivOp, dst: VReg, src: Operand) {
        let wide = w64(w);
        let d = r(dst);
        if src == Operand::Imm(0) {
            match op {
                DivOp::Div | DivOp::Sdiv => self.asm.mv(d, Xr::ZERO),
                _ if !wide => self.zext32(d, d),
                _ => {}
            }
            return;
        }
        let s = self.reg_of(src, S0);
        let rop = match op {
            DivOp::Div => Rop::Divu,
            DivOp::Sdiv => Rop::Div,
            DivOp::Mod => Rop::Remu,
            DivOp::Smod => Rop::Rem,
        };
        if matches!(op, DivOp::Div | DivOp::Sdiv) && matches!(src, Operand::Reg(_)) {
            // Division by zero gives 0 in eBPF, all ones here.
            let (zero, done) = (self.new_label(), self.new_label());
            let test = if wide {
                s
            } else {
                self.asm.shift_i(ShiftOp::Sll, false, S1, s, 32);
                S1
            };
            self.asm.branch(Bcc::Eq, test, Xr::ZERO, zero);
            self.asm.rr(rop, !wide, d, d, s);
            if !wide {
                self.zext32(d, d);
            }
            self.asm.jal(Xr::ZERO, done);
            self.bind(zero);
            self.asm.mv(d, Xr::ZERO);
            self.bind(done);
            return;
        }
        self.asm.rr(rop, !wide, d, d, s);
        if !wide {
            self.zext32(d, d);
        }
    }

    fn neg(&mut self, w: Width, dst: VReg) {
        let d = r(dst);
        self.asm.rr(Rop::Sub, !w64(w), d, Xr::ZERO, d);
        if !w64(w) {
            self.zext32(d, d);
        }
    }

    fn zext(&mut self, bits: u8, dst: VReg) {
        let d = r(dst);
        if bits < 64 {
            self.asm.shift_i(ShiftOp::Sll, false, d, d, 64 - bits);
            self.asm.shift_i(ShiftOp::Srl, false, d, d, 64 - bits);
        }
    }

    fn bswap(&mut self, bits: u8, dst: VReg) {
        self.byte_swap(bits / 8, r(dst));
    }

    fn load(&mut self, size: Size, signed: bool, dst: VReg, base: VReg, off: i32) {
        let (b, o) = self.addr(r(base), off);
        self.asm.load(size.bytes() as u8, signed, r(dst), b, o);
    }

    fn load_swapped(&mut self, size: Size, dst: VReg, base: VReg, off: i32) {
        self.load(size, false, dst, base, off);
        if size != Size::B {
            self.bswap(size.bytes() as u8 * 8, dst);
        }
    }

    fn store(&mut self, size: Size, base: VReg, off: i32, src: Operand) {
        let s = self.reg_of(src, S0);
        let (b, o) = self.addr(r(base), off);
        self.asm.store(size.bytes() as u8, s, b, o);
    }

    fn atomic(&mut self, w: Width, op: AtomicOp, fetch: bool, base: VReg, off: i32, src: VReg) {
        let wide = w64(w);
        let s = r(src);
        self.add_imm(S2, r(base), off as i64);
        let amo = match op {
            AtomicOp::Add => Amo::Add,
            AtomicOp::Or => Amo::Or,
            AtomicOp::And => Amo::And,
            AtomicOp::Xor => Amo::Xor,
            AtomicOp::Xchg => Amo::Swap,
            AtomicOp::Cmpxchg => {
                let r0 = r(VReg(0));
                let (again, done) = (self.new_label(), self.new_label());
                let expected = if wide {
                    r0
                } else {
                    self.sext32(S3, r0);
                    S3
                };
                self.bind(again);
                self.asm.amo(Amo::Lr, wide, S1, S2, Xr::ZERO);
                self.asm.branch(Bcc::Ne, S1, expected, done);
                self.asm.amo(Amo::Sc, wide, S4, S2, s);
                self.asm.branch(Bcc::Ne, S4, Xr::ZERO, again);
                self.bind(done);
                if wide {
                    self.asm.mv(r0, S1);
                } else {
                    self.zext32(r0, S1);
                }
                return;
            }
        };
        let rd = if fetch { s } else { Xr::ZERO };
        self.asm.amo(amo, wide, rd, S2, s);
        if fetch && !wide {
            self.zext32(s, s);
        }
    }

    fn lea(&mut self, dst: VReg, base: VReg, off: i32) {
        self.add_imm(r(dst), r(base), off as i64);
    }

    fn load_ctx(&mut self, dst: VReg, off: i32) {
        self.asm.load(
            8,
            false,
            r(dst),
            CTX,
            Imm12::try_from(off as i64).expect("context offsets are small"),
        );
    }

    fn store_ctx(&mut self, off: i32, src: Operand) {
        let s = self.reg_of(src, S0);
        self.asm.store(
            8,
            s,
            CTX,
            Imm12::try_from(off as i64).expect("context offsets are small"),
        );
    }

    fn jump(&mut self, l: Label) {
        self.asm.jal(Xr::ZERO, l);
    }

    fn branch(&mut self, w: Width, op: JmpOp, a: VReg, b: Operand, l: Label) {
        let wide = w64(w);
        let mut a = r(a);
        if op == JmpOp::Set {
            match b {
                Operand::Imm(i) if Imm12::try_from(i as i64).is_ok() => self.asm.ri(
                    Iop::Andi,
                    S1,
                    a,
                    Imm12::try_from(i as i64).expect("checked"),
                ),
                _ => {
                    let b = self.reg_of(b, S0);
                    self.asm.rr(Rop::And, false, S1, a, b);
                }
            }
            if !wide {
                self.asm.shift_i(ShiftOp::Sll, false, S1, S1, 32);
            }
            return self.asm.branch(Bcc::Ne, S1, Xr::ZERO, l);
        }
        let mut b = self.reg_of(b, S0);
        if !wide {
            // Compare the low halves, extended as the comparison needs.
            let signed = matches!(op, JmpOp::Sgt | JmpOp::Sge | JmpOp::Slt | JmpOp::Sle);
            if signed {
                self.sext32(S1, a);
                self.sext32(S2, b);
            } else {
                self.zext32(S1, a);
                self.zext32(S2, b);
            }
            a = S1;
            b = S2;
        }
        let (cc, x, y) = match op {
            JmpOp::Eq => (Bcc::Eq, a, b),
            JmpOp::Ne => (Bcc::Ne, a, b),
            JmpOp::Gt => (Bcc::Ltu, b, a),
            JmpOp::Ge => (Bcc::Geu, a, b),
            JmpOp::Lt => (Bcc::Ltu, a, b),
            JmpOp::Le => (Bcc::Geu, b, a),
            JmpOp::Sgt => (Bcc::Lt, b, a),
            JmpOp::Sge => (Bcc::Ge, a, b),
            JmpOp::Slt => (Bcc::Lt, a, b),
            _ => (Bcc::Ge, b, a),
        };
        self.asm.branch(cc, x, y, l);
    }

    const LOOP_LIMIT: bool = true;

    fn limit_from_t0(&mut self) {
        self.asm.mv(LIMIT, r(VReg::T0));
    }

    fn limit_add(&mut self, k: i32) {
        self.add_imm(LIMIT, LIMIT, k as i64);
    }

    fn branch_limit(&mut self, op: JmpOp, a: VReg, l: Label) {
        let a = r(a);
        let (cc, x, y) = match op {
            JmpOp::Gt => (Bcc::Ltu, LIMIT, a),
            JmpOp::Ge => (Bcc::Geu, a, LIMIT),
            JmpOp::Lt => (Bcc::Ltu, a, LIMIT),
            _ => (Bcc::Geu, LIMIT, a),
        };
        self.asm.branch(cc, x, y, l);
    }

    fn count_down(&mut self, off: i32, l: Label) {
        let o = Imm12::try_from(off as i64).expect("context offsets are small");
        self.asm.load(8, false, S0, CTX, o);
        self.asm.branch(Bcc::Eq, S0, Xr::ZERO, l);
        self.asm
            .ri(Iop::Addi, S0, S0, Imm12::try_from(-1).expect("fits"));
        self.asm.store(8, S0, CTX, o);
    }

    fn branch_ctx_nonzero(&mut self, off: i32, l: Label) {
        self.asm.load(
            8,
            false,
            S0,
            CTX,
            Imm12::try_from(off as i64).expect("context offsets are small"),
        );
        self.asm.branch(Bcc::Ne, S0, Xr::ZERO, l);
    }

    fn push_regs(&mut self, regs: &[VReg]) {
        let mut list: Vec<Xr> = regs.iter().map(|&v| r(v)).collect();
        list.push(Xr::RA);
        self.push_list(&list);
    }

    fn pop_regs(&mut self, regs: &[VReg]) {
        let mut list: Vec<Xr> = regs.iter().map(|&v| r(v)).collect();
        list.push(Xr::RA);
        self.pop_list(&list);
    }

    fn call(&mut self, l: Label) {
        self.asm.jal(Xr::RA, l);
    }

    fn ret(&mut self) {
        self.asm.jalr(Xr::ZERO, Xr::RA);
    }

    fn call_host(&mut self, f: HostFn) {
        let slot = f.ctx_offset();
        self.push_list(&[Xr::RA]);
        self.asm.load(
            8,
            false,
            S4,
            CTX,
            Imm12::try_from(slot as i64).expect("fits"),
        );
        // a5 is r0, which the call replaces anyway.
        self.asm.mv(Xr(15), CTX);
        self.asm.jalr(Xr::RA, S4);
        self.asm.mv(r(VReg(0)), Xr::A0);
        self.pop_list(&[Xr::RA]);
    }

    fn call_check(&mut self, check: Label) {
        self.push_list(&[Xr::RA]);
        self.asm.jal(Xr::RA, check);
        self.pop_list(&[Xr::RA]);
    }

    fn check_routine(&mut self, fault: Label) {
        let save = [Xr(10), Xr(11), Xr(12), Xr(13), Xr(14), Xr(15), Xr::RA];
        self.push_list(&save);
        let z = |o: i32| Imm12::try_from(o as i64).expect("context offsets are small");
        self.asm.store(8, r(VReg(10)), CTX, z(abi::CUR_FP));
        self.asm.mv(Xr(10), CTX);
        self.asm.mv(Xr(11), r(VReg::T0));
        self.asm.mv(Xr(12), r(VReg::T1));
        self.asm.load(8, false, S4, CTX, z(abi::HOST_CHECK));
        self.asm.jalr(Xr::RA, S4);
        self.asm.mv(r(VReg::T1), Xr(10));
        self.asm.mv(r(VReg::T0), Xr(11));
        self.pop_list(&save);
        self.asm.li(S4, abi::CHECK_FAULT as i64);
        self.asm.branch(Bcc::Eq, r(VReg::T1), S4, fault);
        self.asm.jalr(Xr::ZERO, Xr::RA);
    }

    fn trap(&mut self) {
        self.asm.ebreak();
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
