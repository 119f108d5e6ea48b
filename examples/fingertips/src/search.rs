//! The `search` command: the documents holding every word of a query.
//!
//! Reads only what the query needs: a binary search of the fixed-size
//! dictionary records finds each term (about 20 small reads for a million
//! terms), then one read fetches its postings list, and the paths of the
//! matching documents come from the documents table's offsets. Nothing is
//! loaded whole, so a search costs milliseconds however big the index.

use std::cmp::{Ordering, Reverse};
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::errors::Fatal;
use crate::format::{
    DOCUMENTS_FILE, DOCUMENTS_MAGIC, MAGIC_LEN, POSTINGS_MAGIC, TermFiles, TermRecord,
    path_from_bytes, read_varint,
};
use crate::storage::{TermLookup, open_checked, read_at};

/// One matching document: how often the query's words occur in it, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) hits: u64,
    pub(crate) path: PathBuf,
}

/// The documents of the index in `index_dir` that contain every one of
/// `terms` (already normalised), most hits first, ties by path.
pub(crate) fn search(index_dir: &Path, terms: &[String]) -> Result<Vec<Hit>, Fatal> {
    let index = IndexReader::open(index_dir)?;
    let mut terms: Vec<&str> = terms.iter().map(String::as_str).collect();
    terms.sort_unstable();
    terms.dedup();
    let mut records = Vec::with_capacity(terms.len());
    for term in terms {
        match index.terms.find(term.as_bytes())? {
            Some(record) => records.push(record),
            None => return Ok(Vec::new()),
        }
    }
    // Starting from the rarest term keeps every intermediate result small.
    records.sort_by_key(|record| record.doc_count);
    let mut matches: Vec<(u32, u64)> = Vec::new();
    for (number, record) in records.iter().enumerate() {
        let list = index.postings(record)?;
        matches = if number == 0 {
            list
        } else {
            intersect(&matches, &list)
        };
        if matches.is_empty() {
            return Ok(Vec::new());
        }
    }
    // Document ids follow the sorted paths, so ties by id are ties by path.
    matches.sort_unstable_by_key(|&(doc, hits)| (Reverse(hits), doc));
    matches
        .into_iter()
        .map(|(doc, hits)| {
            Ok(Hit {
                hits,
                path: index.path(doc)?,
            })
        })
        .collect()
}

/// The documents in both lists (each sorted by id), with their hits added.
fn intersect(left: &[(u32, u64)], right: &[(u32, u64)]) -> Vec<(u32, u64)> {
    let mut both = Vec::new();
    let (mut l, mut r) = (0, 0);
    while l < left.len() && r < right.len() {
        match left[l].0.cmp(&right[r].0) {
            Ordering::Less => l += 1,
            Ordering::Greater => r += 1,
            Ordering::Equal => {
                both.push((left[l].0, left[l].1 + right[r].1));
                l += 1;
                r += 1;
            }
        }
    }
    both
}

/// An open index, read a piece at a time.
struct IndexReader {
    terms: TermLookup,
    postings_path: PathBuf,
    postings: File,
    documents_path: PathBuf,
    documents: File,
    document_count: u64,
    /// Where the documents table's offsets start.
    offsets_at: u64,
}

impl IndexReader {
    fn open(dir: &Path) -> Result<Self, Fatal> {
        let files = TermFiles::new(dir, "");
        // A directory without an index (missing, empty, or something else)
        // gets one message, whichever it is.
        if !files.dictionary.is_file() {
            return Err(Fatal::Refused {
                path: dir.to_owned(),
                reason: "no index here; make one with `fingertips index --out DIR PATH...`",
            });
        }
        let terms = TermLookup::open(&files)?;
        let (postings, _) = open_checked(&files.postings, &POSTINGS_MAGIC)?;
        let documents_path = dir.join(DOCUMENTS_FILE);
        let (documents, documents_len) = open_checked(&documents_path, &DOCUMENTS_MAGIC)?;
        let mut count = [0; 8];
        let footer = documents_len.checked_sub(8).filter(|&at| at >= MAGIC_LEN);
        let footer = footer.ok_or_else(|| Fatal::corrupt(&documents_path, "too short"))?;
        read_at(&documents, &documents_path, footer, &mut count)?;
        let document_count = u64::from_le_bytes(count);
        let offsets_at = document_count
            .checked_add(1)
            .and_then(|offsets| offsets.checked_mul(8))
            .and_then(|table| footer.checked_sub(table))
            .filter(|&at| at >= MAGIC_LEN)
            .ok_or_else(|| Fatal::corrupt(&documents_path, "bad document count"))?;
        Ok(IndexReader {
            terms,
            postings_path: files.postings,
            postings,
            documents_path,
            documents,
            document_count,
            offsets_at,
        })
    }

    /// A term's documents, ascending, each with its number of occurrences.
    fn postings(&self, record: &TermRecord) -> Result<Vec<(u32, u64)>, Fatal> {
        let corrupt = || Fatal::corrupt(&self.postings_path, "bad postings list");
        let len = usize::try_from(record.postings_len).map_err(|_| corrupt())?;
        let mut bytes = vec![0; len];
        read_at(
            &self.postings,
            &self.postings_path,
            record.postings_offset,
            &mut bytes,
        )?;
        let mut list = Vec::with_capacity(record.doc_count as usize);
        let (mut at, mut doc) = (0, 0u32);
        for number in 0..record.doc_count {
            let delta = read_varint(&bytes, &mut at).ok_or_else(corrupt)?;
            doc = doc.checked_add(delta).ok_or_else(corrupt)?;
            if (number > 0 && delta == 0) || u64::from(doc) >= self.document_count {
                return Err(corrupt());
            }
            let occurrences = read_varint(&bytes, &mut at).ok_or_else(corrupt)?;
            for _ in 0..occurrences {
                read_varint(&bytes, &mut at).ok_or_else(corrupt)?;
            }
            list.push((doc, u64::from(occurrences)));
        }
        if at != bytes.len() {
            return Err(corrupt());
        }
        Ok(list)
    }

    fn path(&self, doc: u32) -> Result<PathBuf, Fatal> {
        let mut bounds = [0; 16];
        let at = self.offsets_at + 8 * u64::from(doc);
        read_at(&self.documents, &self.documents_path, at, &mut bounds)?;
        let (start, end) = bounds.split_at(8);
        let offset = |bytes: &[u8]| bytes.try_into().map(u64::from_le_bytes).unwrap_or(u64::MAX);
        let (start, end) = (offset(start), offset(end));
        let len = end
            .checked_sub(start)
            .filter(|_| start >= MAGIC_LEN && end <= self.offsets_at)
            .and_then(|len| usize::try_from(len).ok())
            .ok_or_else(|| Fatal::corrupt(&self.documents_path, "bad path offsets"))?;
        let mut bytes = vec![0; len];
        read_at(&self.documents, &self.documents_path, start, &mut bytes)?;
        Ok(path_from_bytes(bytes))
    }
}
