//! `lua`: arbitrary text (seeded with the example filters) to the Lua front end,
//! for both CPU levels. Compiling never panics; a refusal carries diagnostics whose
//! spans lie on character boundaries of the source and which render; what compiles
//! decodes, and the verifier (with a small instruction limit) does not panic on it.

use bpf_bridge::isa;
use bpf_bridge::verifier::{verify_with, VerifierConfig};
use lua_subset::{compile, CompileOptions, Cpu};

/// Runs the check on one input (invalid UTF-8 is skipped: sources are `&str`).
pub fn check(data: &[u8]) {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    for cpu in [Cpu::V4, Cpu::V3] {
        let opts = CompileOptions {
            cpu,
            ..CompileOptions::default()
        };
        match compile("fuzz.lua", src, &opts) {
            Err(diags) => {
                assert!(!diags.items.is_empty(), "refused without a diagnostic");
                for d in &diags.items {
                    let (s, e) = (d.span.start as usize, d.span.end as usize);
                    assert!(s <= e && e <= src.len(), "span {s}..{e} outside the source");
                    assert!(src.is_char_boundary(s) && src.is_char_boundary(e));
                    assert!(d.line >= 1 && d.col >= 1);
                }
                assert!(!diags.render().is_empty());
            }
            Ok(prog) => {
                isa::decode_program(&prog.insns)
                    .unwrap_or_else(|e| panic!("compiled program does not decode: {e}"));
                let config = VerifierConfig {
                    max_processed: 20_000,
                    ..VerifierConfig::default()
                };
                let _ = verify_with(&prog, &config);
            }
        }
    }
}
