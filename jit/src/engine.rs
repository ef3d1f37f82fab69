//! The `jit` [`Engine`]: compiled code plus the interpreter's runtime (maps,
//! helpers, regions, XDP context conversion). Helpers and checks run the very
//! functions the interpreter runs, so the engines can only differ in the code
//! they generate.
//!
//! Native runs are kept cheap: the run context is filled once when the engine
//! is made and each run writes only its inputs (packet pointers, budgets); the
//! generated code calls this module's own host functions, one per helper, on
//! the engine's [`Runtime`] without going through `dyn Host`. Emulated runs
//! use the generic [`Host`] path.

use crate::exec_mem::{
    self, Checked, CodeEntry, ExecCode, ExecMemError, ExecPool, HelperFn, Host, HostFault, RunCtx,
};
use crate::run::{set_region, JitProgram, RunArgs, RunError, BUDGET};
use crate::{abi, Arch, JitError, Options};
use bpf_bridge::context::{ctx_field_value, xdp_load};
use bpf_bridge::engine::{Engine, Fault, FaultKind};
use bpf_bridge::facts::{Access, CtxField, Facts};
use bpf_bridge::helpers::{self, HelperEnv, Prng};
use bpf_bridge::interp::CHECKED_BACK_EDGE_LIMIT;
use bpf_bridge::maps::{map_handle, MapError, MapSet};
use bpf_bridge::memory::{Hit, Memory, Region, Storage, STACK_FRAME_SIZE};
use bpf_bridge::program::{helper_id, ProgType, Program};
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
    checked: bool,
    /// Whether any access is checked at run time (the inline checks need the packet).
    checks: bool,
    /// Whether the code counts may_goto or backward jumps down.
    budgets: bool,
    /// Whether the code calls the runtime (which needs the packet region).
    host: bool,
    /// The entry point when the code runs natively.
    native: Option<CodeEntry>,
    rt: Box<Runtime>,
    /// The `xdp_md` object r1 points to (its loads are converted).
    ctx_obj: Storage,
    /// Per map: its handle, and an array's value address (the code reads both).
    handles: Vec<u64>,
    values: Vec<u64>,
    /// Per map: its values (start, length).
    map_regions: Vec<(u64, u64)>,
    /// The run context of native runs, filled once by [`JitEngine::new`].
    ctx: Box<RunCtx>,
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
        let (_, stack_top) = program.stack_range();
        let mut rt = Box::new(Runtime {
            maps,
            mem: Memory::default(),
            stack_top,
            prog_type: prog.prog_type,
            prng: Prng::default(),
            epoch: Instant::now(),
            trace: Box::new(std::io::stderr()),
            fault: None,
        });
        let map_regions = rt
            .maps
            .regions()
            .iter()
            .map(|r| (r.start, r.len()))
            .collect();
        let ctx_obj = Storage::zeroed(CtxField::XDP_MD_SIZE);
        rt.mem.ctx = if prog.prog_type == ProgType::Xdp {
            Region::new(ctx_obj.as_ptr(), ctx_obj.len(), false)
        } else {
            Region::EMPTY
        };
        rt.mem.stack = Region {
            start: stack_top - STACK_FRAME_SIZE as u64,
            end: stack_top,
            writable: true,
        };
        let mut e = JitEngine {
            arch,
            checked: facts.is_none(),
            checks: facts.is_none_or(|f| f.accesses.contains(&Access::Check)),
            // BPF_JMP | BPF_JCOND is may_goto.
            budgets: facts.is_none() || prog.insns.iter().any(|i| i.code == 0xe5),
            // Checks, `call` and `callx` reach the runtime.
            host: facts.is_none_or(|f| f.accesses.contains(&Access::Check))
                || prog.insns.iter().any(|i| i.code == 0x85 || i.code == 0x8d),
            native: program.native_code().map(ExecCode::entry),
            rt,
            ctx_obj,
            handles,
            values,
            map_regions,
            ctx: Box::default(),
            emulator_error: None,
            program,
        };
        e.fill_ctx();
        Ok(e)
    }

    /// Fills the native run context: inputs of an empty packet, and this
    /// module's host functions.
    fn fill_ctx(&mut self) {
        let mut ctx = RunCtx::default();
        let args = run_args(
            self.rt.prog_type,
            &self.ctx_obj,
            &self.handles,
            &self.values,
            &self.map_regions,
        );
        self.program.fill_ctx(&mut ctx, &args);
        ctx.set(abi::HOST_CHECK, rt_check as *const () as u64);
        ctx.set(abi::HOST_HELPER, rt_helper_by_id as *const () as u64);
        ctx.set(abi::HOST_CALLX, rt_callx as *const () as u64);
        for (i, f) in RT_HELPERS.iter().enumerate() {
            ctx.set(abi::HELPERS + 8 * i as i32, *f as *const () as u64);
        }
        *self.ctx = ctx;
    }

    /// The compiled code.
    pub fn compiled(&self) -> &crate::Compiled {
        self.program.compiled()
    }

    /// Sends `trace_printk` output to `w` instead of stderr.
    pub fn set_trace(&mut self, w: Box<dyn Write + Send>) {
        self.rt.trace = w;
    }

    /// Reseeds `get_prandom_u32`.
    pub fn set_prng_seed(&mut self, seed: u64) {
        self.rt.prng = Prng::new(seed);
    }

    /// Why the last emulated run failed with an `engine` fault, if it did.
    pub fn emulator_error(&self) -> Option<&str> {
        self.emulator_error.as_deref()
    }

    /// The maps.
    pub fn map_set(&self) -> &MapSet {
        &self.rt.maps
    }

    /// The maps, mutably (to preload them).
    pub fn map_set_mut(&mut self) -> &mut MapSet {
        &mut self.rt.maps
    }

    /// A run in this process's own executable memory: only the inputs that
    /// change are written (the rest of the context was filled by `fill_ctx`).
    #[inline(always)]
    fn run_native(&mut self, code: CodeEntry, packet: Region) -> Result<u64, RunError> {
        let ctx = &mut *self.ctx;
        match self.rt.prog_type {
            ProgType::Raw => {
                ctx.set(abi::R1, packet.start);
                ctx.set(abi::R2, packet.len());
            }
            ProgType::Xdp => {
                ctx.set(abi::XDP_FIELDS, packet.start);
                ctx.set(abi::XDP_FIELDS + 8, packet.end);
                ctx.set(abi::XDP_FIELDS + 16, packet.start);
            }
        }
        if self.checks {
            set_region(ctx, abi::PKT_REGION, packet.start, packet.len());
        }
        if self.budgets {
            ctx.set(abi::BUDGET, BUDGET);
            ctx.set(abi::LOOPS, CHECKED_BACK_EDGE_LIMIT);
        }
        ctx.set(abi::FAULT_KIND, 0);
        if self.host {
            ctx.set(abi::ENV, &mut *self.rt as *mut Runtime as u64);
        }
        // SAFETY: `code` is `self.program`'s; `fill_ctx` filled the context
        // as `abi` describes and installed this module's host functions, which take `abi::ENV` as the
        // runtime set just above; `self.rt` is not touched until the code returns.
        let r0 = unsafe { code.run_installed(ctx) };
        match ctx.get(abi::FAULT_KIND) {
            0 => Ok(r0),
            _ => self.program.outcome(ctx, r0),
        }
    }

    /// A run under the emulator, through the generic [`Host`] path.
    #[cold]
    #[inline(never)]
    fn run_emulated(&mut self, packet: Region) -> Result<u64, RunError> {
        let mut args = run_args(
            self.rt.prog_type,
            &self.ctx_obj,
            &self.handles,
            &self.values,
            &self.map_regions,
        );
        args.packet = (packet.start, packet.len());
        match self.rt.prog_type {
            ProgType::Raw => {
                args.r1 = packet.start;
                args.r2 = packet.len();
            }
            ProgType::Xdp => {
                for (slot, f) in args.xdp.iter_mut().zip(XDP_FIELDS) {
                    *slot = ctx_field_value(f, packet);
                }
            }
        }
        self.program.run(&args, &mut *self.rt)
    }
}

