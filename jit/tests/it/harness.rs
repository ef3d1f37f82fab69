//! Running programs on the JIT engine and on the interpreter (the reference).

use bpf_bridge::engine::{Engine, Fault};
use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::isa::Insn;
use bpf_bridge::program::{ProgType, Program};
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};

/// Outcome of a run: r0, or the fault as (slot, kind name); addresses differ
/// between engines (each has its own stack and packet copy).
pub type Outcome = Result<u64, (usize, &'static str)>;

fn outcome(r: Result<u64, Fault>) -> Outcome {
    r.map_err(|f| (f.insn, f.kind.name()))
}

fn program(insns: &[Insn]) -> Program {
    Program::new("t", ProgType::Raw, insns.to_vec())
}

/// Facts proving every access: valid for an input on which the checked run
/// stayed in bounds.
pub fn all_proven(insns: &[Insn]) -> Facts {
    Facts {
        accesses: vec![Access::Proven; insns.len()],
        max_stack: 512,
    }
}

/// The interpreter in checked mode.
pub fn reference(insns: &[Insn], mem: &mut [u8]) -> Outcome {
    let mut e = InterpEngine::new(&program(insns), Mode::Checked).expect("interpreter loads");
    outcome(e.run_packet(mem))
}

/// Runs on the JIT for `arch` (emulated unless it is the host's); verified
/// mode when `facts` are given.
pub fn jit_run_on(
    arch: Arch,
    insns: &[Insn],
    mem: &mut [u8],
    opts: Options,
    facts: Option<&Facts>,
) -> Outcome {
    let pool = ExecPool::new();
    let mut e = JitEngine::new(&program(insns), facts, arch, opts, &pool).expect("JIT loads");
    outcome(e.run_packet(mem))
}

/// Runs on the x86_64 JIT in checked mode.
pub fn jit_run(insns: &[Insn], mem: &mut [u8], opts: Options) -> Outcome {
    jit_run_on(Arch::X86_64, insns, mem, opts, None)
}

/// Runs on the interpreter and the x86_64 JIT (plain, long branches, blinded
/// with movbe, and verified when the run stays in bounds) and asserts they
/// agree on r0 or the fault, and on memory.
#[track_caller]
pub fn check_same(insns: &[Insn], mem: &[u8]) -> Outcome {
    let mut m1 = mem.to_vec();
    let want = reference(insns, &mut m1);
    for opts in [
        Options::default(),
        Options {
            shrink_branches: false,
            ..Options::default()
        },
        Options {
            blind: Some(0x5eed_1234_abcd_0001),
            movbe: true,
            ..Options::default()
        },
    ] {
        let mut m = mem.to_vec();
        let got = jit_run(insns, &mut m, opts);
        assert_eq!(got, want, "options {opts:?}, program {insns:?}");
        if want.is_ok() {
            assert_eq!(m, m1, "memory differs, options {opts:?}");
        }
    }
    if want.is_ok() {
        let mut m = mem.to_vec();
        let got = jit_run_on(
            Arch::X86_64,
            insns,
            &mut m,
            Options::default(),
            Some(&all_proven(insns)),
        );
        assert_eq!(got, want, "verified mode, program {insns:?}");
        assert_eq!(m, m1, "memory differs in verified mode");
    }
    want
}

/// Architectures to test besides x86_64 (emulated).
pub fn emulated_arches() -> Vec<Arch> {
    if cfg!(feature = "emulate") {
        vec![Arch::Aarch64, Arch::Riscv64]
    } else {
        Vec::new()
    }
}

/// Runs on the interpreter and every emulated architecture (checked, then
/// verified with all-proven facts when the run stays in bounds).
#[track_caller]
pub fn check_emulated(insns: &[Insn], mem: &[u8]) {
    let mut m1 = mem.to_vec();
    let want = reference(insns, &mut m1);
    for arch in emulated_arches() {
        let mut m = mem.to_vec();
        let got = jit_run_on(arch, insns, &mut m, Options::default(), None);
        assert_eq!(got, want, "{arch:?} checked, program {insns:?}");
        if want.is_ok() {
            assert_eq!(m, m1, "{arch:?}: memory differs");
            let mut m = mem.to_vec();
            let got = jit_run_on(
                arch,
                insns,
                &mut m,
                Options::default(),
                Some(&all_proven(insns)),
            );
            assert_eq!(got, want, "{arch:?} verified, program {insns:?}");
            assert_eq!(m, m1, "{arch:?}: memory differs (verified)");
        }
    }
}
