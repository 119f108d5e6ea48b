//! Stage 3, merging documents into an in-memory index until it is full, and
//! the sorting half of stage 4, writing a full one out as a sorted run.
//!
//! Accumulating is the one stage that sees every document and runs on a
//! single thread, so it does the least it can per term: one probe of a hash
//! table with the hash the indexer computed, and appends to three flat
//! arrays. No term owns an allocation. The ordering work (sorting terms,
//! grouping each term's postings) waits until the index is written, which in
//! the threaded pipeline happens on another thread while the next index fills.

use std::path::PathBuf;

use crate::document::DocumentIndex;
use crate::errors::Fatal;
use crate::format::push_varint;
use crate::pipeline::{Mode, Progress, spread};
use crate::storage::{TermBlock, TermWriter};
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
}

#[derive(Clone, Copy)]
struct IndexTerm {
    text_start: u32,
    text_len: u32,
    doc_count: u32,
    last_doc: u32,
}

/// A posting's entry runs from `start` to the next posting's `start`.
#[derive(Clone, Copy)]
struct Posting {
    term: u32,
    doc: u32,
    start: u32,
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

    /// Writes the terms in sorted order, each with its postings list.
    ///
    /// Sorting and grouping are done here; encoding the lists, most of the
    /// work, is spread over blocks of terms, on several threads in the
    /// threaded mode.
    pub(crate) fn write_sorted(
        self,
        writer: &mut TermWriter,
        mode: Mode,
        block_postings: u32,
    ) -> Result<(), Fatal> {
        let InMemoryIndex {
            terms,
            text,
            postings,
            entries,
            ..
        } = self;
        let text_of = |id: u32| {
            let term = terms[id as usize];
            let start = term.text_start as usize;
            &text[start..start + term.text_len as usize]
        };
        // Most comparisons are settled by the first 8 bytes, compared as one
        // integer; zero padding sorts a shorter term first, as bytewise order
        // does (terms hold no zero bytes).
        let mut order: Vec<(u64, u32)> = (0..terms.len() as u32)
            .map(|id| {
                let mut prefix = [0; 8];
                let text = text_of(id);
                let len = text.len().min(8);
                prefix[..len].copy_from_slice(&text[..len]);
                (u64::from_be_bytes(prefix), id)
            })
            .collect();
        order.sort_unstable_by(|a, b| (a.0.cmp(&b.0)).then_with(|| text_of(a.1).cmp(text_of(b.1))));

        // A counting sort by term rank groups each term's postings, keeping
        // document order within a term: one pass, no comparisons. Blocks of
        // terms are cut along the way.
        let mut next_slot = vec![0u32; terms.len()];
        let mut blocks = Vec::new();
        let mut block = Block::default();
        let mut total = 0;
        for (rank, &(_, id)) in order.iter().enumerate() {
            if total - block.first_posting >= block_postings {
                block.terms.1 = rank;
                blocks.push(block);
                block = Block {
                    terms: (rank, rank),
                    first_posting: total,
                };
            }
            next_slot[id as usize] = total;
            total += terms[id as usize].doc_count;
        }
        block.terms.1 = order.len();
        blocks.push(block);
        let mut grouped = vec![(0u32, 0u32, 0u32); postings.len()];
        for (at, posting) in postings.iter().enumerate() {
            let end = postings
                .get(at + 1)
                .map_or(entries.len() as u32, |next| next.start);
            let slot = &mut next_slot[posting.term as usize];
            grouped[*slot as usize] = (posting.doc, posting.start, end);
            *slot += 1;
        }
        drop(postings);

        let encode = |block: Block| {
            let mut encoded = TermBlock::default();
            let mut lists = grouped[block.first_posting as usize..].iter();
            for &(_, id) in &order[block.terms.0..block.terms.1] {
                let term = terms[id as usize];
                encoded.begin_term(text_of(id));
                let mut previous_doc = 0;
                for &(doc, start, end) in lists.by_ref().take(term.doc_count as usize) {
                    push_varint(&mut encoded.postings, doc - previous_doc);
                    append_small(&mut encoded.postings, &entries, start, end);
                    previous_doc = doc;
                }
                encoded.end_term(term.doc_count, term.last_doc);
            }
            Ok(encoded)
        };
        spread(mode, "run-writer", blocks, encode, |encoded| {
            writer.append(&encoded)
        })
    }
}

/// Appends `source[start..end]`, which is most often a few bytes: copying a
/// fixed 16 bytes and dropping the excess compiles to two moves, where a copy
/// of a length known only at run time costs a `memcpy` call.
#[inline]
fn append_small(out: &mut Vec<u8>, source: &[u8], start: u32, end: u32) {
    let (start, end) = (start as usize, end as usize);
    let len = end - start;
    match source
        .get(start..)
        .and_then(|rest| rest.first_chunk::<16>())
    {
        Some(chunk) if len <= 16 => {
            let kept = out.len() + len;
            out.extend_from_slice(chunk);
            out.truncate(kept);
        }
        _ => out.extend_from_slice(&source[start..end]),
    }
}

/// A stretch of terms, by rank, and the index of its first grouped posting.
#[derive(Clone, Copy, Debug, Default)]
struct Block {
    terms: (usize, usize),
    first_posting: u32,
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
        Some(index)
    }
}
