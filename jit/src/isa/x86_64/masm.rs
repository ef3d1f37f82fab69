//! [`MacroAssembler`] for x86_64: picks machine forms, handles the fixed
//! registers of division (rax, rdx) and variable shifts (cl).

use super::asm::{Alu, Asm, Cond, Imm32, Mem, Shift};
use super::regs::{Gpr, MAP, MAP16, T2};
use crate::abi;
use crate::buffer::{BufferError, Label, Offsets};
use crate::masm::{BinOp, Cmp, DivOp, Frame, HostFn, MacroAssembler, MemCmp, Operand, VReg};
use alloc::vec::Vec;
use bpf_bridge::isa::{AtomicOp, JmpOp, Size, Width};

/// The x86_64 macro-assembler.
pub struct X64Masm {
    pub asm: Asm,
    /// Use `movbe` for loads fused with byte swaps.
    pub movbe: bool,
    /// Padding pushed by the entry sequence (for `leave`).
    entry_pad: bool,
}

#[inline]
fn r(v: VReg) -> Gpr {
    debug_assert!(v.idx() < VReg::COUNT);
    MAP16[v.idx() & 15]
}

#[inline]
fn w64(w: Width) -> bool {
    w == Width::W64
}

fn bytes(s: Size) -> u8 {
    s.bytes() as u8
}

const CTX: Gpr = Gpr::R12;

impl X64Masm {
    /// An empty assembler with room for `cap` bytes.
    pub fn new(cap: usize, movbe: bool) -> X64Masm {
        let mut asm = Asm {
            buf: crate::buffer::CodeBuffer::with_capacity(cap),
        };
        // The decoded-op cache and fetch work in 64-byte lines: a loop that
        // straddles two when it fits one pays a fetch per iteration.
        asm.buf.align_loops(crate::buffer::LoopAlign {
            line: 64,
            fill: super::asm::nops,
        });
        X64Masm {
            asm,
            movbe,
            entry_pad: false,
        }
    }

    #[inline(always)]
    fn mov_imm(&mut self, w: Width, dst: Gpr, imm: i32) {
        if imm == 0 {
            self.asm.alu_rr(Alu::Xor, false, dst, dst);
        } else if imm > 0 || !w64(w) {
            self.asm.mov_ri32(dst, imm as u32);
        } else {
            self.asm.mov_ri_sx(dst, Imm32(imm));
        }
    }

    fn callee_saved(frame: &Frame) -> Vec<Gpr> {
        let mut v = Vec::new();
        for (i, &g) in MAP.iter().enumerate() {
            let used = frame.uses(VReg(i as u8)) || (i == VReg::CTX.idx() && frame.ctx);
            if used && g.callee_saved() && !v.contains(&g) {
                v.push(g);
            }
        }
        v
    }

    #[inline(always)]
    fn shift(&mut self, w: Width, op: Shift, dst: Gpr, src: Operand) {
        match src {
            Operand::Imm(i) => {
                let n = (i as u32 & if w64(w) { 63 } else { 31 }) as u8;
                if n != 0 {
                    self.asm.shift_ri(op, w64(w), dst, n);
                } else if !w64(w) {
                    self.asm.mov_rr(false, dst, dst);
                }
            }
            Operand::Reg(s) if r(s) == Gpr::RCX => self.asm.shift_cl(op, w64(w), dst),
            Operand::Reg(s) => {
                // The count must be in cl: park rcx in the private scratch register.
                self.asm.mov_rr(true, T2, Gpr::RCX);
                self.asm.mov_rr(true, Gpr::RCX, r(s));
                if dst == Gpr::RCX {
                    self.asm.shift_cl(op, w64(w), T2);
                } else {
                    self.asm.shift_cl(op, w64(w), dst);
                }
                self.asm.mov_rr(true, Gpr::RCX, T2);
            }
        }
    }

    fn zero_case(&mut self, w: Width, op: DivOp, dst: Gpr) {
        match op {
            DivOp::Div | DivOp::Sdiv => self.asm.alu_rr(Alu::Xor, false, dst, dst),
            DivOp::Mod | DivOp::Smod if !w64(w) => self.asm.mov_rr(false, dst, dst),
            _ => {}
        }
    }

