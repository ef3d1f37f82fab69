//! Our x86_64 JIT against the Linux kernel's JIT, rbpf's JIT and native Rust,
//! on the same bytecode: (a) a 1000-iteration compute loop, where per-call
//! overhead vanishes, and (b) the compiled `examples/syn_count.lua` on a
//! 64-byte TCP SYN frame (no rbpf row: it needs map helpers rbpf lacks), in
//! verified and in checked mode. `engines-empty` times `r0 = 2; exit`: each
//! engine's own per-call overhead.
//!
//! (c) header parsers against rbpf's JIT: the Lua examples compiled for
//! `--cpu v3` and the hand-written `examples/hand/*.s`, each on a frame whose
//! path calls no helper (rbpf has none of ours). rbpf runs them without a
//! verifier and reads `data`/`data_end` as 64-bit words of its mbuff, so its
//! copy has those two context loads widened; ours runs the original in
//! verified mode.
//!
//! (d) packet loops (`luabpf_bench::packet_loops`): an Internet checksum, an
//! FNV-1a hash and a byte count over a 1500-byte frame, where the generated
//! loop code decides rather than per-call overhead: ours, rbpf's JIT, the
//! kernel and the same algorithm in Rust, all checked to return the same r0
//! before timing. Ours runs verified when our verifier accepts the program,
//! else checked, and the summary says which.
//!
//! Criterion times every engine; the kernel rows use the kernel's own
//! `duration` (BPF_PROG_TEST_RUN repeat). At the end a summary times each
//! engine once more in the same process and prints ns per run and the ratios
//! of issue 4: kernel rows net of the kernel's empty program, and rbpf
//! ratios both gross and net of each engine's own empty program.
//!
//! `cargo bench -p luabpf-bench --bench engines -- --warm-up-time 1 --measurement-time 3`

use bpf_bridge::engine::Engine;
use bpf_bridge::isa::{encode_program, insns_to_bytes, AluOp, Insn, Op};
use bpf_bridge::kernel::{self, KernelError, KernelProgram};
use bpf_bridge::program::{ProgType, Program};
use criterion::{criterion_group, criterion_main, Criterion};
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};
use luabpf_bench::ops::{alu, mixing_loop};
use luabpf_bench::packet_loops::{self, PacketLoop};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs of the kernel's repeat loop per measurement.
const KERNEL_REPEAT: u32 = 1_000_000;
/// The same for the packet loops, each about a thousand times longer.
const KERNEL_LOOP_REPEAT: u32 = 20_000;
/// Iterations of the compute loop.
const LOOP_N: i32 = 1000;

/// A 1000-iteration mixing loop (xorshift over a multiplied counter); the
/// result is masked to a valid XDP verdict so the kernel accepts it.
fn compute_loop() -> Vec<Insn> {
    let mut ops = mixing_loop(LOOP_N);
    ops.extend([alu(AluOp::And, 0, 3), Op::Exit]);
    encode_program(&ops)
}

/// The same loop in Rust.
fn native_loop(n: u64) -> u64 {
    let (mut r0, mut r3) = (0u64, 0x12345u64);
    for i in 0..n {
        r3 ^= i.wrapping_mul(-1_640_531_535i64 as u64);
        r3 ^= r3 << 13;
        r3 ^= r3 >> 7;
        r0 = r0.wrapping_add(r3);
    }
    r0 & 3
}

/// `examples/syn_count.lua`, compiled.
fn syn_count() -> Program {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/syn_count.lua");
    let src = std::fs::read_to_string(path).expect("examples/syn_count.lua");
    lua_subset::compile(
        "syn_count.lua",
        &src,
        &lua_subset::CompileOptions::default(),
    )
    .expect("syn_count.lua compiles")
}

/// 64-byte Ethernet/IPv4/TCP frame with SYN set, from 10.0.0.1.
fn syn_frame() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[12] = 0x08; // ETH_P_IP
    f[14] = 0x45; // IPv4, ihl 5
    f[16] = 0; // total length 50
    f[17] = 50;
    f[22] = 64; // ttl
    f[23] = 6; // TCP
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    f[47] = 0x02; // SYN
    f
}

