//! The decoder's fast path: the common well-formed one-slot instructions,
//! decoded with one table look-up (one dispatch on the opcode byte) and a few
//! field checks. Everything else, and every error, is the full decoder's
//! ([`super::decode`]).

use super::decode::cond_jmp;
use super::opcode::*;
use super::shape::{OpShape, Shape};
use super::{AluOp, Insn, JmpOp, Op, Reg, Size, Src, Width};

/// What [`decode_fast`] hands a decoded op and its shape to.
pub(super) trait FastOut {
    fn out(&mut self, op: Op, shape: OpShape);
}

impl<F: FnMut(Op, OpShape)> FastOut for F {
    #[inline(always)]
    fn out(&mut self, op: Op, shape: OpShape) {
        self(op, shape)
    }
}

/// How the fast path decodes an opcode byte; [`Fast::Slow`] for every opcode
/// it leaves to the full decoder (rare or multi-slot forms, bad opcodes).
/// Each ALU operation has forms of its own (`K`: immediate, `X`: register),
/// so that one dispatch on the opcode byte tells every operation apart.
#[derive(Clone, Copy)]
enum Fast {
    Slow,
    AddK(Width),
    AddX(Width),
    SubK(Width),
    SubX(Width),
    MulK(Width),
    MulX(Width),
    OrK(Width),
    OrX(Width),
    AndK(Width),
    AndX(Width),
    LshK(Width),
    LshX(Width),
    RshK(Width),
    RshX(Width),
    XorK(Width),
    XorX(Width),
    MovK(Width),
    MovX(Width),
    ArshK(Width),
    ArshX(Width),
    Load(Size, bool),
    StoreImm(Size),
    StoreReg(Size),
    JmpImm(Width, JmpOp),
    JmpReg(Width, JmpOp),
    Ja,
    Call,
    Exit,
}

const fn fast_of(code: u8) -> Fast {
    let class = code & CLASS_MASK;
    let by_reg = code & SRC_MASK == BPF_X;
    let size = match code & SIZE_MASK {
        BPF_W => Size::W,
        BPF_H => Size::H,
        BPF_B => Size::B,
        _ => Size::DW,
    };
    match class {
        BPF_ALU | BPF_ALU64 => {
            let width = if class == BPF_ALU64 {
                Width::W64
            } else {
                Width::W32
            };
            match alu_op(code) {
                Some(op) => alu_form(op, by_reg, width),
                None => Fast::Slow,
            }
        }
        BPF_JMP | BPF_JMP32 => {
            let width = if class == BPF_JMP {
                Width::W64
            } else {
                Width::W32
            };
            let op = match cond_jmp(code & OP_MASK) {
                Some(op) => op,
                None => {
                    return match code {
                        0x05 => Fast::Ja, // BPF_JMP | BPF_JA | BPF_K
                        CALL => Fast::Call,
                        EXIT => Fast::Exit,
                        _ => Fast::Slow,
                    };
                }
            };
            if by_reg {
                Fast::JmpReg(width, op)
            } else {
                Fast::JmpImm(width, op)
            }
        }
        BPF_LDX => match code & MODE_MASK {
            BPF_MEM => Fast::Load(size, false),
            BPF_MEMSX if !matches!(size, Size::DW) => Fast::Load(size, true),
            _ => Fast::Slow,
        },
        BPF_ST if code & MODE_MASK == BPF_MEM => Fast::StoreImm(size),
        BPF_STX if code & MODE_MASK == BPF_MEM => Fast::StoreReg(size),
        _ => Fast::Slow,
    }
}

