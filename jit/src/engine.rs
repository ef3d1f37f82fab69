//! The `jit` [`Engine`]: compiled code plus the interpreter's runtime (maps,
//! helpers, regions, XDP context conversion) reached through [`Host`]. Helpers
//! and checks run the very functions the interpreter runs, so the engines can
//! only differ in the code they generate.

use crate::exec_mem::{Checked, ExecMemError, ExecPool, Host, HostFault};
use crate::run::{JitProgram, RunArgs, RunError};
use crate::{abi, Arch, JitError, Options};
use bpf_bridge::context::{ctx_field_value, xdp_load};
use bpf_bridge::engine::{Engine, Fault, FaultKind};
use bpf_bridge::facts::{CtxField, Facts};
use bpf_bridge::helpers::{self, HelperEnv, Prng};
use bpf_bridge::interp::CHECKED_BACK_EDGE_LIMIT;
use bpf_bridge::maps::{map_handle, MapError, MapSet};
use bpf_bridge::memory::{Hit, Memory, Region, Storage, STACK_FRAME_SIZE};
use bpf_bridge::program::{ProgType, Program};
use bpf_bridge::report::MapContents;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// Why the JIT engine could not be set up.
#[derive(Debug)]
pub enum EngineError {
    /// Code generation failed.
    Compile(JitError),
    /// Executable memory could not be had (or the architecture cannot run here).
    Load(ExecMemError),
    /// A map cannot be created.
    Map(MapError),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Compile(e) => write!(f, "{e}"),
            EngineError::Load(e) => write!(f, "{e}"),
            EngineError::Map(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// A compiled program with its maps, runnable on packets.
pub struct JitEngine {
    program: JitProgram,
    arch: Arch,
    maps: MapSet,
    prog_type: ProgType,
    checked: bool,
    ctx_obj: Storage,
    handles: Vec<u64>,
    values: Vec<u64>,
    prng: Prng,
    epoch: Instant,
    trace: Box<dyn Write + Send>,
    emulator_error: Option<String>,
}

impl std::fmt::Debug for JitEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitEngine")
            .field("arch", &self.arch)
            .field("checked", &self.checked)
            .finish()
    }
}

impl JitEngine {
    /// Compiles `prog` for `arch` (verified mode with `facts`, else checked),
    /// loads it (natively, or emulated with the `emulate` feature) and creates its maps.
    pub fn new(
        prog: &Program,
        facts: Option<&Facts>,
        arch: Arch,
        opts: Options,
        pool: &ExecPool,
    ) -> Result<JitEngine, EngineError> {
        let compiled = crate::compile(prog, facts, arch, opts).map_err(EngineError::Compile)?;
        let program = JitProgram::load(&compiled, pool).map_err(EngineError::Load)?;
        let maps = MapSet::new(&prog.maps).map_err(EngineError::Map)?;
        let handles = (0..prog.maps.len() as u32).map(map_handle).collect();
        let values = (0..prog.maps.len())
            .map(|i| maps.array_value_addr(i, 0).unwrap_or(0))
            .collect();
        Ok(JitEngine {
            program,
            arch,
            maps,
            prog_type: prog.prog_type,
            checked: facts.is_none(),
            ctx_obj: Storage::zeroed(CtxField::XDP_MD_SIZE),
            handles,
            values,
            prng: Prng::default(),
            epoch: Instant::now(),
            trace: Box::new(std::io::stderr()),
            emulator_error: None,
        })
    }

    /// The compiled code.
    pub fn compiled(&self) -> &crate::Compiled {
        self.program.compiled()
    }

    /// Sends `trace_printk` output to `w` instead of stderr.
    pub fn set_trace(&mut self, w: Box<dyn Write + Send>) {
        self.trace = w;
    }

    /// Reseeds `get_prandom_u32`.
    pub fn set_prng_seed(&mut self, seed: u64) {
        self.prng = Prng::new(seed);
    }

    /// Why the last emulated run failed with an `engine` fault, if it did.
    pub fn emulator_error(&self) -> Option<&str> {
        self.emulator_error.as_deref()
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

/// The interpreter's runtime seen through [`Host`].
struct BridgeHost<'a> {
    maps: &'a mut MapSet,
    mem: Memory,
    stack_top: u64,
    prog_type: ProgType,
    prng: &'a mut Prng,
    epoch: Instant,
    trace: &'a mut dyn Write,
    fault: Option<FaultKind>,
}

impl BridgeHost<'_> {
    fn fail(&mut self, kind: FaultKind) -> HostFault {
        self.fault = Some(kind);
        HostFault
    }

    /// The stack region covers the frames in use: from the current r10's frame up.
    fn set_fp(&mut self, fp: u64) {
        self.mem.stack.start = fp.wrapping_sub(STACK_FRAME_SIZE as u64).min(self.stack_top);
    }
}