    /// Sets the flags for `c`; returns the condition under which it holds.
    #[inline(always)]
    fn compare(&mut self, c: Cmp) -> Cond {
        let wide = w64(c.w);
        let a = r(c.a);
        match (c.op, c.b) {
            (JmpOp::Set, Operand::Reg(b)) => self.asm.test_rr(wide, a, r(b)),
            (JmpOp::Set, Operand::Imm(i)) => self.asm.test_ri(wide, a, i),
            (_, Operand::Reg(b)) => self.asm.alu_rr(Alu::Cmp, wide, a, r(b)),
            (JmpOp::Eq | JmpOp::Ne, Operand::Imm(0)) => self.asm.test_rr(wide, a, a),
            (_, Operand::Imm(i)) => self.asm.alu_ri(Alu::Cmp, wide, a, i),
        }
        Self::cond(c.op)
    }

    /// The condition under which a compare (or, for `jset`, a `test`) makes `op` hold.
    #[inline(always)]
    fn cond(op: JmpOp) -> Cond {
        match op {
            JmpOp::Set | JmpOp::Ne => Cond::Ne,
            JmpOp::Eq => Cond::E,
            JmpOp::Gt => Cond::A,
            JmpOp::Ge => Cond::Ae,
            JmpOp::Lt => Cond::B,
            JmpOp::Le => Cond::Be,
            JmpOp::Sgt => Cond::G,
            JmpOp::Sge => Cond::Ge,
            JmpOp::Slt => Cond::L,
            JmpOp::Sle => Cond::Le,
        }
    }

    /// `dst op= src` (or `dst = src`) unless the condition `compare` sets
    /// holds: [`MacroAssembler::alu_unless`] for a compare of registers or of memory.
    fn select(
        &mut self,
        compare: impl FnOnce(&mut Self) -> Cond,
        w: Width,
        op: Option<BinOp>,
        dst: VReg,
        src: Operand,
    ) -> bool {
        let (t, u, d) = (r(VReg::T1), r(VReg::T0), r(dst));
        let x = match op {
            None => None,
            Some(BinOp::Add) => Some(Alu::Add),
            Some(BinOp::Sub) => Some(Alu::Sub),
            Some(BinOp::Or) => Some(Alu::Or),
            Some(BinOp::Xor) => Some(Alu::Xor),
            Some(BinOp::And) => Some(Alu::And),
            Some(_) => return false,
        };
        match (x, src) {
            // dst = src where c is false: one cmov (of the zero-extended value at 32 bits).
            (None, Operand::Reg(s)) if w64(w) => {
                let cond = compare(self);
                self.asm.cmov_rr(cond.invert(), true, d, r(s));
            }
            (None, _) => {
                self.mov(w, VReg::T0, src);
                let cond = compare(self);
                self.asm.cmov_rr(cond.invert(), true, d, u);
            }
            // dst op= (c ? 0 : src): 0 is the identity of these; the chain
            // through dst stays one ALU op long.
            (Some(x @ (Alu::Add | Alu::Sub | Alu::Or | Alu::Xor)), _) if w64(w) => {
                self.asm.alu_rr(Alu::Xor, false, t, t);
                match src {
                    Operand::Imm(1) => {
                        let cond = compare(self);
                        self.asm.setcc(cond.invert(), t);
                    }
                    Operand::Imm(i) => {
                        self.mov_imm(Width::W64, u, i);
                        let cond = compare(self);
                        self.asm.cmov_rr(cond.invert(), true, t, u);
                    }
                    Operand::Reg(s) => {
                        let cond = compare(self);
                        self.asm.cmov_rr(cond.invert(), true, t, r(s));
                    }
                }
                self.asm.alu_rr(x, true, d, t);
            }
            // Otherwise compute into T1, then select it.
            (Some(x), _) => {
                self.asm.mov_rr(true, t, d);
                match src {
                    Operand::Reg(s) => self.asm.alu_rr(x, w64(w), t, r(s)),
                    Operand::Imm(i) => self.asm.alu_ri(x, w64(w), t, i),
                }
                let cond = compare(self);
                self.asm.cmov_rr(cond.invert(), true, d, t);
            }
        }
        true
    }

