//! Typed [`Op`]s back to raw slots; the inverse of [`super::decode`].

use super::opcode::*;
use super::{AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Size, Src, Width};
use alloc::vec::Vec;

impl Op {
    /// Appends the op's slots (two for `lddw`, none for [`Op::LddwHigh`]).
    pub fn encode(&self, out: &mut Vec<Insn>) {
        match *self {
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => {
                let (opc, off) = match op {
                    AluOp::Add => (BPF_ADD, 0),
                    AluOp::Sub => (BPF_SUB, 0),
                    AluOp::Mul => (BPF_MUL, 0),
                    AluOp::Div => (BPF_DIV, 0),
                    AluOp::Sdiv => (BPF_DIV, 1),
                    AluOp::Or => (BPF_OR, 0),
                    AluOp::And => (BPF_AND, 0),
                    AluOp::Lsh => (BPF_LSH, 0),
                    AluOp::Rsh => (BPF_RSH, 0),
                    AluOp::Mod => (BPF_MOD, 0),
                    AluOp::Smod => (BPF_MOD, 1),
                    AluOp::Xor => (BPF_XOR, 0),
                    AluOp::Mov => (BPF_MOV, 0),
                    AluOp::Movsx8 => (BPF_MOV, 8),
                    AluOp::Movsx16 => (BPF_MOV, 16),
                    AluOp::Movsx32 => (BPF_MOV, 32),
                    AluOp::Arsh => (BPF_ARSH, 0),
                };
                let (s, sreg, imm) = source(src);
                out.push(Insn::new(
                    alu_class(width) | opc | s,
                    dst.num(),
                    sreg,
                    off,
                    imm,
                ));
            }
            Op::Neg { width, dst } => {
                out.push(Insn::new(alu_class(width) | BPF_NEG, dst.num(), 0, 0, 0))
            }
            Op::Endian { kind, bits, dst } => {
                let code = match kind {
                    Endian::Le => BPF_ALU | BPF_END | BPF_TO_LE,
                    Endian::Be => BPF_ALU | BPF_END | BPF_TO_BE,
                    Endian::Swap => BPF_ALU64 | BPF_END,
                };
                out.push(Insn::new(code, dst.num(), 0, 0, bits as i32));
            }
            Op::LoadImm64 { dst, value } => {
                out.push(Insn::new(LDDW, dst.num(), 0, 0, value as u32 as i32));
                out.push(Insn::new(0, 0, 0, 0, (value >> 32) as u32 as i32));
            }
            Op::LoadMap { dst, map } => {
                out.push(Insn::new(LDDW, dst.num(), BPF_PSEUDO_MAP_FD, 0, map as i32));
                out.push(Insn::new(0, 0, 0, 0, 0));
            }
            Op::LoadMapValue { dst, map, offset } => {
                out.push(Insn::new(
                    LDDW,
                    dst.num(),
                    BPF_PSEUDO_MAP_VALUE,
                    0,
                    map as i32,
                ));
                out.push(Insn::new(0, 0, 0, 0, offset as i32));
            }
            Op::LddwHigh => {}
            Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            } => {
                let mode = if signed { BPF_MEMSX } else { BPF_MEM };
                out.push(Insn::new(
                    BPF_LDX | mode | size_bits(size),
                    dst.num(),
                    base.num(),
                    off,
                    0,
                ));
            }
            Op::Store {
                size,
                base,
                off,
                src,
            } => match src {
                Src::Imm(imm) => out.push(Insn::new(
                    BPF_ST | BPF_MEM | size_bits(size),
                    base.num(),
                    0,
                    off,
                    imm,
                )),
                Src::Reg(r) => out.push(Insn::new(
                    BPF_STX | BPF_MEM | size_bits(size),
                    base.num(),
                    r.num(),
                    off,
                    0,
                )),
            },
            Op::Atomic {
                width,
                op,
                fetch,
                base,
                off,
                src,
            } => {
                let size = if width == Width::W64 { BPF_DW } else { BPF_W };
                let fetch = if fetch { BPF_FETCH } else { 0 };
                let imm = match op {
                    AtomicOp::Add => fetch,
                    AtomicOp::Or => 0x40 | fetch,
                    AtomicOp::And => 0x50 | fetch,
                    AtomicOp::Xor => 0xa0 | fetch,
                    AtomicOp::Xchg => BPF_XCHG,
                    AtomicOp::Cmpxchg => BPF_CMPXCHG,
                };
                out.push(Insn::new(
                    BPF_STX | BPF_ATOMIC | size,
                    base.num(),
                    src.num(),
                    off,
                    imm,
                ));
            }
            Op::Ja { off } => match i16::try_from(off) {
                Ok(o) => out.push(Insn::new(BPF_JMP | BPF_JA, 0, 0, o, 0)),
                Err(_) => out.push(Insn::new(BPF_JMP32 | BPF_JA, 0, 0, 0, off)),
            },
            Op::Jmp {
                width,
                op,
                dst,
                src,
                off,
            } => {
                let opc = match op {
                    JmpOp::Eq => BPF_JEQ,
                    JmpOp::Gt => BPF_JGT,
                    JmpOp::Ge => BPF_JGE,
                    JmpOp::Set => BPF_JSET,
                    JmpOp::Ne => BPF_JNE,
                    JmpOp::Sgt => BPF_JSGT,
                    JmpOp::Sge => BPF_JSGE,
                    JmpOp::Lt => BPF_JLT,
                    JmpOp::Le => BPF_JLE,
                    JmpOp::Slt => BPF_JSLT,
                    JmpOp::Sle => BPF_JSLE,
                };
                let class = if width == Width::W64 {
                    BPF_JMP
                } else {
                    BPF_JMP32
                };
                let (s, sreg, imm) = source(src);
                out.push(Insn::new(class | opc | s, dst.num(), sreg, off, imm));
            }
            Op::MayGoto { off } => {
                out.push(Insn::new(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, off, 0))
            }
            Op::Call { helper } => out.push(Insn::new(CALL, 0, 0, 0, helper)),
            Op::CallLocal { off } => out.push(Insn::new(CALL, 0, BPF_PSEUDO_CALL, 0, off)),
            Op::CallReg { reg } => out.push(Insn::new(CALLX, reg.num(), 0, 0, 0)),
            Op::Exit => out.push(Insn::new(EXIT, 0, 0, 0, 0)),
        }
    }
}

