//! Shared set-up for the criterion benchmarks.

pub mod packet_loops;

/// Short builders for 64-bit eBPF ops, so bench programs read like assembly.
pub mod ops {
    use bpf_bridge::isa::{AluOp, Endian, JmpOp, Op, Reg, Size, Src, Width};

    /// Register `rN`.
    pub fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }
    /// `rD op= imm`.
    pub fn alu(op: AluOp, d: u8, imm: i32) -> Op {
        Op::Alu {
            width: Width::W64,
            op,
            dst: r(d),
            src: Src::Imm(imm),
        }
    }
    /// `rD op= rS`.
    pub fn alur(op: AluOp, d: u8, s: u8) -> Op {
        Op::Alu {
            width: Width::W64,
            op,
            dst: r(d),
            src: Src::Reg(r(s)),
        }
    }
    /// `if rD op imm goto +off`.
    pub fn jmp(op: JmpOp, d: u8, imm: i32, off: i16) -> Op {
        Op::Jmp {
            width: Width::W64,
            op,
            dst: r(d),
            src: Src::Imm(imm),
            off,
        }
    }
    /// `if rD op rS goto +off`.
    pub fn jmpr(op: JmpOp, d: u8, s: u8, off: i16) -> Op {
        Op::Jmp {
            width: Width::W64,
            op,
            dst: r(d),
            src: Src::Reg(r(s)),
            off,
        }
    }
    /// `rD = *(size *)(rBASE + off)`.
    pub fn ldx(size: Size, d: u8, base: u8, off: i16) -> Op {
        Op::Load {
            size,
            signed: false,
            dst: r(d),
            base: r(base),
            off,
        }
    }
    /// `rD = be16 rD`.
    pub fn be16(d: u8) -> Op {
        Op::Endian {
            kind: Endian::Be,
            bits: 16,
            dst: r(d),
        }
    }
}