/// The same filter in Rust: a hash map from source address to SYN count.
fn native_syn(pkt: &[u8], syns: &mut HashMap<u32, u64>) -> u32 {
    const PASS: u32 = 2;
    let u8_at = |o: usize| pkt.get(o).copied();
    if pkt.get(12..14) != Some(&[0x08, 0x00]) || u8_at(23) != Some(6) {
        return PASS;
    }
    let Some(ihl) = u8_at(14) else { return 0 };
    let Some(flags) = u8_at(14 + (ihl as usize & 0xf) * 4 + 13) else {
        return 0;
    };
    if flags & 0x12 == 0x02 {
        let Some(src) = pkt.get(26..30) else { return 0 };
        let src = u32::from_be_bytes(src.try_into().expect("4 bytes"));
        *syns.entry(src).or_insert(0) += 1;
    }
    PASS
}

/// Our JIT in checked mode: every access checked at run time, no verifier.
fn jit_checked(prog: &Program, pool: &ExecPool) -> JitEngine {
    JitEngine::new(prog, None, Arch::X86_64, Options::for_host(), pool)
        .unwrap_or_else(|e| panic!("JIT of {}: {e}", prog.name))
}

fn jit_engine(prog: &Program, pool: &ExecPool) -> JitEngine {
    let facts = bpf_bridge::verifier::verify(prog)
        .unwrap_or_else(|e| panic!("our verifier rejects {}: {e}", prog.name))
        .facts;
    JitEngine::new(prog, Some(&facts), Arch::X86_64, Options::for_host(), pool)
        .unwrap_or_else(|e| panic!("JIT of {}: {e}", prog.name))
}

/// Our JIT in verified mode if our verifier accepts `prog`, else in checked
/// mode; the second value names the mode for the summary.
fn ours_engine(prog: &Program, pool: &ExecPool) -> (JitEngine, String) {
    match bpf_bridge::verifier::verify(prog) {
        Ok(v) => {
            let e = JitEngine::new(
                prog,
                Some(&v.facts),
                Arch::X86_64,
                Options::for_host(),
                pool,
            )
            .unwrap_or_else(|e| panic!("JIT of {}: {e}", prog.name));
            (e, "verified".into())
        }
        Err(e) => (
            jit_checked(prog, pool),
            format!("checked: our verifier says {}", e.rule.name()),
        ),
    }
}

/// An IPv4/UDP frame (source port 40000 to port 53) with a valid header checksum.
fn udp_frame() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[12] = 0x08; // ETH_P_IP
    f[14] = 0x45;
    f[17] = 50; // total length
    f[22] = 64;
    f[23] = 17; // UDP
    f[26..30].copy_from_slice(&[10, 0, 0, 1]);
    f[30..34].copy_from_slice(&[10, 0, 0, 2]);
    let sum = (0..10)
        .map(|i| u16::from_be_bytes([f[14 + 2 * i], f[15 + 2 * i]]) as u32)
        .sum::<u32>();
    let sum = (sum & 0xffff) + (sum >> 16);
    f[24..26].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    f[34..36].copy_from_slice(&40000u16.to_be_bytes());
    f[36..38].copy_from_slice(&53u16.to_be_bytes());
    f
}

/// A TCP SYN whose header carries 12 bytes of NOP options (an option walk
/// that records nothing).
fn syn_options_frame() -> Vec<u8> {
    let mut f = syn_frame();
    f.resize(66, 0);
    f[46] = 8 << 4; // data offset: 32 bytes
    f[54..66].fill(1);
    f
}

