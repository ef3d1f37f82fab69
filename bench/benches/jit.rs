//! JIT compile speed and run speed, luabpf against rbpf's x86_64 JIT.
//!
//! `cargo bench -p luabpf-bench --bench jit`

use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{insns_to_bytes, AluOp, Insn, JmpOp, Op, Reg, Size, Src, Width};
use bpf_bridge::program::{ProgType, Program};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use jit::exec_mem::{Checked, ExecPool, Host, HostFault};
use jit::run::{JitProgram, RunArgs};
use jit::{Arch, Options};
use std::hint::black_box;

/// A straight-line-with-branches filter of about `n` slots that both JITs
/// accept: packet loads, 32/64-bit ALU, forward compares, one exit.
fn program(n: usize) -> Vec<Insn> {
    let mut ops = vec![
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        },
        Op::Alu {
            width: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R6,
            src: Src::Reg(Reg::R1),
        },
    ];
    let r = |i: u8| Reg::new(i).unwrap();
    let mut i = 0u32;
    while ops.len() + 2 < n {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let dst = r(2 + (i >> 8) as u8 % 4);
        let src = r(2 + (i >> 12) as u8 % 4);
        let op = match (i >> 16) % 9 {
            0 => Op::Load {
                size: Size::B,
                signed: false,
                dst,
                base: Reg::R6,
                off: ((i >> 20) % 60) as i16,
            },
            1 => Op::Load {
                size: Size::H,
                signed: false,
                dst,
                base: Reg::R6,
                off: ((i >> 20) % 60) as i16,
            },
            2 => Op::Alu {
                width: Width::W64,
                op: AluOp::Add,
                dst,
                src: Src::Reg(src),
            },
            3 => Op::Alu {
                width: Width::W32,
                op: AluOp::Xor,
                dst,
                src: Src::Imm((i >> 4) as i32),
            },
            4 => Op::Alu {
                width: Width::W64,
                op: AluOp::Lsh,
                dst,
                src: Src::Imm(((i >> 20) % 63) as i32),
            },
            5 => Op::Alu {
                width: Width::W64,
                op: AluOp::And,
                dst,
                src: Src::Imm(0xffff),
            },
            6 => Op::Alu {
                width: Width::W64,
                op: AluOp::Mul,
                dst,
                src: Src::Reg(src),
            },
            7 => Op::Jmp {
                width: Width::W64,
                op: JmpOp::Gt,
                dst,
                src: Src::Imm(1000),
                off: 1,
            },
            _ => Op::Alu {
                width: Width::W64,
                op: AluOp::Add,
                dst: Reg::R0,
                src: Src::Reg(dst),
            },
        };
        ops.push(op);
    }
    // A jump just before the end needs something to land on.
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
    insns
}

struct PacketHost(u64, u64);

impl Host for PacketHost {
    fn check(&mut self, addr: u64, packed: u64, _fp: u64) -> Result<Checked, HostFault> {
        let len = packed & 0xf;
        if addr >= self.0 && addr + len <= self.0 + self.1 {
            Ok(Checked::Plain)
        } else {
            Err(HostFault)
        }
    }
    fn helper(&mut self, _id: u64, _callx: bool, _a: [u64; 5], _fp: u64) -> Result<u64, HostFault> {
        Err(HostFault)
    }
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit-compile");
    let opts = Options::for_host();
    let pool = ExecPool::new();
    for n in [16usize, 256, 1024, 4096] {
        let insns = program(n);
        let bytes = insns_to_bytes(&insns);
        let prog = Program::new("bench", ProgType::Raw, insns.clone());
        let facts = Facts {
            accesses: vec![Access::Proven; insns.len()],
            max_stack: 0,
        };
        g.throughput(Throughput::Elements(insns.len() as u64));
        g.bench_with_input(BenchmarkId::new("luabpf-checked", n), &prog, |b, p| {
            b.iter(|| jit::compile(black_box(p), None, Arch::X86_64, opts).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("luabpf-verified", n), &prog, |b, p| {
            b.iter(|| jit::compile(black_box(p), Some(&facts), Arch::X86_64, opts).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("luabpf-aarch64", n), &prog, |b, p| {
            b.iter(|| jit::compile(black_box(p), Some(&facts), Arch::Aarch64, opts).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("luabpf-riscv64", n), &prog, |b, p| {
            b.iter(|| jit::compile(black_box(p), Some(&facts), Arch::Riscv64, opts).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("luabpf-compile+load", n), &prog, |b, p| {
            b.iter(|| {
                let c = jit::compile(black_box(p), Some(&facts), Arch::X86_64, opts).unwrap();
                JitProgram::load(&c, &pool).unwrap()
            })
        });
        if n > 256 {
            // rbpf's JIT has a fixed-size code buffer.
            continue;
        }
        g.bench_with_input(BenchmarkId::new("rbpf", n), &bytes, |b, bytes| {
            b.iter(|| {
                let mut vm = rbpf::EbpfVmRaw::new(Some(black_box(bytes))).unwrap();
                vm.jit_compile().unwrap();
                vm
            })
        });
    }
    g.finish();
}

fn run(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit-run");
    let insns = program(256);
    let bytes = insns_to_bytes(&insns);
    let prog = Program::new("bench", ProgType::Raw, insns.clone());
    let facts = Facts {
        accesses: vec![Access::Proven; insns.len()],
        max_stack: 0,
    };
    let pool = ExecPool::new();
    let mut packet = vec![0x5au8; 64];
    for (name, f) in [("luabpf-checked", None), ("luabpf-verified", Some(&facts))] {
        let c = jit::compile(&prog, f, Arch::X86_64, Options::for_host()).unwrap();
        let mut p = JitProgram::load(&c, &pool).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut host = PacketHost(packet.as_ptr() as u64, packet.len() as u64);
                let args = RunArgs {
                    r1: packet.as_mut_ptr() as u64,
                    r2: 64,
                    ..RunArgs::default()
                };
                p.run(black_box(&args), &mut host).unwrap()
            })
        });
    }
    let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).unwrap();
    vm.jit_compile().unwrap();
    g.bench_function("rbpf", |b| {
        // SAFETY: the program was verified by rbpf and only reads the packet.
        b.iter(|| unsafe { vm.execute_program_jit(black_box(&mut packet)).unwrap() })
    });
    g.finish();
}

criterion_group!(benches, compile, run);
criterion_main!(benches);