/// What stays the same between runs (the inputs of an empty packet).
fn run_args<'a>(
    prog_type: ProgType,
    ctx_obj: &Storage,
    handles: &'a [u64],
    values: &'a [u64],
    map_regions: &'a [(u64, u64)],
) -> RunArgs<'a> {
    let mut args = RunArgs {
        maps: handles,
        map_values: values,
        map_regions,
        loop_budget: CHECKED_BACK_EDGE_LIMIT,
        ..RunArgs::default()
    };
    if prog_type == ProgType::Xdp {
        args.r1 = ctx_obj.as_ptr() as u64;
        for (slot, f) in args.xdp.iter_mut().zip(XDP_FIELDS) {
            *slot = ctx_field_value(f, Region::EMPTY);
        }
    }
    args
}

/// The `xdp_md` fields in [`abi::XDP_FIELDS`] order.
const XDP_FIELDS: [CtxField; 6] = [
    CtxField::XdpData,
    CtxField::XdpDataEnd,
    CtxField::XdpDataMeta,
    CtxField::XdpIngressIfindex,
    CtxField::XdpRxQueueIndex,
    CtxField::XdpEgressIfindex,
];

/// The interpreter's runtime, for the generated code's host functions.
struct Runtime {
    maps: MapSet,
    mem: Memory,
    stack_top: u64,
    prog_type: ProgType,
    prng: Prng,
    epoch: Instant,
    trace: Box<dyn Write + Send>,
    fault: Option<FaultKind>,
}