/// The header parsers of (c): name, program, frame.
fn parsers() -> Vec<(String, Program, Vec<u8>)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let v3 = lua_subset::CompileOptions {
        cpu: lua_subset::Cpu::V3,
        ..Default::default()
    };
    let mut out = Vec::new();
    for (name, frame) in [
        ("ip_dispatch", udp_frame()),
        ("ipv4_checksum", udp_frame()),
        ("port_block", udp_frame()),
        ("tcp_mss", syn_options_frame()),
    ] {
        let file = format!("{name}.lua");
        let src = std::fs::read_to_string(format!("{root}/{file}")).expect("example");
        let p = lua_subset::compile(&file, &src, &v3).expect("compiles for v3");
        out.push((format!("{name}.lua"), p, frame.clone()));
        let text = std::fs::read_to_string(format!("{root}/hand/{name}.s")).expect("hand");
        let p = bpf_bridge::asm::assemble(&text)
            .expect("assembles")
            .into_program(format!("{name}.s"), ProgType::Xdp);
        out.push((format!("{name}.s"), p, frame));
    }
    out
}

/// rbpf's copy: the 32-bit loads of `xdp_md.data` (+0) and `data_end` (+4)
/// through r1 before r1 changes become 64-bit loads of mbuff +0 and +8.
fn for_rbpf(prog: &Program) -> Option<Vec<u8>> {
    let mut insns = prog.insns.clone();
    for i in insns.iter_mut() {
        if i.code == 0x61 && i.src() == 1 && (i.off == 0 || i.off == 4) {
            i.code = 0x79;
            i.off *= 2;
        }
        // Stores and jumps name r1 without writing it.
        if i.dst() == 1 && !matches!(i.code & 0x07, 0x02 | 0x03 | 0x05 | 0x06) {
            break;
        }
    }
    // rbpf has no may_goto: skip what it cannot run.
    let ops = bpf_bridge::isa::decode_program(&insns).ok()?;
    if ops.iter().any(|o| matches!(o, Op::MayGoto { .. })) {
        return None;
    }
    Some(insns_to_bytes(&insns))
}

/// A helper that must not be reached on the frames of (c).
fn no_helper(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    eprintln!("a parse row reached a helper");
    std::process::abort()
}

/// rbpf's JIT of `bytes`, reading the data pointers from its mbuff (+0, +8).
/// (`EbpfVmFixedMbuff` would store them itself, but rbpf 0.4.1's JIT stores
/// a wrong `data_end` there, so the bench fills a plain mbuff.)
fn rbpf_vm(bytes: &[u8]) -> rbpf::EbpfVmMbuff<'_> {
    let mut vm = rbpf::EbpfVmMbuff::new(Some(bytes)).expect("rbpf accepts");
    for id in [1, 2, 3] {
        vm.register_helper(id, no_helper).expect("helper");
    }
    vm.jit_compile().expect("rbpf JIT");
    vm
}

/// One rbpf run on `f`, with `data`/`data_end` in `mbuff`. rbpf ties the
/// mbuff's borrow to the VM's lifetime, so each run gets a fresh borrow.
fn rbpf_run(vm: &rbpf::EbpfVmMbuff<'_>, mbuff: &mut [u8; 16], f: &mut [u8]) -> u64 {
    let start = f.as_mut_ptr() as u64;
    mbuff[..8].copy_from_slice(&start.to_le_bytes());
    mbuff[8..].copy_from_slice(&(start + f.len() as u64).to_le_bytes());
    // SAFETY: the borrow ends with the call (rbpf keeps no reference after a
    // run); the programs read only the frame, after checking against data_end.
    unsafe {
        let m = std::slice::from_raw_parts_mut(mbuff.as_mut_ptr(), 16);
        vm.execute_program_jit(f, m).expect("rbpf")
    }
}

