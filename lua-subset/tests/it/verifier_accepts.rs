//! Our verifier accepts what the front end produces: every example (V3 and
//! V4), and every generated program the Linux kernel accepts. Accepted
//! programs run in verified mode (with the verifier's facts) exactly like in
//! checked mode on the shipped capture.

use bpf_bridge::capture::read_frames;
use bpf_bridge::interp::{Interpreter, Mode};
use bpf_bridge::kernel::{kernel_required, KernelError, KernelProgram};
use bpf_bridge::maps::MapSet;
use bpf_bridge::program::Program;
use bpf_bridge::verifier::{verify, Rule, Verified};
use lua_subset::{compile, CompileOptions, Cpu};

fn capture() -> Vec<Vec<u8>> {
    let path = super::examples::examples_dir().join("captures/mixed.pcap");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let frames = read_frames(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!frames.is_empty(), "{}: no frames", path.display());
    frames
}

/// Runs `p` on every frame in checked and in verified mode (fresh maps each
/// mode, shared across frames): verdicts, packets and final maps agree.
fn same_in_both_modes(name: &str, p: &Program, v: &Verified, frames: &[Vec<u8>]) {
    let mut checked = Interpreter::new(p, Mode::Checked).expect("loads checked");
    let mut verified =
        Interpreter::new(p, Mode::Verified(v.facts.clone())).expect("loads verified");
    let mut maps_c = MapSet::new(&p.maps).expect("maps");
    let mut maps_v = MapSet::new(&p.maps).expect("maps");
    for (i, f) in frames.iter().enumerate() {
        let (mut a, mut b) = (f.clone(), f.clone());
        checked.set_prng_seed(i as u64);
        verified.set_prng_seed(i as u64);
        let rc = checked.run(&mut maps_c, &mut a);
        let rv = verified.run(&mut maps_v, &mut b);
        assert_eq!(rc, rv, "{name}: verdicts differ on frame {i}");
        assert_eq!(a, b, "{name}: packets differ on frame {i}");
    }
    assert_eq!(maps_c.dump(), maps_v.dump(), "{name}: maps differ");
}

#[test]
fn examples_are_accepted_and_run_alike() {
    let frames = capture();
    let files = super::examples::example_files();
    assert!(files.len() >= 5, "at least five examples");
    let mut accepted = 0;
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for cpu in [Cpu::V4, Cpu::V3] {
            let opts = CompileOptions {
                cpu,
                ..Default::default()
            };
            let name = format!("{} {cpu:?}", f.display());
            let p = compile(&f.display().to_string(), &src, &opts)
                .unwrap_or_else(|d| panic!("{}", d.render()));
            let v = verify(&p).unwrap_or_else(|e| panic!("{name}: rejected: {e}"));
            same_in_both_modes(&name, &p, &v, &frames);
            accepted += 1;
        }
    }
    println!("examples accepted: {accepted}/{}", 2 * files.len());
}

#[test]
fn generated_programs_accepted_when_linux_accepts() {
    let frames = capture();
    let n: u64 = std::env::var("LUA_GEN_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut kernel = true;
    let (mut ours, mut linux, mut both, mut too_complex) = (0, 0, 0, 0);
    let mut missed = Vec::new();
    for seed in 0..n {
        let name = format!("gen{seed}.lua");
        let src = super::gen::ProgGen::new(seed).program();
        let prog = compile(&name, &src, &CompileOptions::default())
            .unwrap_or_else(|d| panic!("{name}: {}", d.render()));
        // Whether Linux accepts it (None: no kernel to ask).
        let linux_ok = if kernel {
            match KernelProgram::load(&prog) {
                Ok(_) => Some(true),
                Err(KernelError::Unavailable(e)) => {
                    assert!(!kernel_required(), "kernel required: {e}");
                    println!("skipped kernel comparison: {e}");
                    kernel = false;
                    None
                }
                Err(KernelError::Rejected { .. }) => Some(false),
                Err(e) => panic!("{name}: {e}"),
            }
        } else {
            None
        };
        linux += usize::from(linux_ok == Some(true));
        match verify(&prog) {
            Ok(v) => {
                ours += 1;
                both += usize::from(linux_ok == Some(true));
                same_in_both_modes(&name, &prog, &v, &frames);
            }
            Err(e) if e.rule == Rule::TooComplex && linux_ok != Some(true) => too_complex += 1,
            Err(e) => {
                if linux_ok != Some(false) {
                    missed.push(format!("{name}: {e}"));
                }
            }
        }
    }
    println!(
        "generated: {n}, accepted by us {ours}, by Linux {linux}, by both {both} (kernel {}), too complex for us {too_complex}",
        if kernel { "available" } else { "unavailable" }
    );
    // Seeds Linux accepts that exceed our complexity limits would be listed
    // in KNOWN_TOO_COMPLEX (all `too-complex`, never a safety verdict); the
    // list is empty. Anything else is a bug, and a seed that starts passing
    // must be taken off the list.
    let known: Vec<String> = KNOWN_TOO_COMPLEX
        .iter()
        .filter(|&&s| s < n)
        .map(|s| format!("gen{s}.lua"))
        .collect();
    let names: Vec<&str> = missed
        .iter()
        .map(|m| m.split(':').next().unwrap_or(""))
        .collect();
    let unexpected: Vec<&String> = missed
        .iter()
        .filter(|m| {
            let name = m.split(':').next().unwrap_or("");
            !(known.iter().any(|k| k == name) && m.contains("too-complex"))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "rejected by us but not by Linux: {:?}\n{}",
        names,
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    if kernel {
        for k in &known {
            assert!(
                names.contains(&k.as_str()),
                "{k} is now accepted: take it off KNOWN_TOO_COMPLEX"
            );
        }
    }
}

/// Generated seeds Linux accepts but that exceed our verifier's limits.
const KNOWN_TOO_COMPLEX: &[u64] = &[];
