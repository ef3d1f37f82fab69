//! The verifier against its corpus (`tests/verifier/*.s`) and the live kernel,
//! on random programs (never a panic) and on pathological ones (clear errors
//! within the limits).
//!
//! Each corpus file starts with header comments:
//! `# expect: accept|reject` (our verdict), `# kernel: accept|reject` (Linux's
//! verdict when loaded as XDP by root), `# rule: NAME` (the rule we report)
//! and `# why: ...`, which starts with `differs:` exactly when the two verdicts
//! differ on purpose.

use bpf_bridge::asm::assemble;
use bpf_bridge::isa::{
    encode_program, AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Reg, Size, Src, Width,
};
use bpf_bridge::program::{MapDef, MapKind, ProgType, Program};
use bpf_bridge::verifier::{verify, verify_with, Rule, VerifierConfig};
use std::path::Path;

struct Case {
    name: String,
    prog: Program,
    expect: bool,
    kernel: bool,
    rule: Option<String>,
    why: String,
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':').map(str::trim))
}

fn verdict(text: &str, key: &str, name: &str) -> bool {
    match header(text, key) {
        Some("accept") => true,
        Some("reject") => false,
        other => panic!("{name}: `# {key}: accept|reject` missing or wrong ({other:?})"),
    }
}

fn corpus() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/verifier")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(p).expect("read corpus file");
            let file = format!("{name}.s");
            let prog = match assemble(&text) {
                Ok(a) => a.into_program_with_source(&name, ProgType::Xdp, &file, &text),
                Err(e) => panic!("{file}: {e}"),
            };
            Case {
                expect: verdict(&text, "expect", &name),
                kernel: verdict(&text, "kernel", &name),
                rule: header(&text, "rule").map(str::to_string),
                why: header(&text, "why").unwrap_or_default().to_string(),
                name,
                prog,
            }
        })
        .collect()
}

