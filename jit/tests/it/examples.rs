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

/// Checked loads of every size and offset of an XDP context, and of a packet
/// byte through the converted pointer: the inline field load and the host
/// check agree with the interpreter on every architecture.
#[test]
fn checked_xdp_context_loads() {
    use bpf_bridge::isa::{encode_program, AluOp, Op, Reg, Size, Src, Width};
    use bpf_bridge::program::ProgType;
    let pool = ExecPool::new();
    let mut arches = vec![Arch::X86_64];
    arches.extend(emulated_arches());
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        for signed in [false, true] {
            if signed && size == Size::DW {
                continue;
            }
            for off in [-4i16, -1, 0, 1, 2, 4, 8, 12, 16, 20, 21, 22, 24] {
                let load = |dst, off| Op::Load {
                    size,
                    signed,
                    dst,
                    base: Reg::R1,
                    off,
                };
                // r0 = the field; when it is `data`, also add the first packet byte.
                let ops = [
                    load(Reg::R0, off),
                    Op::Jmp {
                        width: Width::W64,
                        op: bpf_bridge::isa::JmpOp::Ne,
                        dst: Reg::R0,
                        src: Src::Reg(Reg::R0),
                        off: 0,
                    },
                    Op::Alu {
                        width: Width::W64,
                        op: AluOp::Mov,
                        dst: Reg::R2,
                        src: Src::Reg(Reg::R0),
                    },
                    Op::Load {
                        size: Size::W,
                        signed: false,
                        dst: Reg::R3,
                        base: Reg::R1,
                        off: 4,
                    },
                    Op::Jmp {
                        width: Width::W64,
                        op: bpf_bridge::isa::JmpOp::Ne,
                        dst: Reg::R2,
                        src: Src::Reg(Reg::R3),
                        off: 1,
                    },
                    Op::Exit,
                    Op::Load {
                        size: Size::B,
                        signed: false,
                        dst: Reg::R0,
                        base: Reg::R2,
                        off: 0,
                    },
                    Op::Exit,
                ];
                let ops = if off == 0 && size == Size::W && !signed {
                    &ops[..]
                } else {
                    &ops[..1]
                };
                let mut ops = ops.to_vec();
                if ops.len() == 1 {
                    ops.push(Op::Exit);
                }
                let prog = Program::new("ctx", ProgType::Xdp, encode_program(&ops));
                let pkts = vec![vec![0x5a; 20], vec![]];
                let mut interp = InterpEngine::new(&prog, Mode::Checked).expect("interp");
                let want = run(&mut interp, &pkts);
                // Pointers differ between engines: compare faults exactly, values
                // only when they are not addresses.
                let shape = |v: &Verdicts| -> Vec<Result<Option<u64>, (usize, &'static str)>> {
                    v.iter()
                        .map(|r| r.map(|x| (x < 0x1_0000).then_some(x)))
                        .collect()
                };
                for &arch in &arches {
                    let mut e = JitEngine::new(&prog, None, arch, Options::default(), &pool)
                        .expect("JIT loads");
                    let got = run(&mut e, &pkts);
                    assert_eq!(
                        shape(&got),
                        shape(&want),
                        "{arch:?} {size:?} signed={signed} off={off}"
                    );
                }
            }
        }
    }
}

/// Array lookups the JIT inlines in verified mode (keys in and out of range,
/// values of a size that is not a power of two) agree with the interpreter
/// on every architecture, and so do the maps afterwards.
#[test]
fn inlined_array_lookups() {
    let text = "
.map a array key=4 value=12 entries=5
.map b array key=4 value=8 entries=3
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 1
    jgt %r4, %r3, miss
    ldxb %r6, [%r2+0]
    stxw [%r10-4], %r6
    lddw %r1, map:a
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, miss
    ldxw %r1, [%r0+8]
    add %r1, 7
    stxw [%r0+8], %r1
    lddw %r1, map:b
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, miss
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    mov %r0, 1
    exit
miss:
    mov %r0, 2
    exit
";
    let prog = bpf_bridge::asm::assemble(text)
        .expect("assembles")
        .into_program("arrays", bpf_bridge::program::ProgType::Xdp);
    let facts = bpf_bridge::verifier::verify(&prog).expect("verifies").facts;
    let pkts: Vec<Vec<u8>> = (0..8u8).map(|k| vec![k, 0, 0, 0]).collect();
    let mut interp = InterpEngine::new(&prog, Mode::Checked).expect("interp");
    let want = run(&mut interp, &pkts);
    assert!(want.contains(&Ok(1)) && want.contains(&Ok(2)), "{want:?}");
    let pool = ExecPool::new();
    let mut arches = vec![Arch::X86_64];
    arches.extend(emulated_arches());
    for arch in arches {
        let mut e = JitEngine::new(&prog, Some(&facts), arch, Options::default(), &pool)
            .expect("JIT loads");
        assert_eq!(run(&mut e, &pkts), want, "{arch:?}");
        assert_eq!(e.maps(), interp.maps(), "{arch:?}");
    }
}
