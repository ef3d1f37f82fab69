//! Counted packet loops whose counter test the JIT folds into the
//! `data_end` guard in verified mode (`jit::guard_loop`): every counter start
//! (below, at and past the bound, and the values whose add wraps), strides,
//! bounds, early exits, stores, and tails that read what the fold drops
//! (where it must decline), on frames of many lengths; interpreter against
//! the JIT in checked and in verified mode.

use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::program::ProgType;
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};

/// The loop of `bench/loops/*.s` with its parts as parameters: from byte
/// `start` of the frame, stride `k`, bound `n`, counter from `c0`; `K1` in
/// `body` stands for `k - 1` (the stride's last byte).
pub(super) fn source(start: i32, k: i32, n: i32, c0: i64, body: &str, tail: &str) -> String {
    let body = body.replace("K1", &(k - 1).to_string());
    // (Only where a jump goes: the verifier rejects unreachable code.)
    let out = if body.contains("out5") {
        "out5:\n    sub %r5, %r8\n    mov %r0, %r5\n    exit\n"
    } else if body.contains("out") {
        "out:\n    mov %r0, 1000\n    exit\n"
    } else {
        ""
    };
    format!(
        "    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    add %r2, {start}
    mov %r8, %r2
    mov %r0, 0
    mov %r4, {c0}
loop:
    mov %r5, %r2
    add %r5, {k}
    jgt %r5, %r3, done
    ldxb %r6, [%r2+0]
{body}
    mov %r2, %r5
    add %r4, 1
    jlt %r4, {n}, loop
done:
{tail}
    exit
{out}"
    )
}

/// The advance skipped on some bytes: the fold must decline (folded, an
/// iteration that keeps p would not count, and the loop need not end). Our
/// verifier gives up on it past a few iterations, after a million slots.
const SKIPS_ADVANCE: &str = "    add %r0, %r6\n    jne %r6, 0x0a, +1";

const BODIES: [&str; 9] = [
    // A hash of the bytes: depends on how many iterations ran.
    "    mul %r0, 31\n    add %r0, %r6",
    // An early exit on a byte value.
    "    add %r0, %r6\n    jeq %r6, 0x7f, out\n    add %r0, 1",
    // A store into the frame, and the branch-free count.
    "    add %r6, 1\n    stxb [%r2+0], %r6\n    jne %r6, 0x0b, +1\n    add %r0, 1",
    // The pointer read again after it moved.
    "    add %r0, %r6\n    ldxb %r7, [%r2+0]\n    add %r0, %r7",
    SKIPS_ADVANCE,
    // The guard's register read in the body: the latch recomputes it.
    "    add %r0, %r6\n    ldxb %r7, [%r5-1]\n    add %r0, %r7",
    // The guard's register read where an early exit goes: likewise.
    "    add %r0, %r6\n    jeq %r6, 0x7f, out5",
    // The advance's add may go early only up to the jump (p += k there).
    "    jeq %r6, 0x7f, +1\n    add %r0, 1\n    add %r0, %r6",
    // The last read of p folded into the compare after it.
    "    add %r0, %r6\n    ldxb %r7, [%r2+0]\n    jeq %r7, 3, out\n    mul %r0, 3",
];

const TAILS: [&str; 4] = [
    "",
    // The counter, read after the loop: the fold must decline.
    "    add %r0, %r4",
    // The guard's register, read after the loop: likewise.
    "    jgt %r5, %r3, +1\n    add %r0, 77",
    // Where the pointer stopped.
    "    sub %r2, %r8\n    lsh %r2, 20\n    add %r0, %r2",
];

fn frame(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 % 251) as u8 ^ 0x0a).collect()
}

type Outcome = Result<(u64, Vec<u8>), (usize, &'static str)>;

fn run(e: &mut dyn Engine, len: usize) -> Outcome {
    let mut f = frame(len);
    let r = e.run_packet(&mut f).map_err(|f| (f.insn, f.kind.name()))?;
    Ok((r, f))
}

/// How [`agrees`] runs the JIT.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Modes {
    Checked,
    /// When our verifier accepts the program.
    Verified,
    Both,
}

/// Runs the XDP program `text` on the interpreter and on the JIT for
/// `arch` in `modes` on frames of lengths `lens`; returns whether it ran
/// verified.
pub(super) fn agrees(
    arch: Arch,
    pool: &ExecPool,
    text: &str,
    modes: Modes,
    lens: &[usize],
) -> bool {
    let prog = bpf_bridge::asm::assemble(text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .into_program("guard", ProgType::Xdp);
    let mut interp = InterpEngine::new(&prog, Mode::Checked).expect("interp");
    let facts = match modes {
        Modes::Checked => None,
        _ => bpf_bridge::verifier::verify(&prog).ok().map(|v| v.facts),
    };
    let mut modes = if modes == Modes::Verified {
        vec![]
    } else {
        vec![None]
    };
    modes.extend(facts.as_ref().map(Some));
    for facts in modes {
        let mut jit = JitEngine::new(&prog, facts, arch, Options::default(), pool).expect("JIT");
        for &len in lens {
            let want = run(&mut interp, len);
            let got = run(&mut jit, len);
            let verified = facts.is_some();
            assert_eq!(
                got, want,
                "{arch:?}, frame {len}, verified {verified}:\n{text}"
            );
        }
    }
    facts.is_some()
}

/// Every shape on `arch` for the bounds `ns` on frames of lengths `lens`,
/// checked and (when the verifier accepts it) verified; returns how many
/// were verified.
fn check(arch: Arch, ns: &[i32], lens: &[usize]) -> usize {
    let pool = ExecPool::new();
    let mut verified = 0;
    for k in [1, 2, 3] {
        for &n in ns {
            let n64 = n as i64;
            for c0 in [0, 1, n64 - 1, n64, n64 + 3, -1, -2] {
                for body in BODIES {
                    for tail in TAILS {
                        let text = source(0, k, n, c0, body, tail);
                        let modes = if body == SKIPS_ADVANCE && n > 5 {
                            Modes::Checked
                        } else {
                            Modes::Both
                        };
                        verified += agrees(arch, &pool, &text, modes, lens) as usize;
                    }
                }
            }
        }
    }
    verified
}

#[test]
fn folded_counter_loops_match_the_interpreter() {
    let lens = [0, 1, 2, 3, 4, 5, 8, 9, 17, 64, 301, 700];
    let verified = check(Arch::X86_64, &[1, 2, 5, 40], &lens);
    // Most shapes pass the verifier (its loop bound is the counter).
    assert!(verified > 200, "{verified} verified");
}

/// aarch64 and riscv64 (emulated) fold them the same way.
#[test]
fn folded_counter_loops_on_emulated_arches() {
    for arch in super::harness::emulated_arches() {
        check(arch, &[5], &[0, 1, 2, 3, 5, 9, 64]);
    }
}
