//! Hand-built programs for the kernel and ELF tests: a tiny label assembler
//! over `isa::Op`, with a fake Lua source and line table, and the helpers
//! that turn "bpf() not permitted" into a visible skip.

use bpf_bridge::isa::{encode_program, AluOp, AtomicOp, JmpOp, Op, Reg, Size, Src, Width};
use bpf_bridge::program::{LineInfo, MapDef, MapKind, ProgType, Program, SourceMap};
use std::collections::HashMap;

/// Ops with labelled jumps and a current source line.
#[derive(Default)]
pub struct Asm {
    ops: Vec<(Op, Option<&'static str>)>,
    labels: HashMap<&'static str, usize>,
    slot: usize,
    lines: Vec<LineInfo>,
}

impl Asm {
    /// Appends an op.
    pub fn op(&mut self, op: Op) -> &mut Self {
        self.slot += op.slots();
        self.ops.push((op, None));
        self
    }

    /// Appends a jump (or local call) whose offset is resolved to `label`.
    pub fn to(&mut self, op: Op, label: &'static str) -> &mut Self {
        self.slot += op.slots();
        self.ops.push((op, Some(label)));
        self
    }

    /// Puts `label` at the next slot.
    pub fn label(&mut self, label: &'static str) -> &mut Self {
        self.labels.insert(label, self.slot);
        self
    }

    /// Following ops come from 1-based source `line` (column 5).
    pub fn line(&mut self, line: u32) -> &mut Self {
        self.lines.push(LineInfo {
            insn: self.slot,
            line,
            col: 5,
        });
        self
    }

    /// The program, with jumps resolved.
    pub fn program(&self, name: &str, source: Option<&str>, maps: Vec<MapDef>) -> Program {
        let mut slot = 0;
        let mut ops = Vec::new();
        for &(op, label) in &self.ops {
            let mut op = op;
            if let Some(l) = label {
                let off = self.labels[l] as i64 - (slot as i64 + 1);
                match &mut op {
                    Op::Jmp { off: o, .. } => *o = off as i16,
                    Op::Ja { off: o } | Op::CallLocal { off: o } => *o = off as i32,
                    other => panic!("label on {other:?}"),
                }
            }
            slot += op.slots();
            ops.push(op);
        }
        let mut prog = Program::new(name, ProgType::Xdp, encode_program(&ops));
        prog.maps = maps;
        prog.source = source.map(|text| SourceMap {
            file: "filter.lua".into(),
            text: text.into(),
            lines: self.lines.clone(),
        });
        prog
    }
}

pub fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}

pub fn mov(dst: u8, imm: i32) -> Op {
    alu(AluOp::Mov, dst, Src::Imm(imm))
}

pub fn alu(op: AluOp, dst: u8, src: Src) -> Op {
    Op::Alu {
        width: Width::W64,
        op,
        dst: r(dst),
        src,
    }
}

pub fn ldx(size: Size, dst: u8, base: u8, off: i16) -> Op {
    Op::Load {
        size,
        signed: false,
        dst: r(dst),
        base: r(base),
        off,
    }
}

pub fn stx(size: Size, base: u8, off: i16, src: Src) -> Op {
    Op::Store {
        size,
        base: r(base),
        off,
        src,
    }
}

pub fn jmp(op: JmpOp, dst: u8, src: Src) -> Op {
    Op::Jmp {
        width: Width::W64,
        op,
        dst: r(dst),
        src,
        off: 0,
    }
}

pub const EXIT: Op = Op::Exit;
pub const XDP_DROP: i32 = 1;
pub const XDP_PASS: i32 = 2;

/// The fake Lua source of [`count_protocols`].
pub const COUNT_SRC: &str = "\
local counts = bpf.hash(\"u32\", \"u64\", 64)
return function(pkt)
  if #pkt < 24 then return XDP_PASS end
  local proto = pkt:u8(23)
  counts[proto] = (counts[proto] or 0) + 1
  if proto == 17 then return XDP_DROP end
  return XDP_PASS
end
";