impl Runtime {
    fn fail(&mut self, kind: FaultKind) -> HostFault {
        self.fault = Some(kind);
        HostFault
    }

    /// The stack region covers the frames in use: from the current r10's frame up.
    #[inline(always)]
    fn set_fp(&mut self, fp: u64) {
        self.mem.stack.start = fp.wrapping_sub(STACK_FRAME_SIZE as u64).min(self.stack_top);
    }

    /// Helper `id` with the regions as they are.
    #[inline(always)]
    fn call(&mut self, id: i32, args: [u64; 5]) -> Result<u64, FaultKind> {
        match id {
            helper_id::MAP_LOOKUP_ELEM => {
                helpers::map_lookup(&self.maps, &self.mem, args[0], args[1])
            }
            helper_id::MAP_UPDATE_ELEM => helpers::map_update(&mut self.maps, &self.mem, args),
            _ => {
                let mut env = HelperEnv {
                    maps: &mut self.maps,
                    mem: &self.mem,
                    prog_type: self.prog_type,
                    prng: &mut self.prng,
                    epoch: self.epoch,
                    trace: &mut *self.trace,
                };
                helpers::call(&mut env, id, args)
            }
        }
    }
}

impl Host for Runtime {
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
        self.call(id, args).map_err(|k| self.fail(k))
    }
}

/// The run context and the runtime of the run in progress.
///
/// # Safety
/// `ctx` must be the context a native run of [`JitEngine::run_native`] entered
/// the code with (its `abi::ENV` is that engine's runtime, which nothing else
/// touches until the code returns).
#[inline(always)]
unsafe fn parts<'a>(ctx: *mut RunCtx) -> (&'a mut RunCtx, &'a mut Runtime) {
    // SAFETY: per the contract.
    unsafe {
        let ctx = &mut *ctx;
        let rt = &mut *(ctx.get(abi::ENV) as *mut Runtime);
        (ctx, rt)
    }
}

