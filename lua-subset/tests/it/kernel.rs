//! The examples in Linux: the kernel verifier accepts them (v4) and, run with
//! BPF_PROG_TEST_RUN, they agree with the oracle packet for packet.

use bpf_bridge::kernel::{kernel_required, KernelError, KernelProgram};
use bpf_bridge::program::Program;
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions};

/// `prog` loaded in Linux; `None`, after a note, where bpf() is unavailable
/// (and not required).
pub fn load(name: &str, prog: &Program) -> Option<KernelProgram> {
    match KernelProgram::load(prog) {
        Ok(k) => Some(k),
        Err(KernelError::Unavailable(e)) => {
            assert!(!kernel_required(), "kernel required: {e}");
            println!("skipped: {e}");
            None
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

/// `src` loads in Linux (v4) and agrees with the oracle on every packet.
#[track_caller]
pub fn check_in_linux(name: &str, src: &str, pkts: &[Vec<u8>]) {
    let prog = compile(name, src, &CompileOptions::default()).unwrap();
    let Some(mut k) = load(name, &prog) else {
        return;
    };
    let mut oracle = Oracle::new(name, src).unwrap();
    agree(name, &mut k, &mut oracle, pkts);
}

/// Runs `pkts` in Linux and on the oracle in turn and asserts equal verdicts
/// (the kernel's low 32 bits) wherever both give one. A frame Linux cannot run
/// (shorter than an Ethernet header, longer than XDP shows whole) is left out
/// of the oracle's run too: its map writes would otherwise make the two
/// disagree on every later packet that reads them.
#[track_caller]
pub fn agree(name: &str, k: &mut KernelProgram, oracle: &mut Oracle, pkts: &[Vec<u8>]) {
    for (i, p) in pkts.iter().enumerate() {
        let Some(got) = k.run(p).unwrap() else {
            continue;
        };
        if let Some(want) = oracle.run_packet(p).unwrap() {
            assert_eq!(got, want as u32, "{name}: packet {i}");
        }
    }
}

#[test]
fn examples_load_and_match_in_linux() {
    let pkts = super::diff::packets();
    for f in super::examples::example_files() {
        let name = f.display().to_string();
        let src = std::fs::read_to_string(&f).unwrap();
        let prog = compile(&name, &src, &CompileOptions::default()).unwrap();
        let Some(mut k) = load(&name, &prog) else {
            return;
        };
        let mut oracle = Oracle::new(&name, &src).unwrap();
        agree(&name, &mut k, &mut oracle, &pkts);
        // Both ran the same frames: their maps agree too.
        assert_eq!(k.dump_maps().unwrap(), oracle.maps(), "{name}: maps");
    }
}

/// `for` loops the verifier cannot bound (an exact start, a limit from the
/// packet) load: their index is derived from the trip counter, so the loop
/// state converges instead of taking a new exact value each iteration.
#[test]
fn unbounded_for_loops_converge_in_linux() {
    let cases = [
        "return function(pkt)\n  for i = 1, pkt.len do\n    if pkt:u8(i % 14) == 255 then return 1 end\n  end\n  return 2\nend\n",
        "return function(pkt)\n  for i = 5, pkt:u16(12) % 9, 3 do\n    if pkt:u8(i) == 8 then return 1 end\n  end\n  return 2\nend\n",
        "return function(pkt)\n  for i = 40, pkt.len % 7, -2 do\n    if pkt:u8(i) == 0 then return 3 end\n  end\n  return 2\nend\n",
    ];
    let pkts = super::diff::packets();
    for (n, src) in cases.iter().enumerate() {
        check_in_linux(&format!("loop{n}.lua"), src, &pkts);
    }
}
