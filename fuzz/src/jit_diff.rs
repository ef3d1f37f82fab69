//! `jit_diff`: arbitrary bytecode, maps and packet (see `input.rs`) on the host
//! JIT. Any loop-free program runs in checked mode without a panic (and, under
//! `-s address`, without an access outside its regions). Programs the verifier
//! accepts also run on the interpreter, the reference, in checked and in verified
//! mode: both engines must load them and agree on r0 or the fault, on the packet
//! and on the maps. (Unverified programs can leak addresses or read registers
//! never written, which legitimately differ between engines.) A failure prints
//! the program in assembly.

use super::input::Case;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::engine::Engine;
use bpf_bridge::facts::Facts;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::isa::{self, Op};
use bpf_bridge::maps::MapSet;
use bpf_bridge::program::{helper_id, ProgType, Program};
use bpf_bridge::verifier::{verify_with, VerifierConfig};
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};

thread_local! {
    static POOL: ExecPool = ExecPool::new();
}

/// Longest verified path run (the interpreter and JIT both execute it).
const MAX_PATH: u64 = 200_000;

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    let Some(arch) = Arch::host() else {
        return;
    };
    let Some(case) = Case::parse(data) else {
        return;
    };
    let Ok(ops) = isa::decode_program(&case.insns) else {
        return;
    };
    if MapSet::new(&case.maps).is_err() {
        return;
    }
    let looping = super::interp::has_backward_jump(&ops);
    // ktime_get_ns reads the clock for xdp programs: results may differ.
    let clock = ops.contains(&Op::Call {
        helper: helper_id::KTIME_GET_NS,
    });
    let config = VerifierConfig {
        max_processed: 20_000,
        ..VerifierConfig::default()
    };
    for prog_type in [ProgType::Raw, ProgType::Xdp] {
        let prog = case.program(prog_type);
        let exact = !(clock && prog_type == ProgType::Xdp);
        if !looping {
            let jit =
                POOL.with(|pool| JitEngine::new(&prog, None, arch, Options::for_host(), pool));
            if let Ok(mut jit) = jit {
                jit.set_trace(Box::new(std::io::sink()));
                for _ in 0..2 {
                    let _ = jit.run_packet(&mut case.packet.clone());
                }
            }
        }
        if let Ok(v) = verify_with(&prog, &config) {
            if v.stats.worst_case_path.is_some_and(|w| w <= MAX_PATH) {
                compare(&prog, None, arch, &case.packet, exact);
                compare(&prog, Some(v.facts), arch, &case.packet, exact);
            }
        }
    }
}

/// Loads `prog` on both engines (checked mode without `facts`) and runs both
/// twice on `packet` (the second run sees the maps the first left).
fn compare(prog: &Program, facts: Option<Facts>, arch: Arch, packet: &[u8], exact: bool) {
    let asm = || disassemble(&prog.insns, &prog.maps, Style::Conformance).unwrap_or_default();
    let mode = if facts.is_some() {
        "verified"
    } else {
        "checked"
    };
    let ty = prog.prog_type.name();
    let jit =
        POOL.with(|pool| JitEngine::new(prog, facts.as_ref(), arch, Options::for_host(), pool));
    let interp = InterpEngine::new(prog, facts.map_or(Mode::Checked, Mode::Verified));
    let (mut jit, mut interp) = match (jit, interp) {
        (Ok(j), Ok(i)) => (j, i),
        (Err(_), Err(_)) => return,
        (j, i) => panic!(
            "{mode} {ty}: jit loads: {:?}, interp loads: {:?}\n{}",
            j.map(|_| ()).map_err(|e| e.to_string()),
            i.map(|_| ()).map_err(|e| e.to_string()),
            asm()
        ),
    };
    jit.set_trace(Box::new(std::io::sink()));
    interp
        .interpreter_mut()
        .set_trace(Box::new(std::io::sink()));
    for run in 0..2 {
        let (mut a, mut b) = (packet.to_vec(), packet.to_vec());
        let ra = jit.run_packet(&mut a);
        let rb = interp.run_packet(&mut b);
        if exact {
            assert_eq!(
                ra,
                rb,
                "{mode} {ty} run {run}: jit vs interp result\n{}",
                asm()
            );
            assert_eq!(
                a,
                b,
                "{mode} {ty} run {run}: jit vs interp packet\n{}",
                asm()
            );
        } else {
            assert_eq!(
                ra.is_ok(),
                rb.is_ok(),
                "{mode} {ty} run {run}: {ra:?} vs {rb:?}\n{}",
                asm()
            );
        }
    }
    if exact {
        assert_eq!(
            jit.maps(),
            interp.maps(),
            "{mode} {ty}: jit vs interp maps\n{}",
            asm()
        );
    }
}
