//! Stages 1 and 2: reading one file, and indexing one document.
//!
//! [`Scratch::index`] is the work `parallel_map_init` spreads over the
//! cores, so it does as much as it can for the stage after it, which runs
//! on one thread: it interns each word once per document, hashes each distinct
//! term once (the in-memory index reuses that hash), and encodes the
//! positions, so that merging a document into the in-memory index is a hash
//! probe and a byte copy per distinct term.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use crate::errors::{FileError, Problem};
use crate::format::push_varint;
use crate::table::{Entry, TermTable};
use crate::tokenize::{lowercase_words, same_term, term_hash};

/// A file's text, read and checked to be UTF-8.
#[derive(Debug)]
pub(crate) struct Document {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
}

/// Stage 1: reads the file at `path`; a file that cannot be read, or is not
/// UTF-8, is an error that names it.
pub(crate) fn read_document(path: PathBuf) -> Result<Document, FileError> {
    let bytes = match read_bytes(&path) {
        Ok(bytes) => bytes,
        Err(problem) => return Err(FileError::new(path, problem)),
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Document { path, text }),
        Err(error) => {
            let line = line_of(error.as_bytes(), error.utf8_error().valid_up_to());
            let error = error.utf8_error();
            Err(FileError::new(path, Problem::NotUtf8 { error, line }))
        }
    }
}

/// The line, counted from 1, that the byte at `offset` is on.
fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count() as u64
        + 1
}

/// The largest file indexed: a document's offsets and positions are 32-bit,
/// and its encoded postings stay below 4 GiB only up to this size.
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 30;

