//! `luabpf conformance` and `luabpf conformance-plugin`.

use crate::args::{ArchArg, EngineArg};
use bpf_bridge::conformance::{self, ConformanceEngine, InterpConformance, Outcome, Summary};
use bpf_bridge::engine::Engine;
use bpf_bridge::program::Program;
use jit::exec_mem::ExecPool;
use luabpf::Failure;
use std::path::Path;

fn engine(kind: EngineArg, arch: Option<ArchArg>) -> Result<Box<dyn ConformanceEngine>, Failure> {
    match (kind, arch) {
        (EngineArg::Interp, None) => Ok(Box::new(InterpConformance::checked())),
        (EngineArg::Jit, arch) => {
            let arch = luabpf::jitsel::arch(arch.map(ArchArg::name))?;
            let pool = ExecPool::new();
            // Unverified vectors: checked mode, every access bounds-checked.
            Ok(Box::new(move |prog: &Program, mem: &mut [u8]| {
                let mut engine =
                    luabpf::jitsel::engine(prog, None, arch, &pool).map_err(|e| e.message)?;
                engine.run_packet(mem).map_err(|f| f.to_string())
            }))
        }
        (EngineArg::Interp, Some(_)) => Err(Failure::input("--arch goes with --engine jit")),
        (other, _) => Err(Failure::input(format!(
            "engine {other:?} cannot run conformance vectors"
        ))),
    }
}

/// Runs every `.data` file of `dir`, one PASS/FAIL/SKIP line each, then the summary line.
pub fn run_dir(dir: &Path, kind: EngineArg, arch: Option<ArchArg>) -> Result<u8, Failure> {
    let mut engine = engine(kind, arch)?;
    let results = conformance::run_dir(dir, engine.as_mut())
        .map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    for r in &results {
        println!("{r}");
    }
    let summary = Summary::of(&results);
    println!("{summary}");
    let failed = results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Fail(_)));
    Ok(if failed { Failure::runtime("").code } else { 0 })
}

/// The upstream plugin protocol: program hex on stdin, memory hex in the first argument.
pub fn plugin(args: &[String]) -> Result<u8, Failure> {
    let mut program = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut program)
        .map_err(|e| Failure::input(format!("stdin: {e}")))?;
    let mem = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(String::as_str);
    let mut engine = InterpConformance::checked();
    let r0 = conformance::plugin_run(&program, mem, &mut engine).map_err(Failure::runtime)?;
    println!("{r0:x}");
    Ok(0)
}
