//! The kernel as a benchmark engine: criterion drives the iteration counts,
//! the kernel's own BPF_PROG_TEST_RUN repeat loop does the timing (`duration`
//! per run, whole nanoseconds), so no system-call overhead is counted per
//! packet. Reports the filter's time and the empty program's
//! (`r0 = XDP_PASS; exit`) beside it: the difference is the filter's own cost.

use bpf_bridge::isa::{encode_program, AluOp, JmpOp, Op, Reg, Size, Src, Width};
use bpf_bridge::kernel::{self, KernelError, KernelProgram};
use bpf_bridge::program::{ProgType, Program};
use criterion::{criterion_group, criterion_main, Criterion};

fn reg(n: u8) -> Reg {
    Reg::new(n).expect("register number")
}

/// Drops UDP over IPv4, passes everything else (bounds-checked like a real filter).
fn udp_drop() -> Program {
    let alu = |op, dst, src| Op::Alu {
        width: Width::W64,
        op,
        dst: reg(dst),
        src,
    };
    let ldx = |size, dst, base, off| Op::Load {
        size,
        signed: false,
        dst: reg(dst),
        base: reg(base),
        off,
    };
    let jmp = |op, dst, src, off| Op::Jmp {
        width: Width::W64,
        op,
        dst: reg(dst),
        src,
        off,
    };
    let ops = [
        ldx(Size::W, 2, 1, 0),
        ldx(Size::W, 3, 1, 4),
        alu(AluOp::Mov, 0, Src::Imm(2)),
        alu(AluOp::Mov, 4, Src::Reg(reg(2))),
        alu(AluOp::Add, 4, Src::Imm(34)),
        jmp(JmpOp::Gt, 4, Src::Reg(reg(3)), 6),
        ldx(Size::H, 5, 2, 12),
        jmp(JmpOp::Ne, 5, Src::Imm(0x0008), 4),
        ldx(Size::B, 5, 2, 23),
        jmp(JmpOp::Ne, 5, Src::Imm(17), 2),
        alu(AluOp::Mov, 0, Src::Imm(1)),
        Op::Ja { off: 0 },
        Op::Exit,
    ];
    Program::new("udp_drop", ProgType::Xdp, encode_program(&ops))
}

fn udp_frame() -> Vec<u8> {
    let mut f = vec![0u8; 64];
    f[12] = 0x08;
    f[14] = 0x45;
    f[23] = 17;
    f
}

fn bench_kernel(c: &mut Criterion) {
    let mut prog = match KernelProgram::load(&udp_drop()) {
        Ok(p) => p,
        Err(KernelError::Unavailable(u)) if !kernel::kernel_required() => {
            eprintln!("skipped: {u}");
            return;
        }
        Err(e) => panic!("loading the benchmark filter: {e}"),
    };
    let frame = udp_frame();
    assert_eq!(prog.run(&frame).expect("test run"), Some(1));
    let mut group = c.benchmark_group("kernel");
    group.bench_function("udp_drop", |b| {
        b.iter_custom(|iters| {
            let repeat = iters.clamp(1, u32::MAX as u64) as u32;
            let t = prog.test_run(&frame, repeat).expect("test run");
            t.duration * repeat
        })
    });
    // The test-run overhead alone, to subtract (the kernel reports whole ns).
    let empty = KernelProgram::load(&kernel::empty_program()).expect("empty program");
    group.bench_function("empty", |b| {
        b.iter_custom(|iters| {
            let repeat = iters.clamp(1, u32::MAX as u64) as u32;
            let t = empty.test_run(&frame, repeat).expect("test run");
            t.duration * repeat
        })
    });
    group.finish();
}

criterion_group!(benches, bench_kernel);
criterion_main!(benches);
