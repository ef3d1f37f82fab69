//! RV64IMA encoders: one function per machine form.

use super::regs::Xr;
use crate::buffer::{CodeBuffer, Label, LabelUse, ROOM};

/// A sign-extended 12-bit immediate.
#[derive(Clone, Copy, Debug)]
pub struct Imm12(i32);

impl TryFrom<i64> for Imm12 {
    type Error = ();
    fn try_from(v: i64) -> Result<Self, ()> {
        if (-2048..2048).contains(&v) {
            Ok(Imm12(v as i32))
        } else {
            Err(())
        }
    }
}

/// Branch conditions (`funct3` of the B-type branches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Bcc {
    Eq = 0,
    Ne = 1,
    Lt = 4,
    Ge = 5,
    Ltu = 6,
    Geu = 7,
}

/// Label references: `jal rd` and conditional branches, whose long form is an
/// inverted branch over a `jal` (reaching ±1 MiB instead of ±4 KiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Jal(Xr),
    B { cc: Bcc, rs1: Xr, rs2: Xr },
}

fn b_type(d: i64, f3: u8, rs1: Xr, rs2: Xr) -> u32 {
    let i = d as u32;
    (i >> 12 & 1) << 31
        | (i >> 5 & 0x3f) << 25
        | (rs2.0 as u32) << 20
        | (rs1.0 as u32) << 15
        | (f3 as u32) << 12
        | (i >> 1 & 0xf) << 8
        | (i >> 11 & 1) << 7
        | 0x63
}

fn j_type(d: i64, rd: Xr) -> u32 {
    let i = d as u32;
    (i >> 20 & 1) << 31
        | (i >> 1 & 0x3ff) << 21
        | (i >> 11 & 1) << 20
        | (i >> 12 & 0xff) << 12
        | (rd.0 as u32) << 7
        | 0x6f
}

impl LabelUse for Use {
    #[inline(always)]
    fn long_len(self) -> usize {
        match self {
            Use::Jal(_) => 4,
            Use::B { .. } => 8,
        }
    }
    #[inline(always)]
    fn short_len(self) -> Option<usize> {
        match self {
            Use::Jal(_) => None,
            Use::B { .. } => Some(4),
        }
    }
    #[inline(always)]
    fn short_fits(self, d: i64) -> bool {
        (-4096..4096).contains(&d)
    }
    #[inline(always)]
    fn encode(self, out: &mut [u8; ROOM], d: i64, short: bool) -> bool {
        match self {
            Use::Jal(rd) => {
                if !(-(1 << 20)..(1 << 20)).contains(&d) {
                    return false;
                }
                out[..4].copy_from_slice(&j_type(d, rd).to_le_bytes());
            }
            Use::B { cc, rs1, rs2 } if short => {
                if !self.short_fits(d) {
                    return false;
                }
                out[..4].copy_from_slice(&b_type(d, cc as u8, rs1, rs2).to_le_bytes());
            }
            Use::B { cc, rs1, rs2 } => {
                let j = d - 4;
                if !(-(1 << 20)..(1 << 20)).contains(&j) {
                    return false;
                }
                out[..4].copy_from_slice(&b_type(8, cc as u8 ^ 1, rs1, rs2).to_le_bytes());
                out[4..8].copy_from_slice(&j_type(j, Xr::ZERO).to_le_bytes());
            }
        }
        true
    }
}

/// Register-register operations: (funct7, funct3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rop {
    Add,
    Sub,
    Sll,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Mul,
    Div,
    Divu,
    Rem,
    Remu,
}

impl Rop {
    fn f7_f3(self) -> (u32, u32) {
        match self {
            Rop::Add => (0, 0),
            Rop::Sub => (0x20, 0),
            Rop::Sll => (0, 1),
            Rop::Xor => (0, 4),
            Rop::Srl => (0, 5),
            Rop::Sra => (0x20, 5),
            Rop::Or => (0, 6),
            Rop::And => (0, 7),
            Rop::Mul => (1, 0),
            Rop::Div => (1, 4),
            Rop::Divu => (1, 5),
            Rop::Rem => (1, 6),
            Rop::Remu => (1, 7),
        }
    }
}

/// Register-immediate operations (funct3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Iop {
    Addi = 0,
    Xori = 4,
    Ori = 6,
    Andi = 7,
}

/// Shifts by an immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Sll,
    Srl,
    Sra,
}

/// AMO operations (funct5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Amo {
    Add = 0x00,
    Swap = 0x01,
    Lr = 0x02,
    Sc = 0x03,
    Xor = 0x04,
    Or = 0x08,
    And = 0x0c,
}

/// The RISC-V assembler.
#[derive(Default)]
pub struct Asm {
    pub buf: CodeBuffer<Use>,
}

impl Asm {
    #[inline]
    pub fn emit(&mut self, w: u32) {
        self.buf.put4(w);
    }

    #[inline(always)]
    fn r(&mut self, f7: u32, rs2: Xr, rs1: Xr, f3: u32, rd: Xr, op: u32) {
        self.emit(
            f7 << 25
                | (rs2.0 as u32) << 20
                | (rs1.0 as u32) << 15
                | f3 << 12
                | (rd.0 as u32) << 7
                | op,
        );
    }

