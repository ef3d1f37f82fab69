//! `luabpf run`: a program once per frame of a capture.

use crate::args::{ArchArg, EngineArg, RunArgs, TypeArg};
use bpf_bridge::capture;
use bpf_bridge::engine::{run_capture, Engine, FaultSummary};
use bpf_bridge::interp::{InterpEngine, Mode};
use bpf_bridge::program::{ProgType, Program};
use bpf_bridge::report::RunReport;
use luabpf::load::{kind_of, load_program, Kind, LoadOptions};
use luabpf::oracle::OracleEngine;
use luabpf::{read_file, Failure};
use std::collections::BTreeMap;

pub fn prog_type(t: Option<TypeArg>) -> Option<ProgType> {
    t.map(|t| match t {
        TypeArg::Raw => ProgType::Raw,
        TypeArg::Xdp => ProgType::Xdp,
    })
}

/// Runs `luabpf run`.
pub fn run(args: &RunArgs) -> Result<u8, Failure> {
    let frames = capture::read_frames(&read_file(&args.pcap)?)
        .map_err(|e| Failure::input(format!("{}: {e}", args.pcap.display())))?;
    let opts = LoadOptions {
        prog_type: prog_type(args.prog_type),
        prog_name: args.prog_name.clone(),
    };
    if args.engine == EngineArg::Lua {
        let bytes = read_file(&args.prog)?;
        if kind_of(&args.prog, &bytes) != Kind::Lua {
            return Err(Failure::input("--engine lua runs Lua filters (.lua) only"));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| Failure::input(format!("{}: not UTF-8 text", args.prog.display())))?;
        let file = args.prog.display().to_string();
        // The filter must be in the subset even though real Lua could run more.
        luabpf::load::compile_lua(&file, &text, &Default::default())?;
        let mut engine = OracleEngine::new(&file, &text)?;
        return finish(&mut engine, frames, args.json);
    }
    let program = load_program(&args.prog, &opts)?;
    let mut engine: Box<dyn Engine> = match args.engine {
        EngineArg::Interp => {
            let mode = if args.unverified {
                Mode::Checked
            } else {
                Mode::Verified(verified(&program)?)
            };
            let engine = InterpEngine::new(&program, mode);
            Box::new(engine.map_err(|e| Failure::rejected(e.to_string()))?)
        }
        EngineArg::Kernel => Box::new(load_kernel(&program)?),
        EngineArg::Jit => {
            let arch = luabpf::jitsel::arch(args.arch.map(ArchArg::name))?;
            let facts = if args.unverified {
                None
            } else {
                Some(verified(&program)?)
            };
            let pool = jit::exec_mem::ExecPool::new();
            Box::new(luabpf::jitsel::engine(
                &program,
                facts.as_ref(),
                arch,
                &pool,
            )?)
        }
        other => {
            let msg = format!("engine {other:?} is not available in this build");
            return Err(Failure::input(msg));
        }
    };
    finish(engine.as_mut(), frames, args.json)
}

/// Runs every frame, prints the report and picks the exit code.
fn finish(engine: &mut dyn Engine, frames: Vec<Vec<u8>>, json: bool) -> Result<u8, Failure> {
    let (report, faults) = run_capture(engine, frames);
    print_report(&report, &faults, json);
    // Frames the kernel cannot present whole have no verdict but are not faults.
    Ok(if faults.faulted() {
        Failure::runtime("").code
    } else {
        0
    })
}

/// The verifier's facts, or its refusal (`--unverified` skips it and checks every access).
pub fn verified(program: &Program) -> Result<bpf_bridge::facts::Facts, Failure> {
    match bpf_bridge::verifier::verify(program) {
        Ok(v) => Ok(v.facts),
        Err(e) => Err(Failure::rejected(format!(
            "{e}\n(the program was not run; --unverified runs it with every memory access checked)"
        ))),
    }
}

#[cfg(target_os = "linux")]
fn load_kernel(program: &Program) -> Result<bpf_bridge::kernel::KernelProgram, Failure> {
    use bpf_bridge::kernel::{KernelError, KernelProgram};
    KernelProgram::load(program).map_err(|e| match e {
        KernelError::Rejected { .. } => {
            Failure::rejected(format!("the kernel rejected the program: {e}"))
        }
        other => Failure::input(format!("kernel engine: {other}")),
    })
}

fn print_report(report: &RunReport, faults: &FaultSummary, json: bool) {
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", summary(report));
    }
    // Faults by kind, then packets not run by cause (each cause its own line).
    eprint!("{faults}");
}

/// The human summary: packets, count per verdict, maps.
fn summary(report: &RunReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let arch = report
        .arch
        .as_deref()
        .map(|a| format!(" ({a})"))
        .unwrap_or_default();
    let _ = writeln!(out, "engine: {}{arch}", report.engine);
    let _ = writeln!(out, "packets: {}", report.verdicts.len());
    let mut counts: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for v in &report.verdicts {
        *counts.entry(*v).or_default() += 1;
    }
    let _ = writeln!(out, "verdicts:");
    for (v, n) in counts {
        let label = match v {
            None => "no verdict".to_string(),
            Some(v) => format!("{v}{}", xdp_action(v)),
        };
        let _ = writeln!(out, "  {label:<20} {n}");
    }
    for (name, contents) in &report.maps {
        let _ = writeln!(out, "map {name}: {} entries", contents.len());
        for (k, v) in contents.iter().take(32) {
            let _ = writeln!(
                out,
                "  {} = {}",
                bpf_bridge::report::key_to_json(k),
                bpf_bridge::report::bytes_to_json(v)
            );
        }
        if contents.len() > 32 {
            let _ = writeln!(out, "  … {} more (use --json for all)", contents.len() - 32);
        }
    }
    out
}

fn xdp_action(v: i64) -> &'static str {
    match v {
        0 => " (XDP_ABORTED)",
        1 => " (XDP_DROP)",
        2 => " (XDP_PASS)",
        3 => " (XDP_TX)",
        4 => " (XDP_REDIRECT)",
        _ => "",
    }
}
