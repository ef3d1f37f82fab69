//! Running compiled code on this machine: the eBPF stack, the run context,
//! budgets, and faults reported as the interpreter reports them.

use crate::abi;
use crate::exec_mem::{ExecCode, ExecMemError, ExecPool, Host, RunCtx};
use crate::lower::FRAME_SIZE;
use crate::{Compiled, FaultKind};

/// Frames of local calls allowed (each with its own 512-byte stack).
pub const MAX_FRAMES: usize = 8;
/// Stack bytes of all frames.
pub const STACK_SIZE: usize = MAX_FRAMES * FRAME_SIZE as usize;
/// Default may_goto and backward-jump budgets per run.
pub const BUDGET: u64 = 65_536;

/// A run that ended early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Slot index of the faulting instruction.
    pub pc: usize,
    /// What went wrong ([`FaultKind::Host`]: the host knows the details).
    pub kind: FaultKind,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            FaultKind::Host => write!(f, "instruction {}: refused by the host", self.pc),
            FaultKind::CallDepth => write!(
                f,
                "instruction {}: call depth exceeds {MAX_FRAMES} frames",
                self.pc
            ),
            FaultKind::BackEdgeLimit => {
                write!(f, "instruction {}: too many backward jumps", self.pc)
            }
            FaultKind::BadMapValue => {
                write!(f, "instruction {}: map has no value address", self.pc)
            }
        }
    }
}

#[cold]
fn fault_of(code: u64, ctx: &RunCtx) -> RunError {
    match FaultKind::from_code(code) {
        Some(kind) => RunError::Fault(Fault {
            pc: ctx.get(abi::FAULT_PC) as usize,
            kind,
        }),
        None => RunError::Emulator(format!("unknown fault code {code}")),
    }
}

#[repr(C, align(16))]
struct Stack([u8; STACK_SIZE]);

/// Everything one run needs besides the host.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunArgs<'a> {
    /// Initial r1 and r2.
    pub r1: u64,
    pub r2: u64,
    /// Per map: the value `lddw` src 1 loads.
    pub maps: &'a [u64],
    /// Per map: address of an array map's first value (0 otherwise).
    pub map_values: &'a [u64],
    /// XDP context fields as 64-bit values (data, data_end, data_meta, ifindex, rxq, egress).
    pub xdp: [u64; 6],
    /// Backward-jump budget in checked mode (0 means [`BUDGET`]).
    pub loop_budget: u64,
    /// The packet (start, length), for the inline checks of checked accesses
    /// (empty: every access goes to the host check).
    pub packet: (u64, u64),
    /// Per map: its values (start, length), for the same inline checks.
    pub map_regions: &'a [(u64, u64)],
}

/// Sets the region block at `block` ([`abi::PKT_REGION`], [`abi::MAP_REGIONS`]).
#[inline(always)]
pub fn set_region(ctx: &mut RunCtx, block: i32, start: u64, len: u64) {
    for (i, w) in abi::region_block(start, len).into_iter().enumerate() {
        ctx.set(block + 8 * i as i32, w);
    }
}

