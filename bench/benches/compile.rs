//! The Lua front end's speed: source text to an eBPF `Program` (parse, subset
//! checks, IR, code generation, register allocation, encoding), per example
//! filter, for both instruction sets; plus the front end alone, to show
//! how the time splits. Verification and native code generation are other
//! stages: add them as further functions in `stages` taking the compiled
//! `Program`, so every row starts from the same source.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use lua_subset::{compile, CompileOptions, Cpu};
use std::hint::black_box;
use std::path::PathBuf;

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
            let opts = CompileOptions { cpu, ..Default::default() };
            compile(&name, &src, &opts).expect("examples compile");
            g.bench_with_input(BenchmarkId::new(format!("{tag}/{lines}_lines"), &name), &src, |b, src| {
                b.iter(|| compile(black_box(&name), black_box(src), &opts).unwrap())
            });
        }
        g.bench_with_input(BenchmarkId::new("front_end_only", &name), &src, |b, src| {
            b.iter(|| full_moon_parse(black_box(src)))
        });
    }
    g.finish();
}

/// The front end alone: full_moon's parse plus scopes, subset checks and the
/// arena IR (what `map_names` runs), without code generation.
fn full_moon_parse(src: &str) -> usize {
    lua_subset::map_names(src).len()
}

criterion_group!(benches, stages);
criterion_main!(benches);
