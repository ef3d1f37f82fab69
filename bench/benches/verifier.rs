//! Verifier cost per processed instruction (goal: at most 200 ns).
//!
//! `cargo bench -p luabpf-bench --bench verifier` prints, besides criterion's
//! times, one line per program with the processed instruction count and the
//! resulting nanoseconds per processed instruction (the least thread CPU time
//! over 30 batches, as the JIT's compile fit measures: wall-clock means of a
//! few cold runs swung by 1.5x on a shared machine): three hand-written
//! programs, and every Lua example (`examples/*.lua`, compiled for v4).

use bpf_bridge::asm::assemble;
use bpf_bridge::program::{ProgType, Program};
use bpf_bridge::verifier::{verify, verify_with, VerifierConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use lua_subset::{compile, CompileOptions};
use std::hint::black_box;
use std::path::PathBuf;

/// Ethernet + IPv4 + UDP parse with a per-port counter: a typical filter.
const PARSE: &str = "
.map counts hash key=4 value=8 entries=256
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 42
    jgt %r4, %r3, pass
    ldxh %r5, [%r2+12]
    jne %r5, 0x0008, pass
    ldxb %r5, [%r2+14]
    and %r5, 0xf
    lsh %r5, 2
    jlt %r5, 20, drop
    ldxb %r6, [%r2+23]
    jne %r6, 17, pass
    mov %r7, %r2
    add %r7, 14
    add %r7, %r5
    mov %r8, %r7
    add %r8, 8
    jgt %r8, %r3, pass
    ldxh %r6, [%r7+2]
    be16 %r6
    stxw [%r10-4], %r6
    lddw %r1, map:counts
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, init
    mov %r1, 1
    lock add [%r0+0], %r1
    ja pass
init:
    stdw [%r10-16], 1
    lddw %r1, map:counts
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
pass:
    mov %r0, 2
    exit
drop:
    mov %r0, 1
    exit
";

/// A bounded loop over 64 packet bytes with a branch in the body.
const LOOP: &str = "
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 64
    jgt %r4, %r3, out
    mov %r0, 0
    mov %r6, 0
loop:
    mov %r7, %r2
    add %r7, %r6
    ldxb %r8, [%r7+0]
    jgt %r8, 127, skip
    add %r0, %r8
skip:
    add %r6, 1
    jlt %r6, 64, loop
    and %r0, 3
    exit
out:
    mov %r0, 2
    exit
";

/// The kernel's worst loop: runs into the 1M processed-instruction limit.
const ENDLESS: &str = "
    mov %r1, 0
loop:
    add %r1, 1
    jne %r1, 0, loop
    mov %r0, 0
    exit
";

/// The Lua examples, compiled with the default options.
fn examples() -> Vec<(String, Program)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut v: Vec<(String, Program)> = std::fs::read_dir(&dir)
        .expect("examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let src = std::fs::read_to_string(&p).unwrap();
            let prog = compile(&name, &src, &CompileOptions::default()).expect("example compiles");
            (name, prog)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn prog(text: &str) -> Program {
    assemble(text)
        .expect("bench program assembles")
        .into_program("bench", ProgType::Xdp)
}

fn per_insn(name: &str, p: &Program, config: &VerifierConfig) {
    let processed = match verify_with(p, config) {
        Ok(v) => v.stats.processed,
        Err(_) => config.max_processed,
    };
    // Batches of about a millisecond (at 200 ns per instruction); the least
    // thread CPU time of 30 of them, so a shared machine spoils it little.
    let per_batch = (5_000 / processed.max(1)).max(1) as usize;
    let mut job = || {
        black_box(verify_with(black_box(p), config).is_ok());
    };
    let ns = luabpf_bench::timing::best_ns(&mut job, per_batch, 30) / processed as f64;
    println!("verifier {name}: {processed} processed, {ns:.1} ns per processed instruction (least thread CPU time of 30 batches)");
}

fn bench(c: &mut Criterion) {
    let parse = prog(PARSE);
    let looping = prog(LOOP);
    let endless = prog(ENDLESS);
    assert!(verify(&parse).is_ok() && verify(&looping).is_ok());
    let config = VerifierConfig::default();
    per_insn("parse", &parse, &config);
    per_insn("loop", &looping, &config);
    per_insn("endless (1M limit)", &endless, &config);
    let lua = examples();
    for (name, p) in &lua {
        per_insn(&format!("example {name}"), p, &config);
    }
    c.bench_function("verify parse", |b| b.iter(|| verify(black_box(&parse))));
    c.bench_function("verify loop", |b| b.iter(|| verify(black_box(&looping))));
    c.bench_function("verify lua examples", |b| {
        b.iter(|| {
            for (_, p) in &lua {
                black_box(verify(black_box(p)).is_ok());
            }
        })
    });
    let mut g = c.benchmark_group("limits");
    g.sample_size(10);
    g.bench_function("verify endless", |b| b.iter(|| verify(black_box(&endless))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