    /// Whether [`X64Masm::compare_mem`] has a form for `c`: not 16-bit
    /// immediates (they stall the decoders) nor a 16-bit `test`.
    fn mem_comparable(c: MemCmp) -> bool {
        c.bytes != 2 || (c.op != JmpOp::Set && c.imm as i8 as i32 == c.imm)
    }

    /// Sets the flags for `c` (one [`X64Masm::mem_comparable`] says has a
    /// form); returns the condition under which it holds.
    fn compare_mem(&mut self, c: MemCmp) -> Cond {
        let m = Self::mem(c.base, c.off);
        if c.op == JmpOp::Set {
            self.asm.test_mi(c.bytes, m, c.imm);
            return Cond::Ne;
        }
        self.asm.cmp_mi(c.bytes, m, c.imm);
        Self::cond(c.op)
    }

    fn mem(base: VReg, off: i32) -> Mem {
        Mem {
            base: r(base),
            disp: off,
        }
    }
}

impl MacroAssembler for X64Masm {
    const ALU_UNLESS: bool = true;

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

    fn body_start(&mut self) {
        self.asm.buf.mark_body_start()
    }

    fn cold_start(&mut self) {
        self.asm.buf.mark_cold_start()
    }

    fn entry(&mut self, frame: &Frame, body: Label) {
        let saved = Self::callee_saved(frame);
        for &g in &saved {
            self.asm.push(g);
        }
        // Entered with rsp = 8 mod 16; the body runs at 0 mod 16 after `call`
        // (which only host calls and local calls need).
        self.entry_pad = frame.host && saved.len() % 2 == 1;
        if self.entry_pad {
            self.asm.alu_ri(Alu::Sub, true, Gpr::RSP, 8);
        }
        let arg = Gpr::RDI;
        if frame.ctx {
            self.asm.mov_rr(true, CTX, arg);
        }
        if frame.loads_arg(VReg(2)) {
            self.asm.load(
                8,
                false,
                r(VReg(2)),
                Mem {
                    base: arg,
                    disp: abi::R2,
                },
            );
        }
        if frame.uses(VReg(10)) {
            self.asm.load(
                8,
                false,
                r(VReg(10)),
                Mem {
                    base: arg,
                    disp: abi::FP,
                },
            );
        }
        if frame.host {
            self.asm.store(
                8,
                Mem {
                    base: CTX,
                    disp: abi::SAVED_SP,
                },
                Gpr::RSP,
            );
        }
        if frame.loads_arg(VReg(1)) {
            self.asm.load(
                8,
                false,
                r(VReg(1)),
                Mem {
                    base: arg,
                    disp: abi::R1,
                },
            );
        }
        self.asm.call(body);
    }

    fn leave(&mut self, frame: &Frame) {
        let saved = Self::callee_saved(frame);
        if self.entry_pad {
            self.asm.alu_ri(Alu::Add, true, Gpr::RSP, 8);
        }
        for &g in saved.iter().rev() {
            self.asm.pop(g);
        }
        self.asm.ret();
    }

    fn unwind_to(&mut self, exit: Label) {
        self.asm.load(
            8,
            false,
            Gpr::RSP,
            Mem {
                base: CTX,
                disp: abi::SAVED_SP,
            },
        );
        self.asm.jmp(exit);
    }

    #[inline(always)]
    fn mov(&mut self, w: Width, dst: VReg, src: Operand) {
        match src {
            Operand::Reg(s) => {
                if s != dst || !w64(w) {
                    self.asm.mov_rr(w64(w), r(dst), r(s));
                }
            }
            Operand::Imm(i) => self.mov_imm(w, r(dst), i),
        }
    }

    fn mov_imm64(&mut self, dst: VReg, v: u64) {
        if v <= u32::MAX as u64 {
            self.mov_imm(Width::W32, r(dst), v as u32 as i32);
        } else if let Ok(i) = Imm32::try_from(v as i64) {
            self.asm.mov_ri_sx(r(dst), i);
        } else {
            self.asm.movabs(r(dst), v);
        }
    }

    fn movsx(&mut self, w: Width, bits: u8, dst: VReg, src: VReg) {
        self.asm.movsx_rr(w64(w), bits / 8, r(dst), r(src));
    }