/// Counts frames by IPv4 protocol byte (offset 23) in hash map `counts`
/// (u32 -> u64); drops UDP, passes the rest. Frames under 24 bytes pass uncounted.
pub fn count_protocols(kind: MapKind) -> Program {
    let mut a = Asm::default();
    a.line(3)
        .op(ldx(Size::W, 2, 1, 0)) // data
        .op(ldx(Size::W, 3, 1, 4)) // data_end
        .op(alu(AluOp::Mov, 4, Src::Reg(r(2))))
        .op(alu(AluOp::Add, 4, Src::Imm(24)))
        .to(jmp(JmpOp::Gt, 4, Src::Reg(r(3))), "pass")
        .line(4)
        .op(ldx(Size::B, 5, 2, 23))
        .op(stx(Size::W, 10, -4, Src::Reg(r(5))))
        .line(5)
        .op(Op::LoadMap { dst: r(1), map: 0 })
        .op(alu(AluOp::Mov, 2, Src::Reg(r(10))))
        .op(alu(AluOp::Add, 2, Src::Imm(-4)))
        .op(Op::Call { helper: 1 })
        .to(jmp(JmpOp::Eq, 0, Src::Imm(0)), "insert")
        .op(mov(1, 1))
        .op(Op::Atomic {
            width: Width::W64,
            op: AtomicOp::Add,
            fetch: false,
            base: r(0),
            off: 0,
            src: r(1),
        })
        .to(Op::Ja { off: 0 }, "verdict")
        .label("insert")
        .op(stx(Size::DW, 10, -16, Src::Imm(1)))
        .op(Op::LoadMap { dst: r(1), map: 0 })
        .op(alu(AluOp::Mov, 2, Src::Reg(r(10))))
        .op(alu(AluOp::Add, 2, Src::Imm(-4)))
        .op(alu(AluOp::Mov, 3, Src::Reg(r(10))))
        .op(alu(AluOp::Add, 3, Src::Imm(-16)))
        .op(mov(4, 0))
        .op(Op::Call { helper: 2 })
        .label("verdict")
        .line(6)
        .op(ldx(Size::W, 5, 10, -4))
        .op(mov(0, XDP_DROP))
        .to(jmp(JmpOp::Eq, 5, Src::Imm(17)), "out")
        .line(7)
        .op(mov(0, XDP_PASS))
        .label("out")
        .op(EXIT)
        .label("pass")
        .line(3)
        .op(mov(0, XDP_PASS))
        .op(EXIT);
    let map = MapDef {
        name: "counts".into(),
        kind,
        key_size: 4,
        value_size: 8,
        max_entries: 64,
    };
    a.program("count_protocols", Some(COUNT_SRC), vec![map])
}

/// The fake Lua source of [`with_subprogram`].
pub const SUB_SRC: &str = "\
local function verdict(len)
  if len > 100 then return XDP_DROP end
  return XDP_PASS
end
return function(pkt) return verdict(#pkt) end
";

/// Passes frames up to 100 bytes, drops longer ones, deciding in a subprogram.
pub fn with_subprogram() -> Program {
    let mut a = Asm::default();
    a.line(5)
        .op(ldx(Size::W, 2, 1, 0))
        .op(ldx(Size::W, 3, 1, 4))
        .op(alu(AluOp::Sub, 3, Src::Reg(r(2))))
        .op(alu(AluOp::Mov, 1, Src::Reg(r(3))))
        .to(Op::CallLocal { off: 0 }, "verdict")
        .op(EXIT)
        .label("verdict")
        .line(2)
        .op(mov(0, XDP_DROP))
        .to(jmp(JmpOp::Gt, 1, Src::Imm(100)), "ret")
        .line(3)
        .op(mov(0, XDP_PASS))
        .label("ret")
        .op(EXIT);
    a.program("len_filter", Some(SUB_SRC), Vec::new())
}

/// An Ethernet + IPv4 frame of `len` bytes (at least 34) with protocol `proto`.
pub fn ipv4_frame(proto: u8, len: usize) -> Vec<u8> {
    let mut f = vec![0u8; len.max(34)];
    f[12] = 0x08; // ethertype IPv4
    f[14] = 0x45;
    f[23] = proto;
    f
}
