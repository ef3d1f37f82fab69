//! Pairs of ops the JIT lowers together (`jit::peephole`): a conditional
//! jump over one ALU op, done without the jump, on every form, against the
//! reference.

use super::harness::{check_emulated, check_same};
use super::ops::{prog, reg, with_all_regs};
use bpf_bridge::isa::{AluOp, JmpOp, Op, Src, Width};

#[test]
fn jump_over_one_alu_op() {
    let alu = [
        AluOp::Mov,
        AluOp::Add,
        AluOp::Sub,
        AluOp::Or,
        AluOp::Xor,
        AluOp::And,
        AluOp::Mul,
    ];
    let jmp = [JmpOp::Eq, JmpOp::Ne, JmpOp::Gt, JmpOp::Sle, JmpOp::Set];
    let srcs = [
        Src::Imm(1),
        Src::Imm(-1),
        Src::Imm(0),
        Src::Imm(0x7fff_0000),
        Src::Reg(reg(0)),
        Src::Reg(reg(3)),
    ];
    let mut n = 0;
    for op in alu {
        for width in [Width::W32, Width::W64] {
            for jop in jmp {
                for (k, src) in srcs.into_iter().enumerate() {
                    for seed in 0..4u64 {
                        // The compared register is sometimes the destination.
                        let a = reg([0, 3, 5][(seed as usize + k) % 3]);
                        let b = if seed % 2 == 0 {
                            Src::Imm(10)
                        } else {
                            Src::Reg(reg(4))
                        };
                        let body = [
                            Op::Jmp {
                                width: Width::W64,
                                op: jop,
                                dst: a,
                                src: b,
                                off: 1,
                            },
                            Op::Alu {
                                width,
                                op,
                                dst: reg(0),
                                src,
                            },
                        ];
                        let p = prog(&with_all_regs(seed as usize, &body));
                        check_same(&p, &[]).unwrap();
                        if seed == 0 {
                            check_emulated(&p, &[]);
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 1000);
}
