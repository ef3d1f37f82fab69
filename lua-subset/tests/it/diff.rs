//! Differential tests: the compiled program against the oracle (real Lua
//! 5.4) on the interpreter, and the interpreter against the native JIT in
//! both modes, verdicts (or faults) and maps, packet by packet.

use bpf_bridge::engine::Engine;
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::program::Program;
use jit::engine::JitEngine;
use jit::exec_mem::ExecPool;
use jit::{Arch, Options};
use lua_subset::oracle::Oracle;
use lua_subset::{compile, CompileOptions, Cpu};

/// Packets for differential runs: the shipped captures plus synthetic frames.
pub fn packets() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let dir = super::examples::examples_dir().join("captures");
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut files: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            if let Ok(bytes) = std::fs::read(&f) {
                if let Ok(frames) = bpf_bridge::capture::read_frames(&bytes) {
                    out.extend(frames);
                }
            }
        }
    }
    out.extend(super::packets::synthetic());
    out
}

/// Runs `src` on the interpreter and on the oracle over `pkts`, and the
/// interpreter against the host's JIT (checked, and verified with our
/// verifier's facts); panics with context on any difference in verdicts,
/// faults or maps.
#[track_caller]
pub fn check(name: &str, src: &str, pkts: &[Vec<u8>]) {
    check_on(name, src, pkts, false);
}

/// [`check`], and with `emulated` the aarch64 and riscv64 JITs too, where
/// the build can emulate them (the workspace's tests can: the CLI enables
/// the jit crate's `emulate` feature).
#[track_caller]
pub fn check_on(name: &str, src: &str, pkts: &[Vec<u8>], emulated: bool) {
    for cpu in [Cpu::V4, Cpu::V3] {
        let opts = CompileOptions {
            cpu,
            ..Default::default()
        };
        let prog = compile(name, src, &opts).unwrap_or_else(|d| panic!("{name}: {}", d.render()));
        jit_agrees(&format!("{name} ({cpu:?})"), &prog, pkts, emulated);
        let mut eng =
            InterpEngine::new(&prog, Mode::Checked).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut oracle = Oracle::new(name, src).unwrap_or_else(|e| panic!("{name}: oracle: {e}"));
        for (i, p) in pkts.iter().enumerate() {
            let want = oracle.run_packet(p).expect("oracle");
            let got = eng.run_packet(&mut p.clone());
            let Some(want) = want else { continue };
            match got {
                Ok(v) => assert_eq!(
                    v as i64,
                    want,
                    "{name} ({cpu:?}): packet {i} ({} bytes {:02x?}): compiled {v} vs Lua {want}\n{}",
                    p.len(),
                    &p[..p.len().min(64)],
                    lua_subset::listing::listing(&prog)
                ),
                Err(f) => panic!("{name} ({cpu:?}): packet {i}: fault {f:?}\n{}", lua_subset::listing::listing(&prog)),
            }
        }
        let (got, want) = (eng.maps(), oracle.maps());
        if got != want {
            let mut diffs = Vec::new();
            for (m, entries) in &want {
                let other = got.get(m).cloned().unwrap_or_default();
                for e in entries.iter().filter(|e| !other.contains(e)) {
                    diffs.push(format!("{m}: Lua has {e:?}"));
                }
                for e in other.iter().filter(|e| !entries.contains(e)) {
                    diffs.push(format!("{m}: compiled has {e:?}"));
                }
            }
            panic!("{name} ({cpu:?}): maps differ: {}", diffs.join("; "));
        }
    }
}

