//! Replays the committed `jit_diff` fuzz corpus (`fuzz/corpus/jit_diff/`) under
//! stable Rust with the fuzz target's own check (`fuzz/src/jit_diff.rs`, included
//! by path): the JIT against the interpreter.

#[path = "../../../fuzz/src/input.rs"]
#[allow(dead_code)]
mod input;
#[path = "../../../fuzz/src/interp.rs"]
#[allow(dead_code)]
mod interp;
#[path = "../../../fuzz/src/jit_diff.rs"]
mod jit_diff;
#[path = "../../../fuzz/src/replay.rs"]
mod replay;

#[test]
fn jit_diff_corpus() {
    replay::replay("jit_diff", jit_diff::check);
}