fn parse_bench(c: &mut Criterion) {
    let pool = ExecPool::new();
    let mut g = c.benchmark_group("engines-parse");
    for (name, prog, frame) in parsers() {
        let mut ours = jit_engine(&prog, &pool);
        let mut f = frame.clone();
        let want = ours.run_packet(&mut f).expect("jit run");
        g.bench_function(format!("{name}/luabpf-jit"), |b| {
            b.iter(|| ours.run_packet(black_box(&mut f)).expect("jit run"))
        });
        if let Some(bytes) = for_rbpf(&prog) {
            let vm = rbpf_vm(&bytes);
            let mut mbuff = [0u8; 16];
            assert_eq!(
                rbpf_run(&vm, &mut mbuff, &mut f),
                want,
                "{name}: rbpf disagrees"
            );
            g.bench_function(format!("{name}/rbpf-jit"), |b| {
                b.iter(|| rbpf_run(&vm, &mut mbuff, black_box(&mut f)))
            });
        }
    }
    g.finish();
}

/// One packet loop on every engine, each checked against the Rust version.
struct LoopEngines {
    ours: JitEngine,
    mode: String,
    rbpf_bytes: Vec<u8>,
    want: u64,
}

fn loop_engines(w: &PacketLoop, frame: &[u8], pool: &ExecPool) -> LoopEngines {
    let want = (w.native)(frame);
    let (mut ours, mode) = ours_engine(&w.program, pool);
    let mut f = frame.to_vec();
    assert_eq!(
        ours.run_packet(&mut f).expect("jit run"),
        want,
        "{}: ours",
        w.name
    );
    let rbpf_bytes = for_rbpf(&w.program).expect("v3 ops only");
    {
        let vm = rbpf_vm(&rbpf_bytes);
        let got = rbpf_run(&vm, &mut [0u8; 16], &mut f);
        assert_eq!(got, want, "{}: rbpf", w.name);
    }
    LoopEngines {
        ours,
        mode,
        rbpf_bytes,
        want,
    }
}

/// The kernel's copy of `w`, checked against the Rust version.
fn kernel_loop(w: &PacketLoop, frame: &[u8], want: u64) -> Option<KernelProgram> {
    let k = kernel_load(&w.program)?;
    let got = k.test_run(frame, 1).expect("test run").retval as u64;
    assert_eq!(got, want, "{}: kernel", w.name);
    Some(k)
}

fn packet_loops_bench(c: &mut Criterion) {
    let pool = ExecPool::new();
    let frame = packet_loops::frame();
    let mut g = c.benchmark_group("engines-packet-loops");
    for w in packet_loops::workloads() {
        let mut e = loop_engines(&w, &frame, &pool);
        let mut f = frame.clone();
        g.bench_function(format!("{}/luabpf-jit", w.name), |b| {
            b.iter(|| e.ours.run_packet(black_box(&mut f)).expect("jit run"))
        });
        let vm = rbpf_vm(&e.rbpf_bytes);
        let mut mbuff = [0u8; 16];
        g.bench_function(format!("{}/rbpf-jit", w.name), |b| {
            b.iter(|| rbpf_run(&vm, &mut mbuff, black_box(&mut f)))
        });
        g.bench_function(format!("{}/native", w.name), |b| {
            b.iter(|| (w.native)(black_box(&frame)))
        });
        if let Some(k) = kernel_loop(&w, &frame, e.want) {
            bench_kernel(&mut g, &format!("{}/kernel-jit", w.name), &k, &frame);
        }
    }
    g.finish();
}

/// Loads `prog` in the kernel, or prints why it cannot and returns `None`.
fn kernel_load(prog: &Program) -> Option<KernelProgram> {
    match KernelProgram::load(prog) {
        Ok(p) => Some(p),
        Err(KernelError::Unavailable(u)) if !kernel::kernel_required() => {
            eprintln!("skipped kernel rows: {u}");
            None
        }
        Err(e) => panic!("kernel load of {}: {e}", prog.name),
    }
}

/// Criterion timing through the kernel's own repeat loop.
fn bench_kernel(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    prog: &KernelProgram,
    frame: &[u8],
) {
    g.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let repeat = iters.clamp(1, u32::MAX as u64) as u32;
            prog.test_run(frame, repeat).expect("test run").duration * repeat
        })
    });
}

