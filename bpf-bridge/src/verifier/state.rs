//! The abstract machine state: per register a type with its offset, per stack
//! byte what it holds, per call a frame.

use super::bounds::Scalar;
use alloc::vec::Vec;
use core::fmt;

/// Largest stack frame in bytes.
pub const MAX_STACK: i64 = 512;

/// What a register holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kind {
    /// Never written (reading it is an error).
    NotInit,
    /// A number; `var` says which.
    Scalar,
    /// The context (`struct xdp_md`).
    Ctx,
    /// Into the stack frame `aux`.
    Stack,
    /// Into the packet (or the `raw` memory block).
    Packet,
    /// One past the packet's last byte.
    PacketEnd,
    /// A map (`aux` = its index), only for helper arguments.
    MapPtr,
    /// Into a value of map `aux`.
    MapValue,
    /// A value of map `aux`, or null: must be null-checked first.
    MapValueOrNull,
}

impl Kind {
    /// Whether the register holds an address.
    pub fn is_ptr(self) -> bool {
        !matches!(self, Kind::NotInit | Kind::Scalar)
    }

    fn name(self) -> &'static str {
        match self {
            Kind::NotInit => "?",
            Kind::Scalar => "scalar",
            Kind::Ctx => "ctx",
            Kind::Stack => "fp",
            Kind::Packet => "pkt",
            Kind::PacketEnd => "pkt_end",
            Kind::MapPtr => "map_ptr",
            Kind::MapValue => "map_value",
            Kind::MapValueOrNull => "map_value_or_null",
        }
    }
}

/// One register's abstract value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RegState {
    /// Its type.
    pub kind: Kind,
    /// Fixed offset of a pointer.
    pub off: i64,
    /// A scalar's value, or a pointer's variable offset.
    pub var: Scalar,
    /// Links registers: scalars copied from one another, packet pointers with
    /// the same variable part, a lookup result and its copies. 0 = none.
    pub id: u32,
    /// Packet pointers: bytes from the pointer's base (without `off`) proven
    /// inside the packet.
    pub range: u32,
    /// Map index (map pointers and values) or frame number (stack pointers).
    pub aux: u32,
    /// `raw` programs: this scalar is still the memory length given in r2.
    pub len: bool,
}

impl RegState {
    /// An unwritten register.
    pub const NOT_INIT: RegState = RegState {
        kind: Kind::NotInit,
        off: 0,
        var: Scalar::konst(0),
        id: 0,
        range: 0,
        aux: 0,
        len: false,
    };

    /// A scalar register.
    pub fn scalar(var: Scalar) -> RegState {
        RegState {
            kind: Kind::Scalar,
            var,
            ..RegState::NOT_INIT
        }
    }

    /// A pointer with a zero offset.
    pub fn ptr(kind: Kind, aux: u32) -> RegState {
        RegState {
            kind,
            aux,
            ..RegState::NOT_INIT
        }
    }

    /// The offset when the variable part is known.
    pub fn const_off(&self) -> Option<i64> {
        self.var.as_const().map(|v| self.off.wrapping_add(v as i64))
    }
}

impl fmt::Display for RegState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::NotInit => write!(f, "?"),
            Kind::Scalar => write!(f, "{}", self.var),
            k => {
                write!(f, "{}", k.name())?;
                if matches!(k, Kind::MapPtr | Kind::MapValue | Kind::MapValueOrNull) {
                    write!(f, "[map {}]", self.aux)?;
                }
                write!(f, "(off={}", self.off)?;
                if self.var.as_const() != Some(0) {
                    write!(f, ",var={}", self.var)?;
                }
                if k == Kind::Packet {
                    write!(f, ",r={}", self.range)?;
                }
                if self.id != 0 {
                    write!(f, ",id={}", self.id)?;
                }
                write!(f, ")")
            }
        }
    }
}

/// What one stack byte holds. The values are bit flags: [`Slot::codes`]
/// packs a slot's eight into one word, for comparisons of whole slots.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Byte {
    /// Never written.
    Invalid = 0,
    /// Scalar data of unknown value.
    Misc = 1,
    /// Part of a spilled register (the slot's `spill`).
    Spill = 2,
}

