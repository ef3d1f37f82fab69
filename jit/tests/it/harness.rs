//! Running programs on the x86_64 JIT with plain memory, and a small
//! reference evaluator built on `isa::semantics`.

use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::{decode_program, semantics, AtomicOp, Insn, Op, Src, Width};
use bpf_bridge::program::{ProgType, Program};
use jit::exec_mem::{ExecPool, HelperFailed, Host};
use jit::run::{JitProgram, RunArgs, RunError, STACK_SIZE};
use jit::{Arch, FaultKind, Options};

/// Regions a run may touch: (start, len).
pub struct TestHost {
    pub regions: Vec<(u64, u64)>,
}

impl Host for TestHost {
    fn check(&mut self, addr: u64, len: usize, _write: bool) -> bool {
        self.regions
            .iter()
            .any(|&(s, l)| addr >= s && addr.checked_add(len as u64).is_some_and(|e| e <= s + l))
    }
    fn helper(&mut self, id: i64, args: [u64; 5]) -> Result<u64, HelperFailed> {
        match id {
            // The conformance suite's helper 5 returns its first argument.
            5 => Ok(args[0]),
            _ => Err(HelperFailed),
        }
    }
}

/// Outcome of a run: r0 or (pc, kind).
pub type Outcome = Result<u64, (usize, FaultKind)>;

/// Runs `insns` on the JIT (checked mode) with `mem` as r1/r2.
pub fn jit_run(insns: &[Insn], mem: &mut [u8], opts: Options) -> Outcome {
    jit_run_facts(insns, mem, opts, None)
}

/// Runs on the JIT in verified mode when `facts` are given.
pub fn jit_run_facts(
    insns: &[Insn],
    mem: &mut [u8],
    opts: Options,
    facts: Option<&Facts>,
) -> Outcome {
    jit_run_on(Arch::X86_64, insns, mem, opts, facts)
}

/// Runs on the JIT for `arch` (emulated unless it is the host's).
pub fn jit_run_on(
    arch: Arch,
    insns: &[Insn],
    mem: &mut [u8],
    opts: Options,
    facts: Option<&Facts>,
) -> Outcome {
    let prog = Program::new("t", ProgType::Raw, insns.to_vec());
    let c = jit::compile(&prog, facts, arch, opts).expect("compiles");
    let pool = ExecPool::new();
    let mut p = JitProgram::load(&c, &pool).expect("loads");
    let (lo, _) = p.stack_range();
    let mut host = TestHost {
        regions: vec![
            (mem.as_ptr() as u64, mem.len() as u64),
            (lo, STACK_SIZE as u64),
        ],
    };
    let args = RunArgs {
        r1: mem.as_mut_ptr() as u64,
        r2: mem.len() as u64,
        ..RunArgs::default()
    };
    p.run(&args, &mut host).map_err(|e| match e {
        RunError::Fault(f) => (f.pc, f.kind),
        RunError::Emulator(e) => panic!("{e}\n{}", c.disassemble()),
    })
}

