//! The bpf_conformance vectors on the JIT, every architecture, checked mode
//! (and verified mode with all-proven facts where the run stays in bounds).

use super::harness::{emulated_arches, jit_run_on, reference};
use bpf_bridge::facts::{Access, Facts};
use bpf_bridge::isa::Insn;
use jit::{Arch, Options};
use std::path::{Path, PathBuf};

/// `BPF_CONFORMANCE_DIR` (must exist when set), else `../shared/conformance/tests`
/// beside the workspace; `None` after saying why.
fn conformance_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("BPF_CONFORMANCE_DIR") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "BPF_CONFORMANCE_DIR={} is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/tests");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipped: no conformance vectors (set BPF_CONFORMANCE_DIR; {} is missing)",
            dir.display()
        );
        None
    }
}

fn section<'a>(text: &'a str, name: &str) -> Option<Vec<&'a str>> {
    let header = format!("-- {name}");
    let mut lines = text.lines();
    lines.by_ref().find(|l| l.trim_end() == header)?;
    Some(lines.take_while(|l| !l.starts_with("-- ")).collect())
}

struct Vector {
    name: String,
    insns: Vec<Insn>,
    mem: Vec<u8>,
    result: u64,
}

fn vectors() -> Vec<Vector> {
    let Some(dir) = conformance_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "data"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read vector");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let insns = if let Some(asm) = section(&text, "asm") {
            bpf_bridge::asm::assemble(&asm.join("\n"))
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .insns
        } else {
            let raw = section(&text, "raw").unwrap_or_else(|| panic!("{name}: no program"));
            raw.iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    Insn::from_u64(
                        u64::from_str_radix(l.trim().trim_start_matches("0x"), 16)
                            .expect("raw hex"),
                    )
                })
                .collect()
        };
        let mem = section(&text, "mem")
            .map(|m| {
                m.iter()
                    .flat_map(|l| l.split_whitespace())
                    .map(|b| u8::from_str_radix(b, 16).expect("mem hex"))
                    .collect()
            })
            .unwrap_or_default();
        let result = section(&text, "result")
            .and_then(|r| {
                r.iter()
                    .map(|l| l.trim())
                    .find(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string)
            })
            .map(|r| {
                u64::from_str_radix(r.trim_start_matches("0x"), 16)
                    .unwrap_or_else(|_| panic!("{name}: result {r}"))
            })
            .unwrap_or_else(|| panic!("{name}: no result"));
        out.push(Vector {
            name,
            insns,
            mem,
            result,
        });
    }
    out
}

fn run_all(arch: Arch) -> (usize, Vec<String>) {
    let vs = vectors();
    let mut failed = Vec::new();
    for v in &vs {
        let mut m = v.mem.clone();
        let want = reference(&v.insns, &mut m);
        let mut modes = vec![("checked", Options::default(), None)];
        if arch == Arch::X86_64 {
            modes.push((
                "blinded",
                Options {
                    blind: Some(0xfeed_f00d),
                    movbe: true,
                    ..Options::default()
                },
                None,
            ));
        }
        let facts = Facts {
            accesses: vec![Access::Proven; v.insns.len()],
            max_stack: 512,
        };
        modes.push(("verified", Options::default(), Some(&facts)));
        for (mode, opts, facts) in modes {
            let mut mem = v.mem.clone();
            let got = jit_run_on(arch, &v.insns, &mut mem, opts, facts);
            if got != Ok(v.result) || got != want {
                failed.push(format!(
                    "{} ({mode}): got {got:x?}, expected {:#x}, reference {want:x?}",
                    v.name, v.result
                ));
            }
        }
    }
    (vs.len(), failed)
}

#[track_caller]
fn check(arch: Arch) {
    let (n, failed) = run_all(arch);
    println!("{}: {} vectors, {} failures", arch.name(), n, failed.len());
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    if n > 0 {
        assert_eq!(n, 313, "expected the 313 upstream vectors");
    }
}

#[test]
fn conformance_x86_64() {
    check(Arch::X86_64);
}

#[test]
fn conformance_emulated() {
    for arch in emulated_arches() {
        check(arch);
    }
}
