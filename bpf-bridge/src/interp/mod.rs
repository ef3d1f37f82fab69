//! The reference engine: an interpreter over a pre-translated form of the program.
//!
//! [`Interpreter::new`] decodes the program once ([`crate::isa::decode_program`])
//! and translates it into a compact internal form (see `code.rs`); [`Interpreter::run`]
//! executes it with no allocation. In [`Mode::Checked`] every memory access is
//! checked against the run's regions; in [`Mode::Verified`] only the accesses the
//! verifier did not prove are.
//!
//! **Trust.** `Mode::Verified` trusts its [`Facts`]: an access marked
//! [`Access::Proven`](crate::facts::Access::Proven) runs unchecked, so facts must
//! come from luabpf's verifier (or, in tests, be written by hand with care).
//!
//! **Calls.** Helper calls leave r1–r5 unchanged (programs the verifier accepts
//! never read them after a call; other engines may clobber them). The stack of a
//! run is not cleared between runs: its initial contents are unspecified.

mod code;
mod exec;

pub use exec::{CHECKED_BACK_EDGE_LIMIT, MAY_GOTO_BUDGET};

use crate::engine::{Engine, Fault, FaultKind};
use crate::facts::Facts;
use crate::helpers::Prng;
use crate::isa::{decode_program, DecodeError};
use crate::maps::{MapError, MapSet};
use crate::memory::{Storage, MAX_FRAMES, STACK_SIZE};
use crate::program::{MapDef, ProgType, Program};
use crate::report::MapContents;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// How memory accesses are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every access checked at run time: safe for any program.
    Checked,
    /// The verifier's per-slot facts decide which accesses stay checked.
    Verified(Facts),
}

/// Why a program cannot be loaded into the interpreter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The bytecode does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The facts do not describe this program.
    #[error("the facts cover {facts} slots but the program has {slots}")]
    FactsLength {
        /// Entries in the facts.
        facts: usize,
        /// Slots in the program.
        slots: usize,
    },
    /// An instruction the interpreter cannot run as given.
    #[error("instruction {insn}: {reason}")]
    Invalid {
        /// Slot index.
        insn: usize,
        /// What is wrong.
        reason: String,
    },
    /// A map cannot be created.
    #[error(transparent)]
    Map(#[from] MapError),
}

/// Saved state of a caller frame.
#[derive(Clone, Copy, Debug, Default)]
struct Frame {
    ret: usize,
    saved: [u64; 4],
}

/// Per-interpreter run state, reused across runs.
struct State {
    stack: Storage,
    /// Backing bytes of the XDP context object (its address is what r1 holds).
    ctx: Storage,
    frames: [Frame; MAX_FRAMES],
    prng: Prng,
    epoch: Instant,
    trace: Box<dyn Write + Send>,
    back_edge_limit: u64,
}

/// A loaded program, ready to run on packets.
pub struct Interpreter {
    code: Vec<code::CInsn>,
    prog_type: ProgType,
    maps: Vec<MapDef>,
    bounded: bool,
    state: State,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("slots", &self.code.len())
            .field("prog_type", &self.prog_type)
            .field("checked", &self.bounded)
            .finish()
    }
}

impl Interpreter {
    /// Decodes and translates `prog` for `mode`.
    pub fn new(prog: &Program, mode: Mode) -> Result<Interpreter, LoadError> {
        let ops = decode_program(&prog.insns)?;
        let (facts, bounded) = match mode {
            Mode::Checked => (Facts::unproven(ops.len()), true),
            Mode::Verified(f) => (f, false),
        };
        let code = code::translate(&ops, &facts, prog.prog_type, &prog.maps, bounded)?;
        Ok(Interpreter {
            code,
            prog_type: prog.prog_type,
            maps: prog.maps.clone(),
            bounded,
            state: State {
                stack: Storage::zeroed(STACK_SIZE),
                ctx: Storage::zeroed(crate::facts::CtxField::XDP_MD_SIZE),
                frames: [Frame::default(); MAX_FRAMES],
                prng: Prng::default(),
                epoch: Instant::now(),
                trace: Box::new(std::io::stderr()),
                back_edge_limit: CHECKED_BACK_EDGE_LIMIT,
            },
        })
    }

    /// Sends `trace_printk` output to `w` instead of stderr.
    pub fn set_trace(&mut self, w: Box<dyn Write + Send>) {
        self.state.trace = w;
    }

    /// Sets how many backward jumps a checked-mode run may take before it faults
    /// with [`FaultKind::BackEdgeLimit`] (default [`CHECKED_BACK_EDGE_LIMIT`];
    /// verified mode has no limit: the verifier proved termination).
    pub fn set_back_edge_limit(&mut self, limit: u64) {
        self.state.back_edge_limit = limit;
    }

    /// Reseeds `get_prandom_u32`.
    pub fn set_prng_seed(&mut self, seed: u64) {
        self.state.prng = Prng::new(seed);
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.code.len()
    }

    /// Whether the program is empty (never: decoding refuses empty programs).
    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// Runs once on `input` (the packet, or the `raw` memory) with `maps`, which
    /// must be the program's own (created from its [`Program::maps`]).
    pub fn run(&mut self, maps: &mut MapSet, input: &mut [u8]) -> Result<u64, Fault> {
        if maps.len() != self.maps.len() || !maps.defs().eq(self.maps.iter()) {
            return Err(Fault {
                insn: 0,
                kind: FaultKind::Engine("map set does not match the program"),
            });
        }
        if self.bounded {
            exec::execute::<true>(&self.code, &mut self.state, maps, self.prog_type, input)
        } else {
            exec::execute::<false>(&self.code, &mut self.state, maps, self.prog_type, input)
        }
    }
}

/// The interpreter with its maps: the `interp` [`Engine`].
#[derive(Debug)]
pub struct InterpEngine {
    interp: Interpreter,
    maps: MapSet,
}

impl InterpEngine {
    /// Loads `prog` and creates its maps.
    pub fn new(prog: &Program, mode: Mode) -> Result<InterpEngine, LoadError> {
        Ok(InterpEngine {
            maps: MapSet::new(&prog.maps)?,
            interp: Interpreter::new(prog, mode)?,
        })
    }

    /// The interpreter (to redirect tracing, reseed, …).
    pub fn interpreter_mut(&mut self) -> &mut Interpreter {
        &mut self.interp
    }

    /// The maps.
    pub fn map_set(&self) -> &MapSet {
        &self.maps
    }

    /// The maps, mutably (to preload them).
    pub fn map_set_mut(&mut self) -> &mut MapSet {
        &mut self.maps
    }
}

impl Engine for InterpEngine {
    fn name(&self) -> &str {
        "interp"
    }

    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        self.interp.run(&mut self.maps, pkt)
    }

    fn maps(&self) -> BTreeMap<String, MapContents> {
        self.maps.dump()
    }
}