/// The operation of an ALU opcode byte the fast path decodes.
const fn alu_op(code: u8) -> Option<AluOp> {
    Some(match code & OP_MASK {
        BPF_ADD => AluOp::Add,
        BPF_SUB => AluOp::Sub,
        BPF_MUL => AluOp::Mul,
        BPF_OR => AluOp::Or,
        BPF_AND => AluOp::And,
        BPF_LSH => AluOp::Lsh,
        BPF_RSH => AluOp::Rsh,
        BPF_XOR => AluOp::Xor,
        BPF_MOV => AluOp::Mov,
        BPF_ARSH => AluOp::Arsh,
        _ => return None,
    })
}

/// The [`Fast`] form of an ALU operation.
const fn alu_form(op: AluOp, by_reg: bool, w: Width) -> Fast {
    match (op, by_reg) {
        (AluOp::Add, false) => Fast::AddK(w),
        (AluOp::Add, true) => Fast::AddX(w),
        (AluOp::Sub, false) => Fast::SubK(w),
        (AluOp::Sub, true) => Fast::SubX(w),
        (AluOp::Mul, false) => Fast::MulK(w),
        (AluOp::Mul, true) => Fast::MulX(w),
        (AluOp::Or, false) => Fast::OrK(w),
        (AluOp::Or, true) => Fast::OrX(w),
        (AluOp::And, false) => Fast::AndK(w),
        (AluOp::And, true) => Fast::AndX(w),
        (AluOp::Lsh, false) => Fast::LshK(w),
        (AluOp::Lsh, true) => Fast::LshX(w),
        (AluOp::Rsh, false) => Fast::RshK(w),
        (AluOp::Rsh, true) => Fast::RshX(w),
        (AluOp::Xor, false) => Fast::XorK(w),
        (AluOp::Xor, true) => Fast::XorX(w),
        (AluOp::Mov, false) => Fast::MovK(w),
        (AluOp::Mov, true) => Fast::MovX(w),
        (AluOp::Arsh, false) => Fast::ArshK(w),
        (AluOp::Arsh, true) => Fast::ArshX(w),
        _ => Fast::Slow,
    }
}

/// [`fast_of`] of every opcode byte.
static FAST: [Fast; 256] = {
    let mut t = [Fast::Slow; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = fast_of(c as u8);
        c += 1;
    }
    t
};

/// The common one-slot instructions, decoded with one table look-up and a few
/// field checks, each handed to `out` with its shape where it is built. False
/// when the full decoder must look: the opcode is not one of these, or a field
/// is not what a well-formed instruction has. Whatever it accepts, [`super::decode_one`]
/// accepts too and decodes to the same op (a test compares them over every
/// opcode byte).
#[inline(always)]
pub(super) fn decode_fast(insn: Insn, out: &mut impl FastOut) -> bool {
    decode_fast_into(insn, out).is_some()
}

/// The op of a slot holding one of the fast path's ALU forms (add, sub,
/// mul, or, and, the shifts, xor, mov; of a register or an immediate, at
/// either width) when it is well-formed, else `None`: a table look-up and
/// the fast path's field checks, without its dispatch on the opcode.
#[inline]
pub fn decode_alu(insn: Insn) -> Option<Op> {
    let (op, width, by_reg) = ALU[insn.code as usize]?;
    let mut got = None;
    let mut out = |op, _| got = Some(op);
    if by_reg {
        alu_x(insn, width, op, &mut out)?;
    } else {
        alu_k(insn, width, op, &mut out)?;
    }
    got
}

/// The operation of a slot whose opcode is one of [`decode_alu`]'s forms,
/// by its opcode alone (one table look-up; the fields are the decoder's
/// business: a malformed slot may get an answer).
#[inline]
pub fn alu_op_of(insn: Insn) -> Option<AluOp> {
    ALU[insn.code as usize].map(|(op, _, _)| op)
}

/// The ALU forms of [`FAST`]: operation, width, whether by register.
static ALU: [Option<(AluOp, Width, bool)>; 256] = {
    let mut t = [None; 256];
    let mut c = 0;
    while c < 256 {
        let class = c as u8 & CLASS_MASK;
        let by_reg = c as u8 & SRC_MASK == BPF_X;
        if class == BPF_ALU || class == BPF_ALU64 {
            let width = if class == BPF_ALU64 {
                Width::W64
            } else {
                Width::W32
            };
            if let Some(op) = alu_op(c as u8) {
                t[c] = Some((op, width, by_reg));
            }
        }
        c += 1;
    }
    t
};