    // Inlined so that lowering's constant `op` selects the form statically.
    #[inline(always)]
    fn alu(&mut self, w: Width, op: BinOp, dst: VReg, src: Operand) {
        let x = match op {
            BinOp::Add => Alu::Add,
            BinOp::Sub => Alu::Sub,
            BinOp::Or => Alu::Or,
            BinOp::And => Alu::And,
            BinOp::Xor => Alu::Xor,
            BinOp::Mul => {
                match src {
                    Operand::Reg(s) => self.asm.imul_rr(w64(w), r(dst), r(s)),
                    // A power of two: a shift (the same bits at either width).
                    Operand::Imm(i) if i > 0 && i.count_ones() == 1 => self.shift(
                        w,
                        Shift::Shl,
                        r(dst),
                        Operand::Imm(i.trailing_zeros() as i32),
                    ),
                    Operand::Imm(i) => self.asm.imul_rri(w64(w), r(dst), r(dst), i),
                }
                return;
            }
            BinOp::Lsh => return self.shift(w, Shift::Shl, r(dst), src),
            BinOp::Rsh => return self.shift(w, Shift::Shr, r(dst), src),
            BinOp::Arsh => return self.shift(w, Shift::Sar, r(dst), src),
        };
        match src {
            Operand::Reg(s) => self.asm.alu_rr(x, w64(w), r(dst), r(s)),
            Operand::Imm(i) => self.asm.alu_ri(x, w64(w), r(dst), i),
        }
    }

    fn divmod(&mut self, w: Width, op: DivOp, dst: VReg, src: Operand) {
        let wide = w64(w);
        let d = r(dst);
        let signed = matches!(op, DivOp::Sdiv | DivOp::Smod);
        let rem = matches!(op, DivOp::Mod | DivOp::Smod);
        let done = self.new_label();
        let mut zero = None;
        // The divisor, in a register other than rax/rdx.
        let divisor = match src {
            Operand::Imm(0) => return self.zero_case(w, op, d),
            Operand::Imm(-1) if signed => {
                // x / -1 = -x (wrapping, no #DE), x % -1 = 0.
                if rem {
                    self.asm.alu_rr(Alu::Xor, false, d, d);
                } else {
                    self.asm.neg(wide, d);
                }
                return;
            }
            Operand::Imm(i) => {
                self.mov_imm(w, Gpr::R11, i);
                Gpr::R11
            }
            Operand::Reg(s) => {
                let g = r(s);
                let g = if g == Gpr::RAX || g == Gpr::RDX {
                    self.asm.mov_rr(true, Gpr::R11, g);
                    Gpr::R11
                } else {
                    g
                };
                let z = self.new_label();
                zero = Some(z);
                self.asm.test_rr(wide, g, g);
                self.asm.jcc(Cond::E, z);
                if signed {
                    let normal = self.new_label();
                    self.asm.alu_ri(Alu::Cmp, wide, g, -1);
                    self.asm.jcc(Cond::Ne, normal);
                    if rem {
                        self.asm.alu_rr(Alu::Xor, false, d, d);
                    } else {
                        self.asm.neg(wide, d);
                    }
                    self.asm.jmp(done);
                    self.bind(normal);
                }
                g
            }
        };
        if d != Gpr::RAX {
            self.asm.mov_rr(true, Gpr::R10, Gpr::RAX);
            self.asm.mov_rr(true, Gpr::RAX, d);
        }
        if d != Gpr::RDX {
            self.asm.mov_rr(true, T2, Gpr::RDX);
        }
        if signed {
            self.asm.cqo(wide);
        } else {
            self.asm.alu_rr(Alu::Xor, false, Gpr::RDX, Gpr::RDX);
        }
        self.asm.div(wide, signed, divisor);
        let result = if rem { Gpr::RDX } else { Gpr::RAX };
        if d != result {
            self.asm.mov_rr(true, d, result);
        }
        if d != Gpr::RDX {
            self.asm.mov_rr(true, Gpr::RDX, T2);
        }
        if d != Gpr::RAX {
            self.asm.mov_rr(true, Gpr::RAX, Gpr::R10);
        }
        if let Some(z) = zero {
            self.asm.jmp(done);
            self.bind(z);
            self.zero_case(w, op, d);
        }
        self.bind(done);
    }

