//! The example objects (`examples/c/*.o`) over the example captures: the JIT
//! (checked and verified, every architecture) against the interpreter, packet
//! by packet, and the maps at the end.

use super::harness::emulated_arches;
use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::program::Program;
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn programs() -> Vec<(String, Program)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(root().join("examples/c"))
        .expect("examples/c")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "o"))
        .collect();
    files.sort();
    // The legacy-maps object is a reader fixture rather than an example; run it too.
    files.push(root().join("bpf-bridge/tests/fixtures/xdp_legacy.o"));
    for f in files {
        let bytes = std::fs::read(&f).expect("read object");
        for p in bpf_bridge::elf::read_object(&bytes).expect("object reads") {
            out.push((
                format!("{}:{}", f.file_name().unwrap().to_string_lossy(), p.name),
                p,
            ));
        }
    }
    assert!(out.len() >= 4, "expected the example objects");
    out
}

fn packets() -> Vec<Vec<u8>> {
    let mut all = Vec::new();
    for c in ["mixed.pcap", "small.pcapng"] {
        let bytes = std::fs::read(root().join("examples/captures").join(c)).expect("capture");
        all.extend(bpf_bridge::capture::read_frames(&bytes).expect("frames"));
    }
    // Runts and an empty frame exercise the bounds checks.
    all.push(vec![]);
    all.push(vec![0x08; 13]);
    all
}

type Verdicts = Vec<Result<u64, (usize, &'static str)>>;

fn run(e: &mut dyn Engine, pkts: &[Vec<u8>]) -> Verdicts {
    pkts.iter()
        .map(|p| {
            let mut p = p.clone();
            e.run_packet(&mut p).map_err(|f| (f.insn, f.kind.name()))
        })
        .collect()
}

#[test]
fn examples_match_the_interpreter() {
    let pkts = packets();
    assert!(pkts.len() > 20, "{} packets", pkts.len());
    println!("{} packets", pkts.len());
    let pool = ExecPool::new();
    let mut arches = vec![Arch::X86_64];
    arches.extend(emulated_arches());
    for (name, prog) in programs() {
        let verified =
            bpf_bridge::verifier::verify(&prog).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut interp = InterpEngine::new(&prog, Mode::Checked).expect("interp");
        let want = run(&mut interp, &pkts);
        let want_maps = interp.maps();
        println!(
            "{name}: {:?} verdicts {:?}, maps {:?}",
            prog.prog_type,
            &want[..4],
            want_maps.keys()
        );
        assert!(
            want.iter().all(|v| v.is_ok()),
            "{name}: the interpreter faulted"
        );
        for &arch in &arches {
            for facts in [None, Some(&verified.facts)] {
                let mut jit = JitEngine::new(&prog, facts, arch, Options::default(), &pool)
                    .unwrap_or_else(|e| panic!("{name} {arch:?}: {e}"));
                let got = run(&mut jit, &pkts);
                if let Some(e) = jit.emulator_error() {
                    panic!(
                        "{name} on {arch:?}: {e}; map regions {:x?}",
                        jit.map_set().regions()
                    );
                }
                let mode = if facts.is_some() {
                    "verified"
                } else {
                    "checked"
                };
                assert_eq!(got, want, "{name} on {arch:?} ({mode})");
                assert_eq!(jit.maps(), want_maps, "{name} on {arch:?} ({mode}): maps");
            }
        }
    }
}
