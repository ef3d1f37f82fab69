//! Times the packet loops on our JIT (verified mode) and their Rust versions
//! with the least thread CPU time over many short batches, the engines taking
//! turns, so that two builds can be compared on a loaded machine:
//! `cargo run --profile bench -p luabpf-bench --example packet_loops_time [ROUNDS]`.

use bpf_bridge::engine::Engine;
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};
use luabpf_bench::packet_loops::{frame, workloads};
use luabpf_bench::timing::best_ns;
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = args.first().map_or(20, |s| s.parse().expect("rounds"));
    let pool = ExecPool::new();
    let frame = frame();
    let mut loads = workloads();
    // Further `.s` files: each timed against the workload of its stem's
    // first word (`byte_count_x.s` against `byte_count`).
    for path in args.iter().skip(1) {
        let text = std::fs::read_to_string(path).expect("read");
        let stem = std::path::Path::new(path)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        let base = loads
            .iter()
            .position(|w| stem.starts_with(w.name))
            .expect("workload");
        let mut w = workloads().swap_remove(base);
        w.program = bpf_bridge::asm::assemble(&text)
            .expect("assembles")
            .into_program(stem, bpf_bridge::program::ProgType::Xdp);
        w.name = Box::leak(stem.to_string().into_boxed_str());
        loads.push(w);
    }
    for w in loads {
        let facts = bpf_bridge::verifier::verify(&w.program)
            .expect("verifies")
            .facts;
        let mut jit = JitEngine::new(
            &w.program,
            Some(&facts),
            Arch::X86_64,
            Options::for_host(),
            &pool,
        )
        .expect("JIT");
        let mut f = frame.clone();
        assert_eq!(jit.run_packet(&mut f).expect("run"), (w.native)(&frame));
        let (mut ours, mut native) = (f64::MAX, f64::MAX);
        for _ in 0..rounds {
            ours = ours.min(best_ns(
                &mut || {
                    black_box(jit.run_packet(black_box(&mut f)).expect("run"));
                },
                200,
                5,
            ));
            native = native.min(best_ns(
                &mut || {
                    black_box((w.native)(black_box(&frame)));
                },
                200,
                5,
            ));
        }
        println!(
            "{:<11} ours {ours:7.1} ns  native {native:7.1} ns  ours/native {:.3}",
            w.name,
            ours / native
        );
    }
}