    fn neg(&mut self, w: Width, dst: VReg) {
        self.asm.neg(w64(w), r(dst));
    }

    fn zext(&mut self, bits: u8, dst: VReg) {
        match bits {
            16 => self.asm.movzx_rr(2, r(dst), r(dst)),
            32 => self.asm.mov_rr(false, r(dst), r(dst)),
            _ => {}
        }
    }

    fn bswap(&mut self, bits: u8, dst: VReg) {
        match bits {
            16 => {
                self.asm.rol16_8(r(dst));
                self.asm.movzx_rr(2, r(dst), r(dst));
            }
            32 => self.asm.bswap(false, r(dst)),
            _ => self.asm.bswap(true, r(dst)),
        }
    }

    #[inline(always)]
    fn load(&mut self, size: Size, signed: bool, dst: VReg, base: VReg, off: i32) {
        self.asm
            .load(bytes(size), signed, r(dst), Self::mem(base, off));
    }

    fn load_swapped(&mut self, size: Size, dst: VReg, base: VReg, off: i32) {
        let m = Self::mem(base, off);
        if size == Size::H {
            // Not `movbe` here: its 16-bit form merges into the old register,
            // a dependency on the previous value (through a loop, a chain).
            self.asm.load(2, false, r(dst), m);
            self.asm.rol16_8(r(dst));
        } else if self.movbe && size != Size::B {
            self.asm.movbe_load(bytes(size), r(dst), m);
        } else {
            self.asm.load(bytes(size), false, r(dst), m);
            if size != Size::B {
                self.bswap(bytes(size) * 8, dst);
            }
        }
    }

    #[inline(always)]
    fn store(&mut self, size: Size, base: VReg, off: i32, src: Operand) {
        let m = Self::mem(base, off);
        match src {
            Operand::Reg(s) => self.asm.store(bytes(size), m, r(s)),
            Operand::Imm(i) => self.asm.store_i(bytes(size), m, i),
        }
    }

    fn atomic(&mut self, w: Width, op: AtomicOp, fetch: bool, base: VReg, off: i32, src: VReg) {
        let wide = w64(w);
        let mut m = Self::mem(base, off);
        let s = r(src);
        let x = match op {
            AtomicOp::Add if fetch => return self.asm.lock_xadd(wide, m, s),
            AtomicOp::Xchg => return self.asm.xchg_mr(wide, m, s),
            AtomicOp::Cmpxchg => {
                self.asm.lock_cmpxchg(wide, m, s);
                if !wide {
                    // A successful 32-bit cmpxchg leaves rax's upper half alone.
                    self.asm.mov_rr(false, Gpr::RAX, Gpr::RAX);
                }
                return;
            }
            AtomicOp::Add => Alu::Add,
            AtomicOp::Or => Alu::Or,
            AtomicOp::And => Alu::And,
            AtomicOp::Xor => Alu::Xor,
        };
        if !fetch {
            return self.asm.lock_alu_mr(x, wide, m, s);
        }
        // Fetching or/and/xor: a cmpxchg loop (rax is the expected value).
        // rax, r10 and r11 are rewritten below: address through r9 instead.
        if matches!(m.base, Gpr::RAX | Gpr::R10 | Gpr::R11) {
            self.asm.lea(T2, m);
            m = Mem { base: T2, disp: 0 };
        }
        self.asm.mov_rr(true, Gpr::R10, Gpr::RAX);
        let operand = if s == Gpr::RAX { Gpr::R10 } else { s };
        self.asm.load(if wide { 8 } else { 4 }, false, Gpr::RAX, m);
        let again = self.new_label();
        self.bind(again);
        self.asm.mov_rr(true, Gpr::R11, Gpr::RAX);
        self.asm.alu_rr(x, wide, Gpr::R11, operand);
        self.asm.lock_cmpxchg(wide, m, Gpr::R11);
        self.asm.jcc(Cond::Ne, again);
        self.asm.mov_rr(wide, s, Gpr::RAX);
        if s != Gpr::RAX {
            self.asm.mov_rr(true, Gpr::RAX, Gpr::R10);
        }
    }

    fn lea(&mut self, dst: VReg, base: VReg, off: i32) {
        self.asm.lea(r(dst), Self::mem(base, off));
    }

