//! Prints compile time per instruction for a synthetic program (a quick check
//! of the compile-speed budget without criterion): `cargo run --release -p jit --example compile_speed`.

use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{AluOp, JmpOp, Op, Reg, Size, Src, Width};
use bpf_bridge::program::{ProgType, Program};
use std::time::Instant;

fn program(n: usize) -> Program {
    let r = |i: u8| Reg::new(i).unwrap();
    let mut ops = vec![Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Imm(0),
    }];
    let mut i = 0u32;
    while ops.len() + 2 < n {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let dst = r(2 + (i >> 8) as u8 % 4);
        let src = r(2 + (i >> 12) as u8 % 4);
        ops.push(match (i >> 16) % 6 {
            0 => Op::Load {
                size: Size::H,
                signed: false,
                dst,
                base: Reg::R1,
                off: ((i >> 20) % 60) as i16,
            },
            1 => Op::Alu {
                width: Width::W64,
                op: AluOp::Add,
                dst,
                src: Src::Reg(src),
            },
            2 => Op::Alu {
                width: Width::W32,
                op: AluOp::Xor,
                dst,
                src: Src::Imm((i >> 4) as i32),
            },
            3 => Op::Jmp {
                width: Width::W64,
                op: JmpOp::Gt,
                dst,
                src: Src::Imm(1000),
                off: 1,
            },
            4 => Op::Alu {
                width: Width::W64,
                op: AluOp::Lsh,
                dst,
                src: Src::Imm(3),
            },
            _ => Op::Alu {
                width: Width::W64,
                op: AluOp::Add,
                dst: Reg::R0,
                src: Src::Reg(dst),
            },
        });
    }
    ops.push(Op::Alu {
        width: Width::W64,
        op: AluOp::Add,
        dst: Reg::R0,
        src: Src::Imm(1),
    });
    ops.push(Op::Exit);
    let mut insns = Vec::new();
    for op in &ops {
        op.encode(&mut insns);
    }
    Program::new("speed", ProgType::Raw, insns)
}

/// Thread CPU time in seconds: robust against other processes sharing the cores.
fn cpu_now() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn time(f: impl Fn()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..20 {
        let t = cpu_now();
        let w = Instant::now();
        for _ in 0..50 {
            f();
        }
        let _ = w;
        best = best.min((cpu_now() - t) / 50.0);
    }
    best * 1e9
}

fn main() {
    if let Some(n) = std::env::args().nth(1) {
        // Profiling mode: compile an n-slot program 100 times.
        let p = program(n.parse().expect("a slot count"));
        let facts = Facts {
            accesses: vec![Access::Proven; p.insns.len()],
            max_stack: 0,
        };
        for _ in 0..100 {
            std::hint::black_box(
                jit::compile(&p, Some(&facts), jit::Arch::X86_64, jit::Options::default()).unwrap(),
            );
        }
        return;
    }
    for arch in [jit::Arch::X86_64, jit::Arch::Aarch64, jit::Arch::Riscv64] {
        for n in [1usize, 16, 256, 4096, 65536] {
            let p = program(n.max(3));
            let facts = Facts {
                accesses: vec![Access::Proven; p.insns.len()],
                max_stack: 0,
            };
            let opts = jit::Options::default();
            let ns = time(|| {
                std::hint::black_box(jit::compile(&p, Some(&facts), arch, opts).unwrap());
            });
            let dec = time(|| {
                std::hint::black_box(bpf_bridge::isa::decode_program(&p.insns).unwrap());
            });
            println!(
                "{:8} {:6} insns: {:10.0} ns total, {:6.1} ns/insn (decode alone {:5.1} ns/insn)",
                arch.name(),
                p.insns.len(),
                ns,
                ns / p.insns.len() as f64,
                dec / p.insns.len() as f64
            );
        }
    }
}
