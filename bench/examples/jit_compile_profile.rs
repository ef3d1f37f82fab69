//! Compiles the JIT compile benchmark's programs many times, for instruction
//! counts (`valgrind --tool=callgrind`) that are stable on a loaded machine
//! where the benchmark's times are not.
//!
//! `cargo build --profile bench -p luabpf-bench --example jit_compile_profile`,
//! then `jit_compile_profile [ARCH [verified|checked [SLOTS [ROUNDS]]]]`
//! (defaults: x86_64 verified 1024 4): each round compiles every program of
//! [`luabpf_bench::compile_programs::programs`] of that size once.

use bpf_bridge::program::{ProgType, Program};
use jit::{Arch, Options};
use luabpf_bench::compile_programs::{facts, programs};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or(default.into());
    let arch = Arch::from_name(&arg(0, "x86_64")).expect("arch: x86_64, aarch64 or riscv64");
    let verified = arg(1, "verified") == "verified";
    let n: usize = arg(2, "1024").parse().expect("slots");
    let rounds: usize = arg(3, "4").parse().expect("rounds");
    let progs: Vec<Program> = programs(n)
        .into_iter()
        .map(|insns| Program::new("profile", ProgType::Raw, insns))
        .collect();
    let facts = facts(n);
    let f = verified.then_some(&facts);
    let opts = Options::for_host();
    let mut bytes = 0;
    for _ in 0..rounds {
        for p in &progs {
            let c = jit::compile(black_box(p), f, arch, opts).expect("compiles");
            bytes += black_box(c).code.len();
        }
    }
    println!(
        "{} {} programs of {n} slots x {rounds}: {bytes} bytes of code",
        progs.len(),
        arch.name()
    );
}