    fn load_ctx(&mut self, dst: VReg, off: i32) {
        self.asm.load(
            8,
            false,
            r(dst),
            Mem {
                base: CTX,
                disp: off,
            },
        );
    }

    fn store_ctx(&mut self, off: i32, src: Operand) {
        let m = Mem {
            base: CTX,
            disp: off,
        };
        match src {
            Operand::Reg(s) => self.asm.store(8, m, r(s)),
            Operand::Imm(i) => self.asm.store_i(8, m, i),
        }
    }

    #[inline(always)]
    fn jump(&mut self, l: Label) {
        self.asm.jmp(l);
    }

    #[inline(always)]
    fn branch(&mut self, w: Width, op: JmpOp, a: VReg, b: Operand, l: Label) {
        let cond = self.compare(Cmp { w, op, a, b });
        self.asm.jcc(cond, l);
    }

    const LOOP_LIMIT: bool = true;

    /// The limit lives in T2 (r9).
    fn loop_limit(&mut self, p: VReg, c: VReg, e: VReg, n: i32, k: i32, by_pointer: bool) {
        let t0 = r(VReg::T0);
        // Iterations the counter allows, less one: n - 1 - c (wrapping),
        // which is at most n when c < n or c = u64::MAX (the add wraps to
        // 0); any other c stops after one iteration (0).
        self.asm.alu_rr(Alu::Xor, false, t0, t0);
        self.asm.mov_ri32(T2, (n - 1) as u32);
        self.asm.alu_rr(Alu::Sub, true, T2, r(c));
        self.asm.alu_ri(Alu::Cmp, true, T2, n);
        self.asm.cmov_rr(Cond::A, true, T2, t0);
        if k != 1 {
            self.asm.imul_rri(true, T2, T2, k);
        }
        self.asm.alu_rr(Alu::Add, true, T2, r(p));
        match k.checked_neg() {
            Some(m) if k < 0 => self.asm.alu_ri(Alu::Sub, true, T2, m),
            _ => self.asm.alu_ri(Alu::Add, true, T2, k),
        }
        self.asm.alu_rr(Alu::Cmp, true, T2, r(e));
        self.asm.cmov_rr(Cond::A, true, T2, r(e));
        if by_pointer && k > 1 {
            // T0 is still 0.
            self.asm.alu_ri(Alu::Sub, true, T2, k - 1);
            self.asm.cmov_rr(Cond::B, true, T2, t0);
        }
    }

    fn branch_limit(&mut self, op: JmpOp, a: VReg, l: Label) {
        self.asm.alu_rr(Alu::Cmp, true, r(a), T2);
        self.asm.jcc(Self::cond(op), l);
    }

    fn limit_add(&mut self, k: i32) {
        match k.checked_neg() {
            Some(m) if k < 0 => self.asm.alu_ri(Alu::Sub, true, T2, m),
            _ => self.asm.alu_ri(Alu::Add, true, T2, k),
        }
    }

    fn alu_unless(&mut self, c: Cmp, w: Width, op: Option<BinOp>, dst: VReg, src: Operand) -> bool {
        if let (Some(x @ (BinOp::Add | BinOp::Sub)), Operand::Imm(1), true) = (op, src, w64(w)) {
            if self.count_unless(c, x, r(dst)) {
                return true;
            }
        }
        self.select(|m| m.compare(c), w, op, dst, src)
    }

    fn branch_mem(&mut self, c: MemCmp, l: Label) -> bool {
        if !Self::mem_comparable(c) {
            return false;
        }
        let cond = self.compare_mem(c);
        self.asm.jcc(cond, l);
        true
    }

    fn compares_mem(&self, c: MemCmp) -> bool {
        Self::mem_comparable(c)
    }

    fn add_copy(&mut self, w: Width, dst: VReg, src: VReg, imm: i32) -> bool {
        self.asm.lea_w(w64(w), r(dst), Self::mem(src, imm));
        true
    }

    const ADDS_COPIES: bool = true;
    const COMPARES_MEM: bool = true;

    fn count_down(&mut self, off: i32, l: Label) {
        let m = Mem {
            base: CTX,
            disp: off,
        };
        self.asm.alu_mi(Alu::Cmp, true, m, 0);
        self.asm.jcc(Cond::E, l);
        self.asm.alu_mi(Alu::Sub, true, m, 1);
    }

