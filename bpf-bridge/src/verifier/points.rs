//! Per prune point, the list of states recorded there, oldest first. All
//! lists share one buffer of linked entries (a program has many prune
//! points, most with a state or two: one allocation per list would cost
//! more than the lists are used).

use alloc::vec;
use alloc::vec::Vec;

/// No entry.
const NIL: u32 = u32::MAX;

/// One entry of a prune point's list: what the scan at each visit reads,
/// packed so that it touches no recorded state unless a comparison is worth
/// making.
#[derive(Clone, Copy)]
pub struct AtEntry {
    /// Index into the visited list.
    pub idx: u32,
    /// The state's `goto_depth`.
    pub goto_depth: u32,
    /// [`super::prune::exact_hash`] of the state, once needed.
    pub hash: Option<u64>,
}

#[derive(Clone, Copy)]
struct Node {
    entry: AtEntry,
    next: u32,
}

/// One prune point's list.
#[derive(Clone, Copy)]
struct List {
    head: u32,
    /// The last node (appending walks no list).
    tail: u32,
    len: u32,
}

/// The lists of every prune point.
pub struct AtLists {
    /// Per instruction, its list.
    lists: Vec<List>,
    nodes: Vec<Node>,
    /// Nodes removed from their list, linked by `next`.
    free: u32,
}

impl AtLists {
    /// Empty lists for `n` instructions, with room for `cap` entries.
    pub fn new(n: usize, cap: usize) -> AtLists {
        AtLists {
            lists: vec![
                List {
                    head: NIL,
                    tail: NIL,
                    len: 0
                };
                n
            ],
            nodes: Vec::with_capacity(cap),
            free: NIL,
        }
    }

    /// The number of entries of `pc`'s list.
    pub fn len(&self, pc: usize) -> usize {
        self.lists[pc].len as usize
    }

    /// The first node of `pc`'s list.
    pub fn first(&self, pc: usize) -> Option<u32> {
        Some(self.lists[pc].head).filter(|&k| k != NIL)
    }

    /// The node after `k` in its list.
    pub fn next(&self, k: u32) -> Option<u32> {
        Some(self.nodes[k as usize].next).filter(|&k| k != NIL)
    }

    /// The entry of node `k`.
    pub fn entry(&self, k: u32) -> &AtEntry {
        &self.nodes[k as usize].entry
    }

    /// The entry of node `k`, mutably.
    pub fn entry_mut(&mut self, k: u32) -> &mut AtEntry {
        &mut self.nodes[k as usize].entry
    }

    /// The entries of `pc`'s list, oldest first.
    pub fn iter(&self, pc: usize) -> impl Iterator<Item = &AtEntry> + '_ {
        core::iter::successors(self.first(pc), move |&k| self.next(k)).map(|k| self.entry(k))
    }

    /// Appends `e` to `pc`'s list.
    pub fn push(&mut self, pc: usize, e: AtEntry) {
        let node = Node {
            entry: e,
            next: NIL,
        };
        let k = if self.free != NIL {
            let k = self.free;
            self.free = self.nodes[k as usize].next;
            self.nodes[k as usize] = node;
            k
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        let list = &mut self.lists[pc];
        match list.tail {
            NIL => list.head = k,
            last => self.nodes[last as usize].next = k,
        }
        list.tail = k;
        list.len += 1;
    }

    /// Removes the first entry of `pc`'s list that `pick` accepts (the first
    /// entry when none does) and returns it; `None` for an empty list.
    pub fn remove(&mut self, pc: usize, pick: impl Fn(&AtEntry) -> bool) -> Option<AtEntry> {
        let first = self.first(pc)?;
        let mut prev = None;
        let mut cur = Some(first);
        while let Some(k) = cur {
            if pick(self.entry(k)) {
                break;
            }
            prev = Some(k);
            cur = self.next(k);
        }
        let (prev, k) = match cur {
            Some(k) => (prev, k),
            None => (None, first),
        };
        let next = self.nodes[k as usize].next;
        let list = &mut self.lists[pc];
        match prev {
            Some(p) => self.nodes[p as usize].next = next,
            None => list.head = next,
        }
        if list.tail == k {
            list.tail = prev.unwrap_or(NIL);
        }
        list.len -= 1;
        self.nodes[k as usize].next = self.free;
        self.free = k;
        Some(self.nodes[k as usize].entry)
    }
}