fn loop_bench(c: &mut Criterion) {
    let insns = compute_loop();
    let prog = Program::new("loop", ProgType::Xdp, insns.clone());
    let pool = ExecPool::new();
    let mut ours = jit_engine(&prog, &pool);
    let mut frame = syn_frame();
    let want = native_loop(LOOP_N as u64);
    assert_eq!(ours.run_packet(&mut frame).expect("jit run"), want);
    let bytes = insns_to_bytes(&insns);
    let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the loop");
    vm.jit_compile().expect("rbpf JIT");

    let mut g = c.benchmark_group("engines-loop");
    g.bench_function("luabpf-jit", |b| {
        b.iter(|| ours.run_packet(black_box(&mut frame)).expect("jit run"))
    });
    // SAFETY: the loop touches no memory.
    g.bench_function("rbpf-jit", |b| {
        b.iter(|| unsafe { vm.execute_program_jit(black_box(&mut frame)).expect("rbpf") })
    });
    g.bench_function("native", |b| {
        b.iter(|| native_loop(black_box(LOOP_N as u64)))
    });
    if let Some(k) = kernel_load(&prog) {
        assert_eq!(k.test_run(&frame, 1).expect("test run").retval as u64, want);
        bench_kernel(&mut g, "kernel-jit", &k, &frame);
    }
    g.finish();
}

fn syn_bench(c: &mut Criterion) {
    let prog = syn_count();
    let pool = ExecPool::new();
    let mut ours = jit_engine(&prog, &pool);
    let mut frame = syn_frame();
    assert_eq!(ours.run_packet(&mut frame).expect("jit run"), 2);
    let mut checked = jit_checked(&prog, &pool);
    let mut syns = HashMap::new();
    let mut g = c.benchmark_group("engines-syn_count");
    g.bench_function("luabpf-jit", |b| {
        b.iter(|| ours.run_packet(black_box(&mut frame)).expect("jit run"))
    });
    g.bench_function("luabpf-jit-checked", |b| {
        b.iter(|| checked.run_packet(black_box(&mut frame)).expect("jit run"))
    });
    g.bench_function("native", |b| {
        b.iter(|| native_syn(black_box(&frame), &mut syns))
    });
    if let Some(k) = kernel_load(&prog) {
        bench_kernel(&mut g, "kernel-jit", &k, &frame);
        if let Some(e) = kernel_load(&kernel::empty_program()) {
            bench_kernel(&mut g, "kernel-empty", &e, &frame);
        }
    }
    g.finish();
}

/// The empty program (`r0 = 2; exit`): each engine's own per-call overhead.
fn empty_bench(c: &mut Criterion) {
    let prog = kernel::empty_program();
    let pool = ExecPool::new();
    let mut ours = jit_engine(&prog, &pool);
    let mut frame = syn_frame();
    let bytes = insns_to_bytes(&prog.insns);
    let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the empty program");
    vm.jit_compile().expect("rbpf JIT");
    let mut g = c.benchmark_group("engines-empty");
    g.bench_function("luabpf-jit", |b| {
        b.iter(|| ours.run_packet(black_box(&mut frame)).expect("jit run"))
    });
    // SAFETY: the program touches no memory.
    g.bench_function("rbpf-jit", |b| {
        b.iter(|| unsafe { vm.execute_program_jit(black_box(&mut frame)).expect("rbpf") })
    });
    g.finish();
}

/// Least over 21 short batches of the mean ns per call of `f`: on a shared
/// machine the least is the batch least disturbed by other processes (the
/// kernel's repeat loop likewise stops its clock while it reschedules).
fn ns_per_run(mut f: impl FnMut()) -> f64 {
    let batch = {
        let t = Instant::now();
        let mut n = 0u64;
        while t.elapsed() < Duration::from_millis(2) {
            f();
            n += 1;
        }
        n.max(1)
    };
    (0..21)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Kernel ns per run, gross and net of the empty program; median of 5
/// repeat loops of `repeat` runs.
fn kernel_ns(prog: &Program, frame: &[u8], repeat: u32) -> Option<(f64, f64)> {
    let mut k = kernel_load(prog)?;
    let mut runs: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            let t = kernel::time_run(&mut k, frame, repeat).expect("kernel time_run");
            (t.per_run.as_nanos() as f64, t.net().as_nanos() as f64)
        })
        .collect();
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    Some(runs[2])
}

fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    }
}

/// `(a - a_empty) / (b - b_empty)`: each engine net of its own empty
/// program; "n/a" when either net time is not positive (within noise).
fn net_ratio(a: f64, a_empty: f64, b: f64, b_empty: f64) -> String {
    if a - a_empty <= 0.0 {
        return "n/a".into();
    }
    ratio(a - a_empty, Some(b - b_empty))
}

/// Each engine's empty program (`r0 = 2; exit`), ns per run: ours, rbpf's
/// `EbpfVmRaw` (the compute loop's way of calling) and rbpf's mbuff VM (the
/// parsers' and packet loops' way).
struct Empties {
    ours: f64,
    rbpf_raw: f64,
    rbpf_mbuff: f64,
}

impl Empties {
    /// Measures each empty program again and keeps the least of old and new:
    /// a per-call overhead is a constant, so the least is the measurement
    /// least disturbed by other processes (as in [`ns_per_run`]). Each
    /// section refreshes before it subtracts.
    fn refresh(&mut self, pool: &ExecPool) {
        let prog = kernel::empty_program();
        let mut frame = syn_frame();
        let mut ours = jit_engine(&prog, pool);
        let o = ns_per_run(|| {
            black_box(ours.run_packet(black_box(&mut frame)).expect("jit run"));
        });
        let bytes = insns_to_bytes(&prog.insns);
        let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the empty program");
        vm.jit_compile().expect("rbpf JIT");
        // SAFETY: the program touches no memory.
        let raw = ns_per_run(|| {
            black_box(unsafe { vm.execute_program_jit(black_box(&mut frame)).expect("rbpf") });
        });
        let vm = rbpf_vm(&bytes);
        let mut mbuff = [0u8; 16];
        let mb = ns_per_run(|| {
            black_box(rbpf_run(&vm, &mut mbuff, black_box(&mut frame)));
        });
        self.ours = self.ours.min(o);
        self.rbpf_raw = self.rbpf_raw.min(raw);
        self.rbpf_mbuff = self.rbpf_mbuff.min(mb);
    }

    fn print(&self) {
        println!(
            "empty program (ns per run, least so far): luabpf-jit {:.1}, rbpf-jit {:.1} (EbpfVmRaw) / {:.1} (mbuff VM)",
            self.ours, self.rbpf_raw, self.rbpf_mbuff
        );
    }
}

