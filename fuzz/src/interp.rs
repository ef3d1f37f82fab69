//! `interp`: arbitrary bytecode, maps and packet (see `input.rs`) on the
//! interpreter in checked mode, as `raw` and as `xdp`: loading refuses what does
//! not decode (or has maps that cannot exist), and a run ends with r0 or a fault,
//! never a panic; under `-s address` (cargo-fuzz's default sanitizer) also never
//! with an access outside the run's regions. Programs with a backward jump are
//! skipped: checked mode stops a loop only after 2^24 back edges, too slow here.

use super::input::Case;
use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::isa::{self, Op};
use bpf_bridge::program::ProgType;

/// Runs the check on one input.
pub fn check(data: &[u8]) {
    let Some(case) = Case::parse(data) else {
        return;
    };
    let Ok(ops) = isa::decode_program(&case.insns) else {
        let prog = case.program(ProgType::Raw);
        assert!(
            InterpEngine::new(&prog, Mode::Checked).is_err(),
            "undecodable program loads"
        );
        return;
    };
    if has_backward_jump(&ops) {
        return;
    }
    for prog_type in [ProgType::Raw, ProgType::Xdp] {
        let Ok(mut engine) = InterpEngine::new(&case.program(prog_type), Mode::Checked) else {
            continue;
        };
        engine
            .interpreter_mut()
            .set_trace(Box::new(std::io::sink()));
        // Twice: the second run sees the maps the first one left.
        for _ in 0..2 {
            let mut pkt = case.packet.clone();
            let _ = engine.run_packet(&mut pkt);
            assert_eq!(pkt.len(), case.packet.len());
        }
    }
}

/// Whether a jump (not a call) goes backwards.
pub fn has_backward_jump(ops: &[Op]) -> bool {
    ops.iter().enumerate().any(|(pc, op)| {
        !matches!(op, Op::CallLocal { .. }) && op.target(pc).is_some_and(|t| t <= pc as i64)
    })
}
