//! The bpf_conformance test format and runner, over any engine.
//!
//! A `.data` file has sections introduced by `-- NAME` lines: `asm` (the program
//! in assembly), `raw` (the program as one 64-bit hex word per slot), `mem` (input
//! memory as hex bytes), `result` (expected r0 in hex) or `error` (the program must
//! be refused or fault); `c` and `no register offset` are ignored, and `#` starts a
//! comment line. A file with an unknown section is skipped, with the reason.
//!
//! Programs run as [`ProgType::Raw`](crate::program::ProgType::Raw): r1 = the
//! memory (0 when there is none), r2 = its length, helper 5 returns its first
//! argument. Engines plug in through [`ConformanceEngine`].

mod parse;
mod plugin;
mod runner;

pub use parse::{parse, Expect, ParseError, Vector};
pub use plugin::{parse_hex, plugin_run};
pub use runner::{
    run_dir, run_file, run_vector, ConformanceEngine, FileResult, InterpConformance, Outcome,
    Summary,
};