/// Eight stack bytes `[-8(i+1), -8i)` of a frame.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Slot {
    /// Per byte, lowest address first.
    pub bytes: [Byte; 8],
    /// The register whose bytes are marked [`Byte::Spill`].
    pub spill: RegState,
}

impl Slot {
    /// Nothing written.
    pub const EMPTY: Slot = Slot {
        bytes: [Byte::Invalid; 8],
        spill: RegState::NOT_INIT,
    };

    /// The eight bytes' [`Byte`] values, one per byte of the word (lowest
    /// address in the lowest byte).
    #[inline]
    pub fn codes(&self) -> u64 {
        u64::from_le_bytes(self.bytes.map(|b| b as u8))
    }
}

/// One function activation.
#[derive(PartialEq, Eq, Hash, Debug)]
pub struct Frame {
    /// r0..r10.
    pub regs: [RegState; 11],
    /// Slots, index 0 nearest the frame pointer.
    pub stack: Vec<Slot>,
    /// Instruction index of the call that made the frame (0 for the main one).
    pub callsite: usize,
}

impl Clone for Frame {
    #[inline]
    fn clone(&self) -> Frame {
        Frame {
            regs: self.regs,
            stack: self.stack.clone(),
            callsite: self.callsite,
        }
    }

    /// Reuses the stack's buffer (states are recycled, see `State::clone_from`).
    fn clone_from(&mut self, src: &Frame) {
        self.regs = src.regs;
        self.stack.clone_from(&src.stack);
        self.callsite = src.callsite;
    }
}

impl Frame {
    /// A frame with only r10 set.
    pub fn new(frameno: u32, callsite: usize) -> Frame {
        let mut regs = [RegState::NOT_INIT; 11];
        regs[10] = RegState::ptr(Kind::Stack, frameno);
        Frame {
            regs,
            stack: Vec::new(),
            callsite,
        }
    }

    /// The byte at frame offset `off` (negative), `Invalid` beyond the written part.
    pub fn byte(&self, off: i64) -> (Byte, Option<&Slot>) {
        let (i, b) = slot_of(off);
        match self.stack.get(i) {
            Some(s) => (s.bytes[b], Some(s)),
            None => (Byte::Invalid, None),
        }
    }

    /// The slot holding offset `off`, created on demand.
    pub fn slot_mut(&mut self, off: i64) -> &mut Slot {
        let (i, _) = slot_of(off);
        if self.stack.len() <= i {
            self.stack.resize(i + 1, Slot::EMPTY);
        }
        &mut self.stack[i]
    }
}

/// Appends copies of `src` to `dst`, one push each: `extend_from_slice` and
/// `to_vec` clone each frame into a temporary first, copying its registers
/// (about 1 KB) twice.
pub fn extend_frames(dst: &mut Vec<Frame>, src: &[Frame]) {
    dst.reserve(src.len());
    for f in src {
        dst.push(f.clone());
    }
}

/// Slot index and byte index of frame offset `off` (in `-512..0`).
pub fn slot_of(off: i64) -> (usize, usize) {
    let i = ((-off - 1) / 8) as usize;
    let b = off.rem_euclid(8) as usize;
    (i, b)
}

/// Everything the analysis knows at one point of one path. `repr(C)`: the
/// fields a prune point's scan of recorded states reads come first.
#[derive(Debug)]
#[repr(C)]
pub struct State {
    /// Call frames, the current one last.
    pub frames: Vec<Frame>,
    /// may_goto instructions passed without jumping (the kernel's
    /// `may_goto_depth`): a state repeating across one is not an endless loop.
    pub goto_depth: u32,
    /// Next instruction.
    pub pc: usize,
    /// Instructions executed on this path so far.
    pub depth: u64,
    /// The last recorded state on this path (an index into the visited list).
    pub parent: Option<u32>,
    /// Instructions executed since that state (for precision backtracking).
    pub hist: Vec<super::precise::Hist>,
    /// Registers and slots whose derivation is already marked precise in
    /// every recorded state of the path (a cache: demanding them is a no-op).
    pub known: super::precise::Marks,
}

/// Room for this many more history entries in a cloned state: a clone (a
/// fork) is followed by more instructions, and growing from an exact-size
/// buffer would reallocate at once.
const HIST_HEADROOM: usize = 32;

