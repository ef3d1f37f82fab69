//! `luabpf verify`: our verifier's verdict, and optionally the kernel's beside it.

use crate::args::TypeArg;
use bpf_bridge::verifier;
use luabpf::load::{load_program, LoadOptions};
use luabpf::Failure;
use std::path::Path;

/// Verifies the program in `file`; exit 0 on accept, 3 on reject.
pub fn verify(
    file: &Path,
    prog_type: Option<TypeArg>,
    prog_name: Option<String>,
    kernel: bool,
    json: bool,
) -> Result<u8, Failure> {
    let opts = LoadOptions {
        prog_type: crate::cmd::run::prog_type(prog_type),
        prog_name,
    };
    let program = load_program(file, &opts)?;
    let ours = verifier::verify(&program);
    let theirs = kernel.then(|| kernel_verdict(&program));
    if json {
        let mut obj = serde_json::Map::new();
        match &ours {
            Ok(v) => {
                obj.insert("accepted".into(), true.into());
                obj.insert("stats".into(), v.stats.to_json());
            }
            Err(e) => {
                obj.insert("accepted".into(), false.into());
                obj.insert("error".into(), e.to_json());
            }
        }
        if let Some(k) = &theirs {
            obj.insert("kernel".into(), k.to_json());
        }
        println!("{}", serde_json::Value::Object(obj));
    } else {
        match &ours {
            Ok(v) => println!("accepted: {}", v.stats),
            Err(e) => println!("rejected: {e}"),
        }
        if let Some(k) = &theirs {
            println!("kernel: {}", k.summary());
        }
    }
    match ours {
        Ok(_) => Ok(0),
        Err(_) => Ok(Failure::rejected("").code),
    }
}

/// What Linux said about the program.
enum KernelVerdict {
    Accepted,
    Rejected { insn: Option<usize>, log: String },
    Unavailable(String),
}

impl KernelVerdict {
    fn summary(&self) -> String {
        match self {
            KernelVerdict::Accepted => "accepted".to_string(),
            KernelVerdict::Rejected { insn, log } => {
                let at = insn
                    .map(|i| format!(" at instruction {i}"))
                    .unwrap_or_default();
                let last = log
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                format!("rejected{at}: {last}")
            }
            KernelVerdict::Unavailable(why) => format!("not asked ({why})"),
        }
    }

    fn to_json(&self) -> serde_json::Value {
        match self {
            KernelVerdict::Accepted => serde_json::json!({"accepted": true}),
            KernelVerdict::Rejected { insn, log } => {
                serde_json::json!({"accepted": false, "insn": insn, "log": log})
            }
            KernelVerdict::Unavailable(why) => serde_json::json!({"unavailable": why}),
        }
    }
}

#[cfg(target_os = "linux")]
fn kernel_verdict(program: &bpf_bridge::program::Program) -> KernelVerdict {
    use bpf_bridge::kernel::{failing_insn, KernelError, KernelProgram};
    match KernelProgram::load(program) {
        Ok(_) => KernelVerdict::Accepted,
        Err(KernelError::Rejected { log, .. }) => KernelVerdict::Rejected {
            insn: failing_insn(&log),
            log,
        },
        Err(e) => KernelVerdict::Unavailable(e.to_string()),
    }
}

#[cfg(not(target_os = "linux"))]
fn kernel_verdict(_: &bpf_bridge::program::Program) -> KernelVerdict {
    KernelVerdict::Unavailable("the kernel engine needs Linux".to_string())
}
