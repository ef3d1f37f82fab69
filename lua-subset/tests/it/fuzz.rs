//! Passes never panic: random bytes, token soup and mutated programs all end
//! in a program or in diagnostics (and the oracle in a result or an error).

use super::gen::{ProgGen, Rng};
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions, Cpu};

const TOKENS: &[&str] = &[
    "end",
    "(",
    ")",
    "local",
    "function",
    "+",
    "..",
    "nil",
    "pkt",
    "[",
    "]",
    "{",
    "}",
    "=",
    "0x",
    "1.5",
    "\"s\"",
    "--[[",
    "]]",
    "::",
    "goto",
    "return",
    "...",
    "::x::",
    "\n",
    "if",
    "then",
    "else",
    "while",
    "do",
    "for",
    "in",
    "repeat",
    "until",
    "break",
    "and",
    "or",
    "not",
    "~",
    "<<",
    ">>",
    "//",
    "%",
    "#",
    ":",
    ".",
    "map",
    "math",
    "u8",
    "len",
    "<const>",
    "<close>",
    "true",
    "false",
    "-",
    "*",
    "/",
    "^",
    "==",
    "~=",
    "<",
    "x",
    "y",
    "9223372036854775807",
    "-9223372036854775808",
    "0xffffffffffffffffff",
    "'",
    "\\",
    ";",
    ",",
];

fn try_all(src: &str) {
    for cpu in [Cpu::V3, Cpu::V4] {
        let opts = CompileOptions {
            cpu,
            loop_budget: 100,
        };
        match compile("fuzz.lua", src, &opts) {
            Ok(p) => {
                bpf_bridge::isa::decode_program(&p.insns).expect("compiled programs decode");
            }
            Err(d) => {
                assert!(!d.items.is_empty());
                let r = d.render();
                assert!(r.contains("fuzz.lua:"), "{r}");
            }
        }
    }
}

fn mutate(r: &mut Rng, src: &str) -> String {
    let mut s: Vec<char> = src.chars().collect();
    for _ in 0..1 + r.below(4) {
        let n = s.len().max(1) as u64;
        let at = r.below(n) as usize;
        match r.below(4) {
            0 => {
                let len = (r.below(20) as usize).min(s.len().saturating_sub(at));
                s.drain(at..at + len);
            }
            1 => {
                let t = *r.pick(TOKENS);
                let at = at.min(s.len());
                for (i, c) in format!(" {t} ").chars().enumerate() {
                    s.insert(at + i, c);
                }
            }
            2 => {
                let len = (r.below(30) as usize).min(s.len().saturating_sub(at));
                let piece: Vec<char> = s[at..at + len].to_vec();
                let to = (r.below(n) as usize).min(s.len());
                for (i, c) in piece.into_iter().enumerate() {
                    s.insert(to + i, c);
                }
            }
            _ => {
                if at < s.len() {
                    s[at] = (r.below(95) as u8 + 32) as char;
                }
            }
        }
    }
    s.into_iter().collect()
}

#[test]
fn no_panics_on_random_and_mutated_sources() {
    let mut r = Rng::new(7);
    let mut seeds: Vec<String> = super::examples::example_files()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    seeds.extend((0..20).map(|i| ProgGen::new(10_000 + i).program()));
    let n: usize = std::env::var("LUA_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut compiled = 0;
    for i in 0..n {
        let src = match i % 4 {
            0 => (0..r.below(200))
                .map(|_| (r.below(256) as u8) as char)
                .collect(),
            1 => (0..r.below(60))
                .map(|_| *r.pick(TOKENS))
                .collect::<Vec<_>>()
                .join(" "),
            _ => {
                let base = seeds[r.below(seeds.len() as u64) as usize].clone();
                mutate(&mut r, &base)
            }
        };
        try_all(&src);
        if compile("m.lua", &src, &CompileOptions::default()).is_ok() {
            compiled += 1;
            // The oracle may refuse it, but must not panic or hang.
            if let Ok(mut o) = Oracle::new("m.lua", &src) {
                let _ = o.run_packet(&[0u8; 60]);
                let _ = o.maps();
            }
        }
    }
    assert!(
        compiled > n / 100,
        "some mutations should stay valid ({compiled})"
    );
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    for depth in [100usize, 1000, 100_000] {
        let src = format!(
            "return function(pkt) return {}1{} end",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        assert!(compile("deep.lua", &src, &CompileOptions::default()).is_err());
        let src = format!("return function(pkt) return {}1 end", "- ".repeat(depth));
        assert!(compile("deep.lua", &src, &CompileOptions::default()).is_err());
        let src = format!(
            "return function(pkt) {} return 1 {} end",
            "do ".repeat(depth),
            "end ".repeat(depth)
        );
        assert!(compile("deep.lua", &src, &CompileOptions::default()).is_err());
    }
    // Long flat chains are refused past the depth limit, fine below it.
    let src = format!(
        "return function(pkt) return 1{} end",
        " + pkt.len".repeat(2000)
    );
    let d = compile("long.lua", &src, &CompileOptions::default()).unwrap_err();
    assert!(d.items[0].message.contains("too deep"), "{}", d.render());
    let src = format!(
        "return function(pkt) return 1{} end",
        " + pkt.len".repeat(100)
    );
    compile("long.lua", &src, &CompileOptions::default()).unwrap();
}
