//! Text forms of compiled code: iced-x86 for x86_64, capstone for aarch64 and
//! riscv64 (both of which we emit as fixed 4-byte words).

use crate::{Arch, Compiled};
use std::fmt::Write;

impl Compiled {
    /// Disassembly annotated with eBPF slot indices. A word the disassembler
    /// does not know (or all of them, if capstone cannot start) prints as `.word`.
    pub fn disassemble(&self) -> String {
        let mut out = String::new();
        let mut starts: Vec<(u32, usize)> = self
            .offsets
            .to_vec()
            .into_iter()
            .enumerate()
            .map(|(i, o)| (o, i))
            .collect();
        starts.sort_unstable();
        let mut next = 0;
        let mut annotate = |out: &mut String, off: u32| {
            while next < starts.len() && starts[next].0 <= off {
                if starts[next].0 == off {
                    let _ = writeln!(out, "; slot {}", starts[next].1);
                }
                next += 1;
            }
        };
        match self.arch {
            Arch::X86_64 => {
                use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
                let mut dec = Decoder::with_ip(64, &self.code, 0, DecoderOptions::NONE);
                let mut fmt = IntelFormatter::new();
                let mut text = String::new();
                while dec.can_decode() {
                    let insn = dec.decode();
                    annotate(&mut out, insn.ip() as u32);
                    text.clear();
                    fmt.format(&insn, &mut text);
                    let _ = writeln!(out, "{:6x}:  {}", insn.ip(), text);
                }
            }
            Arch::Aarch64 | Arch::Riscv64 => {
                let cs = word_disassembler(self.arch);
                for (i, w) in self.code.chunks(4).enumerate() {
                    let off = (i * 4) as u32;
                    annotate(&mut out, off);
                    let text = cs.as_ref().and_then(|cs| word_text(cs, w, off));
                    match text {
                        Some(t) => {
                            let _ = writeln!(out, "{off:6x}:  {t}");
                        }
                        None => {
                            let mut b = [0u8; 4];
                            b[..w.len()].copy_from_slice(w);
                            let word = u32::from_le_bytes(b);
                            let _ = writeln!(out, "{off:6x}:  .word {word:#010x}");
                        }
                    }
                }
            }
        }
        out
    }
}

/// A capstone handle for a 4-byte-word architecture.
fn word_disassembler(arch: Arch) -> Option<capstone::Capstone> {
    use capstone::arch::{self, BuildsCapstone};
    let cs = match arch {
        Arch::Aarch64 => capstone::Capstone::new()
            .arm64()
            .mode(arch::arm64::ArchMode::Arm)
            .build(),
        Arch::Riscv64 => capstone::Capstone::new()
            .riscv()
            .mode(arch::riscv::ArchMode::RiscV64)
            .build(),
        Arch::X86_64 => return None,
    };
    cs.ok()
}

/// `mnemonic operands` of the one instruction in `word`, if it decodes whole.
fn word_text(cs: &capstone::Capstone, word: &[u8], off: u32) -> Option<String> {
    let insns = cs.disasm_count(word, off as u64, 1).ok()?;
    let insn = insns.iter().next()?;
    if insn.len() != word.len() {
        return None;
    }
    let mnemonic = insn.mnemonic()?;
    Some(match insn.op_str() {
        Some(ops) if !ops.is_empty() => format!("{mnemonic} {ops}"),
        _ => mnemonic.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::{compile, Arch, Options};
    use bpf_bridge::isa::{AluOp, Op, Reg, Size, Src, Width};
    use bpf_bridge::program::{ProgType, Program};

    /// Checked mode, so the code has a prologue, a bounds-check call and an epilogue.
    fn text(arch: Arch) -> String {
        let ops = [
            Op::Alu {
                width: Width::W64,
                op: AluOp::Mov,
                dst: Reg::R0,
                src: Src::Imm(7),
            },
            Op::Load {
                size: Size::B,
                signed: false,
                dst: Reg::R6,
                base: Reg::R1,
                off: 3,
            },
            Op::Alu {
                width: Width::W64,
                op: AluOp::Add,
                dst: Reg::R0,
                src: Src::Reg(Reg::R6),
            },
            Op::Exit,
        ];
        let mut insns = Vec::new();
        for op in &ops {
            op.encode(&mut insns);
        }
        let prog = Program::new("t", ProgType::Raw, insns);
        compile(&prog, None, arch, Options::default())
            .expect("compiles")
            .disassemble()
    }

    /// Every expected mnemonic starts some instruction line of `arch`'s text.
    #[track_caller]
    fn check(arch: Arch, mnemonics: &[&str]) {
        let t = text(arch);
        let lines: Vec<&str> = t
            .lines()
            .filter_map(|l| l.split_once(":  ").map(|(_, insn)| insn))
            .collect();
        assert!(t.contains("; slot 3"), "{t}");
        assert!(!t.contains(".word"), "undecoded words:\n{t}");
        for m in mnemonics {
            assert!(
                lines
                    .iter()
                    .any(|l| l.split_whitespace().next() == Some(*m)),
                "no `{m}` in {} disassembly:\n{t}",
                arch.name()
            );
        }
    }

    #[test]
    fn x86_64_mnemonics() {
        check(
            Arch::X86_64,
            &["push", "pop", "mov", "movzx", "add", "call", "ret"],
        );
    }

    #[test]
    fn aarch64_mnemonics() {
        check(
            Arch::Aarch64,
            &["stp", "ldp", "mov", "ldrb", "add", "bl", "ret"],
        );
    }

    #[test]
    fn riscv64_mnemonics() {
        check(Arch::Riscv64, &["sd", "ld", "addi", "lbu", "add", "ret"]);
    }
}