/// `gotol`: the unconditional jump in its JMP32 form, whose 32-bit offset sits in
/// the immediate. [`Op::encode`] picks this form for [`Op::Ja`] only when the offset
/// needs more than 16 bits; assemblers that must reproduce a given encoding use this.
pub fn gotol(off: i32) -> Insn {
    Insn::new(BPF_JMP32 | BPF_JA, 0, 0, 0, off)
}

/// Whether `insn` is the JMP32 form of `ja` ([`gotol`]), which decodes to the same
/// [`Op::Ja`] as the JMP form.
pub fn is_gotol(insn: Insn) -> bool {
    insn.code == BPF_JMP32 | BPF_JA
}

/// Encodes a sequence of ops.
pub fn encode_program(ops: &[Op]) -> Vec<Insn> {
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        op.encode(&mut out);
    }
    out
}

fn alu_class(width: Width) -> u8 {
    if width == Width::W64 {
        BPF_ALU64
    } else {
        BPF_ALU
    }
}

fn source(src: Src) -> (u8, u8, i32) {
    match src {
        Src::Reg(r) => (BPF_X, r.num(), 0),
        Src::Imm(imm) => (BPF_K, 0, imm),
    }
}

fn size_bits(size: Size) -> u8 {
    match size {
        Size::B => BPF_B,
        Size::H => BPF_H,
        Size::W => BPF_W,
        Size::DW => BPF_DW,
    }
}
