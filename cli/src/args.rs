//! Command-line grammar (clap). The contracts are in CONTRACTS.md.

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// luabpf: packet filters in a Lua subset, compiled to eBPF, verified, and run on an
/// interpreter, a native JIT, the Linux kernel or real Lua.
#[derive(Parser, Debug)]
#[command(name = "luabpf", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Assemble bpf_conformance-style assembly into raw bytecode.
    Asm {
        /// Assembly source (.s).
        file: PathBuf,
        /// Output file (.bin, little-endian 8-byte instructions).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Disassemble a program (.bin, .s, ELF .o or .lua).
    Disasm {
        /// The program.
        file: PathBuf,
        /// llvm-objdump's BPF syntax (`r0 = 1`) instead of the assembler's.
        #[arg(long)]
        llvm: bool,
        /// Program to pick from an ELF object with several.
        #[arg(long)]
        prog: Option<String>,
    },
    /// Compile a Lua filter to an ELF object (BTF maps, Lua line info), assembly or bytecode.
    Compile {
        /// The filter (.lua).
        file: PathBuf,
        /// Output file.
        #[arg(short, long)]
        output: PathBuf,
        /// Output form.
        #[arg(long, value_enum, default_value = "elf")]
        emit: EmitArg,
        /// Instruction set: v3 avoids sdiv/smod, movsx, ldsx, bswap, gotol and may_goto.
        #[arg(long, value_enum, default_value = "v4")]
        cpu: CpuArg,
    },
    /// Verify a program: memory safety and termination, as the kernel's verifier would.
    Verify {
        /// The program: .lua, .bin, .s or ELF .o.
        file: PathBuf,
        /// Program type; an ELF section name overrides it.
        #[arg(long = "type", value_enum)]
        prog_type: Option<TypeArg>,
        /// Program to pick from an ELF object with several.
        #[arg(long = "prog")]
        prog_name: Option<String>,
        /// Also load it into the running kernel and print its verdict.
        #[arg(long)]
        kernel: bool,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Run bpf_conformance test vectors (.data files) from a directory.
    Conformance {
        /// Directory holding .data files.
        dir: PathBuf,
        /// Engine to run them on.
        #[arg(long, value_enum, default_value = "interp")]
        engine: EngineArg,
        /// Target architecture for --engine jit (foreign ones run emulated).
        #[arg(long, value_enum)]
        arch: Option<ArchArg>,
    },
    /// bpf_conformance's plugin protocol: program hex on stdin, memory hex as argument.
    ConformancePlugin {
        /// Memory as hex; further arguments (upstream runner flags) are ignored.
        #[arg(allow_hyphen_values = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Print the native code the JIT generates for a program.
    Jit {
        /// The program: .lua, .bin, .s or ELF .o.
        file: PathBuf,
        /// Target architecture (default: this machine's).
        #[arg(long, value_enum)]
        arch: Option<ArchArg>,
        /// Program type; an ELF section name overrides it.
        #[arg(long = "type", value_enum)]
        prog_type: Option<TypeArg>,
        /// Program to pick from an ELF object with several.
        #[arg(long = "prog")]
        prog_name: Option<String>,
        /// Checked-mode code (every access bounds-checked) instead of verified.
        #[arg(long)]
        unverified: bool,
    },
    /// Run a program once per frame of a capture.
    Run(RunArgs),
}

/// Arguments of `luabpf run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The program: .lua, .bin, .s or ELF .o.
    pub prog: PathBuf,
    /// Capture (pcap or pcapng).
    #[arg(long)]
    pub pcap: PathBuf,
    /// Program type; an ELF section name overrides it.
    #[arg(long = "type", value_enum)]
    pub prog_type: Option<TypeArg>,
    /// Engine.
    #[arg(long, value_enum, default_value = "interp")]
    pub engine: EngineArg,
    /// Target architecture for --engine jit.
    #[arg(long, value_enum)]
    pub arch: Option<ArchArg>,
    /// Program to pick from an ELF object with several.
    #[arg(long = "prog")]
    pub prog_name: Option<String>,
    /// Run without verifying, every memory access checked at run time.
    #[arg(long)]
    pub unverified: bool,
    /// Print exactly one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `--type` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeArg {
    /// r1 = memory, r2 = length.
    Raw,
    /// r1 = struct xdp_md.
    Xdp,
}

/// `--engine` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineArg {
    /// Real Lua 5.4 (Lua filters only).
    Lua,
    /// The interpreter.
    Interp,
    /// The native JIT.
    Jit,
    /// The Linux kernel (BPF_PROG_TEST_RUN).
    Kernel,
}

/// `--arch` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchArg {
    /// Native here.
    #[value(name = "x86_64")]
    X86_64,
    /// Emulated.
    Aarch64,
    /// Emulated.
    Riscv64,
}

/// `--emit` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitArg {
    /// ELF relocatable object, loadable by bpftool/libbpf.
    Elf,
    /// Assembly with the Lua source lines as comments.
    Asm,
    /// Raw little-endian bytecode.
    Bin,
}

/// `--cpu` values.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuArg {
    /// No v4 instructions.
    V3,
    /// Full ISA v4 and may_goto.
    V4,
}

impl ArchArg {
    /// The name `jit::Arch::from_name` takes.
    pub fn name(self) -> &'static str {
        match self {
            ArchArg::X86_64 => "x86_64",
            ArchArg::Aarch64 => "aarch64",
            ArchArg::Riscv64 => "riscv64",
        }
    }
}
