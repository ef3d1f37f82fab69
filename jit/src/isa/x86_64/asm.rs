//! x86_64 encoders: one function per machine form, nothing else. They know
//! neither eBPF nor the register map.

use super::regs::Gpr;
use crate::buffer::{CodeBuffer, Label, LabelUse};

/// A memory operand `[base + disp]`.
#[derive(Clone, Copy, Debug)]
pub struct Mem {
    pub base: Gpr,
    pub disp: i32,
}

/// Condition codes (the low nibble of `Jcc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cond {
    B = 0x2,
    Ae = 0x3,
    E = 0x4,
    Ne = 0x5,
    Be = 0x6,
    A = 0x7,
    L = 0xc,
    Ge = 0xd,
    Le = 0xe,
    G = 0xf,
}

impl Cond {
    /// The opposite condition.
    pub fn invert(self) -> Cond {
        match self {
            Cond::B => Cond::Ae,
            Cond::Ae => Cond::B,
            Cond::E => Cond::Ne,
            Cond::Ne => Cond::E,
            Cond::Be => Cond::A,
            Cond::A => Cond::Be,
            Cond::L => Cond::Ge,
            Cond::Ge => Cond::L,
            Cond::Le => Cond::G,
            Cond::G => Cond::Le,
        }
    }
}

/// Two-operand ALU forms `op r/m, r` (opcode byte) and their `/digit` for immediates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alu {
    Add,
    Or,
    And,
    Sub,
    Xor,
    Cmp,
}

impl Alu {
    fn opcode(self) -> u8 {
        match self {
            Alu::Add => 0x01,
            Alu::Or => 0x09,
            Alu::And => 0x21,
            Alu::Sub => 0x29,
            Alu::Xor => 0x31,
            Alu::Cmp => 0x39,
        }
    }
    fn digit(self) -> u8 {
        match self {
            Alu::Add => 0,
            Alu::Or => 1,
            Alu::And => 4,
            Alu::Sub => 5,
            Alu::Xor => 6,
            Alu::Cmp => 7,
        }
    }
}

/// Shift and rotate `/digit`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Rol = 0,
    Ror = 1,
    Shl = 4,
    Shr = 5,
    Sar = 7,
}

/// An immediate that fits a sign-extended byte.
#[derive(Clone, Copy, Debug)]
pub struct Imm8(pub i8);

impl TryFrom<i64> for Imm8 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        i8::try_from(v).map(Imm8).map_err(|_| ())
    }
}

/// An immediate that fits a sign-extended 32-bit field.
#[derive(Clone, Copy, Debug)]
pub struct Imm32(pub i32);

impl TryFrom<i64> for Imm32 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        i32::try_from(v).map(Imm32).map_err(|_| ())
    }
}

/// Label references: `jmp`, `jcc` (each with a rel8 short form) and `call`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Jmp,
    Jcc(Cond),
    Call,
}

impl LabelUse for Use {
    fn long_len(self) -> usize {
        match self {
            Use::Jmp | Use::Call => 5,
            Use::Jcc(_) => 6,
        }
    }
    fn short_len(self) -> Option<usize> {
        match self {
            Use::Jmp | Use::Jcc(_) => Some(2),
            Use::Call => None,
        }
    }
    fn short_fits(self, d: i64) -> bool {
        i8::try_from(d - 2).is_ok()
    }
    fn encode(self, out: &mut [u8], d: i64, short: bool) -> bool {
        if short {
            let Ok(rel) = i8::try_from(d - 2) else {
                return false;
            };
            out[0] = match self {
                Use::Jmp => 0xeb,
                Use::Jcc(c) => 0x70 | c as u8,
                Use::Call => return false,
            };
            out[1] = rel as u8;
            return true;
        }
        let len = self.long_len();
        let Ok(rel) = i32::try_from(d - len as i64) else {
            return false;
        };
        match self {
            Use::Jmp => out[0] = 0xe9,
            Use::Call => out[0] = 0xe8,
            Use::Jcc(c) => {
                out[0] = 0x0f;
                out[1] = 0x80 | c as u8;
            }
        }
        out[len - 4..len].copy_from_slice(&rel.to_le_bytes());
        true
    }
}

