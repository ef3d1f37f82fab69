//! JIT compile speed and run speed, luabpf against rbpf's x86_64 JIT.
//!
//! `cargo bench -p luabpf-bench --bench jit` (add `-- --warm-up-time 1
//! --measurement-time 2` for a quick run, or a filter such as `jit-compile`).
//!
//! `jit-compile/<engine>/<n>` times one compile of an `n`-slot program:
//! `jit::compile` (shape scan, decode and lower in one pass, branch sizing; no
//! executable memory) in both modes for every architecture (aarch64 and
//! riscv64 only generate code here), `decode` (the interpreter's decoder)
//! alone, `x86_64-verified+load` adding the copy into sealed
//! executable memory, and `rbpf` (`EbpfVmRaw::new` + `jit_compile`: its
//! verifier, code generation and the `mprotect` of its one-page buffer). Each
//! benchmark cycles through distinct programs of its size
//! ([`luabpf_bench::compile_programs`]).
//!
//! After the criterion runs (wall time, inflated when other processes share
//! the cores), a table fits `fixed + n × per-insn` to each engine's best
//! thread-CPU times over the sizes, which is how the compile-speed goal is
//! stated; `-- jit-compile-fit` prints only the table.

use bpf_bridge::isa::insns_to_bytes;
use bpf_bridge::program::{ProgType, Program};
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use jit::exec_mem::{Checked, ExecPool, Host, HostFault};
use jit::run::{JitProgram, RunArgs};
use jit::{Arch, Options};
use luabpf_bench::compile_programs::{facts, program, programs};
use std::hint::black_box;

/// Program sizes of the compile benchmarks.
const SIZES: [usize; 4] = [16, 64, 256, 1024];
/// rbpf's JIT writes into one 4 KiB page: larger programs do not fit.
const RBPF_MAX: usize = 256;

/// One compile engine of the comparison.
#[derive(Clone, Copy)]
enum Engine {
    /// `jit::compile` for an architecture, verified (with facts) or checked.
    Luabpf(Arch, bool),
    /// `jit::compile` then `JitProgram::load` into executable memory.
    LuabpfLoad,
    /// `bpf_bridge::isa::decode_program` alone: the decoder of the interpreter
    /// and the verifier (the JIT decodes as it lowers, without building ops).
    Decode,
    /// rbpf's x86_64 JIT.
    Rbpf,
}

impl Engine {
    fn all() -> Vec<Engine> {
        let mut v = Vec::new();
        for arch in [Arch::X86_64, Arch::Aarch64, Arch::Riscv64] {
            v.push(Engine::Luabpf(arch, true));
            v.push(Engine::Luabpf(arch, false));
        }
        v.extend([Engine::LuabpfLoad, Engine::Decode, Engine::Rbpf]);
        v
    }

    fn name(self) -> String {
        match self {
            Engine::Luabpf(arch, verified) => format!(
                "{}-{}",
                arch.name(),
                if verified { "verified" } else { "checked" }
            ),
            Engine::LuabpfLoad => "x86_64-verified+load".into(),
            Engine::Decode => "decode".into(),
            Engine::Rbpf => "rbpf".into(),
        }
    }

    fn runs_at(self, n: usize) -> bool {
        !matches!(self, Engine::Rbpf) || n <= RBPF_MAX
    }

    /// A closure doing one compile of an `n`-slot program, the next of
    /// [`programs`] each call.
    fn job(self, n: usize, pool: &ExecPool) -> Box<dyn FnMut()> {
        let progs: Vec<Program> = programs(n)
            .into_iter()
            .map(|insns| Program::new("bench", ProgType::Raw, insns))
            .collect();
        let bytes: Vec<Vec<u8>> = progs.iter().map(|p| insns_to_bytes(&p.insns)).collect();
        let facts = facts(progs[0].insns.len());
        let opts = Options::for_host();
        let pool = pool.clone();
        let mut next = 0;
        Box::new(move || {
            let (prog, bytes) = (&progs[next], &bytes[next]);
            next = (next + 1) % progs.len();
            match self {
                Engine::Luabpf(arch, verified) => {
                    let f = verified.then_some(&facts);
                    black_box(jit::compile(black_box(prog), f, arch, opts).unwrap());
                }
                Engine::LuabpfLoad => {
                    let c = jit::compile(black_box(prog), Some(&facts), Arch::X86_64, opts);
                    black_box(JitProgram::load(&c.unwrap(), &pool).unwrap());
                }
                Engine::Decode => {
                    black_box(bpf_bridge::isa::decode_program(black_box(&prog.insns)).unwrap());
                }
                Engine::Rbpf => {
                    let mut vm = rbpf::EbpfVmRaw::new(Some(black_box(bytes))).unwrap();
                    vm.jit_compile().unwrap();
                    black_box(vm);
                }
            }
        })
    }
}

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit-compile");
    let pool = ExecPool::new();
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        for e in Engine::all() {
            if !e.runs_at(n) {
                continue;
            }
            let mut job = e.job(n, &pool);
            g.bench_function(BenchmarkId::new(e.name(), n), |b| b.iter(&mut job));
        }
    }
    g.finish();
}

