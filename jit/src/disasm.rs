//! Text forms of compiled code.

use crate::{Arch, Compiled};
use std::fmt::Write;

impl Compiled {
    /// Disassembly annotated with eBPF slot indices: iced-x86 for x86_64, raw
    /// instruction words for the others.
    pub fn disassemble(&self) -> String {
        let mut out = String::new();
        let mut starts: Vec<(u32, usize)> = self
            .offsets
            .iter()
            .enumerate()
            .map(|(i, &o)| (o, i))
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
                for (i, w) in self.code.chunks(4).enumerate() {
                    let off = (i * 4) as u32;
                    annotate(&mut out, off);
                    let mut b = [0u8; 4];
                    b[..w.len()].copy_from_slice(w);
                    let _ = writeln!(out, "{off:6x}:  .word {:#010x}", u32::from_le_bytes(b));
                }
            }
        }
        out
    }
}
