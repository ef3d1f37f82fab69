//! The examples in Linux: the kernel verifier accepts them (v4) and, run with
//! BPF_PROG_TEST_RUN, they agree with the oracle packet for packet.

use bpf_bridge::kernel::{kernel_required, KernelError, KernelProgram};
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions};

#[test]
fn examples_load_and_match_in_linux() {
    let pkts = super::diff::packets();
    for f in super::examples::example_files() {
        let name = f.display().to_string();
        let src = std::fs::read_to_string(&f).unwrap();
        let prog = compile(&name, &src, &CompileOptions::default()).unwrap();
        let mut k = match KernelProgram::load(&prog) {
            Ok(k) => k,
            Err(KernelError::Unavailable(e)) => {
                assert!(!kernel_required(), "kernel required: {e}");
                println!("skipped: {e}");
                return;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        let mut oracle = Oracle::new(&name, &src).unwrap();
        for (i, p) in pkts.iter().enumerate() {
            let want = oracle.run_packet(p).unwrap();
            let got = k.run(p).unwrap();
            if let (Some(want), Some(got)) = (want, got) {
                assert_eq!(got as i64, want, "{name}: packet {i}");
            }
        }
        // Frames the kernel could not run still ran on the oracle; compare maps
        // only when every frame ran in both.
        if k.not_run().too_short == 0 && k.not_run().too_long == 0 {
            assert_eq!(k.dump_maps().unwrap(), oracle.maps(), "{name}: maps");
        }
    }
}
