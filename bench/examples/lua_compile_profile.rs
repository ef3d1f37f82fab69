//! Compiles one Lua filter many times, stage by stage, for instruction counts
//! (`valgrind --tool=callgrind`) that are stable on a loaded machine where the
//! compile benchmark's times are not.
//!
//! `cargo build --profile bench -p luabpf-bench --example lua_compile_profile`,
//! then `lua_compile_profile FILE.lua [STAGE [ROUNDS]]` (defaults: `native`,
//! 2000). Stages: `parse` (full_moon and its guards), `front` (plus scopes,
//! subset checks and the arena IR), `compile` (source to `Program`), `verify`
//! (the compiled program through the verifier), `all` (compile and verify),
//! `native` (compile, verify and x86_64 code, as the `native` bench row).
//! It prints the mean wall time of the rounds, then the least thread CPU time
//! of 20 batches of a twentieth of them each (so a callgrind run of `ROUNDS`
//! executes `ROUNDS + 21 * ROUNDS.div_ceil(20)` compilations).

use jit::{Arch, Options};
use lua_subset::{compile, CompileOptions};
use std::hint::black_box;

// The allocator the `luabpf` binary ships with.
#[global_allocator]
static GLOBAL: luabpf::alloc::MiMalloc = luabpf::alloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .expect("usage: lua_compile_profile FILE.lua [STAGE [ROUNDS]]");
    let stage = args.get(1).map_or("native", String::as_str);
    let rounds: usize = args.get(2).map_or(2000, |s| s.parse().expect("rounds"));
    let src = std::fs::read_to_string(path).expect("readable source");
    let opts = CompileOptions::default();
    let compiled = compile(path, &src, &opts).unwrap_or_else(|d| panic!("{}", d.render()));
    let mut once = || {
        let src = black_box(src.as_str());
        match stage {
            "parse" => assert!(lua_subset::syntax::parses(src)),
            "front" => {
                black_box(lua_subset::map_names(src));
            }
            "compile" => {
                black_box(compile(path, src, &opts).unwrap());
            }
            "verify" => {
                black_box(bpf_bridge::verifier::verify(black_box(&compiled)).unwrap());
            }
            "all" => {
                let p = compile(path, src, &opts).unwrap();
                black_box(bpf_bridge::verifier::verify(&p).unwrap());
            }
            "native" => {
                let p = compile(path, src, &opts).unwrap();
                let v = bpf_bridge::verifier::verify(&p).unwrap();
                black_box(
                    jit::compile(&p, Some(&v.facts), Arch::X86_64, Options::for_host()).unwrap(),
                );
            }
            other => panic!("unknown stage {other}: parse, front, compile, verify, all or native"),
        }
    };
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        once();
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / rounds as f64;
    // The least thread CPU time of 20 batches, which a loaded machine inflates
    // far less than the wall clock.
    let best = luabpf_bench::timing::best_ns(&mut once, rounds.div_ceil(20), 20) / 1e3;
    eprintln!("{stage}: {us:.1} µs per round (wall clock), best batch {best:.1} µs (thread CPU)");
}
