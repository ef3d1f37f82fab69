//! The programs the JIT compile benchmark compiles, shared with the
//! profiling driver (`examples/jit_compile_profile.rs`), which counts
//! instructions where the benchmark times.

use crate::ops::{alu, alur, jmp, ldx};
use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{AluOp, Insn, JmpOp, Op, Reg, Size, Src, Width};

/// Different programs of `n` slots that one benchmark compiles in turn. A
/// program compiled again and again teaches the CPU's branch predictors its
/// op sequence, flattering small sizes; a JIT sees each program once, so
/// every size cycles through at least 8192 slots of distinct code.
pub fn programs(n: usize) -> Vec<Vec<Insn>> {
    (0..(8192 / n).max(1) as u32)
        .map(|seed| program(n, seed))
        .collect()
}

/// A straight-line-with-branches filter of `n` slots that both JITs accept:
/// packet loads (through r6), 32/64-bit ALU, forward compares, one exit, in a
/// pseudo-random mix drawn from `seed`.
pub fn program(n: usize, seed: u32) -> Vec<Insn> {
    let mut ops = vec![alu(AluOp::Mov, 0, 0), alur(AluOp::Mov, 6, 1)];
    let mut i = seed;
    while ops.len() + 2 < n {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let dst = 2 + (i >> 8) as u8 % 4;
        let src = 2 + (i >> 12) as u8 % 4;
        let off = ((i >> 20) % 60) as i16;
        ops.push(match (i >> 16) % 9 {
            0 => ldx(Size::B, dst, 6, off),
            1 => ldx(Size::H, dst, 6, off),
            2 => alur(AluOp::Add, dst, src),
            3 => Op::Alu {
                width: Width::W32,
                op: AluOp::Xor,
                dst: Reg::new(dst).expect("register"),
                src: Src::Imm((i >> 4) as i32),
            },
            4 => alu(AluOp::Lsh, dst, ((i >> 20) % 63) as i32),
            5 => alu(AluOp::And, dst, 0xffff),
            6 => alur(AluOp::Mul, dst, src),
            7 => jmp(JmpOp::Gt, dst, 1000, 1),
            _ => alur(AluOp::Add, 0, dst),
        });
    }
    // A jump just before the end needs something to land on.
    ops.push(alu(AluOp::Add, 0, 1));
    ops.push(Op::Exit);
    let mut insns = Vec::new();
    for op in &ops {
        op.encode(&mut insns);
    }
    insns
}

/// Facts as the verifier gives them for [`program`]: every access proven.
pub fn facts(n: usize) -> Facts {
    Facts {
        accesses: vec![Access::Proven; n],
        max_stack: 0,
    }
}
