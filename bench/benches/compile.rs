//! The Lua compiler's speed, per example filter (issue 5's goal: source to
//! verified native code in at most 100 µs for a 50-line filter). Rows of the
//! `lua_compile` group:
//!
//! - `v4/<n>_lines/<name>`, `v3/...`: source text to an eBPF `Program` (parse,
//!   subset checks, IR, code generation, register allocation, encoding);
//! - `native/<n>_lines/<name>`: source to verified x86_64 code, all stages (v4);
//!
//! and each stage alone, so the time splits: `parse/<name>` (full_moon and
//! its guards), `front_end_only/<name>` (parse plus scopes, subset checks and
//! the arena IR), `verify/<name>` (the v4 `Program` through the verifier),
//! `jit/<name>` (verified v4 `Program` to x86_64 code).

use bpf_bridge::program::Program;
use bpf_bridge::verifier::verify;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jit::{Arch, Options};
use lua_subset::{compile, CompileOptions, Cpu};
use std::hint::black_box;
use std::path::PathBuf;

// The allocator the `luabpf` binary ships with.
#[global_allocator]
static GLOBAL: luabpf::alloc::MiMalloc = luabpf::alloc::MiMalloc;

fn examples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("examples directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn stages(c: &mut Criterion) {
    let mut g = c.benchmark_group("lua_compile");
    for (name, src) in examples() {
        let lines = src.lines().count();
        for (cpu, tag) in [(Cpu::V4, "v4"), (Cpu::V3, "v3")] {
            let opts = CompileOptions {
                cpu,
                ..Default::default()
            };
            compile(&name, &src, &opts).expect("examples compile");
            g.bench_with_input(
                BenchmarkId::new(format!("{tag}/{lines}_lines"), &name),
                &src,
                |b, src| b.iter(|| compile(black_box(&name), black_box(src), &opts).unwrap()),
            );
        }
        g.bench_with_input(
            BenchmarkId::new("native", format!("{lines}_lines/{name}")),
            &src,
            |b, src| b.iter(|| to_native(black_box(&name), black_box(src))),
        );
        g.bench_with_input(BenchmarkId::new("parse", &name), &src, |b, src| {
            b.iter(|| assert!(lua_subset::syntax::parses(black_box(src))))
        });
        g.bench_with_input(BenchmarkId::new("front_end_only", &name), &src, |b, src| {
            b.iter(|| full_moon_parse(black_box(src)))
        });
        let prog = compile(&name, &src, &CompileOptions::default()).unwrap();
        g.bench_with_input(BenchmarkId::new("verify", &name), &prog, |b, p| {
            b.iter(|| verify(black_box(p)).unwrap())
        });
        let facts = verify(&prog).unwrap().facts;
        let jit_opts = Options::for_host();
        g.bench_with_input(BenchmarkId::new("jit", &name), &prog, |b, p| {
            b.iter(|| jit::compile(black_box(p), Some(&facts), Arch::X86_64, jit_opts).unwrap())
        });
    }
    g.finish();
}

/// Source to verified x86_64 code: every stage, as a user of the library
/// runs them (v4).
fn to_native(name: &str, src: &str) -> usize {
    let prog: Program = compile(name, src, &CompileOptions::default()).unwrap();
    let verified = verify(&prog).unwrap();
    jit::compile(
        &prog,
        Some(&verified.facts),
        Arch::X86_64,
        Options::for_host(),
    )
    .unwrap()
    .code
    .len()
}

/// The front end alone: full_moon's parse plus scopes, subset checks and the
/// arena IR (what `map_names` runs), without code generation.
fn full_moon_parse(src: &str) -> usize {
    lua_subset::map_names(src).len()
}

criterion_group!(benches, stages);
criterion_main!(benches);