impl Host for BridgeHost<'_> {
    fn check(&mut self, addr: u64, packed: u64, fp: u64) -> Result<Checked, HostFault> {
        self.set_fp(fp);
        let size = (packed & 0xf) as u8;
        let write = packed & abi::ACCESS_WRITE != 0;
        let signed = packed & abi::ACCESS_SIGNED != 0;
        let atomic = packed & abi::ACCESS_ATOMIC != 0;
        // The same classification and faults as the interpreter's checked accesses.
        match self
            .mem
            .check(self.maps.regions(), addr, size as u64, write)
        {
            Some(Hit::Plain) => Ok(Checked::Plain),
            Some(Hit::Ctx(off)) if self.prog_type == ProgType::Xdp && !signed => {
                match xdp_load(off, size as usize, self.mem.packet) {
                    Ok(v) => Ok(Checked::Value(v)),
                    Err(k) => Err(self.fail(k)),
                }
            }
            Some(Hit::Ctx(off)) => Err(self.fail(FaultKind::BadCtxAccess { off, size })),
            None if write && !atomic && self.mem.ctx.contains(addr, 1) => {
                let off = addr - self.mem.ctx.start;
                Err(self.fail(FaultKind::BadCtxAccess { off, size }))
            }
            None => Err(self.fail(FaultKind::OutOfBounds { addr, size, write })),
        }
    }

    fn helper(&mut self, id: u64, callx: bool, args: [u64; 5], fp: u64) -> Result<u64, HostFault> {
        self.set_fp(fp);
        let id = if callx {
            match i32::try_from(id) {
                Ok(i) if helpers::is_known(i) => i,
                _ => return Err(self.fail(FaultKind::BadCallx(id))),
            }
        } else {
            id as i32
        };
        let mut env = HelperEnv {
            maps: &mut *self.maps,
            mem: &self.mem,
            prog_type: self.prog_type,
            prng: &mut *self.prng,
            epoch: self.epoch,
            trace: &mut *self.trace,
        };
        helpers::call(&mut env, id, args).map_err(|k| self.fail(k))
    }
}

impl Engine for JitEngine {
    fn name(&self) -> &str {
        "jit"
    }

    fn arch(&self) -> Option<&str> {
        Some(self.arch.name())
    }

    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        let (_, stack_top) = self.program.stack_range();
        let packet = if pkt.is_empty() {
            Region::EMPTY
        } else {
            Region::new(pkt.as_mut_ptr(), pkt.len(), true)
        };
        let mut mem = Memory {
            ctx: Region::EMPTY,
            stack: Region {
                start: stack_top - STACK_FRAME_SIZE as u64,
                end: stack_top,
                writable: true,
            },
            packet,
        };
        let mut args = RunArgs {
            maps: &self.handles,
            map_values: &self.values,
            loop_budget: CHECKED_BACK_EDGE_LIMIT,
            ..RunArgs::default()
        };
        match self.prog_type {
            ProgType::Raw => {
                args.r1 = packet.start;
                args.r2 = pkt.len() as u64;
            }
            ProgType::Xdp => {
                mem.ctx = Region::new(self.ctx_obj.as_ptr(), self.ctx_obj.len(), false);
                args.r1 = mem.ctx.start;
                let fields = [
                    CtxField::XdpData,
                    CtxField::XdpDataEnd,
                    CtxField::XdpDataMeta,
                    CtxField::XdpIngressIfindex,
                    CtxField::XdpRxQueueIndex,
                    CtxField::XdpEgressIfindex,
                ];
                for (slot, f) in args.xdp.iter_mut().zip(fields) {
                    *slot = ctx_field_value(f, packet);
                }
            }
        }
        let mut host = BridgeHost {
            maps: &mut self.maps,
            mem,
            stack_top,
            prog_type: self.prog_type,
            prng: &mut self.prng,
            epoch: self.epoch,
            trace: &mut *self.trace,
            fault: None,
        };
        match self.program.run(&args, &mut host) {
            Ok(r0) => Ok(r0),
            Err(RunError::Fault(f)) => {
                let kind = match f.kind {
                    crate::FaultKind::Host => host
                        .fault
                        .unwrap_or(FaultKind::Engine("host fault without a cause")),
                    crate::FaultKind::CallDepth => FaultKind::CallDepth,
                    crate::FaultKind::BackEdgeLimit => FaultKind::BackEdgeLimit,
                    crate::FaultKind::BadMapValue => {
                        FaultKind::Engine("map set does not match the program")
                    }
                };
                Err(Fault { insn: f.pc, kind })
            }
            Err(RunError::Emulator(e)) => {
                self.emulator_error = Some(e);
                Err(Fault {
                    insn: 0,
                    kind: FaultKind::Engine("emulator failure"),
                })
            }
        }
    }

    fn maps(&self) -> BTreeMap<String, MapContents> {
        self.maps.dump()
    }
}
