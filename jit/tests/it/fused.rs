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

/// The op after a jump over one is not fused with it when another jump also
/// lands on it: from before (a forward jump) or from after (a loop's
/// backward jump), on every seed's register values.
#[test]
fn jump_over_one_onto_a_jump_target() {
    let w = Width::W64;
    let jmp = |op, dst: u8, src: u8, off| Op::Jmp {
        width: w,
        op,
        dst: reg(dst),
        src: Src::Reg(reg(src)),
        off,
    };
    let alu = |op, dst: u8, imm| Op::Alu {
        width: w,
        op,
        dst: reg(dst),
        src: Src::Imm(imm),
    };
    let forward = [
        jmp(JmpOp::Gt, 1, 2, 2),
        alu(AluOp::Mov, 0, 7),
        jmp(JmpOp::Eq, 3, 4, 1),
        alu(AluOp::Add, 0, 1),
    ];
    let backward = [
        alu(AluOp::Mov, 5, 3),
        jmp(JmpOp::Gt, 0, 6, 1),
        alu(AluOp::Add, 0, 1),
        alu(AluOp::Sub, 5, 1),
        Op::Jmp {
            width: w,
            op: JmpOp::Ne,
            dst: reg(5),
            src: Src::Imm(0),
            off: -3,
        },
    ];
    for body in [&forward[..], &backward[..]] {
        for seed in 0..10 {
            let p = prog(&with_all_regs(seed, body));
            check_same(&p, &[]).unwrap();
            if seed < 2 {
                check_emulated(&p, &[]);
            }
        }
    }
}
