//! `verify`: arbitrary bytecode, maps and packet (see `input.rs`), as `raw` and as
//! `xdp`. The verifier never panics, and what it accepts is safe: in verified mode
//! (accesses it proved run unchecked) and in checked mode, the interpreter runs it
//! on the input's packet and on generated ones of several lengths without a fault,
//! and both modes agree on r0, the packet and the maps. A failure prints the
//! program in assembly.

use super::input::Case;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::isa::Op;
use bpf_bridge::maps::MapSet;
use bpf_bridge::program::{helper_id, ProgType, Program};
use bpf_bridge::verifier::{verify_with, VerifierConfig};

/// Instructions to execute per input, over all packets and both modes (a bound,
/// from the verifier's longest path, keeps the check fast even for loops).
const STEP_BUDGET: u64 = 4_000_000;
/// The verifier's instruction limit here (see `check`).
const MAX_PROCESSED: u64 = 20_000;
/// Packet lengths tried besides the input's own: none, runts, Ethernet + IPv4
/// (+ UDP/TCP) header boundaries, a minimum and a full-size frame.
const LENGTHS: [usize; 7] = [0, 13, 34, 42, 54, 64, 1514];

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    let Some(case) = Case::parse(data) else {
        return;
    };
    // The default 1M-instruction limit takes about a minute on a non-converging
    // loop (reported); a smaller one exercises the same paths, including giving up.
    let config = VerifierConfig {
        max_processed: MAX_PROCESSED,
        ..VerifierConfig::default()
    };
    for prog_type in [ProgType::Raw, ProgType::Xdp] {
        let prog = case.program(prog_type);
        let verdict = verify_with(&prog, &config);
        // The verifier takes map definitions as given; creating them is the
        // loader's job (and refuses e.g. an array with 8-byte keys).
        if MapSet::new(&prog.maps).is_err() {
            continue;
        }
        if let Ok(v) = verdict {
            assert_eq!(v.facts.accesses.len(), prog.insns.len(), "facts per slot");
            let slots = prog.insns.len() as u64;
            let per_run = v
                .stats
                .worst_case_path
                .unwrap_or(u64::from(bpf_bridge::interp::MAY_GOTO_BUDGET) * slots)
                .max(1);
            let runs = (STEP_BUDGET / per_run / 2).min(LENGTHS.len() as u64 + 1);
            run_both(&prog, v.facts, &case.packet, runs as usize);
        }
    }
}

/// Runs `prog` in verified and checked mode on `runs` packets, comparing.
fn run_both(prog: &Program, facts: bpf_bridge::facts::Facts, packet: &[u8], runs: usize) {
    let asm = || disassemble(&prog.insns, &prog.maps, Style::Conformance).unwrap_or_default();
    let ty = prog.prog_type.name();
    let mut verified = InterpEngine::new(prog, Mode::Verified(facts))
        .unwrap_or_else(|e| panic!("verified {ty} program does not load: {e}\n{}", asm()));
    let mut checked = InterpEngine::new(prog, Mode::Checked).unwrap_or_else(|e| {
        panic!(
            "verified {ty} program does not load checked: {e}\n{}",
            asm()
        )
    });
    for e in [&mut verified, &mut checked] {
        e.interpreter_mut().set_trace(Box::new(std::io::sink()));
    }
    // ktime_get_ns reads the clock for xdp programs: results may differ.
    let deterministic = prog.prog_type == ProgType::Raw
        || !bpf_bridge::isa::decode_program(&prog.insns)
            .unwrap_or_default()
            .contains(&Op::Call {
                helper: helper_id::KTIME_GET_NS,
            });
    let mut seed = packet.iter().fold(0x9e37_79b9_7f4a_7c15u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let packets = std::iter::once(packet.to_vec()).chain(LENGTHS.iter().map(|&len| {
        let mut p = packet.to_vec();
        p.resize_with(len, || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        });
        p
    }));
    for (i, pkt) in packets.take(runs).enumerate() {
        let (mut a, mut b) = (pkt.clone(), pkt.clone());
        let ra = verified.run_packet(&mut a);
        let rb = checked.run_packet(&mut b);
        let hex: String = pkt.iter().map(|b| format!("{b:02x}")).collect();
        if let Err(f) = ra {
            panic!(
                "verified {ty} program faults in verified mode on packet {i} ({hex}): {f}\n{}",
                asm()
            );
        }
        if let Err(f) = rb {
            panic!(
                "verified {ty} program faults in checked mode on packet {i} ({hex}): {f}\n{}",
                asm()
            );
        }
        if deterministic {
            assert_eq!(
                ra,
                rb,
                "modes disagree on r0, packet {i} ({hex})\n{}",
                asm()
            );
            assert_eq!(
                a,
                b,
                "modes disagree on the packet, packet {i} ({hex})\n{}",
                asm()
            );
        }
    }
    if deterministic {
        assert_eq!(
            verified.maps(),
            checked.maps(),
            "modes disagree on the maps\n{}",
            asm()
        );
    }
}
