//! Where the frames of states recorded for pruning are kept: one buffer for
//! all of them. Recording a state costs no allocation of its own (only its
//! stacks, and only until forgotten states leave room), and forgetting one
//! leaves its frames, stack buffers included, for the next to reuse.

use super::cfg::MAX_FRAMES;
use super::precise::Scalars;
use super::state::{extend_frames, Frame};
use alloc::vec::Vec;

/// What a recorded state keeps of its frames.
#[derive(Clone, Copy, Debug)]
pub enum Kept {
    /// All of them, in the [`Store`]: later paths at its point compare
    /// with it.
    Frames(Saved),
    /// Only what backtracking reads of its one frame: no later path reaches
    /// its point (a program without loops or calls, and no waiting state
    /// before it), so nothing compares with it.
    Scalars(Scalars),
    /// Nothing: dropped from its point's list.
    Nothing,
}

impl Kept {
    /// The frames, when kept.
    pub fn saved(self) -> Option<Saved> {
        match self {
            Kept::Frames(s) => Some(s),
            _ => None,
        }
    }
}

/// A recorded state's place in a [`Store`].
#[derive(Clone, Copy, Debug)]
pub struct Saved {
    start: u32,
    len: u32,
}

/// The frames of recorded states.
#[derive(Default)]
pub struct Store {
    frames: Vec<Frame>,
    /// Places of forgotten states, by frame count (index = count - 1).
    free: [Vec<u32>; MAX_FRAMES],
}

impl Store {
    /// A store with room for `n` single-frame states.
    pub fn with_capacity(n: usize) -> Store {
        Store {
            frames: Vec::with_capacity(n),
            free: Default::default(),
        }
    }

    /// Keeps a copy of `src`.
    pub fn save(&mut self, src: &[Frame]) -> Saved {
        let len = src.len() as u32;
        let reuse = self
            .free
            .get_mut(src.len().wrapping_sub(1))
            .and_then(|f| f.pop());
        if let Some(start) = reuse {
            let place = &mut self.frames[start as usize..][..src.len()];
            for (d, s) in place.iter_mut().zip(src) {
                d.clone_from(s);
            }
            return Saved { start, len };
        }
        let start = self.frames.len() as u32;
        extend_frames(&mut self.frames, src);
        Saved { start, len }
    }

    /// The frames kept at `s`.
    pub fn get(&self, s: Saved) -> &[Frame] {
        &self.frames[s.start as usize..][..s.len as usize]
    }

    /// Leaves the place of `s` for another state with as many frames.
    pub fn forget(&mut self, s: Saved) {
        if let Some(f) = self.free.get_mut((s.len as usize).wrapping_sub(1)) {
            f.push(s.start);
        }
    }
}
