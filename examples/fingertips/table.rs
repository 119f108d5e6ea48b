//! An open-addressing hash table from terms to dense ids, whose keys live
//! elsewhere.
//!
//! Both interners (one per document, one per in-memory index) keep their term
//! texts in one byte arena; a `HashMap<String, u32>` would cost an allocation
//! per term and hash every term twice. Here the caller hashes once
//! ([`term_hash`](crate::tokenize::term_hash)), the table stores that hash
//! next to the id, and only a hash match costs a look at the text.

/// One slot: a term's hash and id, valid only in the table's current generation.
#[derive(Clone, Copy)]
struct Slot {
    hash: u64,
    id: u32,
    generation: u32,
}

const EMPTY: Slot = Slot {
    hash: 0,
    id: 0,
    generation: 0,
};

/// What [`TermTable::find_or_insert`] did.
pub(crate) enum Entry {
    /// The term was there, with this id.
    Found(u32),
    /// The term is new and now has the id the caller offered.
    Inserted,
}

pub(crate) struct TermTable {
    slots: Vec<Slot>,
    /// Slots of other generations are empty, so clearing is one increment
    /// instead of a pass over the table after every document.
    generation: u32,
    len: usize,
    /// `64 - log2(slots.len())`: the top bits of a hash pick its slot.
    shift: u32,
}

impl TermTable {
    /// A table that holds `terms` terms before it first grows.
    pub(crate) fn with_capacity(terms: usize) -> Self {
        let slots = (terms.max(8) * 2).next_power_of_two();
        TermTable {
            slots: vec![EMPTY; slots],
            generation: 1,
            len: 0,
            shift: 64 - slots.trailing_zeros(),
        }
    }

    /// Bytes of memory the table holds.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots.len() * size_of::<Slot>()
    }

    /// Forgets every term, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.fill(EMPTY);
            self.generation = 1;
        }
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
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = (hash >> self.shift) as usize;
        loop {
            let slot = &mut self.slots[at];
            if slot.generation != self.generation {
                *slot = Slot {
                    hash,
                    id: new_id,
                    generation: self.generation,
                };
                self.len += 1;
                return Entry::Inserted;
            }
            if slot.hash == hash && is_term(slot.id) {
                return Entry::Found(slot.id);
            }
            at = (at + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let live: Vec<Slot> = self
            .slots
            .iter()
            .filter(|slot| slot.generation == self.generation)
            .copied()
            .collect();
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.generation = 1;
        self.shift = 64 - size.trailing_zeros();
        let mask = size - 1;
        for slot in live {
            let mut at = (slot.hash >> self.shift) as usize;
            while self.slots[at].generation == self.generation {
                at = (at + 1) & mask;
            }
            self.slots[at] = Slot {
                generation: self.generation,
                ..slot
            };
        }
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
            table.clear();
            terms.clear();
        }
    }
}
