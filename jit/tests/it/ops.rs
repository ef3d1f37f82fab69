//! Every operation, on every register pair, against the reference.

use super::harness::{check_emulated, check_same, jit_run};
use bpf_bridge::isa::{AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Reg, Size, Src, Width};
use jit::Options;

pub fn prog(ops: &[Op]) -> Vec<Insn> {
    let mut v = Vec::new();
    for op in ops {
        op.encode(&mut v);
    }
    v
}

pub fn reg(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

const VALUES: [u64; 10] = [
    0,
    1,
    u64::MAX,
    0x8000_0000_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1234_5678_9abc_def0,
    63,
    0xffff_ffff_8000_0000,
];

/// Sets r0..r9 from `VALUES` starting at `seed`, runs `body`, then folds every
/// register into r0 so a clobbered register shows.
pub fn with_all_regs(seed: usize, body: &[Op]) -> Vec<Op> {
    let mut ops = Vec::new();
    for i in 0..10u8 {
        let v = VALUES[(seed + i as usize * 3) % VALUES.len()].wrapping_add(i as u64);
        ops.push(Op::LoadImm64 {
            dst: reg(i),
            value: v,
        });
        ops.push(Op::LddwHigh);
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
    ops
}

fn encode_ok(ops: &[Op]) -> Option<Vec<Insn>> {
    let insns = prog(
        &ops.iter()
            .copied()
            .filter(|o| *o != Op::LddwHigh)
            .collect::<Vec<_>>(),
    );
    bpf_bridge::isa::decode_program(&insns).ok().map(|_| insns)
}

const ALU_OPS: [AluOp; 17] = [
    AluOp::Add,
    AluOp::Sub,
    AluOp::Mul,
    AluOp::Div,
    AluOp::Sdiv,
    AluOp::Or,
    AluOp::And,
    AluOp::Lsh,
    AluOp::Rsh,
    AluOp::Mod,
    AluOp::Smod,
    AluOp::Xor,
    AluOp::Mov,
    AluOp::Movsx8,
    AluOp::Movsx16,
    AluOp::Movsx32,
    AluOp::Arsh,
];

#[test]
fn alu_every_register_pair() {
    let mut n = 0;
    for op in ALU_OPS {
        for width in [Width::W32, Width::W64] {
            for dst in 0..10u8 {
                for src in 0..10u8 {
                    for seed in [0, 4, 7] {
                        let body = [Op::Alu {
                            width,
                            op,
                            dst: reg(dst),
                            src: Src::Reg(reg(src)),
                        }];
                        if let Some(p) = encode_ok(&with_all_regs(seed + dst as usize, &body)) {
                            check_same(&p, &[0; 8]).unwrap();
                            if seed == 0 {
                                check_emulated(&p, &[0; 8]);
                            }
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(n > 9000, "{n}");
}

#[test]
fn alu_immediates() {
    let imms = [
        0,
        1,
        -1,
        2,
        7,
        31,
        32,
        63,
        64,
        100,
        i32::MIN,
        i32::MAX,
        -7,
        0x1234,
    ];
    for op in ALU_OPS {
        for width in [Width::W32, Width::W64] {
            for dst in [0u8, 2, 3, 4, 6] {
                for imm in imms {
                    for seed in [1, 3, 6] {
                        let body = [Op::Alu {
                            width,
                            op,
                            dst: reg(dst),
                            src: Src::Imm(imm),
                        }];
                        if let Some(p) = encode_ok(&with_all_regs(seed, &body)) {
                            check_same(&p, &[0; 8]).unwrap();
                            if seed == 1 {
                                check_emulated(&p, &[0; 8]);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn neg_and_endian() {
    for dst in 0..10u8 {
        for seed in 0..4 {
            for width in [Width::W32, Width::W64] {
                check_same(
                    &prog_of(&with_all_regs(
                        seed,
                        &[Op::Neg {
                            width,
                            dst: reg(dst),
                        }],
                    )),
                    &[],
                )
                .unwrap();
            }
            for kind in [Endian::Le, Endian::Be, Endian::Swap] {
                for bits in [16, 32, 64] {
                    let body = [Op::Endian {
                        kind,
                        bits,
                        dst: reg(dst),
                    }];
                    if let Some(p) = encode_ok(&with_all_regs(seed, &body)) {
                        check_same(&p, &[]).unwrap();
                        check_emulated(&p, &[]);
                    }
                }
            }
        }
    }
}

fn prog_of(ops: &[Op]) -> Vec<Insn> {
    encode_ok(ops).expect("valid program")
}

const JMP_OPS: [JmpOp; 11] = [
    JmpOp::Eq,
    JmpOp::Gt,
    JmpOp::Ge,
    JmpOp::Set,
    JmpOp::Ne,
    JmpOp::Sgt,
    JmpOp::Sge,
    JmpOp::Lt,
    JmpOp::Le,
    JmpOp::Slt,
    JmpOp::Sle,
];

#[test]
fn conditional_jumps() {
    for op in JMP_OPS {
        for width in [Width::W32, Width::W64] {
            for (a, b) in [(0, 0), (2, 3), (3, 2), (0, 7), (7, 9), (9, 0)] {
                for seed in 0..10 {
                    let body = [
                        Op::Jmp {
                            width,
                            op,
                            dst: reg(a),
                            src: Src::Reg(reg(b)),
                            off: 1,
                        },
                        Op::Alu {
                            width: Width::W64,
                            op: AluOp::Add,
                            dst: Reg::R0,
                            src: Src::Imm(77),
                        },
                    ];
                    let p = prog_of(&with_all_regs(seed, &body));
                    check_same(&p, &[]).unwrap();
                    if seed < 2 {
                        check_emulated(&p, &[]);
                    }
                }
            }
            for imm in [0, 1, -1, 0x7fff_ffff, i32::MIN, 63, -2] {
                for seed in 0..10 {
                    let body = [
                        Op::Jmp {
                            width,
                            op,
                            dst: reg(seed as u8 % 10),
                            src: Src::Imm(imm),
                            off: 1,
                        },
                        Op::Alu {
                            width: Width::W64,
                            op: AluOp::Add,
                            dst: Reg::R0,
                            src: Src::Imm(77),
                        },
                    ];
                    let p = prog_of(&with_all_regs(seed, &body));
                    check_same(&p, &[]).unwrap();
                    if seed < 2 {
                        check_emulated(&p, &[]);
                    }
                }
            }
        }
    }
}

fn mem_pattern() -> Vec<u8> {
    (0..72u8)
        .map(|i| i.wrapping_mul(37).wrapping_add(0x81))
        .collect()
}

#[test]
fn loads_stores_and_fused_swaps() {
    let sizes = [Size::B, Size::H, Size::W, Size::DW];
    for size in sizes {
        for dst in [0u8, 2, 3, 4, 6, 9] {
            for off in [0i16, 8, 13, 56] {
                for signed in [false, true] {
                    if signed && size == Size::DW {
                        continue;
                    }
                    let p = prog(&[
                        Op::Load {
                            size,
                            signed,
                            dst: reg(dst),
                            base: Reg::R1,
                            off,
                        },
                        Op::Alu {
                            width: Width::W64,
                            op: AluOp::Mov,
                            dst: Reg::R0,
                            src: Src::Reg(reg(dst)),
                        },
                        Op::Exit,
                    ]);
                    check_same(&p, &mem_pattern()).unwrap();
                    check_emulated(&p, &mem_pattern());
                }
                if size != Size::B {
                    let bits = size.bytes() as u8 * 8;
                    for kind in [Endian::Be, Endian::Swap] {
                        let p = prog(&[
                            Op::Load {
                                size,
                                signed: false,
                                dst: reg(dst),
                                base: Reg::R1,
                                off,
                            },
                            Op::Endian {
                                kind,
                                bits,
                                dst: reg(dst),
                            },
                            Op::Alu {
                                width: Width::W64,
                                op: AluOp::Mov,
                                dst: Reg::R0,
                                src: Src::Reg(reg(dst)),
                            },
                            Op::Exit,
                        ]);
                        check_same(&p, &mem_pattern()).unwrap();
                        check_emulated(&p, &mem_pattern());
                    }
                }
                // Stores of registers and immediates, to memory and the stack.
                for src in [0u8, 2, 3, 4, 5, 6] {
                    let p = prog(&[
                        Op::LoadImm64 {
                            dst: reg(src),
                            value: 0x8877_6655_4433_2211,
                        },
                        Op::Alu {
                            width: Width::W64,
                            op: AluOp::Mov,
                            dst: reg(7),
                            src: Src::Reg(Reg::R1),
                        },
                        Op::Store {
                            size,
                            base: reg(7),
                            off,
                            src: Src::Reg(reg(src)),
                        },
                        Op::Store {
                            size,
                            base: Reg::R10,
                            off: -64 + off,
                            src: Src::Reg(reg(src)),
                        },
                        Op::Load {
                            size,
                            signed: false,
                            dst: Reg::R0,
                            base: Reg::R10,
                            off: -64 + off,
                        },
                        Op::Store {
                            size,
                            base: reg(7),
                            off: off + 1,
                            src: Src::Imm(-3),
                        },
                        Op::Exit,
                    ]);
                    check_same(&p, &mem_pattern()).unwrap();
                    check_emulated(&p, &mem_pattern());
                }
            }
        }
    }
}

#[test]
fn atomics_every_form() {
    let ops = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::Xchg,
        AtomicOp::Cmpxchg,
    ];
    for op in ops {
        for width in [Width::W32, Width::W64] {
            for fetch in [false, true] {
                if matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) && !fetch {
                    continue;
                }
                for base in [0u8, 1, 3, 6] {
                    for src in [0u8, 2, 3, 4, 6] {
                        if src == base {
                            continue;
                        }
                        for seed in [0, 2, 5] {
                            let mut body = vec![
                                Op::Alu {
                                    width: Width::W64,
                                    op: AluOp::Mov,
                                    dst: reg(base),
                                    src: Src::Reg(Reg::R10),
                                },
                                Op::Store {
                                    size: Size::DW,
                                    base: reg(base),
                                    off: -16,
                                    src: Src::Reg(reg(9)),
                                },
                                Op::Atomic {
                                    width,
                                    op,
                                    fetch,
                                    base: reg(base),
                                    off: -16,
                                    src: reg(src),
                                },
                                Op::Load {
                                    size: Size::DW,
                                    signed: false,
                                    dst: reg(8),
                                    base: Reg::R10,
                                    off: -16,
                                },
                                // Stack addresses differ between engines: drop the pointer.
                                Op::Alu {
                                    width: Width::W64,
                                    op: AluOp::Mov,
                                    dst: reg(base),
                                    src: Src::Imm(0),
                                },
                            ];
                            if seed == 5 {
                                // Make cmpxchg succeed: r0 equals the memory.
                                body.insert(
                                    1,
                                    Op::Alu {
                                        width: Width::W64,
                                        op: AluOp::Mov,
                                        dst: Reg::R0,
                                        src: Src::Reg(reg(9)),
                                    },
                                );
                                if base == 0 {
                                    continue;
                                }
                            }
                            let p = with_all_regs(seed, &body);
                            // Registers 0..9 are set first; r10-relative base set after.
                            check_same(&prog_of(&p), &[]).unwrap();
                            check_emulated(&prog_of(&p), &[]);
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn local_calls_save_registers_and_limit_depth() {
    // main: r6..r9 set, call f, f clobbers them; main folds them.
    let f = [
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: reg(6),
            src: Src::Imm(0),
        },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: reg(9),
            src: Src::Imm(0),
        },
        Op::Store {
            size: Size::DW,
            base: Reg::R10,
            off: -8,
            src: Src::Imm(99),
        },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Reg(Reg::R10),
        },
        Op::Exit,
    ];
    let mut main = vec![
        Op::Store {
            size: Size::DW,
            base: Reg::R10,
            off: -8,
            src: Src::Imm(5),
        },
        Op::CallLocal { off: 0 },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Sub,
            dst: Reg::R0,
            src: Src::Reg(Reg::R10),
        },
        Op::Load {
            size: Size::DW,
            signed: false,
            dst: reg(8),
            base: Reg::R10,
            off: -8,
        },
    ];
    let tail_len = 19 + 1;
    main[1] = Op::CallLocal {
        off: (main.len() - 2 + tail_len) as i32,
    };
    let mut all = with_all_regs(3, &main);
    all.extend_from_slice(&f);
    assert_eq!(check_same(&prog_of(&all), &[]).map(|_| ()), Ok(()));
    check_emulated(&prog_of(&all), &[]);

    // Unbounded recursion: fault at the call after 8 frames.
    let p = prog(&[Op::CallLocal { off: -1 }, Op::Exit]);
    assert_eq!(check_same(&p, &[]), Err((0, "call-depth")));
    check_emulated(&p, &[]);
}

#[test]
fn faults_match() {
    // Out of bounds load, past the end of memory.
    let p = prog(&[
        Op::Load {
            size: Size::W,
            signed: false,
            dst: Reg::R0,
            base: Reg::R1,
            off: 6,
        },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[0; 8]), Err((0, "out-of-bounds")));
    check_emulated(&p, &[0; 8]);
    // Store below the stack.
    let p = prog(&[
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        },
        Op::Store {
            size: Size::B,
            base: Reg::R10,
            off: -4097,
            src: Src::Imm(1),
        },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[]), Err((1, "out-of-bounds")));
    check_emulated(&p, &[0; 8]);
    // Null pointer.
    let p = prog(&[
        Op::Load {
            size: Size::DW,
            signed: false,
            dst: Reg::R0,
            base: Reg::R0,
            off: 0,
        },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[]), Err((0, "out-of-bounds")));
    check_emulated(&p, &[0; 8]);
    // Infinite loop: budget.
    let p = prog(&[Op::Ja { off: -1 }, Op::Exit]);
    assert_eq!(check_same(&p, &[]), Err((0, "back-edge-limit")));
    check_emulated(&p, &[0; 8]);
    let p = prog(&[
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        },
        Op::Jmp {
            width: Width::W64,
            op: JmpOp::Eq,
            dst: Reg::R0,
            src: Src::Imm(0),
            off: -1,
        },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[]), Err((1, "back-edge-limit")));
    check_emulated(&p, &[0; 8]);
    // Unknown helper, directly and through callx.
    let p = prog(&[Op::Call { helper: 1234 }, Op::Exit]);
    assert_eq!(check_same(&p, &[]), Err((0, "unknown-helper")));
    check_emulated(&p, &[0; 8]);
    let p = prog(&[
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: reg(4),
            src: Src::Imm(5),
        },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: reg(1),
            src: Src::Imm(42),
        },
        Op::CallReg { reg: reg(4) },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[]), Ok(42));
    check_emulated(&p, &[0; 8]);
}

#[test]
fn may_goto_counts_down() {
    // r0 counts iterations of a may_goto loop: 65,536 then exits.
    let p = prog(&[
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        },
        Op::MayGoto { off: 2 },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Add,
            dst: Reg::R0,
            src: Src::Imm(1),
        },
        Op::Ja { off: -3 },
        Op::Exit,
    ]);
    let mut mem = [];
    // The backward ja also draws on the loop budget in checked mode: both are 65,536.
    let r = jit_run(&p, &mut mem, Options::default());
    assert_eq!(r, check_same(&p, &[]));
}

/// Checked accesses at and across the edges of the packet and the stack frame
/// (the inline fast path and the host check must draw the same line).
#[test]
fn checked_accesses_at_region_edges() {
    let mem = mem_pattern();
    let len = mem.len() as i16;
    let sizes = [Size::B, Size::H, Size::W, Size::DW];
    for size in sizes {
        let n = size.bytes() as i16;
        let packet_offs = [
            -9,
            -8,
            -1,
            0,
            1,
            len - 9,
            len - n - 1,
            len - n,
            len - n + 1,
            len - 1,
            len,
            len + 7,
        ];
        for off in packet_offs {
            let load = prog(&[
                Op::Load {
                    size,
                    signed: false,
                    dst: Reg::R0,
                    base: Reg::R1,
                    off,
                },
                Op::Exit,
            ]);
            let inside = off >= 0 && off + n <= len;
            assert_eq!(check_same(&load, &mem).is_ok(), inside, "load {n} at {off}");
            let store = prog(&[
                Op::Store {
                    size,
                    base: Reg::R1,
                    off,
                    src: Src::Imm(-2),
                },
                Op::Alu {
                    width: Width::W64,
                    op: AluOp::Mov,
                    dst: Reg::R0,
                    src: Src::Imm(1),
                },
                Op::Exit,
            ]);
            assert_eq!(
                check_same(&store, &mem).is_ok(),
                inside,
                "store {n} at {off}"
            );
        }
        for off in [
            -520,
            -513,
            -512,
            -511,
            -512 + n - 1,
            -n - 1,
            -n,
            -n + 1,
            -1,
            0,
            1,
        ] {
            let p = prog(&[
                Op::Store {
                    size,
                    base: Reg::R10,
                    off,
                    src: Src::Imm(-3),
                },
                Op::Load {
                    size,
                    signed: false,
                    dst: Reg::R0,
                    base: Reg::R10,
                    off,
                },
                Op::Exit,
            ]);
            let inside = off >= -512 && off + n <= 0;
            assert_eq!(check_same(&p, &mem).is_ok(), inside, "stack {n} at {off}");
        }
    }
    // An empty packet: nothing in it is accessible.
    let p = prog(&[
        Op::Load {
            size: Size::B,
            signed: false,
            dst: Reg::R0,
            base: Reg::R1,
            off: 0,
        },
        Op::Exit,
    ]);
    assert_eq!(check_same(&p, &[]), Err((0, "out-of-bounds")));
}