fn read_bytes(path: &std::path::Path) -> Result<Vec<u8>, Problem> {
    let file = File::open(path).map_err(Problem::Unreadable)?;
    let len = file.metadata().map_err(Problem::Unreadable)?.len();
    if len > MAX_FILE_BYTES {
        return Err(Problem::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // `take` guards against a file that grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Problem::Unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Problem::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

/// One document's terms, ready to merge into an in-memory index.
///
/// Terms are in the order of their first occurrence, each with the offset of
/// one occurrence in the lowercased text (which travels along, instead of a
/// copy of every term). For each, an entry holds the number of occurrences
/// and then their word positions, as LEB128 varints, each position as the
/// distance from the previous one: exactly the bytes of the document's entry
/// in the term's postings list, minus its document id, which only the
/// in-memory index knows. Each term's entry is in `entries`.
#[derive(Debug)]
pub(crate) struct DocumentIndex {
    pub(crate) path: PathBuf,
    /// The size of the file, for progress reports.
    pub(crate) bytes: u64,
    terms: Vec<DocumentTerm>,
    lowercased: String,
    pub(crate) entries: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
struct DocumentTerm {
    hash: u64,
    text_start: u32,
    text_len: u32,
    entry_end: u32,
}

impl DocumentIndex {
    /// Each distinct term: its hash, its text, and where its encoded entry
    /// starts and ends in `entries`.
    pub(crate) fn terms(&self) -> impl Iterator<Item = (u64, &[u8], (u32, u32))> {
        let mut entry_start = 0;
        self.terms.iter().map(move |term| {
            let start = term.text_start as usize;
            let text = &self.lowercased.as_bytes()[start..start + term.text_len as usize];
            let entry = (entry_start, term.entry_end);
            entry_start = term.entry_end;
            (term.hash, text, entry)
        })
    }

    /// The length of the lowercased text, a bound on its terms' total length.
    pub(crate) fn text_len(&self) -> usize {
        self.lowercased.len()
    }
}

/// Buffers reused from one document to the next, so that a document costs
/// a few allocations, not one per word or term.
///
/// Stage 2 makes one per thread that indexes, with `parallel_map_init`, and
/// lends it to [`Scratch::index`] for every document that thread takes; it
/// goes when the stage ends (a thread-local would outlive the stage on
/// threadpipe's long-lived threads, buffers and all).
pub(crate) struct Scratch {
    table: TermTable,
    /// Per distinct term: an occurrence's offset and length, hash, count.
    spans: Vec<(u32, u32)>,
    hashes: Vec<u64>,
    counts: Vec<u32>,
    /// The term id of every word, in order: index = word position.
    word_terms: Vec<u32>,
    /// Positions grouped by term, ascending within each group.
    grouped: Vec<u32>,
    next_slot: Vec<u32>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            table: TermTable::with_capacity(4096),
            spans: Vec::new(),
            hashes: Vec::new(),
            counts: Vec::new(),
            word_terms: Vec::new(),
            grouped: Vec::new(),
            next_slot: Vec::new(),
        }
    }
}

impl Scratch {
    /// Stage 2: indexes one document. Runs on any thread, with that
    /// thread's scratch.
    pub(crate) fn index(&mut self, document: Document) -> DocumentIndex {
        let Document { path, text } = document;
        let bytes = text.len() as u64;
        let lowercased = self.intern_words(text);
        self.group_positions();
        let (terms, entries) = self.encode_entries();
        DocumentIndex {
            path,
            bytes,
            terms,
            lowercased,
            entries,
        }
    }

    /// Lowercases `text` and splits it into words, giving each distinct
    /// term an id in order of first occurrence: fills `spans`, `hashes`
    /// and `counts` per term, and `word_terms` per word. Returns the
    /// lowercased text, which the spans point into.
    fn intern_words(&mut self, text: String) -> String {
        let Scratch {
            table,
            spans,
            hashes,
            counts,
            word_terms,
            ..
        } = self;
        // Most documents have far fewer distinct terms than bytes / 32; the
        // table grows for the few that do not.
        table.clear_for(text.len() / 32);
        spans.clear();
        hashes.clear();
        counts.clear();
        word_terms.clear();
        lowercase_words(text, |lowercased, start, end| {
            let word = &lowercased[start..end];
            let hash = term_hash(word);
            let new_id = spans.len() as u32;
            let is_term = |id: u32| {
                let (start, len) = spans[id as usize];
                same_term(&lowercased[start as usize..(start + len) as usize], word)
            };
            let id = match table.find_or_insert(hash, is_term, new_id) {
                Entry::Found(id) => id,
                Entry::Inserted => {
                    spans.push((start as u32, word.len() as u32));
                    hashes.push(hash);
                    counts.push(0);
                    new_id
                }
            };
            counts[id as usize] += 1;
            word_terms.push(id);
        })
    }

    /// Groups the word positions by term into `grouped`, with a counting
    /// sort: one pass, already ascending within each group.
    fn group_positions(&mut self) {
        let Scratch {
            counts,
            word_terms,
            grouped,
            next_slot,
            ..
        } = self;
        next_slot.clear();
        let mut total = 0;
        for &count in counts.iter() {
            next_slot.push(total);
            total += count;
        }
        grouped.clear();
        grouped.resize(word_terms.len(), 0);
        for (position, &id) in word_terms.iter().enumerate() {
            let slot = &mut next_slot[id as usize];
            grouped[*slot as usize] = position as u32;
            *slot += 1;
        }
    }

    /// Encodes each term's entry (its count, then its positions as deltas)
    /// into one buffer; returns the terms, each with where its entry ends,
    /// and the buffer.
    fn encode_entries(&self) -> (Vec<DocumentTerm>, Vec<u8>) {
        let mut entries = Vec::with_capacity(self.word_terms.len() + 2 * self.counts.len());
        let mut terms = Vec::with_capacity(self.counts.len());
        let mut group_start = 0;
        for (id, &count) in self.counts.iter().enumerate() {
            let positions = &self.grouped[group_start..group_start + count as usize];
            group_start += count as usize;
            push_varint(&mut entries, count);
            let mut previous = 0;
            for &position in positions {
                push_varint(&mut entries, position - previous);
                previous = position;
            }
            let (text_start, text_len) = self.spans[id];
            terms.push(DocumentTerm {
                hash: self.hashes[id],
                text_start,
                text_len,
                entry_end: entries.len() as u32,
            });
        }
        (terms, entries)
    }
}