/// One same-process measurement of every engine, with the issue-4 ratios.
fn summary(_: &mut Criterion) {
    let pool = ExecPool::new();
    let mut frame = syn_frame();
    let mut e = Empties {
        ours: f64::INFINITY,
        rbpf_raw: f64::INFINITY,
        rbpf_mbuff: f64::INFINITY,
    };
    e.refresh(&pool);
    println!();
    e.print();
    println!("\nsummary (ns per run; kernel = BPF_PROG_TEST_RUN repeat {KERNEL_REPEAT}, gross and net of empty program)");
    println!(
        "{:<12} {:>10} {:>10} {:>14} {:>10}",
        "program", "luabpf-jit", "rbpf-jit", "kernel(gross/net)", "native"
    );

    let loop_insns = compute_loop();
    let loop_prog = Program::new("loop", ProgType::Xdp, loop_insns.clone());
    let mut ours = jit_engine(&loop_prog, &pool);
    let ours_loop = ns_per_run(|| {
        black_box(ours.run_packet(black_box(&mut frame)).expect("jit run"));
    });
    let bytes = insns_to_bytes(&loop_insns);
    let mut vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf accepts the loop");
    vm.jit_compile().expect("rbpf JIT");
    let mut buf = frame.clone();
    // SAFETY: the loop touches no memory.
    let rbpf_loop = ns_per_run(|| {
        black_box(unsafe { vm.execute_program_jit(black_box(&mut buf)).expect("rbpf") });
    });
    let native_l = ns_per_run(|| {
        black_box(native_loop(black_box(LOOP_N as u64)));
    });
    let kern_loop = kernel_ns(&loop_prog, &frame, KERNEL_REPEAT);
    row("loop", ours_loop, Some(rbpf_loop), kern_loop, native_l);
    println!(
        "  loop ratios: ours/kernel(net) = {}  ours/rbpf = {} gross, {} net of each engine's empty program  ours/native = {}",
        ratio(ours_loop, kern_loop.map(|k| k.1)),
        ratio(ours_loop, Some(rbpf_loop)),
        net_ratio(ours_loop, e.ours, rbpf_loop, e.rbpf_raw),
        ratio(ours_loop, Some(native_l)),
    );

    let syn = syn_count();
    let mut ours = jit_engine(&syn, &pool);
    let ours_syn = ns_per_run(|| {
        black_box(ours.run_packet(black_box(&mut frame)).expect("jit run"));
    });
    let mut checked = jit_checked(&syn, &pool);
    let ours_checked = ns_per_run(|| {
        black_box(checked.run_packet(black_box(&mut frame)).expect("jit run"));
    });
    let mut syns = HashMap::new();
    let native_s = ns_per_run(|| {
        black_box(native_syn(black_box(&frame), &mut syns));
    });
    let kern_syn = kernel_ns(&syn, &frame, KERNEL_REPEAT);
    row("syn_count", ours_syn, None, kern_syn, native_s);
    println!(
        "  syn_count ratios: ours/kernel(net) = {}  ours/native = {}",
        ratio(ours_syn, kern_syn.map(|k| k.1)),
        ratio(ours_syn, Some(native_s)),
    );
    // Our own per-call overhead, as the kernel rows subtract theirs.
    let ours_net = ours_syn - e.ours;
    println!(
        "  luabpf-jit net of its empty program: {ours_net:.1} ns, \
         ours(net)/kernel(net) = {}  ours(net)/native = {}",
        ratio(ours_net, kern_syn.map(|k| k.1)),
        ratio(ours_net, Some(native_s)),
    );
    println!(
        "  luabpf-jit checked mode {ours_checked:.1} ns: checked/verified = {}",
        ratio(ours_checked, Some(ours_syn)),
    );

    e.refresh(&pool);
    parse_summary(&pool, &e);
    e.refresh(&pool);
    packet_loops_summary(&pool, &e);
}

/// Header parsers against rbpf (no kernel or native column).
fn parse_summary(pool: &ExecPool, e: &Empties) {
    println!();
    e.print();
    println!(
        "header parsers (ns per run; rbpf runs the same bytecode, data pointers widened; \
         net = each engine minus its own empty program)"
    );
    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>14}",
        "program", "luabpf-jit", "rbpf-jit", "ours/rbpf", "net ours/rbpf"
    );
    println!(
        "{:<20} {:>10.1} {:>10.1} {:>10} {:>14}",
        "(empty)",
        e.ours,
        e.rbpf_mbuff,
        ratio(e.ours, Some(e.rbpf_mbuff)),
        "-"
    );
    let (mut geo, mut geo_net) = ((0.0f64, 0usize), (0.0f64, 0usize));
    for (name, prog, frame) in parsers() {
        let mut ours = jit_engine(&prog, pool);
        let mut f = frame.clone();
        let o = ns_per_run(|| {
            black_box(ours.run_packet(black_box(&mut f)).expect("jit run"));
        });
        let rb = for_rbpf(&prog).map(|bytes| {
            let vm = rbpf_vm(&bytes);
            let (mut f, mut mbuff) = (frame.clone(), [0u8; 16]);
            ns_per_run(|| {
                black_box(rbpf_run(&vm, &mut mbuff, black_box(&mut f)));
            })
        });
        let mut net = "-".to_string();
        if let Some(r) = rb {
            geo = (geo.0 + (o / r).ln(), geo.1 + 1);
            let (on, rn) = (o - e.ours, r - e.rbpf_mbuff);
            net = net_ratio(o, e.ours, r, e.rbpf_mbuff);
            if on > 0.0 && rn > 0.0 {
                geo_net = (geo_net.0 + (on / rn).ln(), geo_net.1 + 1);
            }
        }
        let rs = rb.map_or("-".into(), |v| format!("{v:.1}"));
        println!(
            "{name:<20} {o:>10.1} {rs:>10} {:>10} {net:>14}",
            ratio(o, rb)
        );
    }
    if geo.1 > 0 {
        println!(
            "  parse ratios: ours/rbpf geometric mean = {:.2}x gross over {} programs, \
             {} net of each engine's empty program over {} programs",
            (geo.0 / geo.1 as f64).exp(),
            geo.1,
            if geo_net.1 > 0 {
                format!("{:.2}x", (geo_net.0 / geo_net.1 as f64).exp())
            } else {
                "n/a".into()
            },
            geo_net.1
        );
    }
}

