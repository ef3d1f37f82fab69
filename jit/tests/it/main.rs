//! JIT integration tests: every program runs on the JIT and on a reference,
//! and both must agree on r0, memory and faults.

mod conformance;
mod examples;
mod fused;
mod fuzz_corpus;
mod guard_loops;
mod harness;
mod inverted;
mod loops;
mod ops;
mod random;
mod unrolled;
