//! The kernel engine against the real kernel: loads, verdicts, map dumps,
//! verifier logs, frame limits and timing. Skips visibly where bpf() is not
//! permitted, fails then under `LUABPF_REQUIRE_KERNEL=1`.

use crate::progs::*;
use bpf_bridge::isa::{encode_program, Op, Size, Src};
use bpf_bridge::kernel::{self, KernelError, KernelProgram, NotRunCause, NotRunCounts};
use bpf_bridge::program::{MapDef, MapKind, ProgType, Program};

/// Loads `prog`, or returns `None` after a visible skip line when bpf() is
/// not permitted (a failure when the kernel is required).
#[track_caller]
pub fn load_or_skip(prog: &Program) -> Option<KernelProgram> {
    match KernelProgram::load(prog) {
        Ok(p) => Some(p),
        Err(e) if skip_if_unavailable(&e) => None,
        Err(e) => panic!("loading {}: {e}", prog.name),
    }
}

/// Whether `e` says bpf() is unavailable (then a skip line is printed, or
/// the test fails when the kernel is required).
#[track_caller]
pub fn skip_if_unavailable(e: &KernelError) -> bool {
    let KernelError::Unavailable(u) = e else {
        return false;
    };
    if kernel::kernel_required() {
        panic!("LUABPF_REQUIRE_KERNEL=1 but the kernel engine is unavailable: {u}");
    }
    skip_line(&u.to_string());
    true
}