/// The packet loops on every engine.
fn packet_loops_summary(pool: &ExecPool, e: &Empties) {
    let frame = packet_loops::frame();
    println!();
    e.print();
    println!(
        "packet loops on a {}-byte frame (ns per run; kernel repeat {KERNEL_LOOP_REPEAT}, \
         gross/net of its empty program)",
        frame.len()
    );
    println!(
        "{:<12} {:>10} {:>10} {:>14} {:>10}  luabpf-jit mode",
        "program", "luabpf-jit", "rbpf-jit", "kernel(gross/net)", "native"
    );
    let mut lines = Vec::new();
    for w in packet_loops::workloads() {
        let mut l = loop_engines(&w, &frame, pool);
        let mut f = frame.clone();
        let o = ns_per_run(|| {
            black_box(l.ours.run_packet(black_box(&mut f)).expect("jit run"));
        });
        let vm = rbpf_vm(&l.rbpf_bytes);
        let mut mbuff = [0u8; 16];
        let rb = ns_per_run(|| {
            black_box(rbpf_run(&vm, &mut mbuff, black_box(&mut f)));
        });
        let nat = ns_per_run(|| {
            black_box((w.native)(black_box(&frame)));
        });
        let kern = kernel_loop(&w, &frame, l.want)
            .and_then(|_| kernel_ns(&w.program, &frame, KERNEL_LOOP_REPEAT));
        let rs = format!("{rb:.1}");
        let ks = kern.map_or("skipped".into(), |(g, n)| format!("{g:.0}/{n:.0}"));
        println!(
            "{:<12} {o:>10.1} {rs:>10} {ks:>14} {nat:>10.1}  {}",
            w.name, l.mode
        );
        lines.push(format!(
            "  {} ratios: ours/rbpf = {} gross, {} net of each engine's empty program  \
             ours/kernel(net) = {}  ours/native = {}",
            w.name,
            ratio(o, Some(rb)),
            net_ratio(o, e.ours, rb, e.rbpf_mbuff),
            ratio(o, kern.map(|k| k.1)),
            ratio(o, Some(nat)),
        ));
    }
    for l in lines {
        println!("{l}");
    }
}

fn row(name: &str, ours: f64, rbpf: Option<f64>, kern: Option<(f64, f64)>, native: f64) {
    let rbpf = rbpf.map_or("-".into(), |v| format!("{v:.1}"));
    let kern = kern.map_or("skipped".into(), |(g, n)| format!("{g:.0}/{n:.0}"));
    println!("{name:<12} {ours:>10.1} {rbpf:>10} {kern:>14} {native:>10.1}");
}

criterion_group!(
    benches,
    empty_bench,
    loop_bench,
    syn_bench,
    parse_bench,
    packet_loops_bench,
    summary
);
criterion_main!(benches);
