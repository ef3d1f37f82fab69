//! The interpreter against rbpf's interpreter on the same bytecode:
//! (a) a compute loop of 1000 iterations, (b) a packet filter (Ethernet/IPv4/TCP
//! parse, then a payload scan for "GET ") on 64- and 1500-byte packets.
//!
//! Both programs take their input the same way in both VMs: r1 points to a buffer
//! whose first 8 bytes hold the packet length, followed by the packet. Ours runs
//! as a `raw` program in checked mode, and in verified mode with every access
//! proven (the filter bounds-checks every access itself, as a verifier would require).
//!
//! `cargo bench -p luabpf-bench --bench interp`

use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::interp::{Interpreter, Mode};
use bpf_bridge::isa::{encode_program, insns_to_bytes, AluOp, JmpOp, Op, Size};
use bpf_bridge::maps::MapSet;
use bpf_bridge::program::{ProgType, Program};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use luabpf_bench::ops::*;
use std::hint::black_box;

/// A 1000-iteration mixing loop (xorshift over a multiplied counter).
fn compute_loop() -> Vec<Op> {
    let mut ops = mixing_loop(1000);
    ops.push(Op::Exit);
    ops
}

/// Returns 1 for IPv4/TCP to port 80 whose payload contains "GET ", else 0.
fn packet_filter() -> Vec<Op> {
    use AluOp::*;
    use JmpOp::*;
    let ops = vec![
        /* 0 */ ldx(Size::DW, 2, 1, 0),
        /* 1 */ alur(Mov, 6, 1),
        /* 2 */ alu(Add, 6, 8),
        /* 3 */ alur(Mov, 7, 6),
        /* 4 */ alur(Add, 7, 2),
        /* 5 */ alu(Mov, 0, 0),
        /* 6 */ alur(Mov, 3, 6),
        /* 7 */ alu(Add, 3, 54),
        /* 8 */ jmpr(Gt, 3, 7, 35), // -> 44 out
        /* 9 */ ldx(Size::H, 4, 6, 12),
        /* 10 */ be16(4),
        /* 11 */ jmp(Ne, 4, 0x0800, 32),
        /* 12 */ ldx(Size::B, 4, 6, 14),
        /* 13 */ alu(And, 4, 0xf),
        /* 14 */ alu(Lsh, 4, 2),
        /* 15 */ jmp(Lt, 4, 20, 28),
        /* 16 */ ldx(Size::B, 5, 6, 23),
        /* 17 */ jmp(Ne, 5, 6, 26),
        /* 18 */ alur(Mov, 8, 6),
        /* 19 */ alu(Add, 8, 14),
        /* 20 */ alur(Add, 8, 4),
        /* 21 */ alur(Mov, 3, 8),
        /* 22 */ alu(Add, 3, 20),
        /* 23 */ jmpr(Gt, 3, 7, 20),
        /* 24 */ ldx(Size::H, 5, 8, 2),
        /* 25 */ be16(5),
        /* 26 */ jmp(Ne, 5, 80, 17),
        /* 27 */ ldx(Size::B, 5, 8, 12),
        /* 28 */ alu(Rsh, 5, 4),
        /* 29 */ alu(Lsh, 5, 2),
        /* 30 */ alur(Add, 8, 5),
        // scan (31):
        /* 31 */ alur(Mov, 3, 8),
        /* 32 */ alu(Add, 3, 4),
        /* 33 */ jmpr(Gt, 3, 7, 10),
        /* 34 */ ldx(Size::W, 4, 8, 0),
        /* 35 */ jmp(Eq, 4, 0x2054_4547, 2),
        /* 36 */ alu(Add, 8, 1),
        /* 37 */ Op::Ja { off: -7 },
        /* 38 */ alu(Mov, 0, 1),
        /* 39 */ Op::Exit,
        /* 40 */ Op::Exit,
        /* 41 */ Op::Exit,
        /* 42 */ Op::Exit,
        /* 43 */ Op::Exit,
        /* 44 */ Op::Exit,
    ];
    ops
}

/// The input buffer: length header, then Ethernet/IPv4/TCP to port 80 with a
/// payload of `len - 54` bytes ending in "GET ".
fn packet(len: usize) -> Vec<u8> {
    let mut p = vec![b'x'; len];
    p[12] = 0x08;
    p[13] = 0x00;
    p[14] = 0x45;
    p[23] = 6;
    let tcp = 34;
    p[tcp + 2] = 0;
    p[tcp + 3] = 80;
    p[tcp + 12] = 5 << 4;
    p[len - 4..].copy_from_slice(b"GET ");
    let mut buf = (len as u64).to_le_bytes().to_vec();
    buf.extend(p);
    buf
}

fn ours(ops: &[Op], verified: bool) -> (Interpreter, MapSet) {
    let prog = Program::new("bench", ProgType::Raw, encode_program(ops));
    let mode = if verified {
        Mode::Verified(Facts {
            accesses: vec![Access::Proven; prog.insns.len()],
            max_stack: 0,
        })
    } else {
        Mode::Checked
    };
    (
        Interpreter::new(&prog, mode).expect("loads"),
        MapSet::new(&[]).expect("no maps"),
    )
}

fn bench_program(c: &mut Criterion, name: &str, ops: &[Op], input: &[u8]) {
    let bytes = insns_to_bytes(&encode_program(ops));
    let vm = rbpf::EbpfVmMbuff::new(Some(&bytes)).expect("rbpf loads");
    let mut mem = input.to_vec();
    let want = vm.execute_program(&mem, &[]).expect("rbpf runs");
    let mut group = c.benchmark_group(name);
    for verified in [false, true] {
        let (mut interp, mut maps) = ours(ops, verified);
        assert_eq!(
            interp.run(&mut maps, &mut mem),
            Ok(want),
            "{name}: engines disagree"
        );
        let id = if verified {
            "luabpf-verified"
        } else {
            "luabpf-checked"
        };
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| interp.run(&mut maps, black_box(&mut mem)))
        });
    }
    group.bench_function(BenchmarkId::from_parameter("rbpf"), |b| {
        b.iter(|| vm.execute_program(black_box(&mem), &[]))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_program(c, "compute_loop", &compute_loop(), &[0u8; 8]);
    for len in [64, 1500] {
        bench_program(
            c,
            &format!("packet_filter_{len}"),
            &packet_filter(),
            &packet(len),
        );
    }
}

criterion_group!(interp, benches);
criterion_main!(interp);