#[inline(always)]
fn decode_fast_into(insn: Insn, out: &mut impl FastOut) -> Option<()> {
    let (dst, src, off) = (insn.dst(), insn.src(), insn.off);
    // Registers r0..=r10; r10 is not writable.
    let reg = |n: u8| Reg::new(n);
    let writable = |n: u8| if n < 10 { Reg::new(n) } else { None };
    let bit = |n: u8| 1u16 << n;
    let back = if off < 0 { Shape::BACK_JUMP } else { 0 };
    match FAST[insn.code as usize] {
        Fast::Slow => return None,
        Fast::AddK(w) => alu_k(insn, w, AluOp::Add, out)?,
        Fast::AddX(w) => alu_x(insn, w, AluOp::Add, out)?,
        Fast::SubK(w) => alu_k(insn, w, AluOp::Sub, out)?,
        Fast::SubX(w) => alu_x(insn, w, AluOp::Sub, out)?,
        Fast::MulK(w) => alu_k(insn, w, AluOp::Mul, out)?,
        Fast::MulX(w) => alu_x(insn, w, AluOp::Mul, out)?,
        Fast::OrK(w) => alu_k(insn, w, AluOp::Or, out)?,
        Fast::OrX(w) => alu_x(insn, w, AluOp::Or, out)?,
        Fast::AndK(w) => alu_k(insn, w, AluOp::And, out)?,
        Fast::AndX(w) => alu_x(insn, w, AluOp::And, out)?,
        Fast::LshK(w) => alu_k(insn, w, AluOp::Lsh, out)?,
        Fast::LshX(w) => alu_x(insn, w, AluOp::Lsh, out)?,
        Fast::RshK(w) => alu_k(insn, w, AluOp::Rsh, out)?,
        Fast::RshX(w) => alu_x(insn, w, AluOp::Rsh, out)?,
        Fast::XorK(w) => alu_k(insn, w, AluOp::Xor, out)?,
        Fast::XorX(w) => alu_x(insn, w, AluOp::Xor, out)?,
        Fast::MovK(w) => alu_k(insn, w, AluOp::Mov, out)?,
        Fast::MovX(w) => alu_x(insn, w, AluOp::Mov, out)?,
        Fast::ArshK(w) => alu_k(insn, w, AluOp::Arsh, out)?,
        Fast::ArshX(w) => alu_x(insn, w, AluOp::Arsh, out)?,
        Fast::Load(size, signed) if insn.imm == 0 => {
            let (dst, base) = (writable(dst)?, reg(src)?);
            let op = Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            };
            let regs = bit(dst.num()) | bit(base.num());
            out.out(op, OpShape::new(regs, Shape::MEMORY))
        }
        Fast::StoreImm(size) if src == 0 => {
            let base = reg(dst)?;
            let op = Op::Store {
                size,
                base,
                off,
                src: Src::Imm(insn.imm),
            };
            out.out(op, OpShape::new(bit(base.num()), Shape::MEMORY))
        }
        Fast::StoreReg(size) if insn.imm == 0 => {
            let (base, src) = (reg(dst)?, reg(src)?);
            let op = Op::Store {
                size,
                base,
                off,
                src: Src::Reg(src),
            };
            let regs = bit(base.num()) | bit(src.num());
            out.out(op, OpShape::new(regs, Shape::MEMORY))
        }
        Fast::JmpImm(width, op) if src == 0 => {
            let dst = reg(dst)?;
            let op = Op::Jmp {
                width,
                op,
                dst,
                src: Src::Imm(insn.imm),
                off,
            };
            out.out(op, OpShape::jump(bit(dst.num()), back, off as i32))
        }
        Fast::JmpReg(width, op) if insn.imm == 0 => {
            let (dst, src) = (reg(dst)?, reg(src)?);
            let op = Op::Jmp {
                width,
                op,
                dst,
                src: Src::Reg(src),
                off,
            };
            let regs = bit(dst.num()) | bit(src.num());
            out.out(op, OpShape::jump(regs, back, off as i32))
        }
        Fast::Ja if insn.regs == 0 && insn.imm == 0 => {
            let op = Op::Ja { off: off as i32 };
            out.out(op, OpShape::jump(0, back, off as i32))
        }
        Fast::Call if insn.regs == 0 && off == 0 => out.out(
            Op::Call { helper: insn.imm },
            OpShape::new(0, Shape::HELPER_CALL),
        ),
        Fast::Exit if insn.regs == 0 && off == 0 && insn.imm == 0 => {
            out.out(Op::Exit, OpShape::new(0, 0))
        }
        _ => return None,
    }
    Some(())
}

