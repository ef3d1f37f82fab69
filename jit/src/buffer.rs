//! An ISA-neutral code buffer: bytes, labels and the fixups that refer to them.
//!
//! Branches are emitted in their long form first; [`CodeBuffer::finish`] then
//! shrinks every branch whose short form reaches its target and moves the code
//! up. Shrinking only ever shortens distances, and each decision is checked
//! against the current layout with the short instruction's own length, so a
//! branch once shrunk stays in range whatever else shrinks later: the sizing
//! always converges (at most [`SHRINK_ROUNDS`] rounds, each strictly optional).
//! The architecture only says how long each form is and patches displacements.

use alloc::vec::Vec;

/// A position in the code, bound once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(u32);

/// How an architecture encodes one kind of label reference.
pub trait LabelUse: Copy {
    /// Length of the long form in bytes (what is emitted first).
    fn long_len(self) -> usize;
    /// Length of the short form, if there is one.
    fn short_len(self) -> Option<usize>;
    /// Whether the short form reaches `d` = target − instruction start.
    fn short_fits(self, d: i64) -> bool;
    /// Writes the whole instruction at `out[..len]` for `d` = target − start,
    /// nothing past it (`out` is [`ROOM`] bytes long so that no write needs a
    /// check). Returns false if the long form does not reach either.
    fn encode(self, out: &mut [u8; ROOM], d: i64, short: bool) -> bool;
}

/// Rounds of shrinking; each round can only enable more short branches.
pub const SHRINK_ROUNDS: usize = 2;

const UNBOUND: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Fixup<K> {
    at: u32,
    label: Label,
    kind: K,
    short: bool,
    /// `kind`'s long length and short one (0: none), read once.
    long_len: u8,
    short_len: u8,
}

/// Where a label is bound: its offset, and how many fixups come before it
/// (exactly those whose shrinking moves it), so its final offset is one
/// subtraction away once the savings per fixup are summed up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bound {
    pos: u32,
    fixups_before: u32,
}

/// Bytes [`CodeBuffer::room`] offers: enough for any one instruction.
pub const ROOM: usize = 16;

/// Bytes made writable at once past the end of the code.
const GROW: usize = 512;

/// How [`CodeBuffer::align_loops`] places loops.
#[derive(Clone, Copy, Debug)]
pub struct LoopAlign {
    /// Cache line size in bytes (a power of two).
    pub line: u32,
    /// Appends this many bytes of no-ops.
    pub fill: fn(&mut Vec<u8>, usize),
}

/// A loop head to pad: its position, the fixups before it and the index of
/// the last backward branch to it (the end of the loop).
#[derive(Clone, Copy)]
struct Head {
    pos: u32,
    fixups_before: u32,
    last: u32,
}

/// Where the layout moved things: `saved[k]` bytes saved by shrinking
/// fixups 0..k (empty: none), and each pad's position with the padding up to
/// and including it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Moves {
    saved: Vec<u32>,
    pads: Vec<(u32, u32)>,
}

impl Moves {
    /// Final offset of what was at `pos` after `fixups_before` fixups; a pad
    /// at `pos` goes before it.
    fn place(&self, pos: u32, fixups_before: u32) -> u32 {
        let i = self.pads.partition_point(|&(p, _)| p <= pos);
        self.shrunk(pos, fixups_before) + if i == 0 { 0 } else { self.pads[i - 1].1 }
    }

    /// Where what was at `pos` after `fixups_before` fixups is once they shrank.
    #[inline]
    fn shrunk(&self, pos: u32, fixups_before: u32) -> u32 {
        match self.saved.get(fixups_before as usize) {
            Some(s) => pos - s,
            None => pos,
        }
    }
}

/// The [`ROOM`] bytes at `at` of `code`, no later than a fixup's place:
/// `use_label` made room there, and the code only grows until it is laid out.
fn room_at(code: &mut [u8], at: usize) -> &mut [u8; ROOM] {
    code[at..].first_chunk_mut().expect("room at a fixup")
}

/// Final offsets of labels made together (the slots' labels), kept as the
/// layout leaves them: where each label was bound and what the layout moved.
/// Only disassembly and tests read them, so [`Offsets::to_vec`] computes
/// them when asked, not every compile (a pass over every slot).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    labels: Vec<Bound>,
    moves: Moves,
}

