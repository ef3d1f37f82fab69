//! The hand-written `examples/hand/*.s` twins behave like their Lua files:
//! the twin on the interpreter against the oracle on the `.lua`. Also prints
//! the instruction counts compared in the report.

use bpf_bridge::asm::assemble;
use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::program::ProgType;
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions};

#[test]
fn hand_twins_match_their_lua_files() {
    let pkts = super::diff::packets();
    let dir = super::examples::examples_dir();
    let mut checked = 0;
    for f in super::examples::example_files() {
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        let s_path = dir.join("hand").join(format!("{stem}.s"));
        let text = std::fs::read_to_string(&s_path)
            .unwrap_or_else(|_| panic!("missing twin {}", s_path.display()));
        let asm = assemble(&text).unwrap_or_else(|e| panic!("{}: {e}", s_path.display()));
        let hand = asm.into_program(stem.clone(), ProgType::Xdp);
        let src = std::fs::read_to_string(&f).unwrap();
        let lua = compile(&stem, &src, &CompileOptions::default()).unwrap();
        println!(
            "{stem}: compiled {} insns, hand-written {} insns",
            lua.insns.len(),
            hand.insns.len()
        );
        match bpf_bridge::kernel::KernelProgram::load(&hand) {
            Ok(_) => {}
            Err(bpf_bridge::kernel::KernelError::Unavailable(e)) => {
                assert!(
                    !bpf_bridge::kernel::kernel_required(),
                    "kernel required: {e}"
                );
                println!("skipped kernel load: {e}");
            }
            Err(e) => panic!("{stem}.s: the kernel refused it: {e}"),
        }
        let mut eng = InterpEngine::new(&hand, Mode::Checked).unwrap();
        let mut oracle = Oracle::new(&stem, &src).unwrap();
        for (i, p) in pkts.iter().enumerate() {
            let want = oracle.run_packet(p).unwrap();
            let got = eng
                .run_packet(&mut p.clone())
                .unwrap_or_else(|e| panic!("{stem}.s packet {i}: {e:?}"));
            if let Some(want) = want {
                assert_eq!(got as i64, want, "{stem}.s: packet {i} ({} bytes)", p.len());
            }
        }
        assert_eq!(eng.maps(), oracle.maps(), "{stem}.s: maps");
        checked += 1;
    }
    assert!(checked >= 5);
}