    fn branch_ctx_nonzero(&mut self, off: i32, l: Label) {
        self.asm.alu_mi(
            Alu::Cmp,
            true,
            Mem {
                base: CTX,
                disp: off,
            },
            0,
        );
        self.asm.jcc(Cond::Ne, l);
    }

    fn push_regs(&mut self, regs: &[VReg]) {
        for &v in regs {
            self.asm.push(r(v));
        }
        // The body runs at rsp = 0 mod 16: an odd number of pushes plus the return address.
        if regs.len().is_multiple_of(2) {
            self.asm.alu_ri(Alu::Sub, true, Gpr::RSP, 8);
        }
    }

    fn pop_regs(&mut self, regs: &[VReg]) {
        if regs.len().is_multiple_of(2) {
            self.asm.alu_ri(Alu::Add, true, Gpr::RSP, 8);
        }
        for &v in regs.iter().rev() {
            self.asm.pop(r(v));
        }
    }

    fn call(&mut self, l: Label) {
        self.asm.call(l);
    }

    fn ret(&mut self) {
        self.asm.ret();
    }

    fn call_host(&mut self, f: HostFn) {
        let slot = f.ctx_offset();
        self.asm.mov_rr(true, Gpr::R9, CTX);
        self.asm.call_m(Mem {
            base: CTX,
            disp: slot,
        });
    }

    fn call_check(&mut self, check: Label) {
        self.asm.call(check);
    }

    fn branch_if_in_frame(&mut self, addr: VReg, bytes: usize, ok: Label) {
        let t = r(VReg::T1);
        let frame = crate::lower::FRAME_SIZE;
        // addr - (r10 - FRAME) <= FRAME - bytes (wrapping below the frame).
        self.asm.lea(
            t,
            Mem {
                base: r(addr),
                disp: frame,
            },
        );
        self.asm.alu_rr(Alu::Sub, true, t, r(VReg(10)));
        self.asm.alu_ri(Alu::Cmp, true, t, frame - bytes as i32);
        self.asm.jcc(Cond::Be, ok);
    }

    fn branch_if_in_region(&mut self, addr: VReg, bytes: usize, block: i32, ok: Label) {
        let t = r(VReg::T1);
        let ctx = |disp| Mem { base: CTX, disp };
        // addr - start < limit.
        self.asm.mov_rr(true, t, r(addr));
        self.asm.alu_rm(Alu::Sub, true, t, ctx(block));
        self.asm
            .alu_rm(Alu::Cmp, true, t, ctx(abi::region_limit_slot(block, bytes)));
        self.asm.jcc(Cond::B, ok);
    }

    fn check_routine(&mut self, fault: Label) {
        const SAVE: [Gpr; 6] = [Gpr::RAX, Gpr::RDI, Gpr::RSI, Gpr::RDX, Gpr::RCX, Gpr::R8];
        for g in SAVE {
            self.asm.push(g);
        }
        // Entered at 8 mod 16; six pushes and this keep the host call aligned.
        self.asm.alu_ri(Alu::Sub, true, Gpr::RSP, 8);
        self.asm.store(
            8,
            Mem {
                base: CTX,
                disp: abi::CUR_FP,
            },
            r(VReg(10)),
        );
        self.asm.mov_rr(true, Gpr::RDI, CTX);
        self.asm.mov_rr(true, Gpr::RSI, Gpr::R11);
        self.asm.mov_rr(true, Gpr::RDX, Gpr::R10);
        self.asm.call_m(Mem {
            base: CTX,
            disp: abi::HOST_CHECK,
        });
        self.asm.mov_rr(true, Gpr::R10, Gpr::RAX);
        self.asm.mov_rr(true, Gpr::R11, Gpr::RDX);
        self.asm.alu_ri(Alu::Add, true, Gpr::RSP, 8);
        for g in SAVE.iter().rev() {
            self.asm.pop(*g);
        }
        self.asm
            .alu_ri(Alu::Cmp, true, Gpr::R10, abi::CHECK_FAULT as i32);
        self.asm.jcc(Cond::E, fault);
        self.asm.ret();
    }

    fn trap(&mut self) {
        self.asm.int3();
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