/// The x86_64 assembler: a [`CodeBuffer`] plus one method per machine form.
#[derive(Default)]
pub struct Asm {
    pub buf: CodeBuffer<Use>,
}

impl Asm {
    #[inline]
    fn rex(&mut self, w: bool, reg: u8, base: u8, force: bool) {
        let b = 0x40 | (w as u8) << 3 | ((reg >= 8) as u8) << 2 | (base >= 8) as u8;
        if b != 0x40 || force {
            self.buf.put1(b);
        }
    }

    #[inline]
    fn modrm_rr(&mut self, reg: u8, rm: Gpr) {
        self.buf.put1(0xc0 | (reg & 7) << 3 | rm.low());
    }

    fn modrm_mem(&mut self, reg: u8, m: Mem) {
        let r = (reg & 7) << 3;
        let base = m.base.low();
        let sib = base == 4;
        let (md, disp8) = if m.disp == 0 && base != 5 {
            (0x00, None)
        } else if let Ok(d) = Imm8::try_from(m.disp as i64) {
            (0x40, Some(d.0))
        } else {
            (0x80, None)
        };
        self.buf.put1(md | r | base);
        if sib {
            self.buf.put1(0x24);
        }
        match (md, disp8) {
            (0x40, Some(d)) => self.buf.put1(d as u8),
            (0x80, _) => self.buf.put4(m.disp as u32),
            _ => {}
        }
    }

    /// `op dst, src` (register forms of add/or/and/sub/xor/cmp).
    pub fn alu_rr(&mut self, op: Alu, w: bool, dst: Gpr, src: Gpr) {
        self.rex(w, src.0, dst.0, false);
        self.buf.put1(op.opcode());
        self.modrm_rr(src.0, dst);
    }

    /// `op dst, imm` with the shortest immediate.
    pub fn alu_ri(&mut self, op: Alu, w: bool, dst: Gpr, imm: i32) {
        self.rex(w, 0, dst.0, false);
        if let Ok(i) = Imm8::try_from(imm as i64) {
            self.buf.put1(0x83);
            self.modrm_rr(op.digit(), dst);
            self.buf.put1(i.0 as u8);
        } else {
            self.buf.put1(0x81);
            self.modrm_rr(op.digit(), dst);
            self.buf.put4(imm as u32);
        }
    }

    /// `op reg, [mem]` (add/or/and/sub/xor/cmp with a memory source).
    pub fn alu_rm(&mut self, op: Alu, w: bool, reg: Gpr, m: Mem) {
        self.rex(w, reg.0, m.base.0, false);
        self.buf.put1(op.opcode() + 2);
        self.modrm_mem(reg.0, m);
    }

    /// `op qword/dword [mem], imm`.
    pub fn alu_mi(&mut self, op: Alu, w: bool, m: Mem, imm: i32) {
        self.rex(w, 0, m.base.0, false);
        if let Ok(i) = Imm8::try_from(imm as i64) {
            self.buf.put1(0x83);
            self.modrm_mem(op.digit(), m);
            self.buf.put1(i.0 as u8);
        } else {
            self.buf.put1(0x81);
            self.modrm_mem(op.digit(), m);
            self.buf.put4(imm as u32);
        }
    }

    /// `test a, b`.
    pub fn test_rr(&mut self, w: bool, a: Gpr, b: Gpr) {
        self.rex(w, b.0, a.0, false);
        self.buf.put1(0x85);
        self.modrm_rr(b.0, a);
    }

    /// `test dst, imm32`.
    pub fn test_ri(&mut self, w: bool, dst: Gpr, imm: i32) {
        self.rex(w, 0, dst.0, false);
        self.buf.put1(0xf7);
        self.modrm_rr(0, dst);
        self.buf.put4(imm as u32);
    }