    #[inline(always)]
    fn i(&mut self, imm: i32, rs1: Xr, f3: u32, rd: Xr, op: u32) {
        self.emit(
            (imm as u32 & 0xfff) << 20 | (rs1.0 as u32) << 15 | f3 << 12 | (rd.0 as u32) << 7 | op,
        );
    }

    /// `op rd, rs1, rs2` (64-bit, or the `w` form).
    #[inline]
    pub fn rr(&mut self, op: Rop, word: bool, rd: Xr, rs1: Xr, rs2: Xr) {
        let (f7, f3) = op.f7_f3();
        self.r(f7, rs2, rs1, f3, rd, if word { 0x3b } else { 0x33 });
    }

    /// `op rd, rs1, imm`.
    pub fn ri(&mut self, op: Iop, rd: Xr, rs1: Xr, imm: Imm12) {
        self.i(imm.0, rs1, op as u32, rd, 0x13);
    }

    /// `addiw rd, rs1, imm` (`sext.w` with 0).
    pub fn addiw(&mut self, rd: Xr, rs1: Xr, imm: Imm12) {
        self.i(imm.0, rs1, 0, rd, 0x1b);
    }

    /// Shift by an immediate (0..64, or 0..32 for the `w` forms).
    pub fn shift_i(&mut self, op: ShiftOp, word: bool, rd: Xr, rs1: Xr, n: u8) {
        let (f3, hi) = match op {
            ShiftOp::Sll => (1, 0),
            ShiftOp::Srl => (5, 0),
            ShiftOp::Sra => (5, 0x400),
        };
        self.i(
            hi | (n as i32 & 0x3f),
            rs1,
            f3,
            rd,
            if word { 0x1b } else { 0x13 },
        );
    }

    /// `lui rd, imm20`.
    pub fn lui(&mut self, rd: Xr, imm20: u32) {
        self.emit((imm20 & 0xfffff) << 12 | (rd.0 as u32) << 7 | 0x37);
    }

    /// Load of `bytes`, sign- or zero-extended.
    pub fn load(&mut self, bytes: u8, signed: bool, rd: Xr, base: Xr, off: Imm12) {
        let f3 = match (bytes, signed) {
            (1, true) => 0,
            (2, true) => 1,
            (4, true) => 2,
            (8, _) => 3,
            (1, false) => 4,
            (2, false) => 5,
            _ => 6,
        };
        self.i(off.0, base, f3, rd, 0x03);
    }

    /// Store of `bytes`.
    pub fn store(&mut self, bytes: u8, src: Xr, base: Xr, off: Imm12) {
        let f3 = match bytes {
            1 => 0,
            2 => 1,
            4 => 2,
            _ => 3,
        };
        let i = off.0 as u32;
        self.emit(
            (i >> 5 & 0x7f) << 25
                | (src.0 as u32) << 20
                | (base.0 as u32) << 15
                | f3 << 12
                | (i & 0x1f) << 7
                | 0x23,
        );
    }

    /// `amo<op>.{w,d}.aqrl rd, rs2, (rs1)` (also `lr`/`sc`).
    pub fn amo(&mut self, op: Amo, wide: bool, rd: Xr, addr: Xr, rs2: Xr) {
        let f7 = (op as u32) << 2 | 0b11;
        self.r(f7, rs2, addr, if wide { 3 } else { 2 }, rd, 0x2f);
    }

    /// `jalr rd, 0(rs1)`.
    pub fn jalr(&mut self, rd: Xr, rs1: Xr) {
        self.i(0, rs1, 0, rd, 0x67);
    }

    /// `ebreak`.
    pub fn ebreak(&mut self) {
        self.emit(0x0010_0073);
    }

    /// `jal rd, label`.
    pub fn jal(&mut self, rd: Xr, l: Label) {
        self.buf.use_label(l, Use::Jal(rd));
    }

    /// `b<cc> rs1, rs2, label`.
    pub fn branch(&mut self, cc: Bcc, rs1: Xr, rs2: Xr, l: Label) {
        self.buf.use_label(l, Use::B { cc, rs1, rs2 });
    }

    /// `mv rd, rs`.
    pub fn mv(&mut self, rd: Xr, rs: Xr) {
        self.ri(Iop::Addi, rd, rs, Imm12(0));
    }

    /// Loads any 64-bit constant.
    pub fn li(&mut self, rd: Xr, v: i64) {
        if v == v as i32 as i64 {
            let lo = (v << 52) >> 52;
            let hi = ((v - lo) >> 12) as u32 & 0xfffff;
            if hi != 0 {
                self.lui(rd, hi);
                if lo != 0 {
                    self.addiw(rd, rd, Imm12(lo as i32));
                }
            } else {
                self.ri(Iop::Addi, rd, Xr::ZERO, Imm12(lo as i32));
            }
            return;
        }
        self.li_wide(rd, v);
    }

    /// [`Asm::li`] beyond 32 bits (out of line: the common constants take
    /// the short path without saving registers for this one).
    #[inline(never)]
    fn li_wide(&mut self, rd: Xr, v: i64) {
        let lo = (v << 52) >> 52;
        let mut hi = v.wrapping_sub(lo) >> 12;
        let tz = hi.trailing_zeros();
        hi >>= tz;
        self.li(rd, hi);
        self.shift_i(ShiftOp::Sll, false, rd, rd, (12 + tz) as u8);
        if lo != 0 {
            self.ri(Iop::Addi, rd, rd, Imm12(lo as i32));
        }
    }
}
