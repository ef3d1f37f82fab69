//! Assembly listing with the Lua source lines as comments (`--emit asm`).

use bpf_bridge::isa::{decode_program, AluOp, Endian, JmpOp, Op, Size, Src};
use bpf_bridge::program::Program;

fn size(s: Size) -> &'static str {
    match s {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

fn src(s: Src) -> String {
    match s {
        Src::Reg(r) => format!("%{r}"),
        Src::Imm(i) => format!("{i}"),
    }
}

fn alu(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Sdiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "mod",
        AluOp::Smod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov => "mov",
        AluOp::Movsx8 => "movsx8",
        AluOp::Movsx16 => "movsx16",
        AluOp::Movsx32 => "movsx32",
        AluOp::Arsh => "arsh",
    }
}

fn jmp(op: JmpOp) -> &'static str {
    match op {
        JmpOp::Eq => "jeq",
        JmpOp::Gt => "jgt",
        JmpOp::Ge => "jge",
        JmpOp::Set => "jset",
        JmpOp::Ne => "jne",
        JmpOp::Sgt => "jsgt",
        JmpOp::Sge => "jsge",
        JmpOp::Lt => "jlt",
        JmpOp::Le => "jle",
        JmpOp::Slt => "jslt",
        JmpOp::Sle => "jsle",
    }
}

fn off(o: i64) -> String {
    if o >= 0 {
        format!("+{o}")
    } else {
        format!("{o}")
    }
}

/// One op in bpf_conformance assembly syntax (map loads as `map:NAME`).
pub fn format_op(op: &Op, p: &Program) -> String {
    let map_name = |m: u32| {
        p.maps
            .get(m as usize)
            .map_or_else(|| format!("{m}"), |d| d.name.clone())
    };
    match *op {
        Op::Alu {
            width,
            op,
            dst,
            src: s,
        } => {
            let w = if width == bpf_bridge::isa::Width::W64 {
                ""
            } else {
                "32"
            };
            format!("{}{w} %{dst}, {}", alu(op), src(s))
        }
        Op::Neg { width, dst } => {
            let w = if width == bpf_bridge::isa::Width::W64 {
                ""
            } else {
                "32"
            };
            format!("neg{w} %{dst}")
        }
        Op::Endian { kind, bits, dst } => {
            let k = match kind {
                Endian::Le => "le",
                Endian::Be => "be",
                Endian::Swap => "bswap",
            };
            format!("{k}{bits} %{dst}")
        }
        Op::LoadImm64 { dst, value } => format!("lddw %{dst}, {:#x}", value),
        Op::LoadMap { dst, map } => format!("lddw %{dst}, map:{}", map_name(map)),
        Op::LoadMapValue { dst, map, offset } => {
            format!("lddw %{dst}, map_value:{}+{offset}", map_name(map))
        }
        Op::LddwHigh => String::new(),
        Op::Load {
            size: s,
            signed,
            dst,
            base,
            off: o,
        } => {
            format!(
                "ldx{}{} %{dst}, [%{base}{}]",
                if signed { "s" } else { "" },
                size(s),
                off(o as i64)
            )
        }
        Op::Store {
            size: s,
            base,
            off: o,
            src: v,
        } => match v {
            Src::Reg(r) => format!("stx{} [%{base}{}], %{r}", size(s), off(o as i64)),
            Src::Imm(i) => format!("st{} [%{base}{}], {i}", size(s), off(o as i64)),
        },
        Op::Atomic { .. } => format!("{op:?}"),
        Op::Ja { off: o } => format!("ja {}", off(o as i64)),
        Op::Jmp {
            width,
            op,
            dst,
            src: s,
            off: o,
        } => {
            let w = if width == bpf_bridge::isa::Width::W64 {
                ""
            } else {
                "32"
            };
            format!("{}{w} %{dst}, {}, {}", jmp(op), src(s), off(o as i64))
        }
        Op::MayGoto { off: o } => format!("may_goto {}", off(o as i64)),
        Op::Call { helper } => format!("call {helper}"),
        Op::CallLocal { off: o } => format!("call local {}", off(o as i64)),
        Op::CallReg { reg } => format!("callx %{reg}"),
        Op::Exit => "exit".to_string(),
    }
}

/// The program as assembly, each run of instructions preceded by the Lua line
/// it came from as a `#` comment.
pub fn listing(p: &Program) -> String {
    let mut out = String::new();
    let ops = match decode_program(&p.insns) {
        Ok(o) => o,
        Err(e) => return format!("# cannot decode: {e:?}\n"),
    };
    for m in &p.maps {
        let kind = if m.kind.is_array() { "array" } else { "hash" };
        out.push_str(&format!(
            ".map {} {kind} key={} value={} entries={}\n",
            m.name, m.key_size, m.value_size, m.max_entries
        ));
    }
    let src_lines: Vec<&str> = p
        .source
        .as_ref()
        .map(|s| s.text.lines().collect())
        .unwrap_or_default();
    let mut last_line = 0;
    for (i, op) in ops.iter().enumerate() {
        if matches!(op, Op::LddwHigh) {
            continue;
        }
        if let Some(li) = p.source.as_ref().and_then(|s| s.lookup(i)) {
            if li.line != last_line {
                last_line = li.line;
                let text = src_lines.get(li.line as usize - 1).map_or("", |s| s.trim());
                out.push_str(&format!("# {}: {}\n", li.line, text));
            }
        }
        out.push_str(&format!("    {}\n", format_op(op, p)));
    }
    out
}
