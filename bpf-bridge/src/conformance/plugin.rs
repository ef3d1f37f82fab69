//! bpf_conformance's plugin protocol: the program's bytes as hex on stdin, the
//! input memory as hex in the last argument; r0 in hex on stdout, or an error.

use super::ConformanceEngine;
use crate::isa::insns_from_bytes;
use crate::program::{ProgType, Program};

/// Bytes from hex digits (whitespace and an optional `0x` prefix ignored).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").unwrap_or(t);
    let digits: Vec<u8> = t.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("bad hex byte `{}`", String::from_utf8_lossy(p)))
        })
        .collect()
}

/// Runs the plugin protocol's request on `engine`: returns r0, or the error text
/// (bad hex, truncated or invalid bytecode, a fault).
pub fn plugin_run(
    program_hex: &str,
    memory_hex: Option<&str>,
    engine: &mut dyn ConformanceEngine,
) -> Result<u64, String> {
    let bytes = parse_hex(program_hex).map_err(|e| format!("program: {e}"))?;
    let insns = insns_from_bytes(&bytes).map_err(|e| format!("program: {e}"))?;
    let mut mem = match memory_hex {
        Some(m) => parse_hex(m).map_err(|e| format!("memory: {e}"))?,
        None => Vec::new(),
    };
    let prog = Program::new("plugin", ProgType::Raw, insns);
    engine.run(&prog, &mut mem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::InterpConformance;

    #[test]
    fn runs_programs_from_hex() {
        let mut e = InterpConformance::checked();
        // ldxb r0, [r1+1]; exit
        let prog = "7110010000000000 9500000000000000";
        assert_eq!(plugin_run(prog, Some("aa bb"), &mut e), Ok(0xbb));
        assert!(plugin_run(prog, None, &mut e).is_err());
        assert!(plugin_run("71100100000000", None, &mut e).is_err());
        assert!(plugin_run("zz", None, &mut e).is_err());
        assert_eq!(parse_hex("0x0aff").unwrap(), [10, 255]);
    }
}