/// Why a run did not produce r0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The program faulted (as the interpreter reports it).
    Fault(Fault),
    /// The emulator failed (a JIT bug or host memory in the emulator's way).
    Emulator(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Fault(x) => x.fmt(f),
            RunError::Emulator(s) => write!(f, "emulator: {s}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Compiled code ready to run: in executable memory (host architecture) or
/// under the emulator (feature `emulate`), with its eBPF stack.
pub struct JitProgram {
    code: Option<ExecCode>,
    compiled: Compiled,
    stack: Box<Stack>,
}

impl JitProgram {
    /// Loads code for running on this machine, natively or emulated.
    pub fn load(compiled: &Compiled, pool: &ExecPool) -> Result<JitProgram, ExecMemError> {
        let native = Some(compiled.arch) == crate::Arch::host();
        let code = if native {
            Some(pool.load(&compiled.code, compiled.trap_fill())?)
        } else if cfg!(feature = "emulate") {
            None
        } else {
            return Err(ExecMemError(format!(
                "cannot run {} code on this machine (build with the `emulate` feature)",
                compiled.arch.name()
            )));
        };
        Ok(JitProgram {
            code,
            compiled: compiled.clone(),
            stack: Box::new(Stack([0; STACK_SIZE])),
        })
    }

    /// The compiled form.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// Address range of the eBPF stack (all frames).
    pub fn stack_range(&self) -> (u64, u64) {
        let base = self.stack.0.as_ptr() as u64;
        (base, base + STACK_SIZE as u64)
    }

    /// The code in this process's executable memory, for native runs.
    pub(crate) fn native_code(&self) -> Option<&ExecCode> {
        self.code.as_ref()
    }

    /// Fills `ctx` for a run with `args` (host functions aside).
    pub fn fill_ctx(&self, ctx: &mut RunCtx, args: &RunArgs<'_>) {
        let (lo, hi) = self.stack_range();
        ctx.set(abi::R1, args.r1);
        ctx.set(abi::R2, args.r2);
        ctx.set(abi::FP, hi);
        ctx.set(abi::STACK_LIMIT, lo + FRAME_SIZE as u64);
        ctx.set(abi::BUDGET, BUDGET);
        ctx.set(
            abi::LOOPS,
            if args.loop_budget == 0 {
                BUDGET
            } else {
                args.loop_budget
            },
        );
        ctx.set(abi::MAPS, args.maps.as_ptr() as u64);
        ctx.set(abi::MAP_VALUES, args.map_values.as_ptr() as u64);
        for (i, v) in args.xdp.iter().enumerate() {
            ctx.set(abi::XDP_FIELDS + 8 * i as i32, *v);
        }
        set_region(ctx, abi::PKT_REGION, args.packet.0, args.packet.1);
        for (i, &(start, len)) in args
            .map_regions
            .iter()
            .take(abi::MAP_REGIONS_MAX)
            .enumerate()
        {
            let block = abi::MAP_REGIONS + 8 * abi::REGION_WORDS * i as i32;
            set_region(ctx, block, start, len);
        }
    }

    /// r0, or the fault the code left in `ctx`.
    #[inline(always)]
    pub(crate) fn outcome(&self, ctx: &RunCtx, r0: u64) -> Result<u64, RunError> {
        match ctx.get(abi::FAULT_KIND) {
            0 => Ok(r0),
            code => Err(fault_of(code, ctx)),
        }
    }

    /// Runs once; r0 or the fault.
    pub fn run(&mut self, args: &RunArgs<'_>, host: &mut dyn Host) -> Result<u64, RunError> {
        let mut ctx = RunCtx::default();
        self.fill_ctx(&mut ctx, args);
        let r0 = match &self.code {
            Some(code) => code.run(&mut ctx, host),
            None => {
                // Tables the code reads besides the stack: map handles and values.
                let tables = [
                    (args.maps.as_ptr() as u64, 8 * args.maps.len() as u64),
                    (
                        args.map_values.as_ptr() as u64,
                        8 * args.map_values.len() as u64,
                    ),
                ];
                self.emulate(&mut ctx, &tables, host)?
            }
        };
        self.outcome(&ctx, r0)
    }

    #[cfg(feature = "emulate")]
    fn emulate(
        &mut self,
        ctx: &mut RunCtx,
        tables: &[(u64, u64)],
        host: &mut dyn Host,
    ) -> Result<u64, RunError> {
        let (lo, _) = self.stack_range();
        let mut regions = vec![(lo, STACK_SIZE as u64)];
        regions.extend_from_slice(tables);
        crate::emulate::run(&self.compiled, ctx, &regions, host)
            .map_err(|e| RunError::Emulator(e.0))
    }

    #[cfg(not(feature = "emulate"))]
    fn emulate(
        &mut self,
        _ctx: &mut RunCtx,
        _tables: &[(u64, u64)],
        _host: &mut dyn Host,
    ) -> Result<u64, RunError> {
        Err(RunError::Emulator(
            "built without the `emulate` feature".into(),
        ))
    }
}