impl Offsets {
    /// How many labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The final offset of label `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<u32> {
        let b = self.labels.get(i)?;
        Some(self.moves.place(b.pos, b.fixups_before))
    }

    /// The final offset of every label, in order.
    pub fn to_vec(&self) -> Vec<u32> {
        (0..self.len()).filter_map(|i| self.get(i)).collect()
    }
}

/// Code being assembled.
pub struct CodeBuffer<K: LabelUse> {
    /// The bytes so far (branches in long form, displacements not yet
    /// patched) up to `len`; beyond it scratch space to write the next
    /// instruction into, at least [`ROOM`] bytes of it once `room` asked.
    code: Vec<u8>,
    /// (32 bits: `len + ROOM` cannot overflow, which spares `room` a check.)
    len: u32,
    labels: Vec<Bound>,
    fixups: Vec<Fixup<K>>,
    /// Fixups whose label was bound when they were made: the only ones
    /// that can go backward (a label bound later lies past them).
    backward: Vec<u32>,
    loop_align: Option<LoopAlign>,
    /// Labels bound before this offset (the exit code) are never loop heads.
    body_start: u32,
    /// Branches from this offset on (out-of-line exits back into the body)
    /// are never loop back edges.
    cold_start: u32,
}

/// A label was referenced but never bound, or a branch does not reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferError {
    /// Internal: a label was used without being bound.
    Unbound,
    /// The program is too large for the architecture's branch range.
    OutOfRange,
}

impl<K: LabelUse> Default for CodeBuffer<K> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl Label {
    /// The `i`-th of labels made together by [`CodeBuffer::new_labels`], this the first.
    #[inline]
    pub fn nth(self, i: usize) -> Label {
        Label(self.0 + i as u32)
    }

    /// The label whose [`Label::nth`]`(i)` is this one, if labels go back
    /// that far: a block of labels named by the slots it stands for, from
    /// slot `i` on, though made apart from the slots' own.
    pub fn back(self, i: usize) -> Option<Label> {
        let i = u32::try_from(i).ok()?;
        self.0.checked_sub(i).map(Label)
    }
}

impl<K: LabelUse> CodeBuffer<K> {
    /// An empty buffer with room for `bytes` of code.
    pub fn with_capacity(bytes: usize) -> Self {
        CodeBuffer {
            // Zeroed only as `room` reaches it, [`GROW`] bytes at a time.
            code: Vec::with_capacity(bytes.max(ROOM)),
            len: 0,
            labels: Vec::with_capacity(bytes / 8),
            fixups: Vec::with_capacity(bytes / 32),
            backward: Vec::new(),
            loop_align: None,
            body_start: 0,
            cold_start: u32::MAX,
        }
    }

    /// Pads loop heads as `a` says when the code is laid out.
    pub fn align_loops(&mut self, a: LoopAlign) {
        self.loop_align = Some(a);
    }

    /// The body starts here: a branch back to a label bound before this
    /// point (an exit) does not make that label a loop head.
    pub fn mark_body_start(&mut self) {
        self.body_start = self.len;
    }

    /// Out-of-line code starts here: branches from it back into the body
    /// (return from a slow path, fault stubs) are not loops.
    pub fn mark_cold_start(&mut self) {
        self.cold_start = self.len;
    }

    /// Current offset.
    #[inline]
    pub fn pos(&self) -> usize {
        self.len as usize
    }

    /// The [`ROOM`] bytes at the current offset, to write an instruction
    /// into whole (fixed-size stores, no check per byte); then
    /// [`CodeBuffer::advance`] by its length.
    #[inline(always)]
    pub fn room(&mut self) -> &mut [u8; ROOM] {
        let at = self.len as usize;
        if at + ROOM <= self.code.len() {
            return self.code[at..at + ROOM]
                .first_chunk_mut()
                .expect("ROOM bytes");
        }
        self.grown_room()
    }

    /// [`CodeBuffer::room`] once the buffer [`CodeBuffer::grow`]s.
    #[inline(never)]
    fn grown_room(&mut self) -> &mut [u8; ROOM] {
        self.grow();
        let at = self.len as usize;
        self.code[at..].first_chunk_mut().expect("ROOM bytes")
    }