    /// `mov dst, src` (32-bit form zero-extends).
    pub fn mov_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.rex(w, src.0, dst.0, false);
        self.buf.put1(0x89);
        self.modrm_rr(src.0, dst);
    }

    /// `mov dst32, imm32` (zero-extends to 64 bits).
    pub fn mov_ri32(&mut self, dst: Gpr, imm: u32) {
        self.rex(false, 0, dst.0, false);
        self.buf.put1(0xb8 | dst.low());
        self.buf.put4(imm);
    }

    /// `mov dst, imm32` sign-extended to 64 bits.
    pub fn mov_ri_sx(&mut self, dst: Gpr, imm: Imm32) {
        self.rex(true, 0, dst.0, false);
        self.buf.put1(0xc7);
        self.modrm_rr(0, dst);
        self.buf.put4(imm.0 as u32);
    }

    /// `movabs dst, imm64`.
    pub fn movabs(&mut self, dst: Gpr, imm: u64) {
        self.rex(true, 0, dst.0, false);
        self.buf.put1(0xb8 | dst.low());
        self.buf.put(&imm.to_le_bytes());
    }

    /// `imul dst, src`.
    pub fn imul_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.rex(w, dst.0, src.0, false);
        self.buf.put(&[0x0f, 0xaf]);
        self.modrm_rr(dst.0, src);
    }

    /// `imul dst, src, imm`.
    pub fn imul_rri(&mut self, w: bool, dst: Gpr, src: Gpr, imm: i32) {
        self.rex(w, dst.0, src.0, false);
        if let Ok(i) = Imm8::try_from(imm as i64) {
            self.buf.put1(0x6b);
            self.modrm_rr(dst.0, src);
            self.buf.put1(i.0 as u8);
        } else {
            self.buf.put1(0x69);
            self.modrm_rr(dst.0, src);
            self.buf.put4(imm as u32);
        }
    }

    /// Shift or rotate by an immediate count.
    pub fn shift_ri(&mut self, op: Shift, w: bool, dst: Gpr, n: u8) {
        self.rex(w, 0, dst.0, false);
        if n == 1 {
            self.buf.put1(0xd1);
            self.modrm_rr(op as u8, dst);
        } else {
            self.buf.put1(0xc1);
            self.modrm_rr(op as u8, dst);
            self.buf.put1(n);
        }
    }

    /// Shift by `cl`.
    pub fn shift_cl(&mut self, op: Shift, w: bool, dst: Gpr) {
        self.rex(w, 0, dst.0, false);
        self.buf.put1(0xd3);
        self.modrm_rr(op as u8, dst);
    }

    /// `rol dst16, 8`: swaps the two low bytes.
    pub fn rol16_8(&mut self, dst: Gpr) {
        self.buf.put1(0x66);
        self.rex(false, 0, dst.0, false);
        self.buf.put1(0xc1);
        self.modrm_rr(Shift::Rol as u8, dst);
        self.buf.put1(8);
    }

    /// `cmovcc dst, src`: `dst = src` if `c` holds (the 32-bit form zero-extends
    /// `dst` whether or not it does).
    pub fn cmov_rr(&mut self, c: Cond, w: bool, dst: Gpr, src: Gpr) {
        self.rex(w, dst.0, src.0, false);
        self.buf.put(&[0x0f, 0x40 | c as u8]);
        self.modrm_rr(dst.0, src);
    }

    /// `setcc dst8`: the low byte of `dst` = whether `c` holds.
    pub fn setcc(&mut self, c: Cond, dst: Gpr) {
        self.rex(false, 0, dst.0, (4..8).contains(&dst.0));
        self.buf.put(&[0x0f, 0x90 | c as u8]);
        self.modrm_rr(0, dst);
    }

    /// `neg dst`.
    pub fn neg(&mut self, w: bool, dst: Gpr) {
        self.rex(w, 0, dst.0, false);
        self.buf.put1(0xf7);
        self.modrm_rr(3, dst);
    }

    /// `div src` (unsigned) or `idiv src` (signed): rdx:rax / src.
    pub fn div(&mut self, w: bool, signed: bool, src: Gpr) {
        self.rex(w, 0, src.0, false);
        self.buf.put1(0xf7);
        self.modrm_rr(if signed { 7 } else { 6 }, src);
    }

    /// `cqo` (64-bit) or `cdq` (32-bit): sign-extends rax into rdx.
    pub fn cqo(&mut self, w: bool) {
        if w {
            self.buf.put1(0x48);
        }
        self.buf.put1(0x99);
    }

    /// `bswap dst`.
    pub fn bswap(&mut self, w: bool, dst: Gpr) {
        self.rex(w, 0, dst.0, false);
        self.buf.put(&[0x0f, 0xc8 | dst.low()]);
    }

    /// `movzx dst32, src8/src16` (`bytes` 1 or 2).
    pub fn movzx_rr(&mut self, bytes: u8, dst: Gpr, src: Gpr) {
        self.rex(false, dst.0, src.0, bytes == 1 && (4..8).contains(&src.0));
        self.buf.put(&[0x0f, if bytes == 1 { 0xb6 } else { 0xb7 }]);
        self.modrm_rr(dst.0, src);
    }

    /// `movsx dst, src8/16` or `movsxd dst, src32` at width `w`.
    pub fn movsx_rr(&mut self, w: bool, bytes: u8, dst: Gpr, src: Gpr) {
        self.rex(w, dst.0, src.0, bytes == 1 && (4..8).contains(&src.0));
        match bytes {
            1 => self.buf.put(&[0x0f, 0xbe]),
            2 => self.buf.put(&[0x0f, 0xbf]),
            _ => self.buf.put1(0x63),
        }
        self.modrm_rr(dst.0, src);
    }

    /// Load of `bytes` (1, 2, 4, 8) into `dst`, zero- or sign-extended to 64 bits.
    pub fn load(&mut self, bytes: u8, signed: bool, dst: Gpr, m: Mem) {
        let w = signed || bytes == 8;
        self.rex(w, dst.0, m.base.0, false);
        match (bytes, signed) {
            (1, false) => self.buf.put(&[0x0f, 0xb6]),
            (2, false) => self.buf.put(&[0x0f, 0xb7]),
            (1, true) => self.buf.put(&[0x0f, 0xbe]),
            (2, true) => self.buf.put(&[0x0f, 0xbf]),
            (4, true) => self.buf.put1(0x63),
            _ => self.buf.put1(0x8b),
        }
        self.modrm_mem(dst.0, m);
    }

    /// `movbe dst, [mem]` of 2, 4 or 8 bytes (2 writes only the low 16 bits).
    pub fn movbe_load(&mut self, bytes: u8, dst: Gpr, m: Mem) {
        if bytes == 2 {
            self.buf.put1(0x66);
        }
        self.rex(bytes == 8, dst.0, m.base.0, false);
        self.buf.put(&[0x0f, 0x38, 0xf0]);
        self.modrm_mem(dst.0, m);
    }

    /// Store of the low `bytes` of `src`.
    pub fn store(&mut self, bytes: u8, m: Mem, src: Gpr) {
        if bytes == 2 {
            self.buf.put1(0x66);
        }
        self.rex(
            bytes == 8,
            src.0,
            m.base.0,
            bytes == 1 && (4..8).contains(&src.0),
        );
        self.buf.put1(if bytes == 1 { 0x88 } else { 0x89 });
        self.modrm_mem(src.0, m);
    }

    /// Store of an immediate (8 bytes: sign-extended 32-bit immediate).
    pub fn store_i(&mut self, bytes: u8, m: Mem, imm: i32) {
        if bytes == 2 {
            self.buf.put1(0x66);
        }
        self.rex(bytes == 8, 0, m.base.0, false);
        self.buf.put1(if bytes == 1 { 0xc6 } else { 0xc7 });
        self.modrm_mem(0, m);
        match bytes {
            1 => self.buf.put1(imm as u8),
            2 => self.buf.put(&(imm as u16).to_le_bytes()),
            _ => self.buf.put4(imm as u32),
        }
    }

    /// `lea dst, [mem]`.
    pub fn lea(&mut self, dst: Gpr, m: Mem) {
        self.rex(true, dst.0, m.base.0, false);
        self.buf.put1(0x8d);
        self.modrm_mem(dst.0, m);
    }

    /// `lock op [mem], src` for add/or/and/xor.
    pub fn lock_alu_mr(&mut self, op: Alu, w: bool, m: Mem, src: Gpr) {
        self.buf.put1(0xf0);
        self.rex(w, src.0, m.base.0, false);
        self.buf.put1(op.opcode());
        self.modrm_mem(src.0, m);
    }

    /// `lock xadd [mem], src`.
    pub fn lock_xadd(&mut self, w: bool, m: Mem, src: Gpr) {
        self.buf.put1(0xf0);
        self.rex(w, src.0, m.base.0, false);
        self.buf.put(&[0x0f, 0xc1]);
        self.modrm_mem(src.0, m);
    }

    /// `xchg [mem], src` (implicitly locked).
    pub fn xchg_mr(&mut self, w: bool, m: Mem, src: Gpr) {
        self.rex(w, src.0, m.base.0, false);
        self.buf.put1(0x87);
        self.modrm_mem(src.0, m);
    }

    /// `lock cmpxchg [mem], src` (compares with rax).
    pub fn lock_cmpxchg(&mut self, w: bool, m: Mem, src: Gpr) {
        self.buf.put1(0xf0);
        self.rex(w, src.0, m.base.0, false);
        self.buf.put(&[0x0f, 0xb1]);
        self.modrm_mem(src.0, m);
    }

    /// `push r`.
    pub fn push(&mut self, r: Gpr) {
        self.rex(false, 0, r.0, false);
        self.buf.put1(0x50 | r.low());
    }

    /// `pop r`.
    pub fn pop(&mut self, r: Gpr) {
        self.rex(false, 0, r.0, false);
        self.buf.put1(0x58 | r.low());
    }

    /// `call [mem]`.
    pub fn call_m(&mut self, m: Mem) {
        self.rex(false, 0, m.base.0, false);
        self.buf.put1(0xff);
        self.modrm_mem(2, m);
    }

    /// `ret`.
    pub fn ret(&mut self) {
        self.buf.put1(0xc3);
    }

    /// `int3`.
    pub fn int3(&mut self) {
        self.buf.put1(0xcc);
    }

    /// `jmp label`.
    pub fn jmp(&mut self, l: Label) {
        self.buf.use_label(l, Use::Jmp);
    }

    /// `jcc label`.
    pub fn jcc(&mut self, c: Cond, l: Label) {
        self.buf.use_label(l, Use::Jcc(c));
    }

    /// `call label`.
    pub fn call(&mut self, l: Label) {
        self.buf.use_label(l, Use::Call);
    }
}

/// Appends `n` bytes of no-ops: the recommended multi-byte `nop` forms, at
/// most 9 bytes each.
pub fn nops(out: &mut alloc::vec::Vec<u8>, mut n: usize) {
    const FORMS: [&[u8]; 9] = [
        &[0x90],
        &[0x66, 0x90],
        &[0x0f, 0x1f, 0x00],
        &[0x0f, 0x1f, 0x40, 0x00],
        &[0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
        &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
        &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
    ];
    while n > 0 {
        let k = n.min(FORMS.len());
        out.extend_from_slice(FORMS[k - 1]);
        n -= k;
    }
}
