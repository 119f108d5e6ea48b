//! Stage 3: merging documents into an in-memory index until it is full.
//!
//! Accumulating is the one stage that sees every document and runs on a
//! single thread, so it does the least it can per term: one probe of a hash
//! table with the hash the indexer computed, and appends to three flat
//! arrays. No term owns an allocation. The ordering work (sorting terms,
//! grouping each term's postings; `sorted_index.rs`) waits until the index
//! is written, which in the threaded pipeline happens on another thread while
//! the next index fills.

use std::path::PathBuf;

use crate::document::DocumentIndex;
use crate::progress::Progress;
use crate::sorted_index::{SortedIndex, append_small};
use crate::table::{Entry, TermTable};
use crate::tokenize::same_term;

/// The postings of a range of documents (ids `first_doc..`), unsorted.
pub(crate) struct InMemoryIndex {
    first_doc: u32,
    /// The paths of the documents, in id order.
    pub(crate) documents: Vec<PathBuf>,
    /// Bytes of input text indexed, for the summary.
    pub(crate) input_bytes: u64,
    table: TermTable,
    terms: Vec<IndexTerm>,
    /// Every term's text, back to back, in order of first appearance.
    text: Vec<u8>,
    /// One per (term, document) pair, in document order.
    postings: Vec<Posting>,
    /// Each posting's encoded entry (occurrences and positions), back to back.
    entries: Vec<u8>,
    path_bytes: usize,
    last: bool,
}

/// A term of an in-memory index: where its text is, and its postings so far.
#[derive(Clone, Copy)]
pub(crate) struct IndexTerm {
    pub(crate) text_start: u32,
    pub(crate) text_len: u32,
    pub(crate) doc_count: u32,
    pub(crate) last_doc: u32,
}

/// A posting's entry runs from `start` to the next posting's `start`.
#[derive(Clone, Copy)]
pub(crate) struct Posting {
    pub(crate) term: u32,
    pub(crate) doc: u32,
    pub(crate) start: u32,
}

impl InMemoryIndex {
    fn new(first_doc: u32) -> Self {
        InMemoryIndex {
            first_doc,
            documents: Vec::new(),
            input_bytes: 0,
            table: TermTable::with_capacity(1 << 10),
            terms: Vec::new(),
            text: Vec::new(),
            postings: Vec::new(),
            entries: Vec::new(),
            path_bytes: 0,
            last: false,
        }
    }

    /// The id the next document gets.
    fn next_doc(&self) -> u32 {
        let count = u32::try_from(self.documents.len()).ok();
        count
            .and_then(|count| self.first_doc.checked_add(count))
            .expect("fingertips indexes fewer than 2^32 documents")
    }

    /// Bytes allocated, counting spare capacity: what the process really holds.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.table.memory_bytes()
            + self.terms.capacity() * size_of::<IndexTerm>()
            + self.text.capacity()
            + self.postings.capacity() * size_of::<Posting>()
            + self.entries.capacity()
            + self.path_bytes
    }

    /// Whether the 32-bit offsets can take `document` too.
    fn has_room_for(&self, document: &DocumentIndex) -> bool {
        self.text.len() + document.text_len() < u32::MAX as usize
            && self.entries.len() + document.entries.len() < u32::MAX as usize
    }

    fn add(&mut self, document: DocumentIndex) {
        let doc = self.next_doc();
        for (hash, word, (entry_start, entry_end)) in document.terms() {
            let new_id = self.terms.len() as u32;
            let (terms, text) = (&self.terms, &self.text);
            let is_term = |id: u32| {
                let term = terms[id as usize];
                let start = term.text_start as usize;
                same_term(&text[start..start + term.text_len as usize], word)
            };
            let id = match self.table.find_or_insert(hash, is_term, new_id) {
                Entry::Found(id) => id,
                Entry::Inserted => {
                    self.terms.push(IndexTerm {
                        text_start: self.text.len() as u32,
                        text_len: word.len() as u32,
                        doc_count: 0,
                        last_doc: 0,
                    });
                    self.text.extend_from_slice(word);
                    new_id
                }
            };
            let term = &mut self.terms[id as usize];
            term.doc_count += 1;
            term.last_doc = doc;
            self.postings.push(Posting {
                term: id,
                doc,
                start: self.entries.len() as u32,
            });
            append_small(&mut self.entries, &document.entries, entry_start, entry_end);
        }
        self.input_bytes += document.bytes;
        self.path_bytes += document.path.as_os_str().len() + size_of::<PathBuf>();
        self.documents.push(document.path);
    }

    /// Whether this is the last index of the input: it is merged straight
    /// from memory instead of going through a file.
    pub(crate) fn is_last(&self) -> bool {
        self.last
    }

    /// Sorts the terms and groups each term's postings, ready for writing.
    pub(crate) fn sort(self) -> SortedIndex {
        let InMemoryIndex {
            terms,
            text,
            postings,
            entries,
            ..
        } = self;
        SortedIndex::new(terms, text, postings, entries)
    }
}

/// Stage 3 as an iterator adapter: pulls indexed documents, numbers them in
/// order, and yields an in-memory index each time one reaches `limit` bytes,
/// then the last, partial one. Yields at least one index, empty if there were
/// no documents, so that an empty input still makes a valid empty index.
pub(crate) struct Accumulate<I> {
    documents: I,
    limit: usize,
    next_doc: u32,
    /// A document that did not fit in the index just yielded.
    pending: Option<DocumentIndex>,
    yielded: bool,
    finished: bool,
    progress: Progress,
}

impl<I> Accumulate<I> {
    pub(crate) fn new(documents: I, limit: usize, progress: Progress) -> Self {
        Accumulate {
            documents,
            limit,
            next_doc: 0,
            pending: None,
            yielded: false,
            finished: false,
            progress,
        }
    }

    fn full(&mut self, index: InMemoryIndex) -> Option<InMemoryIndex> {
        self.next_doc = index.next_doc();
        self.yielded = true;
        Some(index)
    }
}

impl<I: Iterator<Item = DocumentIndex>> Iterator for Accumulate<I> {
    type Item = InMemoryIndex;

    fn next(&mut self) -> Option<InMemoryIndex> {
        if self.finished {
            return None;
        }
        let mut index = InMemoryIndex::new(self.next_doc);
        while let Some(document) = self.pending.take().or_else(|| self.documents.next()) {
            if !index.documents.is_empty() && !index.has_room_for(&document) {
                self.pending = Some(document);
                return self.full(index);
            }
            self.progress.document_done(document.bytes);
            index.add(document);
            if index.memory_bytes() >= self.limit {
                return self.full(index);
            }
        }
        self.finished = true;
        self.progress.finish();
        if index.documents.is_empty() && self.yielded {
            return None;
        }
        index.last = true;
        Some(index)
    }
}