    /// Keeps `n` (at most [`ROOM`]) bytes written through [`CodeBuffer::room`].
    #[inline(always)]
    pub fn advance(&mut self, n: usize) {
        debug_assert!(n <= ROOM);
        self.len += n as u32;
    }

    /// Makes at least [`ROOM`] bytes past the end writable: [`GROW`] more
    /// bytes (the capacity doubles as needed). Zeroing them all at once up
    /// front cost a `memset` as large as the code, and one more each time
    /// the capacity doubled.
    fn grow(&mut self) {
        let size = self.code.len().max(self.len as usize + ROOM) + GROW;
        self.code.resize(size, 0);
    }

    /// A fresh unbound label.
    #[inline]
    pub fn new_label(&mut self) -> Label {
        self.new_labels(1)
    }

    /// `n` fresh unbound labels, numbered consecutively: the first is returned,
    /// the others are [`Label::nth`] of it.
    #[inline]
    pub fn new_labels(&mut self, n: usize) -> Label {
        let first = self.labels.len();
        let unbound = Bound {
            pos: UNBOUND,
            fixups_before: 0,
        };
        self.labels.resize(first + n, unbound);
        Label(first as u32)
    }

    /// Binds `l` to the current offset.
    #[inline]
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0 as usize] = Bound {
            pos: self.len,
            fixups_before: self.fixups.len() as u32,
        };
    }

    /// Where `l` is bound, if it is.
    pub fn label_pos(&self, l: Label) -> Option<usize> {
        let p = self.labels[l.0 as usize].pos;
        (p != UNBOUND).then_some(p as usize)
    }

    /// Emits a reference to `l` of kind `kind` (long form, patched at the end).
    #[inline]
    pub fn use_label(&mut self, l: Label, kind: K) {
        let at = self.len;
        // Room only: `finish` writes the whole instruction.
        self.room();
        let long_len = kind.long_len();
        self.advance(long_len);
        if self.labels[l.0 as usize].pos != UNBOUND {
            self.backward.push(self.fixups.len() as u32);
        }
        self.fixups.push(Fixup {
            at,
            label: l,
            kind,
            short: false,
            long_len: long_len as u8,
            short_len: kind.short_len().unwrap_or(0) as u8,
        });
    }

    /// Appends one byte.
    #[inline]
    pub fn put1(&mut self, b: u8) {
        self.room()[0] = b;
        self.advance(1);
    }

    /// Appends bytes.
    #[inline]
    pub fn put(&mut self, b: &[u8]) {
        for chunk in b.chunks(ROOM) {
            self.room()[..chunk.len()].copy_from_slice(chunk);
            self.advance(chunk.len());
        }
    }

    /// Appends a little-endian 32-bit word.
    #[inline]
    pub fn put4(&mut self, v: u32) {
        self.room()[..4].copy_from_slice(&v.to_le_bytes());
        self.advance(4);
    }

    /// Shrinks branches and patches every fixup; returns the final code and
    /// the [`Offsets`] of the `n` labels made at once from `first`
    /// ([`CodeBuffer::new_labels`]), each of which must be bound.
    pub fn finish(
        mut self,
        shrink: bool,
        first: Label,
        n: usize,
    ) -> Result<(Vec<u8>, Offsets), BufferError> {
        let moves = self.layout(shrink)?;
        let (start, end) = (first.0 as usize, first.0 as usize + n);
        let mut labels = self.labels;
        // (Loops without early exits or index checks: they vectorize.)
        if labels[start..end]
            .iter()
            .fold(false, |u, b| u | (b.pos == UNBOUND))
        {
            return Err(BufferError::Unbound);
        }
        labels.truncate(end);
        labels.drain(..start);
        Ok((self.code, Offsets { labels, moves }))
    }

    /// Loop heads (targets of backward branches) by position, when loops are aligned.
    fn loop_heads(&self) -> Vec<Head> {
        if self.loop_align.is_none() {
            return Vec::new();
        }
        let mut heads: Vec<Head> = Vec::new();
        for &k in &self.backward {
            let f = &self.fixups[k as usize];
            let t = self.labels[f.label.0 as usize];
            if t.pos <= f.at && t.pos >= self.body_start && f.at < self.cold_start {
                heads.push(Head {
                    pos: t.pos,
                    fixups_before: t.fixups_before,
                    last: k,
                });
            }
        }
        // Fixups come in order, so the last of a head's entries is its last branch.
        heads.sort_by_key(|h| h.pos);
        let mut out: Vec<Head> = Vec::with_capacity(heads.len());
        for h in heads {
            match out.last_mut() {
                Some(prev) if prev.pos == h.pos => prev.last = prev.last.max(h.last),
                _ => out.push(h),
            }
        }
        out
    }

    /// Lays the code out again with each loop head padded, given the shrink
    /// decisions (`saved`, empty when nothing shrank).
    fn emit_padded(&mut self, saved: Vec<u32>, heads: &[Head]) -> Result<Moves, BufferError> {
        let Some(align) = self.loop_align else {
            return Err(BufferError::Unbound);
        };
        let line = align.line.max(1);
        let sv = |k: u32| saved.get(k as usize).copied().unwrap_or(0);
        // Each pad from the head's place and the loop's length once shrunk.
        let mut pads = Vec::with_capacity(heads.len());
        let mut total = 0u32;
        for h in heads {
            let start = h.pos - sv(h.fixups_before);
            let f = &self.fixups[h.last as usize];
            let end = f.at - sv(h.last) + Self::fixup_len(f) as u32;
            let len = (end - start).max(1);
            let off = (start + total) % line;
            // Spanning the fewest lines leaves this much room before the first.
            let slack = len.div_ceil(line) * line - len;
            if off > slack {
                total += line - off;
            }
            pads.push((h.pos, total));
        }
        let moves = Moves { saved, pads };
        let mut out = Vec::with_capacity(self.code.len() + total as usize);
        let mut src = 0usize;
        let mut next_pad = 0usize;
        let mut pad_before = |out: &mut Vec<u8>, src: &mut usize, upto: u32| {
            while let Some(&(p, cum)) = moves.pads.get(next_pad) {
                if p > upto {
                    break;
                }
                out.extend_from_slice(&self.code[*src..p as usize]);
                *src = p as usize;
                let prev = if next_pad == 0 {
                    0
                } else {
                    moves.pads[next_pad - 1].1
                };
                (align.fill)(out, (cum - prev) as usize);
                next_pad += 1;
            }
        };
        for f in &self.fixups {
            pad_before(&mut out, &mut src, f.at);
            out.extend_from_slice(&self.code[src..f.at as usize]);
            let t = self.labels[f.label.0 as usize];
            if t.pos == UNBOUND {
                return Err(BufferError::Unbound);
            }
            let target = moves.place(t.pos, t.fixups_before) as i64;
            let at = out.len();
            let len = Self::fixup_len(f);
            // (A whole ROOM, cut to length: one store rather than a `memset` call.)
            out.extend_from_slice(&[0; ROOM]);
            let room = out[at..].first_chunk_mut().expect("ROOM bytes");
            if !f.kind.encode(room, target - at as i64, f.short) {
                return Err(BufferError::OutOfRange);
            }
            out.truncate(at + len);
            src = f.at as usize + f.long_len as usize;
        }
        pad_before(&mut out, &mut src, u32::MAX);
        out.extend_from_slice(&self.code[src..]);
        self.code = out;
        Ok(moves)
    }

    /// Length of fixup `f` in its chosen form.
    fn fixup_len(f: &Fixup<K>) -> usize {
        if f.short {
            f.short_len as usize
        } else {
            f.long_len as usize
        }
    }

    /// Decides each branch's form, patches them and compacts the code. Returns
    /// `saved`: bytes saved by shrinking fixups 0..k at `saved[k]`, so fixup
    /// `k` moves up by `saved[k]` and a label by `saved[fixups_before]`; empty
    /// when nothing shrank. An unbound label is found where its fixup is
    /// patched (until then its offset, `UNBOUND`, only keeps the fixup long).
    fn layout(&mut self, shrink: bool) -> Result<Moves, BufferError> {
        let heads = self.loop_heads();
        // Pads between a branch and its target count at their largest: a
        // pad is under a line, and under the loop's length (unshrunk here).
        let line = self.loop_align.map_or(1, |a| a.line.max(1));
        let mut most = Vec::with_capacity(heads.len() + 1);
        most.push(0i64);
        for h in &heads {
            let f = &self.fixups[h.last as usize];
            let len = f.at + f.long_len as u32 - h.pos;
            let pad = (line - 1).min(len.saturating_sub(1)) as i64;
            most.push(most[most.len() - 1] + pad);
        }
        let pads_between = |a: u32, b: u32| {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            most[heads.partition_point(|h| h.pos <= hi)]
                - most[heads.partition_point(|h| h.pos <= lo)]
        };
        let mut saved: Vec<u32> = Vec::new();
        if shrink {
            // The first round measures the layout as emitted and sums the
            // savings as it decides; later ones measure the layout the
            // rounds before left.
            // (Pushed, not zeroed first: a `memset` as large as the list.)
            saved.reserve_exact(self.fixups.len() + 1);
            let mut acc = 0u32;
            let labels = &self.labels;
            for f in self.fixups.iter_mut() {
                saved.push(acc);
                if f.short_len == 0 {
                    continue;
                }
                let t = labels[f.label.0 as usize];
                let mut d = t.pos as i64 - f.at as i64;
                if !heads.is_empty() {
                    let pad = pads_between(f.at, t.pos);
                    d += if d < 0 { -pad } else { pad };
                }
                if f.kind.short_fits(d) {
                    f.short = true;
                    acc += (f.long_len - f.short_len) as u32;
                }
            }
            saved.push(acc);
            let rounds = if acc == 0 { 1 } else { SHRINK_ROUNDS };
            for _ in 1..rounds {
                let mut changed = false;
                for (k, f) in self.fixups.iter_mut().enumerate() {
                    if f.short || f.short_len == 0 {
                        continue;
                    }
                    let t = labels[f.label.0 as usize];
                    let mut d = t.pos.wrapping_sub(saved[t.fixups_before as usize]) as i64
                        - (f.at - saved[k]) as i64;
                    if !heads.is_empty() {
                        let pad = pads_between(f.at, t.pos);
                        d += if d < 0 { -pad } else { pad };
                    }
                    if f.kind.short_fits(d) {
                        f.short = true;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
                let mut acc = 0u32;
                for (k, f) in self.fixups.iter().enumerate() {
                    saved[k] = acc;
                    if f.short {
                        acc += (f.long_len - f.short_len) as u32;
                    }
                }
                saved[self.fixups.len()] = acc;
            }
            if saved.last() == Some(&0) {
                saved.clear();
            }
        }
        if !heads.is_empty() {
            self.code.truncate(self.len as usize);
            return self.emit_padded(saved, &heads);
        }
        if saved.is_empty() {
            // Nothing shrank: patch in place.
            for f in &self.fixups {
                let target = self.labels[f.label.0 as usize].pos;
                let at = f.at as usize;
                if target == UNBOUND {
                    return Err(BufferError::Unbound);
                }
                if !f.kind.encode(
                    room_at(&mut self.code, at),
                    target as i64 - at as i64,
                    false,
                ) {
                    return Err(BufferError::OutOfRange);
                }
            }
            self.code.truncate(self.len as usize);
            return Ok(Moves {
                saved: Vec::new(),
                pads: Vec::new(),
            });
        }
        // Compact in place: each stretch between fixups moves up by what the
        // fixups before it saved, then the fixup is re-encoded at its new place.
        let mut src = 0usize;
        let mut dst = 0usize;
        let code = &mut self.code;
        for f in &self.fixups {
            let at = f.at as usize;
            let long = f.long_len as usize;
            // (A `memmove` a stretch: fewer instructions than moving
            // 16-byte blocks by hand, whose checks cost more than the copy.)
            code.copy_within(src..at, dst);
            dst += at - src;
            let len = if f.short { f.short_len as usize } else { long };
            let t = self.labels[f.label.0 as usize];
            if t.pos == UNBOUND {
                return Err(BufferError::Unbound);
            }
            let target = (t.pos - saved[t.fixups_before as usize]) as i64;
            // (At or before the fixup's old place, where `use_label` made room.)
            if !f
                .kind
                .encode(room_at(code, dst), target - dst as i64, f.short)
            {
                return Err(BufferError::OutOfRange);
            }
            dst += len;
            src = at + long;
        }
        let end = self.len as usize;
        self.code.copy_within(src..end, dst);
        self.code.truncate(dst + end - src);
        Ok(Moves {
            saved,
            pads: Vec::new(),
        })
    }
}
