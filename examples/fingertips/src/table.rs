//! A hash table from terms to dense ids, whose keys live elsewhere:
//! hashbrown's [`HashTable`] of `(tag, id)` pairs.
//!
//! Both interners (one per document, one per in-memory index) keep their
//! terms' texts themselves: the document's in its lowercased text, the
//! in-memory index in one byte arena. A `HashMap<String, u32>` would cost an
//! allocation per term and hash every word twice. Here the caller hashes once
//! ([`term_hash`](crate::tokenize::term_hash); the in-memory index reuses the
//! hash the document's indexer computed), the table keeps the hash's top 32
//! bits next to the id (8 bytes a slot, so a document's table stays in the
//! L1 cache), and only a match of those costs a look at the text.

use hashbrown::HashTable;

/// The fewest slots [`TermTable::clear_for`] shrinks a table to.
const MIN_SLOTS: usize = 1024;

/// One slot: the top 32 bits of a term's hash, and its id.
#[derive(Clone, Copy)]
struct Slot {
    tag: u32,
    id: u32,
}

/// What [`TermTable::find_or_insert`] did.
pub(crate) enum Entry {
    /// The term was there, with this id.
    Found(u32),
    /// The term is new and now has the id the caller offered.
    Inserted,
}

/// Term ids by hash; the caller says which id is which term.
pub(crate) struct TermTable {
    slots: HashTable<Slot>,
}

/// The 64-bit hash hashbrown places a slot by, made again from its tag
/// alone when the table grows: the tag's bits spread over all 64.
#[inline]
fn placement(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl TermTable {
    /// A table that holds `terms` terms before it first grows.
    pub(crate) fn with_capacity(terms: usize) -> Self {
        TermTable {
            slots: HashTable::with_capacity(terms),
        }
    }

    /// Bytes of memory the table holds (its slots; hashbrown adds a control
    /// byte per slot).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * (size_of::<Slot>() + 1)
    }

    /// Forgets every term, and sizes the table for about `terms` new ones:
    /// a small document after a huge one then clears a small table, not
    /// the huge one's, and a table that had to grow keeps its size.
    pub(crate) fn clear_for(&mut self, terms: usize) {
        self.slots.clear();
        if self.slots.capacity() > 4 * terms.max(MIN_SLOTS) {
            self.slots.shrink_to(terms, |slot| placement(slot.tag));
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
        let tag = (hash >> 32) as u32;
        let entry = self.slots.entry(
            placement(tag),
            |slot| slot.tag == tag && is_term(slot.id),
            |slot| placement(slot.tag),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(found) => Entry::Found(found.get().id),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                vacant.insert(Slot { tag, id: new_id });
                Entry::Inserted
            }
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
            table.clear_for(round * 10);
            terms.clear();
        }
    }
}