/// The reference: a direct evaluation of the ops with `isa::semantics`,
/// over memory addressed as (region, offset).
pub fn reference(insns: &[Insn], mem: &mut [u8]) -> Outcome {
    let ops = decode_program(insns).expect("decodes");
    let mut stack = vec![0u8; STACK_SIZE];
    const MEM: u64 = 1 << 40;
    const STK: u64 = 2 << 40;
    let mut r = [0u64; 11];
    r[1] = MEM;
    r[2] = mem.len() as u64;
    r[10] = STK + STACK_SIZE as u64;
    let mut calls: Vec<(usize, [u64; 4])> = Vec::new();
    let mut pc = 0usize;
    let mut loops = jit::run::BUDGET;
    let mut budget = jit::run::BUDGET;
    let oob = |pc| Err((pc, FaultKind::OutOfBounds));
    macro_rules! slice {
        ($addr:expr, $n:expr, $pc:expr) => {{
            let a: u64 = $addr;
            let n = $n as u64;
            if a >= MEM && a - MEM + n <= mem.len() as u64 && a >= MEM {
                &mut mem[(a - MEM) as usize..(a - MEM + n) as usize]
            } else if a >= STK && a - STK + n <= STACK_SIZE as u64 {
                &mut stack[(a - STK) as usize..(a - STK + n) as usize]
            } else {
                return oob($pc);
            }
        }};
    }
    fn rd(b: &[u8]) -> u64 {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(x)
    }
    fn wr(b: &mut [u8], v: u64) {
        let n = b.len();
        b.copy_from_slice(&v.to_le_bytes()[..n]);
    }
    loop {
        let op = ops[pc];
        let next = pc + 1;
        let val = |s: Src, r: &[u64; 11]| match s {
            Src::Reg(x) => r[x.idx()],
            Src::Imm(i) => semantics::imm_operand(i),
        };
        let mut jump = None;
        match op {
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => r[dst.idx()] = semantics::alu(width, op, r[dst.idx()], val(src, &r)),
            Op::Neg { width, dst } => r[dst.idx()] = semantics::neg(width, r[dst.idx()]),
            Op::Endian { kind, bits, dst } => {
                r[dst.idx()] = semantics::endian(kind, bits, r[dst.idx()])
            }
            Op::LoadImm64 { dst, value } => r[dst.idx()] = value,
            Op::LoadMap { .. } | Op::LoadMapValue { .. } => panic!("no maps in tests"),
            Op::LddwHigh => {}
            Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            } => {
                let a = r[base.idx()].wrapping_add(off as i64 as u64);
                let v = rd(slice!(a, size.bytes(), pc));
                r[dst.idx()] = semantics::extend_load(size, signed, v);
            }
            Op::Store {
                size,
                base,
                off,
                src,
            } => {
                let a = r[base.idx()].wrapping_add(off as i64 as u64);
                let v = val(src, &r);
                wr(slice!(a, size.bytes(), pc), v);
            }
            Op::Atomic {
                width,
                op,
                fetch,
                base,
                off,
                src,
            } => {
                let a = r[base.idx()].wrapping_add(off as i64 as u64);
                let n = if width == Width::W64 { 8 } else { 4 };
                let old = rd(slice!(a, n, pc));
                let s = r[src.idx()];
                if op == AtomicOp::Cmpxchg {
                    let (store, r0) = semantics::cmpxchg(width, old, r[0], s);
                    wr(slice!(a, n, pc), store);
                    r[0] = r0;
                } else {
                    let new = semantics::atomic_rmw(width, op, old, s);
                    wr(slice!(a, n, pc), new);
                    if fetch {
                        r[src.idx()] = old;
                    }
                }
            }
            Op::Ja { off } => {
                let t = (next as i64 + off as i64) as usize;
                if t <= pc {
                    if loops == 0 {
                        return Err((pc, FaultKind::LoopBudget));
                    }
                    loops -= 1;
                }
                jump = Some(t);
            }
            Op::Jmp {
                width,
                op,
                dst,
                src,
                off,
            } => {
                if semantics::jmp_taken(width, op, r[dst.idx()], val(src, &r)) {
                    let t = (next as i64 + off as i64) as usize;
                    if t <= pc {
                        if loops == 0 {
                            return Err((pc, FaultKind::LoopBudget));
                        }
                        loops -= 1;
                    }
                    jump = Some(t);
                }
            }
            Op::MayGoto { off } => {
                if budget == 0 {
                    jump = Some((next as i64 + off as i64) as usize);
                } else {
                    budget -= 1;
                }
            }
            Op::Call { helper } => match helper {
                5 => r[0] = r[1],
                _ => return Err((pc, FaultKind::Helper)),
            },
            Op::CallReg { reg } => match r[reg.idx()] {
                5 => r[0] = r[1],
                _ => return Err((pc, FaultKind::Helper)),
            },
            Op::CallLocal { off } => {
                if calls.len() + 1 >= jit::run::MAX_FRAMES {
                    return Err((pc, FaultKind::CallDepth));
                }
                calls.push((next, [r[6], r[7], r[8], r[9]]));
                r[10] -= 512;
                jump = Some((next as i64 + off as i64) as usize);
            }
            Op::Exit => match calls.pop() {
                None => return Ok(r[0]),
                Some((ret, saved)) => {
                    r[6..10].copy_from_slice(&saved);
                    r[10] += 512;
                    jump = Some(ret);
                }
            },
        }
        pc = jump.unwrap_or(next + (op.slots() == 2) as usize);
    }
}

/// Runs on both and asserts they agree (memory too); returns the outcome.
#[track_caller]
pub fn check_same(insns: &[Insn], mem: &[u8]) -> Outcome {
    let mut m1 = mem.to_vec();
    let mut m2 = mem.to_vec();
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
        let mut m = m2.clone();
        let got = jit_run(insns, &mut m, opts);
        assert_eq!(got, want, "options {opts:?}, program {insns:?}");
        if want.is_ok() {
            assert_eq!(m, m1, "memory differs, options {opts:?}");
        }
        m2.copy_from_slice(mem);
    }
    if want.is_ok() {
        // The run stayed in bounds, so every access is "proven" for this input:
        // verified mode must agree without any check.
        let facts = Facts {
            accesses: vec![Access::Proven; insns.len()],
            max_stack: 512,
        };
        let mut m = mem.to_vec();
        let got = jit_run_facts(insns, &mut m, Options::default(), Some(&facts));
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

/// Runs on the reference and on every emulated architecture (checked, then
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
            let facts = Facts {
                accesses: vec![Access::Proven; insns.len()],
                max_stack: 512,
            };
            let mut m = mem.to_vec();
            let got = jit_run_on(arch, insns, &mut m, Options::default(), Some(&facts));
            assert_eq!(got, want, "{arch:?} verified, program {insns:?}");
            assert_eq!(m, m1, "{arch:?}: memory differs (verified)");
        }
    }
}