/// Helper `ID` from its own slot: a direct call, no dispatch on the id.
extern "C" fn rt_helper<const ID: i32>(
    r1: u64,
    r2: u64,
    r3: u64,
    r4: u64,
    r5: u64,
    ctx: *mut RunCtx,
) -> u64 {
    // SAFETY: generated code passes the context it was entered with.
    let (ctx, rt) = unsafe { parts(ctx) };
    rt.set_fp(ctx.get(abi::CUR_FP));
    match rt.call(ID, [r1, r2, r3, r4, r5]) {
        Ok(v) => v,
        Err(k) => {
            rt.fault = Some(k);
            ctx.set(abi::FAULT_KIND, crate::FaultKind::Host as u64);
            0
        }
    }
}

/// The helper slots of native runs.
const RT_HELPERS: [HelperFn; abi::HELPER_SLOTS] = [
    rt_helper::<1>,
    rt_helper::<2>,
    rt_helper::<3>,
    rt_helper::<4>,
    rt_helper::<5>,
    rt_helper::<6>,
    rt_helper::<7>,
    rt_helper::<8>,
];

/// A helper without a slot (an id luabpf does not implement).
extern "C" fn rt_helper_by_id(
    r1: u64,
    r2: u64,
    r3: u64,
    r4: u64,
    r5: u64,
    ctx: *mut RunCtx,
) -> u64 {
    // SAFETY: generated code passes the context it was entered with.
    let (ctx, rt) = unsafe { parts(ctx) };
    let id = ctx.get(abi::HELPER_ID);
    exec_mem::helper_with(ctx, rt, id, false, [r1, r2, r3, r4, r5])
}

extern "C" fn rt_callx(r1: u64, r2: u64, r3: u64, r4: u64, r5: u64, ctx: *mut RunCtx) -> u64 {
    // SAFETY: generated code passes the context it was entered with.
    let (ctx, rt) = unsafe { parts(ctx) };
    let id = ctx.get(abi::HELPER_ID);
    exec_mem::helper_with(ctx, rt, id, true, [r1, r2, r3, r4, r5])
}

extern "C" fn rt_check(ctx: *mut RunCtx, addr: u64, packed: u64) -> abi::CheckRet {
    // SAFETY: generated code passes the context it was entered with.
    let (ctx, rt) = unsafe { parts(ctx) };
    exec_mem::check_with(ctx, rt, addr, packed)
}

impl Engine for JitEngine {
    fn name(&self) -> &str {
        "jit"
    }

    fn arch(&self) -> Option<&str> {
        Some(self.arch.name())
    }

    fn run_packet(&mut self, pkt: &mut [u8]) -> Result<u64, Fault> {
        let packet = if pkt.is_empty() {
            Region::EMPTY
        } else {
            Region::new(pkt.as_mut_ptr(), pkt.len(), true)
        };
        // The stack region follows r10 at each host call; the context's is fixed.
        if self.host || self.native.is_none() {
            self.rt.mem.packet.start = packet.start;
            self.rt.mem.packet.end = packet.end;
        }
        let r = match self.native {
            Some(code) => self.run_native(code, packet),
            None => self.run_emulated(packet),
        };
        match r {
            Ok(r0) => Ok(r0),
            Err(e) => Err(self.fault(e)),
        }
    }

    fn maps(&self) -> BTreeMap<String, MapContents> {
        self.rt.maps.dump()
    }
}

impl JitEngine {
    #[cold]
    fn fault(&mut self, e: RunError) -> Fault {
        match e {
            RunError::Fault(f) => {
                let kind = match f.kind {
                    crate::FaultKind::Host => self
                        .rt
                        .fault
                        .unwrap_or(FaultKind::Engine("host fault without a cause")),
                    crate::FaultKind::CallDepth => FaultKind::CallDepth,
                    crate::FaultKind::BackEdgeLimit => FaultKind::BackEdgeLimit,
                    crate::FaultKind::BadMapValue => {
                        FaultKind::Engine("map set does not match the program")
                    }
                };
                Fault { insn: f.pc, kind }
            }
            RunError::Emulator(e) => {
                self.emulator_error = Some(e);
                Fault {
                    insn: 0,
                    kind: FaultKind::Engine("emulator failure"),
                }
            }
        }
    }
}
