//! Folded packet loops the JIT runs two iterations a trip
//! (`jit/src/lower/unroll.rs`): strides of 1 to 8 bytes, loads at both ends
//! of a stride, stores through the pointer, branch-free and branching
//! counts, jumps inside the body and onto its advance, the advance's add at
//! each place it may go; limits from the frame's end and from the trip bound
//! (0, 1, 2, odd and even trip counts, counters started anywhere), the
//! pointer and the frame read after the loop; and bodies just outside the
//! shape (the pointer read as a value, an exit from the middle), which keep
//! one iteration a trip. Interpreter against the JIT, verified when our
//! verifier accepts the program, on every architecture.

use super::guard_loops::{agrees, source, Modes};
use jit::exec_mem::ExecPool;
use jit::Arch;

/// Bodies after the first load (`r6` = the stride's first byte).
const BODIES: [&str; 10] = [
    // The byte count: a compare over one add (branch-free on x86_64).
    "    jne %r6, 0x0a, +1\n    add %r0, 1",
    // A hash over both ends of each stride.
    "    mul %r0, 31\n    add %r0, %r6\n    ldxb %r7, [%r2+K1]\n    xor %r0, %r7",
    // A store through the pointer, then a count of what was stored.
    "    add %r6, 3\n    stxb [%r2+K1], %r6\n    jgt %r6, 0x80, +1\n    add %r0, 1",
    // A jump over several ops, inside the body.
    "    jeq %r6, 0x0d, +3\n    add %r0, %r6\n    mul %r0, 5\n    and %r0, 0xffffff",
    // A jump onto the advance.
    "    add %r0, 2\n    jlt %r6, 0x40, +2\n    add %r0, %r6\n    lsh %r0, 1",
    // A 16-bit load swapped and summed (the checksum's body).
    "    ldxh %r7, [%r2+0]\n    be16 %r7\n    add %r0, %r7",
    // A store of an immediate and a signed compare.
    "    stb [%r2+0], 7\n    jsgt %r6, 0x30, +1\n    sub %r0, 1",
    // The pointer read as a value: one iteration a trip.
    "    mov %r7, %r2\n    sub %r7, %r8\n    add %r0, %r7",
    // An exit from the middle: one iteration a trip.
    "    add %r0, %r6\n    jeq %r6, 0x7f, out",
    // No jump, a long chain (the advance's add may go at any slot).
    "    add %r0, %r6\n    xor %r0, 0x5a\n    rsh %r6, 1\n    add %r0, %r6",
];

const TAILS: [&str; 3] = [
    "",
    // Where the pointer stopped, beside the result.
    "    sub %r2, %r8\n    lsh %r2, 24\n    add %r0, %r2",
    // A byte just past where it stopped, when there is one.
    "    mov %r7, %r2\n    add %r7, 1\n    jgt %r7, %r3, +2\n    ldxb %r7, [%r2+0]\n    add %r0, %r7",
];

/// Every shape on `arch` with strides `ks` and bounds `ns`, verified, on
/// frames of lengths `lens`; returns how many programs ran.
fn check(arch: Arch, ks: &[i32], ns: &[i32], lens: &[usize]) -> usize {
    let pool = ExecPool::new();
    let mut ran = 0;
    for &k in ks {
        for &n in ns {
            let n64 = n as i64;
            for (c0, start) in [(0, 0), (1, 3), (n64 - 2, 1), (n64, 0), (-1, 2)] {
                for body in BODIES {
                    for tail in TAILS {
                        let text = source(start, k, n, c0, body, tail);
                        ran += agrees(arch, &pool, &text, Modes::Verified, lens) as usize;
                    }
                }
            }
        }
    }
    ran
}

#[test]
fn unrolled_loops_match_the_interpreter() {
    let lens: Vec<usize> = (0..=20).chain([31, 32, 33, 64, 255, 700]).collect();
    let ran = check(Arch::X86_64, &[1, 2, 3, 4, 8], &[1, 2, 3, 4, 7, 300], &lens);
    assert!(ran > 1000, "{ran} verified programs");
}

/// aarch64 and riscv64 (emulated) unroll them the same way.
#[test]
fn unrolled_loops_on_emulated_arches() {
    for arch in super::harness::emulated_arches() {
        check(
            arch,
            &[1, 3],
            &[2, 5, 300],
            &[0, 1, 2, 3, 4, 5, 6, 7, 12, 40],
        );
    }
}