/// `dst op= imm` of the fast path.
#[inline(always)]
fn alu_k(insn: Insn, width: Width, op: AluOp, out: &mut impl FastOut) -> Option<()> {
    if insn.src() != 0 || insn.off != 0 || insn.dst() >= 10 {
        return None;
    }
    let dst = Reg::new(insn.dst())?;
    let op = Op::Alu {
        width,
        op,
        dst,
        src: Src::Imm(insn.imm),
    };
    out.out(op, OpShape::new(1 << dst.num(), 0));
    Some(())
}

/// `dst op= src` of the fast path.
#[inline(always)]
fn alu_x(insn: Insn, width: Width, op: AluOp, out: &mut impl FastOut) -> Option<()> {
    if insn.off != 0 || insn.imm != 0 || insn.dst() >= 10 {
        return None;
    }
    let (dst, src) = (Reg::new(insn.dst())?, Reg::new(insn.src())?);
    let op = Op::Alu {
        width,
        op,
        dst,
        src: Src::Reg(src),
    };
    out.out(op, OpShape::new(1 << dst.num() | 1 << src.num(), 0));
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::decode_one;

    /// The fast path agrees with the full decoder wherever it answers, over
    /// every opcode byte and register byte with offsets and immediates that
    /// hit each field check.
    #[test]
    fn fast_path_matches_full_decoder() {
        let fields = [0i64, 1, -1, 8, 16, 32, 0x7fff, -0x8000];
        let mut answered = 0;
        for code in 0..=255u8 {
            let before = answered;
            for regs in 0..=255u8 {
                for &off in &fields {
                    for &imm in &fields {
                        let insn = Insn {
                            code,
                            regs,
                            off: off as i16,
                            imm: imm as i32,
                        };
                        let mut got = None;
                        decode_fast(insn, &mut |op, shape| got = Some((op, shape)));
                        let alu = decode_alu(insn);
                        if let Some(Op::Alu { op, .. }) = alu {
                            assert_eq!(alu_op_of(insn), Some(op));
                        }
                        match got {
                            Some((op @ Op::Alu { .. }, _)) => assert_eq!(alu, Some(op)),
                            _ => assert_eq!(alu, None, "{code:#04x} {regs:#04x} {off} {imm}"),
                        }
                        if let Some((op, shape)) = got {
                            answered += 1;
                            let full = decode_one(&[insn, Insn::default()], 0);
                            assert_eq!(full, Ok(op), "{code:#04x} {regs:#04x} {off} {imm}");
                            assert_eq!(shape, OpShape::of(&op), "{op:?}");
                        }
                    }
                }
            }
            let fast = !matches!(FAST[code as usize], Fast::Slow);
            assert_eq!(answered > before, fast, "opcode {code:#04x}");
        }
        assert!(answered > 50_000, "fast path answered only {answered}");
    }
}
