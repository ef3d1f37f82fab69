//! The conformance runner: on the upstream vectors (found through
//! `BPF_CONFORMANCE_DIR`, else `../shared/conformance/tests` from the workspace
//! root) and on files written here.

use bpf_bridge::conformance::{
    run_dir, run_file, ConformanceEngine, FileResult, InterpConformance, Outcome, Summary,
};
use bpf_bridge::program::Program;
use std::path::PathBuf;

fn vectors_dir() -> Option<PathBuf> {
    crate::conformance_dir()
}

fn write_vectors(files: &[(&str, &str)]) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    for (name, text) in files {
        std::fs::write(dir.0.join(name), text).unwrap();
    }
    dir
}

mod tempdir {
    /// A scratch directory removed on drop.
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let d = std::env::temp_dir().join(format!(
                "luabpf-conformance-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&d).unwrap();
            Dir(d)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[test]
fn raw_vector_passes_in_both_modes() {
    let Some(dir) = vectors_dir() else { return };
    for mut engine in [
        InterpConformance::checked(),
        InterpConformance::verified_unproven(),
    ] {
        let r = run_file(&dir.join("lddw.data"), &mut engine);
        assert_eq!(r.outcome, Outcome::Pass, "{r}");
    }
}

/// All upstream vectors pass on the interpreter, checked and verified (all-`Check` facts).
#[test]
fn all_vectors_pass_on_the_interpreter() {
    let Some(dir) = vectors_dir() else { return };
    for (mode, mut engine) in [
        ("checked", InterpConformance::checked()),
        ("verified", InterpConformance::verified_unproven()),
    ] {
        let results = run_dir(&dir, &mut engine).unwrap();
        let bad: Vec<String> = results
            .iter()
            .filter(|r| r.outcome != Outcome::Pass)
            .map(ToString::to_string)
            .collect();
        assert!(
            bad.is_empty(),
            "{mode}: {}\n{}",
            Summary::of(&results),
            bad.join("\n")
        );
        assert!(
            results.len() >= 313,
            "{mode}: only {} vectors",
            results.len()
        );
    }
}

#[test]
fn outcomes_and_summary_line() {
    let dir = write_vectors(&[
        // ldxb r0, [r1+1]; exit — on memory aa bb: 0xbb
        ("a_pass.data", "# ok\n-- raw\n0x0000000000011071\n0x0000000000000095\n-- mem\naa bb\n-- result\n0xbb\n"),
        ("b_wrong.data", "-- raw\n0x0000000000011071\n0x0000000000000095\n-- mem\naa bb\n-- result\n0xaa\n"),
        // No memory: the load faults; an error was expected.
        ("c_error.data", "-- raw\n0x0000000000011071\n0x0000000000000095\n-- error\nout of bounds\n"),
        ("d_skip.data", "-- raw\n0x0000000000000095\n-- frobnicate\n-- result\n0x0\n"),
        ("e_malformed.data", "-- raw\nnot hex\n-- result\n0x0\n"),
        ("f_fault.data", "-- raw\n0x0000000000011071\n0x0000000000000095\n-- result\n0x0\n"),
        ("ignored.txt", "not a vector"),
    ]);
    let results = run_dir(&dir.0, &mut InterpConformance::checked()).unwrap();
    let names: Vec<_> = results.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "a_pass.data",
            "b_wrong.data",
            "c_error.data",
            "d_skip.data",
            "e_malformed.data",
            "f_fault.data"
        ]
    );
    assert_eq!(results[0].outcome, Outcome::Pass);
    assert_eq!(
        results[1].outcome,
        Outcome::Fail("r0 = 0xbb, expected 0xaa".into())
    );
    assert_eq!(results[2].outcome, Outcome::Pass);
    assert!(matches!(&results[3].outcome, Outcome::Skip(why) if why.contains("frobnicate")));
    assert!(matches!(&results[4].outcome, Outcome::Fail(_)));
    assert!(matches!(&results[5].outcome, Outcome::Fail(why) if why.contains("instruction 0")));
    assert_eq!(
        results[3].to_string(),
        "SKIP d_skip.data: unknown section `-- frobnicate`"
    );
    let s = Summary::of(&results);
    assert_eq!((s.passed, s.failed, s.skipped), (2, 3, 1));
    assert_eq!(s.to_string(), "2 passed, 3 failed");
}

#[test]
fn engines_plug_in_as_closures() {
    let dir = write_vectors(&[("x.data", "-- raw\n0x0000000000000095\n-- result\n0x2a\n")]);
    let mut seen = 0;
    let mut fake = |p: &Program, mem: &mut [u8]| -> Result<u64, String> {
        seen += p.insns.len() + mem.len();
        Ok(42)
    };
    let results: Vec<FileResult> = run_dir(&dir.0, &mut fake).unwrap();
    assert_eq!(results[0].outcome, Outcome::Pass);
    assert_eq!(seen, 1);
    let engine: &mut dyn ConformanceEngine = &mut InterpConformance::checked();
    assert_eq!(
        run_dir(&dir.0, engine).unwrap()[0].outcome,
        Outcome::Fail("r0 = 0x0, expected 0x2a".into())
    );
}

/// Vectors the verifier accepts pass in verified mode with the verifier's own
/// facts (proven accesses unchecked, context loads converted).
#[test]
fn accepted_vectors_pass_with_verifier_facts() {
    use bpf_bridge::interp::{InterpEngine, Mode};
    let Some(dir) = vectors_dir() else { return };
    let mut accepted = 0;
    let mut engine = |prog: &Program, mem: &mut [u8]| -> Result<u64, String> {
        match bpf_bridge::verifier::verify(prog) {
            Ok(v) => {
                accepted += 1;
                let mut e =
                    InterpEngine::new(prog, Mode::Verified(v.facts)).map_err(|e| e.to_string())?;
                bpf_bridge::engine::Engine::run_packet(&mut e, mem).map_err(|f| f.to_string())
            }
            // Refused programs run checked, so every vector still has a verdict.
            Err(_) => InterpConformance::checked().run(prog, mem),
        }
    };
    let results = run_dir(&dir, &mut engine).unwrap();
    let bad: Vec<String> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .map(ToString::to_string)
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    println!("verifier accepted {accepted} of {} vectors", results.len());
    assert!(accepted > 100, "verifier accepted only {accepted}");
}
