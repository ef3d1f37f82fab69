//! What every engine (interpreter, JIT, kernel) implements, the faults that end
//! a run, and running an engine over a capture.

use crate::report::{MapContents, RunReport};
use std::collections::BTreeMap;
use std::fmt;

/// Why a run stopped without a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// A load, store or atomic outside every region (or a store to a read-only one).
    OutOfBounds {
        /// The address accessed.
        addr: u64,
        /// Access size in bytes.
        size: u8,
        /// Whether it was a store (or an atomic).
        write: bool,
    },
    /// A context load that is not a whole, aligned field (or a store to the context).
    BadCtxAccess {
        /// Byte offset into the context.
        off: u64,
        /// Access size in bytes.
        size: u8,
    },
    /// A local call beyond the eighth frame.
    CallDepth,
    /// A call to a helper id luabpf does not implement.
    UnknownHelper(i32),
    /// `callx` with a register value that is not a helper id.
    BadCallx(u64),
    /// A helper received a value that is not a map handle.
    BadMapHandle(u64),
    /// A helper pointer argument outside the regions it may access.
    BadHelperPointer {
        /// The helper id.
        helper: i32,
        /// The pointer.
        addr: u64,
        /// The bytes the helper needed.
        len: u64,
    },
    /// Checked mode ran more backward jumps than its limit (an unverified program
    /// that may not terminate).
    BackEdgeLimit,
    /// The second slot of `lddw` was executed (cannot happen for decoded programs).
    InvalidInsn,
    /// The engine could not run the packet (e.g. the map set does not belong to the
    /// program, or the kernel cannot present a frame that large).
    Engine(&'static str),
}

impl FaultKind {
    /// A short stable name for summaries (`out-of-bounds`, `call-depth`, …).
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::OutOfBounds { .. } => "out-of-bounds",
            FaultKind::BadCtxAccess { .. } => "bad-ctx-access",
            FaultKind::CallDepth => "call-depth",
            FaultKind::UnknownHelper(_) => "unknown-helper",
            FaultKind::BadCallx(_) => "bad-callx",
            FaultKind::BadMapHandle(_) => "bad-map-handle",
            FaultKind::BadHelperPointer { .. } => "bad-helper-pointer",
            FaultKind::BackEdgeLimit => "back-edge-limit",
            FaultKind::InvalidInsn => "invalid-insn",
            FaultKind::Engine(_) => "engine",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FaultKind::OutOfBounds { addr, size, write } => {
                let what = if write { "store" } else { "load" };
                write!(f, "{size}-byte {what} at {addr:#x} outside every region")
            }
            FaultKind::BadCtxAccess { off, size } => {
                write!(f, "invalid {size}-byte context access at offset {off}")
            }
            FaultKind::CallDepth => write!(f, "call depth exceeds 8 frames"),
            FaultKind::UnknownHelper(id) => write!(f, "unknown helper {id}"),
            FaultKind::BadCallx(v) => write!(f, "callx target {v:#x} is not a helper id"),
            FaultKind::BadMapHandle(v) => write!(f, "{v:#x} is not a map"),
            FaultKind::BadHelperPointer { helper, addr, len } => write!(
                f,
                "helper {helper}: pointer {addr:#x} ({len} bytes) outside every region"
            ),
            FaultKind::BackEdgeLimit => write!(f, "too many backward jumps (loop limit)"),
            FaultKind::InvalidInsn => write!(f, "invalid instruction"),
            FaultKind::Engine(why) => write!(f, "{why}"),
        }
    }
}

/// A fault: what happened and at which instruction slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    /// Slot index of the faulting instruction.
    pub insn: usize,
    /// What happened.
    pub kind: FaultKind,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instruction {}: {}", self.insn, self.kind)
    }
}

impl std::error::Error for Fault {}

/// An engine with a loaded program and its maps. A fault ends one run only; maps
/// persist across runs.
pub trait Engine {
    /// The `--engine` name (`interp`, `jit`, `kernel`).
    fn name(&self) -> &str;
    /// The architecture, for JITs.
    fn arch(&self) -> Option<&str> {
        None
    }
    /// Runs the program once on `pkt` (which it may modify) and returns r0.
    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault>;
    /// Every map's contents by name, as [`crate::maps::MapSet::dump`] gives them.
    fn maps(&self) -> BTreeMap<String, MapContents>;
}

/// Per-kind fault counts of a capture run.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FaultSummary {
    /// Packets that faulted.
    pub count: usize,
    /// By [`FaultKind::name`]: how many, and the first fault of that kind.
    pub by_kind: BTreeMap<&'static str, (usize, Fault)>,
}

impl FaultSummary {
    /// Records one fault.
    pub fn add(&mut self, fault: Fault) {
        self.count += 1;
        self.by_kind
            .entry(fault.kind.name())
            .and_modify(|(n, _)| *n += 1)
            .or_insert((1, fault));
    }
}

impl fmt::Display for FaultSummary {
    /// One line per kind: `N packets faulted (KIND), first: instruction I: …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, (n, first)) in &self.by_kind {
            writeln!(f, "{n} packets faulted ({name}), first: {first}")?;
        }
        Ok(())
    }
}

/// Runs `engine` over each packet in order and collects verdicts (r0 as i64,
/// `None` on a fault), the maps afterwards and a fault summary.
pub fn run_capture<E, I, P>(engine: &mut E, packets: I) -> (RunReport, FaultSummary)
where
    E: Engine + ?Sized,
    I: IntoIterator<Item = P>,
    P: AsMut<[u8]>,
{
    let mut faults = FaultSummary::default();
    let mut verdicts = Vec::new();
    for mut pkt in packets {
        match engine.run_packet(pkt.as_mut()) {
            Ok(r0) => verdicts.push(Some(r0 as i64)),
            Err(fault) => {
                faults.add(fault);
                verdicts.push(None);
            }
        }
    }
    let report = RunReport {
        engine: engine.name().to_string(),
        arch: engine.arch().map(str::to_string),
        verdicts,
        maps: engine.maps(),
    };
    (report, faults)
}
