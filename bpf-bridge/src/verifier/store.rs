//! Where the frames of states recorded for pruning are kept: one buffer for
//! all of them. Recording a state costs no allocation of its own (only its
//! stacks, and only until forgotten states leave room), and forgetting one
//! leaves its frames, stack buffers included, for the next to reuse.

use super::cfg::MAX_FRAMES;
use super::state::Frame;
use alloc::vec::Vec;

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
        self.frames.extend_from_slice(src);
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
