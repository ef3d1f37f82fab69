//! Pairs of ops the JIT lowers together (`jit::peephole`): a conditional
//! jump over one ALU op, done without the jump, on every form, against the
//! reference.

use super::harness::{check_emulated, check_same};
use super::ops::prog;
use bpf_bridge::isa::{AluOp, JmpOp, Op, Reg, Src, Width};

fn reg(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

/// r0..r9 from a few edge values, then `body`, then every register folded
/// into r0 (a clobbered register or a wrong upper half shows).
fn program(seed: u64, body: &[Op]) -> Vec<bpf_bridge::isa::Insn> {
    const VALUES: [u64; 6] = [
        0,
        1,
        u64::MAX,
        0xffff_ffff,
        0x8000_0000_0000_000a,
        0x1234_5678_9abc_def0,
    ];
    let mut ops = Vec::new();
    for i in 0..10u8 {
        let v = VALUES[((seed % 6) as usize + i as usize) % VALUES.len()];
        ops.push(Op::LoadImm64 {
            dst: reg(i),
            value: v.wrapping_add(seed.wrapping_mul(i as u64)),
        });
    }
    ops.extend_from_slice(body);
    for i in 1..10u8 {
        ops.push(Op::Alu {
            width: Width::W64,
            op: AluOp::Mul,
            dst: Reg::R0,
            src: Src::Imm(1_000_003),
        });
        ops.push(Op::Alu {
            width: Width::W64,
            op: AluOp::Xor,
            dst: Reg::R0,
            src: Src::Reg(reg(i)),
        });
    }
    ops.push(Op::Exit);
    prog(&ops)
}

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
                        let p = program(seed, &body);
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
