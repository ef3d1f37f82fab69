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
    /// What went wrong.
    pub kind: FaultKind,
    /// For out-of-bounds accesses, the address.
    pub addr: u64,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            FaultKind::OutOfBounds => write!(
                f,
                "instruction {}: out-of-bounds access at {:#x}",
                self.pc, self.addr
            ),
            FaultKind::CallDepth => write!(
                f,
                "instruction {}: call depth exceeds {MAX_FRAMES} frames",
                self.pc
            ),
            FaultKind::LoopBudget => write!(f, "instruction {}: loop budget exhausted", self.pc),
            FaultKind::Helper => write!(f, "instruction {}: helper call failed", self.pc),
        }
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
}

/// Compiled code loaded into executable memory with its stack.
pub struct NativeProgram {
    code: ExecCode,
    compiled: Compiled,
    stack: Box<Stack>,
}

impl NativeProgram {
    /// Loads x86_64 code for running on this machine.
    pub fn load(compiled: &Compiled, pool: &ExecPool) -> Result<NativeProgram, ExecMemError> {
        if compiled.arch != crate::Arch::X86_64 || !cfg!(target_arch = "x86_64") {
            return Err(ExecMemError(format!(
                "cannot run {} code on this machine",
                compiled.arch.name()
            )));
        }
        let code = pool.load(&compiled.code, compiled.trap_fill())?;
        Ok(NativeProgram {
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

    /// Runs once; r0 or the fault.
    #[cfg(target_arch = "x86_64")]
    pub fn run(&mut self, args: &RunArgs<'_>, host: &mut dyn Host) -> Result<u64, Fault> {
        let mut ctx = RunCtx::default();
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
        let r0 = self.code.run(&self.compiled, &mut ctx, host);
        match FaultKind::from_code(ctx.get(abi::FAULT_KIND)) {
            None => Ok(r0),
            Some(kind) => Err(Fault {
                pc: ctx.get(abi::FAULT_PC) as usize,
                kind,
                addr: ctx.get(abi::HELPER_ID),
            }),
        }
    }
}