impl Clone for State {
    fn clone(&self) -> State {
        let mut hist = Vec::with_capacity(self.hist.len() + HIST_HEADROOM);
        hist.extend_from_slice(&self.hist);
        State {
            frames: self.frames.clone(),
            goto_depth: self.goto_depth,
            pc: self.pc,
            depth: self.depth,
            parent: self.parent,
            hist,
            known: self.known,
        }
    }
}

/// Buffers of states no longer needed, for copies of states to reuse (no
/// allocation once they are large enough).
#[derive(Default)]
pub struct Spare {
    frames: Vec<Vec<Frame>>,
    hist: Vec<Vec<super::precise::Hist>>,
}

/// Buffers kept of each kind.
const SPARE: usize = 16;

impl Spare {
    /// A copy of `frames`.
    pub fn frames(&mut self, src: &[Frame]) -> Vec<Frame> {
        match self.frames.pop() {
            Some(mut v) => {
                // `clone_from` reuses the stack buffers of the frames.
                v.truncate(src.len());
                let n = v.len();
                for (d, s) in v.iter_mut().zip(src) {
                    d.clone_from(s);
                }
                extend_frames(&mut v, &src[n..]);
                v
            }
            None => {
                let mut v = Vec::with_capacity(src.len());
                extend_frames(&mut v, src);
                v
            }
        }
    }

    /// A copy of `st`.
    pub fn state(&mut self, st: &State) -> State {
        let frames = self.frames(&st.frames);
        let need = st.hist.len() + HIST_HEADROOM;
        let mut hist = match self.hist.pop() {
            // Growing the buffer would copy its stale contents.
            Some(h) if h.capacity() >= need => h,
            _ => Vec::with_capacity(need),
        };
        hist.clear();
        hist.extend_from_slice(&st.hist);
        State {
            frames,
            goto_depth: st.goto_depth,
            pc: st.pc,
            depth: st.depth,
            parent: st.parent,
            hist,
            known: st.known,
        }
    }

    /// Keeps the buffers of `frames` (up to a few).
    pub fn put_frames(&mut self, frames: Vec<Frame>) {
        if self.frames.len() < SPARE && frames.capacity() > 0 {
            self.frames.push(frames);
        }
    }

    /// Keeps the buffers of `st` (up to a few).
    pub fn put(&mut self, st: State) {
        self.put_frames(st.frames);
        if self.hist.len() < SPARE && st.hist.capacity() > 0 {
            self.hist.push(st.hist);
        }
    }
}

impl State {
    /// A state at the first instruction, with no history.
    pub fn with_frames(frames: Vec<Frame>) -> State {
        State {
            frames,
            pc: 0,
            depth: 0,
            parent: None,
            hist: Vec::new(),
            goto_depth: 0,
            known: super::precise::Marks::default(),
        }
    }

    /// The current frame.
    pub fn frame(&self) -> &Frame {
        self.frames.last().expect("at least one frame")
    }

    /// The current frame, mutably.
    pub fn frame_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("at least one frame")
    }

    /// Index of the current frame.
    pub fn frameno(&self) -> u32 {
        (self.frames.len() - 1) as u32
    }

    /// Every register and spilled register of every frame.
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut RegState)) {
        for fr in &mut self.frames {
            for r in fr.regs.iter_mut() {
                f(r);
            }
            for s in fr.stack.iter_mut() {
                if s.bytes[0] == Byte::Spill {
                    f(&mut s.spill);
                }
            }
        }
    }

    /// One line with the initialised registers of the current frame.
    pub fn describe(&self) -> alloc::string::String {
        use core::fmt::Write;
        let mut s = alloc::string::String::new();
        if self.frames.len() > 1 {
            let _ = write!(s, "frame{}: ", self.frames.len() - 1);
        }
        let Some(frame) = self.frames.last() else {
            return s;
        };
        for (i, r) in frame.regs.iter().enumerate() {
            if r.kind != Kind::NotInit {
                if !s.is_empty() && !s.ends_with(": ") {
                    s.push(' ');
                }
                let _ = write!(s, "R{i}={r}");
            }
        }
        s
    }
}
