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
    /// The engine failed to run the packet (e.g. the map set does not belong to
    /// the program, or a bpf() call failed).
    Engine(&'static str),
    /// The engine could not present the packet to the program, so it was not
    /// run: no verdict, but no fault of the program either (e.g. a frame the
    /// kernel cannot show an XDP program whole). The text is the cause;
    /// [`FaultSummary`] counts these by it.
    NotRun(&'static str),
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
            FaultKind::NotRun(_) => "not-run",
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
            FaultKind::Engine(why) | FaultKind::NotRun(why) => write!(f, "{why}"),
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

/// Per-kind fault counts of a capture run, and the packets not run by cause.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FaultSummary {
    /// Packets that faulted (not counting packets not run).
    pub count: usize,
    /// By [`FaultKind::name`]: how many, and the first fault of that kind.
    /// Packets not run are not here but in [`FaultSummary::not_run`].
    pub by_kind: BTreeMap<&'static str, (usize, Fault)>,
    /// Packets not run ([`FaultKind::NotRun`]), by cause.
    pub not_run: BTreeMap<&'static str, usize>,
}

impl FaultSummary {
    /// Records one fault, or one packet not run.
    pub fn add(&mut self, fault: Fault) {
        if let FaultKind::NotRun(cause) = fault.kind {
            *self.not_run.entry(cause).or_default() += 1;
            return;
        }
        self.count += 1;
        self.by_kind
            .entry(fault.kind.name())
            .and_modify(|(n, _)| *n += 1)
            .or_insert((1, fault));
    }

    /// Whether any packet really faulted (packets not run do not count).
    pub fn faulted(&self) -> bool {
        self.count > 0
    }

    /// Packets not run, all causes together.
    pub fn not_run_total(&self) -> usize {
        self.not_run.values().sum()
    }
}

impl fmt::Display for FaultSummary {
    /// One line per kind, `N packets faulted (KIND), first: instruction I: …`,
    /// then one per cause of packets not run, `N packets not run (CAUSE): no verdict`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, (n, first)) in &self.by_kind {
            writeln!(f, "{n} packets faulted ({name}), first: {first}")?;
        }
        for (cause, n) in &self.not_run {
            writeln!(f, "{n} packets not run ({cause}): no verdict")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_not_run_are_counted_by_cause_apart_from_faults() {
        let mut s = FaultSummary::default();
        let not_run = |cause| Fault {
            insn: 0,
            kind: FaultKind::NotRun(cause),
        };
        s.add(not_run("too short"));
        s.add(not_run("too long"));
        s.add(not_run("too short"));
        assert!(!s.faulted());
        assert_eq!(s.not_run_total(), 3);
        assert_eq!(s.not_run["too short"], 2);
        assert_eq!(s.not_run["too long"], 1);
        s.add(Fault {
            insn: 7,
            kind: FaultKind::CallDepth,
        });
        assert!(s.faulted());
        assert_eq!(s.count, 1);
        assert_eq!(
            s.to_string(),
            "1 packets faulted (call-depth), first: instruction 7: call depth exceeds 8 frames\n\
             1 packets not run (too long): no verdict\n\
             2 packets not run (too short): no verdict\n"
        );
    }
}
