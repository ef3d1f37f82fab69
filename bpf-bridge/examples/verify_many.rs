//! Verifies programs many times: a driver for profiling the verifier.
//!
//! `cargo run --release -p bpf-bridge --example verify_many -- FILE [RUNS]`
//! (an object as `luabpf compile x.lua -o x.o` writes it, or xdp assembly
//! `.s`), e.g. under
//! `valgrind --tool=callgrind --toggle-collect=bpf_bridge::verifier::verify_with`.

use bpf_bridge::asm::assemble;
use bpf_bridge::elf::read_object;
use bpf_bridge::program::ProgType;
use bpf_bridge::verifier::verify;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: verify_many FILE [RUNS]");
    let runs: usize = args.next().map_or(1000, |s| s.parse().expect("run count"));
    let bytes = std::fs::read(&path).expect("readable object");
    let progs = if path.ends_with(".s") {
        let text = String::from_utf8(bytes).expect("UTF-8 assembly");
        let asm = assemble(&text).expect("valid assembly");
        vec![asm.into_program("asm", ProgType::Xdp)]
    } else {
        read_object(&bytes).expect("valid object")
    };
    for prog in progs {
        let mut result = String::new();
        for _ in 0..runs {
            result = match verify(&prog) {
                Ok(v) => v.to_string(),
                Err(e) => e.to_string(),
            };
        }
        println!("{path}: {result}");
    }
}