/// Prints `skipped: why` straight to stderr, past libtest's output capture,
/// so the skip shows in a normal `cargo test` run.
pub fn skip_line(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

macro_rules! load {
    ($prog:expr) => {
        match load_or_skip(&$prog) {
            Some(p) => p,
            None => return,
        }
    };
}

fn le32(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn le64(v: u64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}

#[test]
fn kernel_counts_protocols_and_drops_udp() {
    let prog = count_protocols(MapKind::Hash);
    let mut k = load!(prog);
    let frames = [
        ipv4_frame(6, 60),
        ipv4_frame(17, 80),
        ipv4_frame(6, 1500),
        vec![0u8; 20], // too short for the filter's check: passed uncounted
        ipv4_frame(1, 98),
        ipv4_frame(6, 64),
        ipv4_frame(17, 64),
    ];
    let verdicts: Vec<Option<u32>> = frames.iter().map(|f| k.run(f).unwrap()).collect();
    assert_eq!(
        verdicts,
        [2, 1, 2, 2, 2, 2, 1].map(Some).to_vec(),
        "XDP_PASS = 2, XDP_DROP = 1"
    );
    let maps = k.dump_maps().unwrap();
    let counts = &maps["counts"];
    assert_eq!(
        counts,
        &vec![(le32(1), le64(1)), (le32(6), le64(3)), (le32(17), le64(2))]
    );
    assert_eq!(k.not_run(), NotRunCounts::default());
    assert!(
        k.verifier_log().contains("processed"),
        "stats log: {:?}",
        k.verifier_log()
    );
}

#[test]
fn kernel_percpu_hash_sums_over_cpus() {
    let prog = count_protocols(MapKind::PercpuHash);
    let mut k = load!(prog);
    // Many runs in a row: every one must reach the kernel (attr padding is zeroed).
    for _ in 0..200 {
        assert_eq!(k.run(&ipv4_frame(6, 64)).unwrap(), Some(2));
    }
    let maps = k.dump_maps().unwrap();
    assert_eq!(maps["counts"], vec![(le32(6), le64(200))]);
}

#[test]
fn kernel_array_dump_lists_nonzero_indices() {
    // counts[0] += 1 on an array of 3 u64.
    let mut a = Asm::default();
    a.op(stx(Size::W, 10, -4, Src::Imm(0)))
        .op(Op::LoadMap { dst: r(1), map: 0 })
        .op(alu(bpf_bridge::isa::AluOp::Mov, 2, Src::Reg(r(10))))
        .op(alu(bpf_bridge::isa::AluOp::Add, 2, Src::Imm(-4)))
        .op(Op::Call { helper: 1 })
        .to(jmp(bpf_bridge::isa::JmpOp::Eq, 0, Src::Imm(0)), "out")
        .op(mov(1, 1))
        .op(Op::Atomic {
            width: bpf_bridge::isa::Width::W64,
            op: bpf_bridge::isa::AtomicOp::Add,
            fetch: false,
            base: r(0),
            off: 0,
            src: r(1),
        })
        .label("out")
        .op(mov(0, XDP_PASS))
        .op(EXIT);
    let map = MapDef {
        name: "hits".into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: 8,
        max_entries: 3,
    };
    let mut k = load!(a.program("hits", None, vec![map]));
    k.run(&ipv4_frame(6, 64)).unwrap();
    k.run(&ipv4_frame(6, 64)).unwrap();
    let maps = k.dump_maps().unwrap();
    assert_eq!(maps["hits"], vec![(le32(0), le64(2))]);
}

#[test]
fn kernel_verdict_is_low_32_bits_zero_extended() {
    let ops = [
        Op::LoadImm64 {
            dst: r(0),
            value: 0xffff_ffff_ffff_fff5,
        },
        EXIT,
    ];
    let prog = Program::new("wide", ProgType::Xdp, encode_program(&ops));
    let mut k = load!(prog);
    assert_eq!(k.run(&ipv4_frame(6, 64)).unwrap(), Some(0xffff_fff5));
}

#[test]
fn kernel_rejection_returns_the_verifier_log_with_source_lines() {
    // Reads the protocol byte without checking data_end.
    let mut a = Asm::default();
    a.line(3)
        .op(ldx(Size::W, 2, 1, 0))
        .line(4)
        .op(ldx(Size::B, 0, 2, 23))
        .op(EXIT);
    let src = "return function(pkt)\n  -- no length check\n  local data = pkt.data\n  return pkt:u8(23)\nend\n";
    let prog = a.program("unchecked", Some(src), Vec::new());
    match KernelProgram::load(&prog) {
        Err(KernelError::Rejected { errno, log }) => {
            assert_eq!(errno, libc_eacces(), "log:\n{log}");
            assert!(log.contains("invalid access to packet"), "log:\n{log}");
            // The kernel prints the line_info text above the instructions.
            assert!(log.contains("return pkt:u8(23)"), "log:\n{log}");
            assert!(log.contains("filter.lua:4"), "log:\n{log}");
            assert_eq!(kernel::failing_insn(&log), Some(1), "log:\n{log}");
        }
        Err(e) => assert!(skip_if_unavailable(&e), "{e}"),
        Ok(_) => panic!("the kernel accepted an unchecked packet read"),
    }
}

fn libc_eacces() -> i32 {
    13
}

#[test]
fn kernel_map_index_out_of_range_is_an_error() {
    let ops = [Op::LoadMap { dst: r(1), map: 3 }, mov(0, XDP_PASS), EXIT];
    let prog = Program::new("badmap", ProgType::Xdp, encode_program(&ops));
    match KernelProgram::load(&prog) {
        Err(KernelError::MapIndex { insn, map, count }) => {
            assert_eq!((insn, map, count), (0, 3, 0))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn kernel_frames_over_the_xdp_limit_are_not_run() {
    let prog = count_protocols(MapKind::Hash);
    let mut k = load!(prog);
    // Linux 6.18 on 4 KiB pages: 4096 - 256 (headroom) - 320 (skb_shared_info).
    assert_eq!(k.max_frame(), 3520);
    assert_eq!(k.run(&ipv4_frame(17, 3520)).unwrap(), Some(1));
    assert_eq!(k.run(&ipv4_frame(17, 4000)).unwrap(), None);
    assert_eq!(k.run(&ipv4_frame(17, 3521)).unwrap(), None);
    assert_eq!(
        k.check_frame(&ipv4_frame(6, 4000)),
        Err(NotRunCause::TooLong {
            len: 4000,
            max: 3520
        })
    );
    assert_eq!(
        k.not_run(),
        NotRunCounts {
            too_long: 2,
            too_short: 0
        }
    );
    // Frames not run leave the maps alone.
    assert_eq!(k.dump_maps().unwrap()["counts"], vec![(le32(17), le64(1))]);
    // What the check guards against: the kernel runs the program on the cut
    // frame without complaint.
    assert!(k.test_run(&ipv4_frame(17, 4000), 1).is_ok());
}

#[test]
fn kernel_refuses_frames_shorter_than_an_ethernet_header() {
    let prog = count_protocols(MapKind::Hash);
    let mut k = load!(prog);
    // What Linux does with a 13-byte XDP test run: EINVAL.
    match k.test_run(&[0u8; 13], 1) {
        Err(KernelError::Syscall { errno, .. }) => assert_eq!(errno, 22),
        other => panic!("13-byte frame: {other:?}"),
    }
    assert_eq!(k.run(&[0u8; 14]).unwrap(), Some(2));
    assert_eq!(k.run(&[0u8; 13]).unwrap(), None);
    assert_eq!(k.run(&[]).unwrap(), None);
    assert_eq!(
        k.not_run(),
        NotRunCounts {
            too_long: 0,
            too_short: 2
        }
    );
}

#[test]
fn kernel_timing_is_positive() {
    let prog = count_protocols(MapKind::Hash);
    let mut k = load!(prog);
    let t = kernel::time_run(&mut k, &ipv4_frame(6, 64), 20_000).unwrap();
    assert!(t.per_run.as_nanos() > 0, "{t:?}");
    assert!(t.empty.as_nanos() > 0, "{t:?}");
    assert!(t.per_run >= t.empty / 2, "{t:?}");
    // The repeat loop ran the program: every run counted.
    assert_eq!(
        k.dump_maps().unwrap()["counts"],
        vec![(le32(6), le64(20_000))]
    );
    assert!(matches!(
        kernel::time_run(&mut k, &[0u8; 4], 10),
        Err(KernelError::FrameNotRunnable(NotRunCause::TooShort {
            len: 4
        }))
    ));
}

#[test]
fn kernel_loads_subprograms_with_func_and_line_info() {
    let prog = with_subprogram();
    let mut k = load!(prog);
    assert_eq!(k.run(&ipv4_frame(6, 100)).unwrap(), Some(2));
    assert_eq!(k.run(&ipv4_frame(6, 101)).unwrap(), Some(1));
    let Some(out) = crate::elf_write::bpftool(&[
        "prog",
        "dump",
        "xlated",
        "id",
        &k.id().unwrap().to_string(),
        "linum",
    ]) else {
        return;
    };
    assert!(
        out.contains("if len > 100 then return XDP_DROP end"),
        "{out}"
    );
    assert!(out.contains("[file:filter.lua line_num:2"), "{out}");
    assert!(out.contains("len_filter__sub"), "{out}");
}

#[test]
fn kernel_run_in_place_returns_the_rewritten_packet() {
    // Sets the first byte to 0xaa (after a bounds check) and passes.
    let mut a = Asm::default();
    a.op(ldx(Size::W, 2, 1, 0))
        .op(ldx(Size::W, 3, 1, 4))
        .op(mov(0, XDP_PASS))
        .op(alu(bpf_bridge::isa::AluOp::Mov, 4, Src::Reg(r(2))))
        .op(alu(bpf_bridge::isa::AluOp::Add, 4, Src::Imm(1)))
        .to(jmp(bpf_bridge::isa::JmpOp::Gt, 4, Src::Reg(r(3))), "out")
        .op(stx(Size::B, 2, 0, Src::Imm(0xaa)))
        .label("out")
        .op(EXIT);
    let mut k = load!(a.program("poke", None, Vec::new()));
    let mut pkt = ipv4_frame(6, 64);
    assert_eq!(k.run_in_place(&mut pkt).unwrap(), Some(2));
    assert_eq!(pkt[0], 0xaa);
    assert_eq!(pkt[1..], ipv4_frame(6, 64)[1..]);
    // A frame too long to run is left as it was.
    let mut big = vec![0u8; 4000];
    assert_eq!(k.run_in_place(&mut big).unwrap(), None);
    assert_eq!(big[0], 0);
    assert_eq!(k.not_run().too_long, 1);
}

/// The frames of the differential tests: several protocols, a runt the
/// filter passes uncounted, one too short for the kernel and one too long.
fn mixed_frames() -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for (i, proto) in [6u8, 17, 1, 6, 6, 17, 47, 6].iter().enumerate() {
        frames.push(ipv4_frame(*proto, 60 + 100 * i));
    }
    frames.push(vec![0u8; 20]);
    frames.push(vec![0u8; 10]);
    frames.push(ipv4_frame(17, 4000));
    frames
}

#[test]
fn kernel_engine_agrees_with_the_interpreter() {
    use bpf_bridge::engine::run_capture;
    use bpf_bridge::interp::{InterpEngine, Mode};
    for kind in [MapKind::Hash, MapKind::PercpuHash] {
        let prog = count_protocols(kind);
        let mut k = load!(prog);
        let (kreport, kfaults) = run_capture(&mut k, mixed_frames());
        assert_eq!(kreport.engine, "kernel");
        // The two frames the kernel cannot run are not faults but counted by cause.
        assert_eq!(kfaults.count, 0, "{kfaults}");
        assert_eq!(kfaults.not_run.len(), 2, "{kfaults}");
        assert_eq!(kfaults.not_run_total(), 2, "{kfaults}");
        assert_eq!(
            k.not_run(),
            NotRunCounts {
                too_long: 1,
                too_short: 1
            }
        );
        let mut interp = InterpEngine::new(&prog, Mode::Checked).unwrap();
        let runnable: Vec<Vec<u8>> = mixed_frames()
            .into_iter()
            .filter(|f| (14..=3520).contains(&f.len()))
            .collect();
        let (ireport, ifaults) = run_capture(&mut interp, runnable);
        assert_eq!(ifaults.count, 0, "{ifaults}");
        let kverdicts: Vec<i64> = kreport.verdicts.iter().flatten().copied().collect();
        let iverdicts: Vec<i64> = ireport
            .verdicts
            .iter()
            .flatten()
            .map(|v| v & 0xffff_ffff)
            .collect();
        assert_eq!(kverdicts, iverdicts);
        assert_eq!(kreport.verdicts.len(), 11);
        assert_eq!(kreport.verdicts[9..], [None, None]);
        assert_eq!(kreport.maps, ireport.maps, "{kind:?}");
        assert_eq!(
            kreport.maps["counts"],
            vec![
                (le32(1), le64(1)),
                (le32(6), le64(4)),
                (le32(17), le64(2)),
                (le32(47), le64(1))
            ]
        );
    }
}

#[test]
fn kernel_engine_returns_rewritten_packets() {
    use bpf_bridge::engine::Engine;
    let mut a = Asm::default();
    a.op(ldx(Size::W, 2, 1, 0))
        .op(ldx(Size::W, 3, 1, 4))
        .op(mov(0, XDP_PASS))
        .op(alu(bpf_bridge::isa::AluOp::Mov, 4, Src::Reg(r(2))))
        .op(alu(bpf_bridge::isa::AluOp::Add, 4, Src::Imm(2)))
        .to(jmp(bpf_bridge::isa::JmpOp::Gt, 4, Src::Reg(r(3))), "out")
        .op(stx(Size::H, 2, 0, Src::Imm(0x1234)))
        .label("out")
        .op(EXIT);
    let mut k = load!(a.program("poke16", None, Vec::new()));
    let mut pkt = ipv4_frame(6, 64);
    assert_eq!(k.run_packet(&mut pkt), Ok(2));
    assert_eq!(pkt[..2], [0x34, 0x12]);
    let fault = k.run_packet(&mut [0u8; 5]).unwrap_err();
    assert_eq!(fault.kind.name(), "not-run");
    assert!(
        fault
            .to_string()
            .contains("shorter than an Ethernet header"),
        "{fault}"
    );
}
