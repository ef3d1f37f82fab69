//! The `luabpf` command: argument parsing and printing over the `luabpf` library.

mod args;
mod cmd;

use args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

// The compiler allocates many small nodes (full_moon's tokens above all):
// mimalloc makes `luabpf run FILTER.lua` and `compile` measurably faster.
#[global_allocator]
static GLOBAL: luabpf::alloc::MiMalloc = luabpf::alloc::MiMalloc;

fn main() -> ExitCode {
    // `luabpf jit F | head` must end quietly like other Unix tools when the
    // reader goes away; Rust ignores SIGPIPE, which makes `println!` panic.
    // SAFETY: restoring a signal's default disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Asm { file, output } => cmd::asm::assemble(&file, &output),
        Command::Disasm { file, llvm, prog } => cmd::asm::disassemble(&file, llvm, prog),
        Command::Compile {
            file,
            output,
            emit,
            cpu,
        } => cmd::compile::compile(&file, &output, emit, cpu),
        Command::Verify {
            file,
            prog_type,
            prog_name,
            kernel,
            json,
        } => cmd::verify::verify(&file, prog_type, prog_name, kernel, json),
        Command::Conformance { dir, engine, arch } => cmd::conformance::run_dir(&dir, engine, arch),
        Command::ConformancePlugin { args } => cmd::conformance::plugin(&args),
        Command::Jit {
            file,
            arch,
            prog_type,
            prog_name,
            unverified,
        } => cmd::jit::show(&file, arch, prog_type, prog_name, unverified),
        Command::Run(args) => cmd::run::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code)
        }
    }
}
