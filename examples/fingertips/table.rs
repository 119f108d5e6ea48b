//! An open-addressing hash table from terms to dense ids, whose keys live
//! elsewhere.
//!
//! Both interners (one per document, one per in-memory index) keep their
//! terms' texts themselves: the document's in its lowercased text, the
//! in-memory index in one byte arena. A `HashMap<String, u32>` would cost an
//! allocation per term and hash every word twice. Here the caller hashes once
//! ([`term_hash`](crate::tokenize::term_hash); the in-memory index reuses the
//! hash the document's indexer computed), the table stores the hash's top
//! bits next to the id, and only a match of those costs a look at the text.

/// One slot: the top 32 bits of a term's hash, and its id.
#[derive(Clone, Copy)]
struct Slot {
    tag: u32,
    id: u32,
}

/// Ids are dense from 0, so the largest never comes up.
const VACANT: u32 = u32::MAX;
const EMPTY: Slot = Slot { tag: 0, id: VACANT };
const MIN_SLOTS: usize = 64;

/// What [`TermTable::find_or_insert`] did.
pub(crate) enum Entry {
    /// The term was there, with this id.
    Found(u32),
    /// The term is new and now has the id the caller offered.
    Inserted,
}

/// Linear probing, at most half full. A slot's position comes from the top
/// bits of its tag, so growing needs no other copy of the hash; and slots
/// are 8 bytes, so a document's table fits in the L1 cache.
pub(crate) struct TermTable {
    slots: Vec<Slot>,
    /// Slots in use, a power of two: the table can use less than it holds,
    /// so one allocation serves documents of every size.
    size: usize,
    len: usize,
}

impl TermTable {
    /// A table that holds `terms` terms before it first grows.
    pub(crate) fn with_capacity(terms: usize) -> Self {
        let mut table = TermTable {
            slots: Vec::new(),
            size: 0,
            len: 0,
        };
        table.clear_for(terms);
        table
    }

    /// Bytes of memory the table holds.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
    }

    /// Forgets every term, and sizes the table for about `terms` new ones:
    /// a small document then probes (and clears) a small table.
    pub(crate) fn clear_for(&mut self, terms: usize) {
        self.size = (terms * 2).next_power_of_two().max(MIN_SLOTS);
        self.len = 0;
        if self.size > self.slots.len() {
            self.slots = vec![EMPTY; self.size];
        } else {
            self.slots[..self.size].fill(EMPTY);
        }
    }

    #[inline]
    fn home(&self, tag: u32) -> usize {
        // `size` is at least 64 and at most 2^32 slots.
        (tag >> (32 - self.size.trailing_zeros())) as usize
    }

    /// Finds the term with this `hash` for which `is_term(id)` holds, or, if
    /// there is none, files it under `new_id`.
    #[inline]
    pub(crate) fn find_or_insert(
        &mut self,
        hash: u64,
        is_term: impl Fn(u32) -> bool,
        new_id: u32,
    ) -> Entry {
        if (self.len + 1) * 2 > self.size {
            self.grow();
        }
        let tag = (hash >> 32) as u32;
        let mask = self.size - 1;
        let mut at = self.home(tag);
        loop {
            let slot = self.slots[at];
            if slot.id == VACANT {
                self.slots[at] = Slot { tag, id: new_id };
                self.len += 1;
                return Entry::Inserted;
            }
            if slot.tag == tag && is_term(slot.id) {
                return Entry::Found(slot.id);
            }
            at = (at + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let live: Vec<Slot> = self.slots[..self.size]
            .iter()
            .filter(|slot| slot.id != VACANT)
            .copied()
            .collect();
        let len = live.len();
        self.clear_for(self.size);
        let mask = self.size - 1;
        for slot in live {
            let mut at = self.home(slot.tag);
            while self.slots[at].id != VACANT {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
        self.len = len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::term_hash;

    fn intern(table: &mut TermTable, terms: &mut Vec<String>, term: &str) -> u32 {
        let id = terms.len() as u32;
        match table.find_or_insert(
            term_hash(term.as_bytes()),
            |id| terms[id as usize] == term,
            id,
        ) {
            Entry::Found(id) => id,
            Entry::Inserted => {
                terms.push(term.to_owned());
                id
            }
        }
    }

    #[test]
    fn ids_are_dense_stable_and_survive_growth_and_clearing() {
        let mut table = TermTable::with_capacity(1);
        let mut terms = Vec::new();
        for round in 0..3 {
            for n in 0..1000 {
                assert_eq!(intern(&mut table, &mut terms, &format!("t{n}")), n);
            }
            for n in (0..1000).rev() {
                assert_eq!(intern(&mut table, &mut terms, &format!("t{n}")), n);
            }
            assert_eq!(terms.len(), 1000, "round {round}");
            table.clear_for(round * 10);
            terms.clear();
        }
    }
}
