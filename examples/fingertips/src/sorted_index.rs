//! The sorting half of stage 4: an in-memory index put in term order, from
//! which blocks of the index format are encoded, to be written as a run or
//! merged straight into the final index.
//!
//! Sorting and grouping are one pass each and run where the index is
//! handed over; encoding, most of the work, is done per block of terms, so
//! that blocks can be encoded on several threads.

use std::ops::Range;

use crate::errors::Fatal;
use crate::execution::{Mode, spread};
use crate::format::push_varint;
use crate::memory_index::{IndexTerm, Posting};
use crate::storage::{TermBlock, TermWriter};

/// An in-memory index with its terms in order and each term's postings
/// grouped, in document order. Terms are addressed by rank.
pub(crate) struct SortedIndex {
    terms: Vec<IndexTerm>,
    text: Vec<u8>,
    entries: Vec<u8>,
    /// Term ids, by rank.
    order: Vec<u32>,
    /// Per rank, where in `grouped` the term's postings start; then the total.
    group_starts: Vec<u32>,
    /// Each posting as (document, entry start, entry end), grouped by rank.
    grouped: Vec<(u32, u32, u32)>,
}

impl SortedIndex {
    pub(crate) fn new(
        terms: Vec<IndexTerm>,
        text: Vec<u8>,
        postings: Vec<Posting>,
        entries: Vec<u8>,
    ) -> Self {
        let text_of = |id: u32| term_text(&terms, &text, id);
        // Most comparisons are settled by the first 8 bytes, compared as one
        // integer; zero padding sorts a shorter term first, as bytewise order
        // does (terms hold no zero bytes).
        let mut keyed: Vec<(u64, u32)> = (0..terms.len() as u32)
            .map(|id| {
                let mut prefix = [0; 8];
                let text = text_of(id);
                let len = text.len().min(8);
                prefix[..len].copy_from_slice(&text[..len]);
                (u64::from_be_bytes(prefix), id)
            })
            .collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| text_of(a.1).cmp(text_of(b.1))));
        let order: Vec<u32> = keyed.into_iter().map(|(_, id)| id).collect();

        // A counting sort by rank groups each term's postings, keeping
        // document order within a term: one pass, no comparisons.
        let mut group_starts = Vec::with_capacity(order.len() + 1);
        let mut next_slot = vec![0u32; terms.len()];
        let mut total = 0;
        for &id in &order {
            group_starts.push(total);
            next_slot[id as usize] = total;
            total += terms[id as usize].doc_count;
        }
        group_starts.push(total);
        let mut grouped = vec![(0u32, 0u32, 0u32); postings.len()];
        for (at, posting) in postings.iter().enumerate() {
            let end = postings
                .get(at + 1)
                .map_or(entries.len() as u32, |next| next.start);
            let slot = &mut next_slot[posting.term as usize];
            grouped[*slot as usize] = (posting.doc, posting.start, end);
            *slot += 1;
        }
        SortedIndex {
            terms,
            text,
            entries,
            order,
            group_starts,
            grouped,
        }
    }

    /// The number of terms.
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn text(&self, rank: usize) -> &[u8] {
        term_text(&self.terms, &self.text, self.order[rank])
    }

    /// The rank of the first term not less than `term`.
    pub(crate) fn lower_bound(&self, term: &[u8]) -> usize {
        self.order
            .partition_point(|&id| term_text(&self.terms, &self.text, id) < term)
    }

    /// The number of postings of the terms ranked before `rank`: a measure
    /// of position for cutting the index into pieces of similar size.
    pub(crate) fn postings_before(&self, rank: usize) -> u64 {
        u64::from(self.group_starts[rank])
    }

    /// The rank of the first term with at least `target` postings before it.
    pub(crate) fn first_rank_at(&self, target: u64) -> usize {
        self.group_starts[..self.len()].partition_point(|&before| u64::from(before) < target)
    }

    /// About how many bytes the postings lists take once encoded.
    pub(crate) fn encoded_bytes(&self) -> u64 {
        (self.entries.len() + self.grouped.len()) as u64
    }

    /// Encodes the terms ranked in `ranks`, with their postings lists.
    pub(crate) fn encode(&self, ranks: Range<usize>) -> TermBlock {
        let mut block = TermBlock::default();
        let first_posting = self.group_starts[ranks.start] as usize;
        let mut postings = self.grouped[first_posting..].iter();
        for &id in &self.order[ranks] {
            let term = self.terms[id as usize];
            block.begin_term(term_text(&self.terms, &self.text, id));
            let mut previous_doc = 0;
            for &(doc, start, end) in postings.by_ref().take(term.doc_count as usize) {
                push_varint(&mut block.postings, doc - previous_doc);
                append_small(&mut block.postings, &self.entries, start, end);
                previous_doc = doc;
            }
            block.end_term(term.doc_count, term.last_doc);
        }
        block
    }

    /// Writes every term, in blocks of about `block_postings` postings,
    /// encoded on several threads in the threaded mode.
    pub(crate) fn write(
        &self,
        writer: &mut TermWriter,
        mode: Mode,
        block_postings: u32,
    ) -> Result<(), Fatal> {
        let mut blocks = Vec::new();
        let mut block_start = 0;
        for rank in 1..=self.len() {
            if self.group_starts[rank] - self.group_starts[block_start] >= block_postings
                || rank == self.len()
            {
                blocks.push(block_start..rank);
                block_start = rank;
            }
        }
        spread(
            mode,
            "run-writer",
            blocks,
            |ranks| Ok(self.encode(ranks)),
            |block| writer.append(&block),
        )
    }
}

fn term_text<'a>(terms: &[IndexTerm], text: &'a [u8], id: u32) -> &'a [u8] {
    let term = terms[id as usize];
    let start = term.text_start as usize;
    &text[start..start + term.text_len as usize]
}

/// Appends `source[start..end]`, which is most often a few bytes: copying a
/// fixed 16 bytes and dropping the excess compiles to two moves, where a copy
/// of a length known only at run time costs a `memcpy` call.
#[inline]
pub(crate) fn append_small(out: &mut Vec<u8>, source: &[u8], start: u32, end: u32) {
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
