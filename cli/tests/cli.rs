//! The `luabpf` binary end to end: contracts of `run --json`, and bad input
//! giving a clear error and an exit code in 1..=99, never a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn luabpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_luabpf"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run luabpf")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn check_user_error(o: &Output, needle: &str) {
    let code = o.status.code().expect("exited, not killed by a signal");
    assert!((1..=99).contains(&code), "exit code {code}: {}", stderr(o));
    let err = stderr(o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let o = luabpf(args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("exactly one JSON object")
}

const PCAP: &str = "examples/captures/mixed.pcap";

#[test]
fn run_json_has_the_contract_fields() {
    let v = run_json(&["run", "examples/c/xdp_count.o", "--pcap", PCAP, "--json"]);
    assert_eq!(v["engine"], "interp");
    assert_eq!(v["packets"], 303);
    let verdicts = v["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 303);
    assert!(verdicts.iter().all(|x| x == 1 || x == 2), "{verdicts:?}");
    let counts = v["maps"]["counts"].as_object().unwrap();
    assert_eq!(counts["6"], 110);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["engine", "packets", "verdicts", "maps"]);
}

#[test]
fn lua_filters_agree_with_real_lua_on_every_packet() {
    for entry in std::fs::read_dir(root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "lua") {
            continue;
        }
        let file = path.to_str().unwrap();
        let lua = run_json(&["run", file, "--pcap", PCAP, "--engine", "lua", "--json"]);
        // Every engine, verified (the default) and checked, on the host JIT too.
        let runs: [&[&str]; 4] = [
            &["--engine", "interp"],
            &["--engine", "interp", "--unverified"],
            &["--engine", "jit"],
            &["--engine", "jit", "--unverified"],
        ];
        for extra in runs {
            let mut args = vec!["run", file, "--pcap", PCAP, "--json"];
            args.extend_from_slice(extra);
            let other = run_json(&args);
            assert_eq!(lua["verdicts"], other["verdicts"], "{file} {extra:?}");
            assert_eq!(lua["maps"], other["maps"], "{file} {extra:?}");
        }
    }
}

#[test]
fn pcapng_captures_run_too() {
    let v = run_json(&[
        "run",
        "examples/c/xdp_count.o",
        "--pcap",
        "examples/captures/small.pcapng",
        "--json",
    ]);
    assert_eq!(v["packets"], 40);
}

#[test]
fn bad_programs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let truncated = write("t.bin", &[0xb7, 0, 0, 0, 0]);
    check_user_error(
        &luabpf(&["run", &truncated, "--pcap", PCAP]),
        "not a multiple of 8",
    );
    let garbage = write("g.bin", &[0xff; 16]);
    check_user_error(&luabpf(&["run", &garbage, "--pcap", PCAP]), "instruction 0");
    let bad_asm = write("b.s", b"mov %r0, 1\nfrob %r1, 2\nexit\n");
    check_user_error(&luabpf(&["run", &bad_asm, "--pcap", PCAP]), "b.s:2:1");
    let bad_elf = write("e.o", b"\x7fELF\x02\x01\x01garbage");
    check_user_error(&luabpf(&["run", &bad_elf, "--pcap", PCAP]), "e.o");
    let bad_lua = write("f.lua", b"return function(pkt)\n  return print(1)\nend\n");
    check_user_error(&luabpf(&["run", &bad_lua, "--pcap", PCAP]), "f.lua:2:");
    check_user_error(
        &luabpf(&["run", "does/not/exist.s", "--pcap", PCAP]),
        "exist.s",
    );
}

#[test]
fn bad_captures_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let magic = dir.path().join("m.pcap");
    std::fs::write(&magic, b"not a capture at all").unwrap();
    let prog = "examples/c/xdp_count.o";
    check_user_error(
        &luabpf(&["run", prog, "--pcap", magic.to_str().unwrap()]),
        "not a pcap",
    );
    let whole = std::fs::read(root().join(PCAP)).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &whole[..whole.len() - 7]).unwrap();
    check_user_error(
        &luabpf(&["run", prog, "--pcap", cut.to_str().unwrap()]),
        "record 302",
    );
}

#[test]
fn faulting_packets_have_null_verdicts_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    // Reads 4 bytes at address 16: outside every region on every packet.
    let p = dir.path().join("oob.s");
    std::fs::write(&p, "mov %r1, 16\nldxw %r0, [%r1+0]\nexit\n").unwrap();
    let prog = p.to_str().unwrap();
    // The verifier refuses it up front …
    let o = luabpf(&["run", prog, "--pcap", PCAP, "--type", "raw"]);
    check_user_error(&o, "--unverified");
    assert_eq!(o.status.code(), Some(3));
    // … and unverified, every access is checked and every packet faults.
    let args = [
        "run",
        prog,
        "--pcap",
        PCAP,
        "--type",
        "raw",
        "--unverified",
        "--json",
    ];
    let o = luabpf(&args);
    check_user_error(&o, "instruction 1");
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let verdicts = v["verdicts"].as_array().unwrap();
    assert!(verdicts.iter().all(|x| x.is_null()));
}

#[test]
fn asm_and_disasm_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("p.s");
    std::fs::write(
        &src,
        "mov %r0, 2\nldxh %r2, [%r1+12]\njne %r2, 0x8, +1\nmov %r0, 1\nexit\n",
    )
    .unwrap();
    let bin = dir.path().join("p.bin");
    let o = luabpf(&["asm", src.to_str().unwrap(), "-o", bin.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::metadata(&bin).unwrap().len(), 40);
    let o = luabpf(&["disasm", bin.to_str().unwrap(), "--llvm"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("r2 = *(u16 *)(r1 + 12)"), "{text}");
}
