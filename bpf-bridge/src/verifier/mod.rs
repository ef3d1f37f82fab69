//! The verifier: one check every program passes before it runs in verified mode.
//!
//! It follows the Linux verifier's design: structure checks ([`cfg`]), then a
//! path-sensitive abstract interpretation over registers typed as scalars
//! (a [`tnum::Tnum`] plus signed/unsigned 64/32-bit ranges, [`bounds`]) or
//! pointers with offsets, and per-byte stack state ([`state`]), exploring
//! both edges of each branch with refinement and pruning states covered by
//! explored ones ([`prune`]). Like the kernel, scalars are imprecise until
//! their value matters for safety; then the path's history is walked back and
//! what they derive from is marked precise (`precise.rs`), and pruning compares
//! only precise scalars and stack slots that may still be read
//! (`stack_live.rs`). Because a pointer here is a host address, it is
//! stricter than the kernel is with root: no read of uninitialised stack, and
//! no pointer ever leaves the sandbox as a number.
//!
//! [`verify`] is a pure function of the program: easy to fuzz.

mod bounds;
mod call;
pub mod cfg;
mod check;
mod error;
mod jump;
mod marks;
mod mem;
mod pending;
mod points;
mod precise;
mod prune;
mod stack_live;
mod state;
mod store;
pub mod tnum;

pub use bounds::Scalar;
pub use error::{Rule, VerifyError};

use crate::facts::{Access, Facts};
use crate::isa::Op;
use crate::program::Program;
use core::fmt;

/// Limits of the analysis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Instructions processed over all paths before giving up (the kernel's 1M).
    pub max_processed: u64,
    /// States held for pruning at once (bounds memory; beyond it no new
    /// state is recorded).
    pub max_states: usize,
    /// States kept per instruction (older complete ones are forgotten).
    pub max_states_per_insn: usize,
    /// Branches waiting to be explored (the kernel's jump sequence limit).
    pub max_pending: usize,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        VerifierConfig {
            max_processed: 1_000_000,
            max_states: 32_768,
            max_states_per_insn: 16,
            max_pending: 8_192,
        }
    }
}

/// Numbers about one verification.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Stats {
    /// Instruction slots in the program.
    pub insns: usize,
    /// Instructions processed over all explored paths.
    pub processed: u64,
    /// Most states held at once (recorded for pruning plus pending branches).
    pub peak_states: usize,
    /// States recorded for pruning.
    pub total_states: usize,
    /// Largest stack depth of any frame, in bytes.
    pub max_stack: u32,
    /// Longest path from entry to exit in instructions; `None` when a loop is
    /// only bounded by may_goto's run-time budget.
    pub worst_case_path: Option<u64>,
}

/// An accepted program's facts for the engines, and statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// What the engines may rely on.
    pub facts: Facts,
    /// Analysis statistics.
    pub stats: Stats,
}

/// Verifies `prog` with the default limits.
pub fn verify(prog: &Program) -> Result<Verified, VerifyError> {
    verify_with(prog, &VerifierConfig::default())
}

/// Verifies `prog` with the given limits.
pub fn verify_with(prog: &Program, config: &VerifierConfig) -> Result<Verified, VerifyError> {
    let with_source = |mut e: VerifyError| {
        if let Some(sm) = &prog.source {
            if let Some(li) = sm.lookup(e.insn) {
                e.source = Some((sm.file.clone(), li.line));
            }
        }
        e
    };
    let cfg = cfg::build(prog).map_err(with_source)?;
    let mut ck = check::Checker::new(prog, &cfg, config);
    ck.run().map_err(with_source)?;
    // Memory accesses no path reached keep their run-time check.
    let accesses = ck
        .accesses
        .iter()
        .zip(&cfg.ops)
        .map(|(a, op)| match (a, op) {
            (Some(a), _) => *a,
            (None, Op::Load { .. } | Op::Store { .. } | Op::Atomic { .. }) => Access::Check,
            (None, _) => Access::Proven,
        })
        .collect();
    let stats = Stats {
        insns: cfg.ops.len(),
        processed: ck.processed,
        peak_states: ck.peak_states,
        total_states: ck.total_states,
        max_stack: ck.max_stack,
        worst_case_path: (!ck.unbounded).then_some(ck.worst),
    };
    Ok(Verified {
        facts: Facts {
            accesses,
            max_stack: ck.max_stack,
        },
        stats,
    })
}

impl Stats {
    /// The statistics as a JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "insns": self.insns,
            "processed": self.processed,
            "peak_states": self.peak_states,
            "total_states": self.total_states,
            "max_stack": self.max_stack,
            "worst_case_path": self.worst_case_path,
        })
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} insns, {} processed, states {} peak / {} total, stack {} bytes, worst-case path ",
            self.insns, self.processed, self.peak_states, self.total_states, self.max_stack
        )?;
        match self.worst_case_path {
            Some(n) => write!(f, "{n} insns"),
            None => write!(f, "unbounded (may_goto)"),
        }
    }
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "accepted: {}", self.stats)
    }
}

#[cfg(test)]
mod tests;
