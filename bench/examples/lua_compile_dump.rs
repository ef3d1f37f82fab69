//! Byte-identity aid for work on the Lua compiler's speed: compiles every
//! file named on stdin (one path a line) for `--cpu v4` and `v3` and prints
//! the listing, the raw instructions, the maps and the line table, or the
//! rendered diagnostics of a refusal. Two builds' outputs must compare equal
//! (`cmp`); paths that cannot be read or are not UTF-8 are skipped.
//!
//! `cargo build --profile bench -p luabpf-bench --example lua_compile_dump`,
//! then `ls examples/*.lua | target/release/examples/lua_compile_dump > out`.

use lua_subset::{compile, CompileOptions, Cpu};
use std::io::{BufRead, Write};

fn main() {
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let path = line.unwrap();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(src) = std::str::from_utf8(&bytes) else {
            continue;
        };
        for cpu in [Cpu::V4, Cpu::V3] {
            let opts = CompileOptions {
                cpu,
                ..Default::default()
            };
            writeln!(out, "=== {path} {cpu:?}").unwrap();
            match compile(&path, src, &opts) {
                Ok(p) => {
                    writeln!(out, "{}", lua_subset::listing::listing(&p)).unwrap();
                    writeln!(out, "{:?}", p.insns).unwrap();
                    writeln!(out, "{:?}", p.maps).unwrap();
                    writeln!(out, "{:?}", p.source.as_ref().map(|s| &s.lines)).unwrap();
                }
                Err(d) => writeln!(out, "ERR\n{}", d.render()).unwrap(),
            }
        }
    }
}