/// The interpreter (checked) against the JIT in checked and in verified
/// mode on every packet: the same verdict or the same fault, and the same
/// maps at the end. The host's JIT always (where the host has a backend,
/// else a note), with `emulated` the other architectures' too.
#[track_caller]
fn jit_agrees(name: &str, prog: &Program, pkts: &[Vec<u8>], emulated: bool) {
    static NO_EMULATOR: std::sync::Once = std::sync::Once::new();
    let host = Arch::host();
    if host.is_none() {
        println!("skipped native JIT comparison: no backend for this host");
    }
    let others = [Arch::Aarch64, Arch::Riscv64, Arch::X86_64]
        .into_iter()
        .filter(|&a| emulated && Some(a) != host);
    // Verified mode needs the verifier's facts; a program it finds too
    // complex (some v3 programs, whose loops count a budget) runs checked only.
    let verified = bpf_bridge::verifier::verify(prog).ok();
    let pool = ExecPool::new();
    let verified_facts = verified.as_ref().map(|v| Some(&v.facts));
    let modes: Vec<_> = std::iter::once(None).chain(verified_facts).collect();
    for (arch, facts) in host
        .into_iter()
        .chain(others)
        .flat_map(|a| modes.iter().map(move |&f| (a, f)))
    {
        let mode = match facts {
            Some(_) => format!("{arch:?} verified"),
            None => format!("{arch:?} checked"),
        };
        let mut interp = InterpEngine::new(prog, Mode::Checked).unwrap();
        let mut jit = match JitEngine::new(prog, facts, arch, Options::for_host(), &pool) {
            Ok(j) => j,
            Err(e) if Some(arch) != host && e.to_string().contains("`emulate` feature") => {
                NO_EMULATOR.call_once(|| println!("skipped emulated JIT comparison: {e}"));
                continue;
            }
            Err(e) => panic!("{name}: JIT ({mode}): {e}"),
        };
        for (i, p) in pkts.iter().enumerate() {
            let want = interp.run_packet(&mut p.clone());
            let got = jit.run_packet(&mut p.clone());
            assert_eq!(
                got,
                want,
                "{name}: packet {i}: JIT ({mode}) against the interpreter\n{}",
                lua_subset::listing::listing(prog)
            );
        }
        assert_eq!(jit.maps(), interp.maps(), "{name}: JIT ({mode}): maps");
    }
}

#[test]
fn examples_match_the_oracle() {
    let pkts = packets();
    assert!(pkts.len() > 20);
    for f in super::examples::example_files() {
        let src = std::fs::read_to_string(&f).unwrap();
        check_on(&f.display().to_string(), &src, &pkts, true);
    }
}

#[test]
fn differential_run_is_meaningful() {
    // The harness must see real work: SYN counts and drops.
    let pkts = packets();
    let src =
        std::fs::read_to_string(super::examples::examples_dir().join("syn_count.lua")).unwrap();
    let mut o = Oracle::new("syn_count.lua", &src).unwrap();
    for p in &pkts {
        o.run_packet(p).unwrap();
    }
    let m = o.maps();
    assert!(m["syns"].len() >= 3, "{m:?}");
    let src =
        std::fs::read_to_string(super::examples::examples_dir().join("port_block.lua")).unwrap();
    let prog = compile("port_block.lua", &src, &CompileOptions::default()).unwrap();
    let mut eng = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let verdicts: Vec<_> = pkts
        .iter()
        .map(|p| eng.run_packet(&mut p.clone()).ok())
        .collect();
    assert!(verdicts.contains(&Some(1)));
    assert!(verdicts.contains(&Some(2)));
    assert!(
        verdicts.contains(&Some(0)),
        "short frames end with verdict 0"
    );
}

#[test]
fn generated_programs_match_the_oracle() {
    let all = packets();
    // A spread of frames: every tenth plus the short ones.
    let pkts: Vec<Vec<u8>> = all
        .iter()
        .enumerate()
        .filter(|(i, p)| i % 4 == 0 || p.len() < 40)
        .map(|(_, p)| p.clone())
        .collect();
    let n: u64 = std::env::var("LUA_GEN_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let start: u64 = std::env::var("LUA_GEN_START")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for seed in start..start + n {
        let src = super::gen::ProgGen::new(seed).program();
        // Every tenth on the emulated architectures too (emulation is slow).
        check_on(&format!("gen{seed}.lua"), &src, &pkts, seed % 10 == 0);
    }
}

#[test]
fn generated_programs_do_real_work() {
    // Most generated programs must produce non-zero verdicts or map contents on
    // some packets, or the differential test would prove little.
    let pkts = packets();
    let mut busy = 0;
    for seed in 0..40 {
        let src = super::gen::ProgGen::new(seed).program();
        let mut o = Oracle::new("g.lua", &src).unwrap();
        let mut nonzero = false;
        for p in pkts.iter().step_by(5) {
            if o.run_packet(p).unwrap().is_some_and(|v| v != 0) {
                nonzero = true;
            }
        }
        if nonzero || o.maps().values().any(|m| !m.is_empty()) {
            busy += 1;
        }
        if std::env::var("SHOW_GEN").is_ok() && seed < 3 {
            println!("---- seed {seed}\n{src}");
        }
    }
    assert!(
        busy >= 22,
        "only {busy} of 40 generated programs did anything"
    );
}

#[test]
fn check_file_from_env() {
    // Debugging aid: LUA_FILE=path runs the differential check on one file.
    if let Ok(f) = std::env::var("LUA_FILE") {
        let src = std::fs::read_to_string(&f).unwrap();
        check(&f, &src, &packets());
    }
}
