//! The states waiting to be explored: a stack (the walk is depth-first) that
//! also knows the lowest instruction any of them starts at, so the walk can
//! tell, in a program without loops, that no later path reaches a point.

use super::state::State;
use alloc::vec::Vec;

/// A waiting state and the lowest `pc` of it and every entry below it.
struct Entry {
    state: State,
    floor: usize,
}

/// Waiting states, the next to explore last.
pub struct Pending(Vec<Entry>);

impl Pending {
    /// An empty stack with room for `n` states.
    pub fn with_capacity(n: usize) -> Pending {
        Pending(Vec::with_capacity(n))
    }

    /// How many states wait.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Queues `state` to be explored next.
    #[inline]
    pub fn push(&mut self, state: State) {
        let floor = self.lowest_pc().map_or(state.pc, |l| l.min(state.pc));
        self.0.push(Entry { state, floor });
    }

    /// The state to explore next.
    #[inline]
    pub fn pop(&mut self) -> Option<State> {
        self.0.pop().map(|e| e.state)
    }

    /// The lowest `pc` a waiting state starts at.
    #[inline]
    pub fn lowest_pc(&self) -> Option<usize> {
        self.0.last().map(|e| e.floor)
    }
}
