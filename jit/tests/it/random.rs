//! Randomly generated programs, JIT against the reference.

use super::harness::check_same;
use super::ops::prog;
use bpf_bridge::isa::{AluOp, AtomicOp, Endian, JmpOp, Op, Reg, Size, Src, Width};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn reg(n: u64) -> Reg {
    Reg::new(n as u8).unwrap()
}

fn random_program(rng: &mut Rng, len: usize) -> Vec<Op> {
    use AluOp::*;
    let alu = [
        Add, Sub, Mul, Div, Sdiv, Or, And, Lsh, Rsh, Mod, Smod, Xor, Mov, Movsx8, Movsx16, Movsx32,
        Arsh,
    ];
    let jmp = [
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
    let mut ops = Vec::new();
    // r9 keeps the memory pointer (it survives calls, and no value computed
    // from it reaches r0); r0..r8 get random values.
    ops.push(Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst: reg(9),
        src: Src::Reg(Reg::R1),
    });
    for i in [0, 1, 2, 3, 4, 5, 6, 7, 8] {
        ops.push(Op::LoadImm64 {
            dst: reg(i),
            value: rng.next() >> rng.below(64),
        });
    }
    let regs = [0u64, 1, 2, 3, 4, 5, 6, 7, 8];
    let interesting = [0i32, 1, -1, i32::MIN, i32::MAX, 3, 8, 31, 32, 63, -64];
    while ops.len() < len {
        let width = if rng.below(2) == 0 {
            Width::W32
        } else {
            Width::W64
        };
        let dst = reg(rng.pick(&regs));
        let src = if rng.below(2) == 0 {
            Src::Reg(reg(rng.pick(&regs)))
        } else if rng.below(2) == 0 {
            Src::Imm(rng.pick(&interesting))
        } else {
            Src::Imm(rng.next() as i32)
        };
        match rng.below(12) {
            10 => {
                // An atomic on an aligned stack slot.
                let w = if rng.below(2) == 0 {
                    Width::W32
                } else {
                    Width::W64
                };
                let off = -8 * (1 + rng.below(8) as i16);
                let op = rng.pick(&[
                    AtomicOp::Add,
                    AtomicOp::Or,
                    AtomicOp::And,
                    AtomicOp::Xor,
                    AtomicOp::Xchg,
                    AtomicOp::Cmpxchg,
                ]);
                let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) || rng.below(2) == 0;
                ops.push(Op::Atomic {
                    width: w,
                    op,
                    fetch,
                    base: Reg::R10,
                    off,
                    src: dst,
                });
            }
            11 => {
                // Helper 5 returns r1 (raw programs); callx through a register.
                ops.push(Op::Alu {
                    width: Width::W64,
                    op: AluOp::Mov,
                    dst: Reg::R1,
                    src: Src::Reg(dst),
                });
                if rng.below(2) == 0 {
                    ops.push(Op::Call { helper: 5 });
                } else {
                    ops.push(Op::Alu {
                        width: Width::W64,
                        op: AluOp::Mov,
                        dst: Reg::R2,
                        src: Src::Imm(5),
                    });
                    ops.push(Op::CallReg { reg: Reg::R2 });
                }
                // r1..r5 are clobbered by calls: set them again.
                for r in 1..=5 {
                    ops.push(Op::Alu {
                        width: Width::W64,
                        op: AluOp::Mov,
                        dst: reg(r),
                        src: Src::Imm(rng.next() as i32),
                    });
                }
            }
            0..=4 => {
                let op = rng.pick(&alu);
                if op == Movsx32 && width == Width::W32 {
                    continue;
                }
                let src = match (op, src) {
                    (Movsx8 | Movsx16 | Movsx32, Src::Imm(i)) => {
                        Src::Reg(reg(regs[i as u32 as usize % regs.len()]))
                    }
                    _ => src,
                };
                ops.push(Op::Alu {
                    width,
                    op,
                    dst,
                    src,
                });
            }
            5 => ops.push(Op::Neg { width, dst }),
            6 => {
                let kind = rng.pick(&[Endian::Le, Endian::Be, Endian::Swap]);
                ops.push(Op::Endian {
                    kind,
                    bits: rng.pick(&[16, 32, 64]),
                    dst,
                });
            }
            7 => {
                let size = rng.pick(&[Size::B, Size::H, Size::W, Size::DW]);
                let off = -(rng.below(64) as i16) - 8;
                ops.push(Op::Store {
                    size,
                    base: Reg::R10,
                    off,
                    src: Src::Reg(dst),
                });
                ops.push(Op::Load {
                    size,
                    signed: size != Size::DW && rng.below(2) == 0,
                    dst: reg(rng.pick(&regs)),
                    base: Reg::R10,
                    off,
                });
            }
            8 => {
                let size = rng.pick(&[Size::B, Size::H, Size::W, Size::DW]);
                let off = rng.below(32) as i16;
                ops.push(Op::Load {
                    size,
                    signed: false,
                    dst,
                    base: reg(9),
                    off,
                });
                if rng.below(2) == 0 && size != Size::B {
                    ops.push(Op::Endian {
                        kind: Endian::Be,
                        bits: size.bytes() as u8 * 8,
                        dst,
                    });
                }
            }
            _ => {
                // Forward jump over a few ops (fixed up below).
                ops.push(Op::Jmp {
                    width,
                    op: rng.pick(&jmp),
                    dst,
                    src,
                    off: 1 + rng.below(6) as i16,
                });
            }
        }
    }
    ops.push(Op::Exit);
    ops
}

/// Slot index of each op (lddw takes two) and clamped jump offsets.
fn to_insns(ops: &[Op]) -> Vec<bpf_bridge::isa::Insn> {
    let slots: Vec<usize> = ops
        .iter()
        .scan(0, |s, o| {
            let r = *s;
            *s += o.slots();
            Some(r)
        })
        .collect();
    let fixed: Vec<Op> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| match *o {
            Op::Jmp {
                width,
                op,
                dst,
                src,
                off,
            } => {
                let t = (i + off as usize).min(ops.len() - 1);
                Op::Jmp {
                    width,
                    op,
                    dst,
                    src,
                    off: (slots[t] - slots[i] - 1) as i16,
                }
            }
            o => o,
        })
        .collect();
    prog(&fixed)
}

#[test]
fn random_programs_agree() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mem: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(91) ^ 0x5a).collect();
    let mut n = 0;
    let mut ok = 0;
    for _ in 0..3000 {
        let len = 10 + rng.below(60) as usize;
        let ops = random_program(&mut rng, len);
        let insns = to_insns(&ops);
        if bpf_bridge::isa::decode_program(&insns).is_err() {
            continue;
        }
        // Jumps may skip the restore of r1 after a call: faults are fine as long
        // as both engines report the same one.
        ok += check_same(&insns, &mem).is_ok() as usize;
        n += 1;
    }
    assert!(n > 1000 && ok > n / 2, "{ok} of {n} ran to the end");
}

#[test]
fn random_programs_agree_emulated() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mem: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(91) ^ 0x5a).collect();
    for _ in 0..150 {
        let len = 10 + rng.below(60) as usize;
        let ops = random_program(&mut rng, len);
        let insns = to_insns(&ops);
        if bpf_bridge::isa::decode_program(&insns).is_err() {
            continue;
        }
        super::harness::check_emulated(&insns, &mem);
    }
}
