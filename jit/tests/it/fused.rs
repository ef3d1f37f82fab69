//! Pairs of ops the JIT lowers together (`jit::peephole`): a conditional
//! jump over one ALU op, done without the jump, on every form, against the
//! reference.

use super::harness::{check_emulated, check_same};
use super::ops::{prog, reg, with_all_regs};
use bpf_bridge::isa::{AluOp, JmpOp, Op, Reg, Size, Src, Width};

/// `if a jop b goto +1` at width `cw`, then `r0 op= src` at `width`.
fn jump_over(cw: Width, jop: JmpOp, a: Reg, b: Src, width: Width, op: AluOp, src: Src) -> [Op; 2] {
    let jump = Op::Jmp {
        width: cw,
        op: jop,
        dst: a,
        src: b,
        off: 1,
    };
    let dst = reg(0);
    [
        jump,
        Op::Alu {
            width,
            op,
            dst,
            src,
        },
    ]
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
                        let body = jump_over(Width::W64, jop, a, b, width, op, src);
                        let p = prog(&with_all_regs(seed as usize, &body));
                        check_same(&p, &[]).unwrap();
                        // (Each seed: aarch64 selects too.)
                        check_emulated(&p, &[]);
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

/// `mov d, s; add d, k` (or `sub`) as one instruction, at both widths, with
/// the edge immediates, `d == s` included.
#[test]
fn copy_then_add() {
    let imms = [0, 1, -1, 2, 0x7fff_ffff, i32::MIN, -0x7fff_ffff];
    let mut n = 0;
    for width in [Width::W32, Width::W64] {
        for op in [AluOp::Add, AluOp::Sub] {
            for (k, imm) in imms.into_iter().enumerate() {
                for seed in 0..3usize {
                    let (d, s) = [(5, 2), (0, 0), (3, 9)][(seed + k) % 3];
                    let body = [
                        Op::Alu {
                            width,
                            op: AluOp::Mov,
                            dst: reg(d),
                            src: Src::Reg(reg(s)),
                        },
                        Op::Alu {
                            width,
                            op,
                            dst: reg(d),
                            src: Src::Imm(imm),
                        },
                    ];
                    let p = prog(&with_all_regs(seed, &body));
                    check_same(&p, &[]).unwrap();
                    if seed == 0 {
                        check_emulated(&p, &[]);
                    }
                    n += 1;
                }
            }
        }
    }
    assert!(n > 80);
}

/// A load compared with an immediate by the next slot: folded into the
/// compare (verified mode) when the register is dead after the jump, as a
/// branch or with a jump over one ALU op; kept when it is live. Every size,
/// width, order and edge immediate, on bytes at the edges of each sign.
#[test]
fn load_folded_into_compare() {
    let mem: Vec<u8> = vec![
        0x0a, 0x80, 0xff, 0x7f, 0x00, 0x01, 0xfe, 0x10, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x80, 0, 0,
    ];
    let unsigned = [
        JmpOp::Lt,
        JmpOp::Ge,
        JmpOp::Eq,
        JmpOp::Gt,
        JmpOp::Le,
        JmpOp::Ne,
    ];
    let others = [JmpOp::Set, JmpOp::Sgt, JmpOp::Sge, JmpOp::Slt, JmpOp::Sle];
    let imms = [
        0,
        1,
        10,
        0x7f,
        0x80,
        0xff,
        0xffff,
        -1,
        0x7fff_ffff,
        i32::MIN,
    ];
    let (r0, r6, r7) = (reg(0), reg(6), reg(7));
    let alu = |op, dst, imm| Op::Alu {
        width: Width::W64,
        op,
        dst,
        src: Src::Imm(imm),
    };
    let mut n = 0;
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        for width in [Width::W32, Width::W64] {
            for jop in unsigned.into_iter().chain(others) {
                for (k, imm) in imms.into_iter().enumerate() {
                    let off = [0, 1, 2, 6, 8][(k + n) % 5];
                    let jump = |off| Op::Jmp {
                        width,
                        op: jop,
                        dst: r6,
                        src: Src::Imm(imm),
                        off,
                    };
                    let head = [
                        Op::Alu {
                            width: Width::W64,
                            op: AluOp::Mov,
                            dst: r7,
                            src: Src::Reg(reg(1)),
                        },
                        alu(AluOp::Mov, r0, 0x1234),
                        alu(AluOp::Mov, r6, -0x2153),
                        Op::Load {
                            size,
                            signed: false,
                            dst: r6,
                            base: r7,
                            off,
                        },
                    ];
                    let tails: [&[Op]; 4] = [
                        // A branch; r6 dead on both paths.
                        &[
                            jump(2),
                            alu(AluOp::Add, r0, 5),
                            Op::Ja { off: 1 },
                            alu(AluOp::Add, r0, 9),
                            alu(AluOp::Mov, r6, 3),
                        ],
                        // A jump over one ALU op; r6 dead after.
                        &[jump(1), alu(AluOp::Add, r0, 1), alu(AluOp::Mov, r6, 3)],
                        // The same with r6 live after: not folded.
                        &[jump(1), alu(AluOp::Add, r0, 1)],
                        // An exit after: r6 dead (the program has no local calls).
                        &[jump(1), alu(AluOp::Add, r0, 1), Op::Exit],
                    ];
                    for tail in tails {
                        let mut ops = head.to_vec();
                        ops.extend_from_slice(tail);
                        ops.extend([
                            alu(AluOp::Mul, r0, 31),
                            Op::Alu {
                                width: Width::W64,
                                op: AluOp::Add,
                                dst: r0,
                                src: Src::Reg(r6),
                            },
                            Op::Exit,
                        ]);
                        let p = prog(&ops);
                        check_same(&p, &mem).unwrap();
                        if n % 16 == 0 {
                            check_emulated(&p, &mem);
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 3000);
}

/// `if c goto +1; d += 1` (or `-= 1`), which x86_64 counts through the
/// carry flag: every compare, at both widths, against immediates at the
/// edges of their range and registers, the compared register sometimes
/// the counted one.
#[test]
fn counting_through_the_carry() {
    let jmp = {
        use JmpOp::*;
        [Eq, Ne, Gt, Ge, Lt, Le, Slt, Set]
    };
    let bs = [
        Src::Imm(0),
        Src::Imm(1),
        Src::Imm(-1),
        Src::Imm(i32::MIN),
        Src::Imm(i32::MAX),
        Src::Reg(reg(4)),
        Src::Reg(reg(0)),
    ];
    let mut n = 0;
    for op in [AluOp::Add, AluOp::Sub] {
        for cw in [Width::W32, Width::W64] {
            for jop in jmp {
                for b in bs {
                    for seed in 0..5usize {
                        let a = reg([0, 3][seed % 2]);
                        let body = jump_over(cw, jop, a, b, Width::W64, op, Src::Imm(1));
                        let p = prog(&with_all_regs(seed, &body));
                        check_same(&p, &[]).unwrap();
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 1000, "{n}");
}
