//! Running vectors on an engine and reporting per-file outcomes.

use super::{parse, Expect, ParseError, Vector};
use crate::engine::Engine;
use crate::facts::Facts;
use crate::interp::{InterpEngine, Mode};
use crate::program::{ProgType, Program};
use std::fmt;
use std::path::Path;

/// An engine the conformance runner can drive: loads `prog` and runs it once on
/// `mem`; any load error or fault is an `Err` with its message.
pub trait ConformanceEngine {
    /// Runs `prog` (a [`ProgType::Raw`] program) on `mem` and returns r0.
    fn run(&mut self, prog: &Program, mem: &mut [u8]) -> Result<u64, String>;
}

impl<F: FnMut(&Program, &mut [u8]) -> Result<u64, String>> ConformanceEngine for F {
    fn run(&mut self, prog: &Program, mem: &mut [u8]) -> Result<u64, String> {
        self(prog, mem)
    }
}

/// The interpreter as a conformance engine: checked mode, or verified mode with
/// facts that prove nothing (every access `Check`), which exercises the
/// verified-mode translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterpConformance {
    verified: bool,
}

impl InterpConformance {
    /// Checked mode.
    pub fn checked() -> InterpConformance {
        InterpConformance { verified: false }
    }

    /// Verified mode with all-`Check` facts.
    pub fn verified_unproven() -> InterpConformance {
        InterpConformance { verified: true }
    }
}

impl ConformanceEngine for InterpConformance {
    fn run(&mut self, prog: &Program, mem: &mut [u8]) -> Result<u64, String> {
        let mode = if self.verified {
            Mode::Verified(Facts::unproven(prog.insns.len()))
        } else {
            Mode::Checked
        };
        let mut e = InterpEngine::new(prog, mode).map_err(|e| e.to_string())?;
        e.run_packet(mem).map_err(|f| f.to_string())
    }
}

/// The verdict on one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// r0 (or the error) as expected.
    Pass,
    /// Wrong result, unexpected error, or a malformed file.
    Fail(String),
    /// Not run (unsupported feature).
    Skip(String),
}

/// A file's name and outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileResult {
    /// File name (without directory).
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

impl fmt::Display for FileResult {
    /// `PASS name`, `FAIL name: reason` or `SKIP name: reason`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Outcome::Pass => write!(f, "PASS {}", self.name),
            Outcome::Fail(why) => write!(f, "FAIL {}: {why}", self.name),
            Outcome::Skip(why) => write!(f, "SKIP {}: {why}", self.name),
        }
    }
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Summary {
    /// Files that passed.
    pub passed: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files skipped.
    pub skipped: usize,
}

impl Summary {
    /// Counts the outcomes of `results`.
    pub fn of(results: &[FileResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail(_) => s.failed += 1,
                Outcome::Skip(_) => s.skipped += 1,
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    /// Exactly `N passed, M failed` (the CLI's last line).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

fn assemble(text: &str) -> Result<Program, String> {
    crate::asm::assemble(text)
        .map(|a| a.into_program("conformance", ProgType::Raw))
        .map_err(|e| format!("assembly: {e}"))
}

fn program_of(v: &Vector) -> Result<Program, String> {
    match (&v.raw, &v.asm) {
        (Some(raw), _) => Ok(Program::new("conformance", ProgType::Raw, raw.clone())),
        (None, Some(asm)) => assemble(asm),
        (None, None) => Err("no program".into()),
    }
}

/// Runs one parsed vector.
pub fn run_vector(v: &Vector, engine: &mut dyn ConformanceEngine) -> Outcome {
    let result = program_of(v).and_then(|prog| {
        let mut mem = v.mem.clone();
        engine.run(&prog, &mut mem)
    });
    match (&v.expect, result) {
        (Some(Expect::Result(want)), Ok(got)) if *want == got => Outcome::Pass,
        (Some(Expect::Result(want)), Ok(got)) => {
            Outcome::Fail(format!("r0 = {got:#x}, expected {want:#x}"))
        }
        (Some(Expect::Result(_)), Err(e)) => Outcome::Fail(e),
        (Some(Expect::Error(_)), Err(_)) => Outcome::Pass,
        (Some(Expect::Error(want)), Ok(got)) => {
            Outcome::Fail(format!("r0 = {got:#x}, expected an error ({want})"))
        }
        (None, _) => Outcome::Fail("nothing expected".into()),
    }
}

/// Reads, parses and runs one file.
pub fn run_file(path: &Path, engine: &mut dyn ConformanceEngine) -> FileResult {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let outcome = match std::fs::read_to_string(path) {
        Err(e) => Outcome::Fail(format!("cannot read: {e}")),
        Ok(text) => match parse(&text) {
            Ok(v) => run_vector(&v, engine),
            Err(ParseError::Skip(why)) => Outcome::Skip(why),
            Err(ParseError::Malformed(why)) => Outcome::Fail(why),
        },
    };
    FileResult { name, outcome }
}

/// Runs every `*.data` file of `dir`, in file-name order.
pub fn run_dir(dir: &Path, engine: &mut dyn ConformanceEngine) -> std::io::Result<Vec<FileResult>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "data"))
        .collect();
    paths.sort();
    Ok(paths.iter().map(|p| run_file(p, engine)).collect())
}
