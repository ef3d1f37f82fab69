//! Every example filter compiles, decodes and runs on the oracle.

use bpf_bridge::isa::decode_program;
use lua_subset::{compile, CompileOptions, Cpu};
use std::path::PathBuf;

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples")
}

pub fn example_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(examples_dir())
        .expect("examples dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "lua"))
        .collect();
    v.sort();
    v
}

#[test]
fn examples_compile_and_decode() {
    let files = example_files();
    assert!(files.len() >= 5, "at least five examples");
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for cpu in [Cpu::V3, Cpu::V4] {
            let opts = CompileOptions {
                cpu,
                ..Default::default()
            };
            let p = compile(&f.display().to_string(), &src, &opts)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            let ops = decode_program(&p.insns).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
            assert!(!ops.is_empty());
            if std::env::var("SHOW_ASM").is_ok() {
                println!(
                    "== {} {cpu:?}: {} insns\n{}",
                    f.display(),
                    p.insns.len(),
                    lua_subset::listing::listing(&p)
                );
            }
        }
    }
}