#[test]
fn corpus_verdicts_and_rules() {
    let cases = corpus();
    assert!(cases.len() >= 60, "only {} corpus programs", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let differs = c.why.starts_with("differs");
        if differs != (c.expect != c.kernel) {
            failures.push(format!(
                "{}: `why` must start with `differs:` exactly when expect != kernel",
                c.name
            ));
        }
        match (verify(&c.prog), c.expect) {
            (Ok(_), true) => {}
            (Err(e), false) => {
                if let Some(rule) = &c.rule {
                    if e.rule.name() != rule {
                        failures.push(format!("{}: rule {} expected, got {e}", c.name, rule));
                    }
                }
                let line = e.to_string();
                assert!(
                    line.starts_with(&format!("{}.s:", c.name)) || e.source.is_none(),
                    "{line}"
                );
            }
            (Ok(v), false) => failures.push(format!("{}: accepted ({v}), expected reject", c.name)),
            (Err(e), true) => failures.push(format!("{}: rejected, expected accept: {e}", c.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[cfg(target_os = "linux")]
#[test]
fn corpus_against_the_kernel() {
    use bpf_bridge::kernel::{kernel_required, KernelError, KernelProgram};
    let cases = corpus();
    let (mut agree, mut differ) = (0, 0);
    let mut failures = Vec::new();
    for c in &cases {
        let kernel = match KernelProgram::load(&c.prog) {
            Ok(_) => true,
            Err(KernelError::Rejected { .. }) => false,
            Err(KernelError::Unavailable(u)) => {
                assert!(
                    !kernel_required(),
                    "LUABPF_REQUIRE_KERNEL=1 but bpf() is unavailable: {u}"
                );
                println!("skipped: kernel comparison ({u})");
                return;
            }
            Err(e) => panic!("{}: {e}", c.name),
        };
        if kernel != c.kernel {
            failures.push(format!(
                "{}: the kernel {} it, the header says {}",
                c.name,
                if kernel { "accepts" } else { "rejects" },
                if c.kernel { "accept" } else { "reject" }
            ));
        }
        if kernel == c.expect {
            agree += 1;
        } else {
            differ += 1;
        }
    }
    println!(
        "corpus vs kernel: {agree} agree, {differ} differ on purpose, {} programs",
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn reg(rng: &mut Rng) -> Reg {
    Reg::new(rng.pick(&[0u8, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3])).expect("valid")
}

fn src(rng: &mut Rng) -> Src {
    if rng.below(2) == 0 {
        Src::Reg(Reg::new(rng.pick(&[0u8, 1, 2, 3, 4, 6, 10])).expect("valid"))
    } else {
        Src::Imm(rng.pick(&[
            0,
            1,
            2,
            4,
            7,
            8,
            14,
            31,
            63,
            -1,
            -8,
            255,
            0x7fff_ffff,
            i32::MIN,
        ]))
    }
}

/// A random but well-encoded op; jumps go a few slots either way.
fn random_op(rng: &mut Rng) -> Op {
    use AluOp::*;
    let width = if rng.below(3) == 0 {
        Width::W32
    } else {
        Width::W64
    };
    let off = rng.pick(&[0i16, 0, -8, -4, -16, -512, 4, 8, 12, 14, 16, 20, 1, -1]);
    let jo = rng.below(7) as i16 - 2;
    let size = rng.pick(&[Size::B, Size::H, Size::W, Size::DW]);
    match rng.below(16) {
        0..=4 => {
            let op = rng.pick(&[
                Add, Sub, Mul, Div, Sdiv, Or, And, Lsh, Rsh, Mod, Smod, Xor, Mov, Arsh, Mov, Add,
            ]);
            Op::Alu {
                width,
                op,
                dst: reg(rng),
                src: src(rng),
            }
        }
        5 => Op::Alu {
            width: Width::W64,
            op: rng.pick(&[Movsx8, Movsx16, Movsx32]),
            dst: reg(rng),
            src: Src::Reg(reg(rng)),
        },
        6 => Op::Load {
            size,
            signed: rng.below(4) == 0 && size != Size::DW,
            dst: reg(rng),
            base: rng.pick(&[Reg::R1, Reg::R2, Reg::R10, Reg::R0, Reg::R3]),
            off,
        },
        7 => Op::Store {
            size,
            base: rng.pick(&[Reg::R10, Reg::R2, Reg::R0, Reg::R1]),
            off,
            src: src(rng),
        },
        8 | 9 => Op::Jmp {
            width,
            op: rng.pick(&[
                JmpOp::Eq,
                JmpOp::Gt,
                JmpOp::Ge,
                JmpOp::Set,
                JmpOp::Ne,
                JmpOp::Sgt,
                JmpOp::Sge,
                JmpOp::Lt,
                JmpOp::Le,
                JmpOp::Slt,
                JmpOp::Sle,
            ]),
            dst: reg(rng),
            src: src(rng),
            off: jo,
        },
        10 => Op::Call {
            helper: rng.pick(&[1, 2, 3, 5, 6, 7, 8]),
        },
        11 => match rng.below(4) {
            0 => Op::LoadMap {
                dst: reg(rng),
                map: rng.below(2) as u32,
            },
            1 => Op::LoadMapValue {
                dst: reg(rng),
                map: 1,
                offset: rng.pick(&[0, 8]),
            },
            2 => Op::LoadImm64 {
                dst: reg(rng),
                value: rng.next(),
            },
            _ => Op::MayGoto { off: jo },
        },
        12 => Op::Atomic {
            width,
            op: rng.pick(&[
                AtomicOp::Add,
                AtomicOp::Or,
                AtomicOp::Xchg,
                AtomicOp::Cmpxchg,
            ]),
            fetch: rng.below(2) == 0,
            base: rng.pick(&[Reg::R10, Reg::R0]),
            off: rng.pick(&[-8, -16, 0]),
            src: reg(rng),
        },
        13 => Op::Ja { off: jo as i32 },
        14 => Op::Neg {
            width,
            dst: reg(rng),
        },
        _ => Op::Endian {
            kind: rng.pick(&[Endian::Le, Endian::Be, Endian::Swap]),
            bits: rng.pick(&[16, 32, 64]),
            dst: reg(rng),
        },
    }
}

fn random_program(rng: &mut Rng, ty: ProgType) -> Program {
    let n = 2 + rng.below(40) as usize;
    let mut ops: Vec<Op> = Vec::with_capacity(n + 2);
    let mov = |dst: Reg, src: Src| Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst,
        src,
    };
    // A prologue that gives most registers a value: numbers, and for XDP the
    // packet bounds with a few bytes proven.
    ops.push(mov(Reg::R9, Src::Reg(Reg::R1)));
    ops.push(Op::Call { helper: 7 });
    ops.push(mov(Reg::R1, Src::Reg(Reg::R9)));
    ops.push(mov(Reg::R7, Src::Reg(Reg::R0)));
    ops.push(mov(Reg::R0, Src::Imm(rng.pick(&[0, 1, 2]))));
    ops.push(mov(Reg::R4, Src::Imm(rng.pick(&[0, 3, 8, -1]))));
    ops.push(mov(Reg::R5, Src::Reg(Reg::R7)));
    ops.push(Op::Store {
        size: Size::DW,
        base: Reg::R10,
        off: -8,
        src: Src::Imm(1),
    });
    if ty == ProgType::Xdp && rng.below(4) != 0 {
        ops.push(Op::Load {
            size: Size::W,
            signed: false,
            dst: Reg::R2,
            base: Reg::R1,
            off: 0,
        });
        ops.push(Op::Load {
            size: Size::W,
            signed: false,
            dst: Reg::R3,
            base: Reg::R1,
            off: 4,
        });
        ops.push(mov(Reg::R6, Src::Reg(Reg::R2)));
        ops.push(Op::Alu {
            width: Width::W64,
            op: AluOp::Add,
            dst: Reg::R6,
            src: Src::Imm(rng.pick(&[4, 8, 16])),
        });
        ops.push(Op::Jmp {
            width: Width::W64,
            op: JmpOp::Gt,
            dst: Reg::R6,
            src: Src::Reg(Reg::R3),
            off: 1,
        });
        ops.push(Op::Ja { off: 1 });
        ops.push(Op::Exit);
    } else {
        ops.push(mov(Reg::R2, Src::Imm(4)));
        ops.push(mov(Reg::R3, Src::Reg(Reg::R10)));
        ops.push(mov(Reg::R6, Src::Imm(9)));
    }
    for _ in 0..n {
        let mut op = random_op(rng);
        if let Op::Atomic {
            width: Width::W64, ..
        }
        | Op::Atomic {
            width: Width::W32, ..
        } = op
        {
            // atomics take only W and DW, which both widths encode
        }
        if let Op::Alu {
            width: Width::W32,
            op: AluOp::Movsx32,
            ..
        } = op
        {
            op = Op::Exit;
        }
        ops.push(op);
    }
    ops.push(Op::Exit);
    let mut p = Program::new("fuzz", ty, encode_program(&ops));
    p.maps = vec![
        MapDef {
            name: "h".into(),
            kind: MapKind::Hash,
            key_size: 4,
            value_size: 8,
            max_entries: 4,
        },
        MapDef {
            name: "a".into(),
            kind: MapKind::Array,
            key_size: 4,
            value_size: 16,
            max_entries: 1,
        },
    ];
    p
}

#[test]
fn random_programs_never_panic() {
    let config = VerifierConfig {
        max_processed: 20_000,
        ..VerifierConfig::default()
    };
    let (mut accepted, mut past_structure) = (0, 0);
    // LUABPF_FUZZ_ITERS raises the count for longer runs.
    let iters: u64 = std::env::var("LUABPF_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ iters);
    for i in 0..iters {
        let ty = if i % 3 == 0 {
            ProgType::Raw
        } else {
            ProgType::Xdp
        };
        let p = random_program(&mut rng, ty);
        // Tiny limits now and then, so the limit paths run too.
        let tiny = VerifierConfig {
            max_processed: 300,
            max_states: 2,
            max_states_per_insn: 1,
            max_pending: 2,
        };
        let config = if i % 5 == 4 { &tiny } else { &config };
        match verify_with(&p, config) {
            Ok(v) => {
                accepted += 1;
                past_structure += 1;
                assert_eq!(v.facts.accesses.len(), p.insns.len());
            }
            Err(e) => {
                if !matches!(
                    e.rule,
                    Rule::Structure
                        | Rule::Unreachable
                        | Rule::Calls
                        | Rule::DivByZero
                        | Rule::ShiftRange
                ) {
                    past_structure += 1;
                }
                let _ = e.to_json();
            }
        }
    }
    println!("random programs: {accepted} accepted, {past_structure} analysed of {iters}");
    assert!(
        past_structure > 5_000,
        "only {past_structure} random programs reached the analysis"
    );
}

/// Random bytes: structure errors, never a panic.
#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(12345);
    for _ in 0..20_000 {
        let n = 1 + rng.below(12) as usize;
        let insns: Vec<Insn> = (0..n).map(|_| Insn::from_u64(rng.next())).collect();
        let _ = verify(&Program::new("bytes", ProgType::Xdp, insns));
    }
}

fn asm_prog(text: &str) -> Program {
    assemble(text)
        .expect("assembles")
        .into_program("p", ProgType::Xdp)
}

#[test]
fn pathological_programs_end_with_clear_errors() {
    // 2^20 straight-line instructions: processed-instruction limit.
    let add = Op::Alu {
        width: Width::W64,
        op: AluOp::Add,
        dst: Reg::R0,
        src: Src::Imm(1),
    };
    let mut ops = vec![add; 1 << 20];
    ops[0] = Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Imm(0),
    };
    ops.push(Op::Exit);
    let long = Program::new("long", ProgType::Xdp, encode_program(&ops));
    let e = verify(&long).unwrap_err();
    assert_eq!(e.rule, Rule::TooComplex, "{e}");
    assert_eq!(e.insn, 1_000_000, "{e}");

    // State explosion: 40 independent diamonds each writing a different
    // stack byte; small limits end it quickly.
    let mut text = String::from("call 7\nmov %r6, %r0\n");
    for i in 0..40 {
        text.push_str(&format!(
            "jset %r6, {}, +1\nstb [%r10-{}], 1\n",
            1u64 << (i % 31),
            i + 1
        ));
    }
    text.push_str("mov %r0, 0\nexit\n");
    let config = VerifierConfig {
        max_processed: 200_000,
        max_states: 1_000,
        ..VerifierConfig::default()
    };
    let e = verify_with(&asm_prog(&text), &config).unwrap_err();
    assert_eq!(e.rule, Rule::TooComplex, "{e}");

    // Many pending branches.
    let config = VerifierConfig {
        max_pending: 16,
        ..VerifierConfig::default()
    };
    let e = verify_with(&asm_prog(&text), &config).unwrap_err();
    assert_eq!(e.rule, Rule::TooComplex, "{e}");
}

/// Runs `p` in checked mode (every access checked) and with the verifier's
/// facts on a few inputs: an accepted program never faults, and both modes agree.
#[track_caller]
fn run_without_faults(name: &str, p: &Program, v: &bpf_bridge::verifier::Verified) {
    use bpf_bridge::engine::FaultKind;
    use bpf_bridge::interp::{Interpreter, Mode};
    use bpf_bridge::maps::MapSet;
    let mut checked = Interpreter::new(p, Mode::Checked).expect("loads");
    let mut verified = Interpreter::new(p, Mode::Verified(v.facts.clone())).expect("loads");
    checked.set_trace(Box::new(std::io::sink()));
    verified.set_trace(Box::new(std::io::sink()));
    for len in [0usize, 1, 7, 14, 42, 64, 300] {
        let input: Vec<u8> = (0..len)
            .map(|i| (i as u8).wrapping_mul(37) ^ 0x5a)
            .collect();
        let mut maps_c = MapSet::new(&p.maps).expect("maps");
        let mut maps_v = MapSet::new(&p.maps).expect("maps");
        let (mut a, mut b) = (input.clone(), input);
        checked.set_prng_seed(len as u64);
        verified.set_prng_seed(len as u64);
        let rc = checked.run(&mut maps_c, &mut a);
        let rv = verified.run(&mut maps_v, &mut b);
        match &rc {
            Err(f) if f.kind == FaultKind::BackEdgeLimit && v.stats.worst_case_path.is_none() => {}
            Err(f) => panic!(
                "{name}: accepted ({}) but faults on {len} bytes: {f:?}",
                v.stats
            ),
            Ok(_) => {}
        }
        // ktime differs between runs.
        let clock = p.prog_type == ProgType::Xdp
            && bpf_bridge::isa::decode_program(&p.insns)
                .expect("decodes")
                .iter()
                .any(|op| matches!(op, Op::Call { helper: 5 } | Op::CallReg { .. }));
        if !clock && !matches!(&rc, Err(f) if f.kind == FaultKind::BackEdgeLimit) {
            assert_eq!(
                rc, rv,
                "{name}: checked and verified runs differ on {len} bytes"
            );
            assert_eq!(a, b, "{name}: packets differ on {len} bytes");
        }
    }
}

#[test]
fn accepted_programs_never_fault() {
    let mut ran = 0;
    for c in corpus().iter().filter(|c| c.expect) {
        let v = verify(&c.prog).expect("accepted");
        run_without_faults(&c.name, &c.prog, &v);
        ran += 1;
    }
    let mut rng = Rng(0x5eed);
    let config = VerifierConfig {
        max_processed: 20_000,
        ..VerifierConfig::default()
    };
    for i in 0..40_000 {
        let ty = if i % 3 == 0 {
            ProgType::Raw
        } else {
            ProgType::Xdp
        };
        let p = random_program(&mut rng, ty);
        if let Ok(v) = verify_with(&p, &config) {
            run_without_faults(&format!("random #{i}"), &p, &v);
            ran += 1;
        }
    }
    println!("ran {ran} accepted programs without faults");
    assert!(ran > 100, "only {ran} accepted programs");
}

/// Mutants of the accepted corpus programs (one offset or immediate nudged):
/// whichever the verifier accepts must run without faults.
#[test]
fn accepted_mutants_never_fault() {
    let mut rng = Rng(0xfeed_beef);
    let (mut tried, mut accepted) = (0, 0);
    for c in corpus().iter().filter(|c| c.expect) {
        for _ in 0..60 {
            let mut p = c.prog.clone();
            let i = rng.below(p.insns.len() as u64) as usize;
            let delta = rng.pick(&[-8i32, -4, -2, -1, 1, 2, 4, 8, 16, 64]);
            let insn = &mut p.insns[i];
            match insn.code & 7 {
                // LDX, ST, STX: the offset
                1..=3 => insn.off = insn.off.wrapping_add(delta as i16),
                // ALU, ALU64, JMP32, JMP: the immediate of the K forms
                4..=7 if insn.code & 8 == 0 && insn.code != 0x85 => {
                    insn.imm = insn.imm.wrapping_add(delta)
                }
                _ => continue,
            }
            tried += 1;
            if let Ok(v) = verify(&p) {
                accepted += 1;
                run_without_faults(&format!("{} mutant of insn {i}", c.name), &p, &v);
            }
        }
    }
    println!("mutants: {accepted} accepted of {tried}");
    assert!(accepted > 300, "only {accepted} mutants accepted");
}