/// Best time of one call in ns (thread CPU time, [`luabpf_bench::timing`]).
fn best_ns(job: &mut dyn FnMut(), n: usize) -> f64 {
    luabpf_bench::timing::best_ns(job, (400_000 / n).clamp(20, 4000), 30)
}

/// Least-squares `t = fixed + n × slope` through `(n, t)` points.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let k = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
    let (mx, my) = (sx / k, sy / k);
    let sxy: f64 = points.iter().map(|&(x, y)| (x - mx) * (y - my)).sum();
    let sxx: f64 = points.iter().map(|&(x, _)| (x - mx) * (x - mx)).sum();
    let slope = sxy / sxx;
    (my - slope * mx, slope)
}

/// Prints fixed cost and cost per instruction of every engine.
fn fit_table() {
    let pool = ExecPool::new();
    println!("\njit-compile fit: best of 30 batches of thread CPU time per size, t = fixed + n x per-insn");
    print!("{:24} {:>9} {:>9}", "engine", "fixed µs", "ns/insn");
    for n in SIZES {
        print!(" {:>9}", format!("n={n} µs"));
    }
    println!();
    for e in Engine::all() {
        let mut points = Vec::new();
        for n in SIZES.into_iter().filter(|&n| e.runs_at(n)) {
            let mut job = e.job(n, &pool);
            points.push((n as f64, best_ns(&mut job, n)));
        }
        let (fixed, slope) = fit(&points);
        print!("{:24} {:9.2} {:9.1}", e.name(), fixed / 1e3, slope);
        for (_, t) in &points {
            print!(" {:9.2}", t / 1e3);
        }
        println!();
    }
}

struct PacketHost(u64, u64);

impl Host for PacketHost {
    fn check(&mut self, addr: u64, packed: u64, _fp: u64) -> Result<Checked, HostFault> {
        let len = packed & 0xf;
        if addr >= self.0 && addr + len <= self.0 + self.1 {
            Ok(Checked::Plain)
        } else {
            Err(HostFault)
        }
    }
    fn helper(&mut self, _id: u64, _callx: bool, _a: [u64; 5], _fp: u64) -> Result<u64, HostFault> {
        Err(HostFault)
    }
}

fn run(c: &mut Criterion) {
    let mut g = c.benchmark_group("jit-run");
    let insns = program(256, 0);
    let bytes = insns_to_bytes(&insns);
    let facts = facts(insns.len());
    let prog = Program::new("bench", ProgType::Raw, insns);
    let pool = ExecPool::new();
    let mut packet = vec![0x5au8; 64];
    for (name, f) in [("luabpf-checked", None), ("luabpf-verified", Some(&facts))] {
        let c = jit::compile(&prog, f, Arch::X86_64, Options::for_host()).unwrap();
        let mut p = JitProgram::load(&c, &pool).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut host = PacketHost(packet.as_ptr() as u64, packet.len() as u64);
                let args = RunArgs {
                    r1: packet.as_mut_ptr() as u64,
                    r2: 64,
                    ..RunArgs::default()
                };
                p.run(black_box(&args), &mut host).unwrap()
            })
        });
    }
    let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).unwrap();
    vm.jit_compile().unwrap();
    g.bench_function("rbpf", |b| {
        // SAFETY: the program was verified by rbpf and only reads the packet.
        b.iter(|| unsafe { vm.execute_program_jit(black_box(&mut packet)).unwrap() })
    });
    g.finish();
}

criterion_group!(benches, compile, run);

/// Whether to print the fit table: in `cargo bench` runs (not `--test`,
/// `--list` or `--profile-time`) whose filter, if any, selects `jit-compile`.
fn wants_fit() -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench")
        || args
            .iter()
            .any(|a| a == "--test" || a == "--list" || a == "--profile-time")
    {
        return false;
    }
    let mut filters = Vec::new();
    let mut skip_value = false;
    for a in &args {
        if skip_value {
            skip_value = false;
        } else if a.starts_with("--") {
            // Criterion's options that take a separate value.
            skip_value = !a.contains('=')
                && !matches!(a.as_str(), "--bench" | "--exact" | "--noplot" | "--quiet");
        } else {
            filters.push(a.as_str());
        }
    }
    filters.is_empty()
        || filters
            .iter()
            .any(|f| "jit-compile".contains(f) || f.contains("jit-compile"))
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    if wants_fit() {
        fit_table();
    }
}
