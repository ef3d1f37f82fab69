//! Shared set-up for the criterion benchmarks.

pub mod compile_programs;
pub mod packet_loops;
pub mod timing;

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

    /// The benches' compute loop without its exit: `n` rounds of xorshift over
    /// a multiplied counter, summed into r0 (r1 counter, r2–r4 scratch).
    pub fn mixing_loop(n: i32) -> Vec<Op> {
        use AluOp::*;
        vec![
            alu(Mov, 0, 0),
            alu(Mov, 1, 0),
            alu(Mov, 3, 0x12345),
            // loop (3):
            alur(Mov, 2, 1),
            alu(Mul, 2, -1_640_531_535),
            alur(Xor, 3, 2),
            alur(Mov, 4, 3),
            alu(Lsh, 4, 13),
            alur(Xor, 3, 4),
            alur(Mov, 4, 3),
            alu(Rsh, 4, 7),
            alur(Xor, 3, 4),
            alur(Add, 0, 3),
            alu(Add, 1, 1),
            jmp(JmpOp::Lt, 1, n, -12),
        ]
    }
}
