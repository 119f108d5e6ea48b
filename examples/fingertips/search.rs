//! The `search` command: the documents holding every word of a query.
//!
//! Reads only what the query needs: a binary search of the fixed-size
//! dictionary records finds each term (about 20 small reads for a million
//! terms), then one read fetches its postings list, and the paths of the
//! matching documents come from the documents table's offsets. Nothing is
//! loaded whole, so a search costs milliseconds however big the index.

use std::cmp::{Ordering, Reverse};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::errors::Fatal;
use crate::format::{
    DICTIONARY_MAGIC, DOCUMENTS_FILE, DOCUMENTS_MAGIC, LEXICON_MAGIC, MAGIC_LEN, POSTINGS_MAGIC,
    TermFiles, TermRecord, path_from_bytes, read_varint,
};

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
        match index.find(term.as_bytes())? {
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
    files: TermFiles,
    dictionary: File,
    lexicon: File,
    postings: File,
    documents_path: PathBuf,
    documents: File,
    term_count: u64,
    document_count: u64,
    /// Where the documents table's offsets start.
    offsets_at: u64,
}

impl IndexReader {
    fn open(dir: &Path) -> Result<Self, Fatal> {
        let files = TermFiles::new(dir, "");
        let (dictionary, dictionary_len) = open_checked(&files.dictionary, &DICTIONARY_MAGIC)?;
        let (lexicon, _) = open_checked(&files.lexicon, &LEXICON_MAGIC)?;
        let (postings, _) = open_checked(&files.postings, &POSTINGS_MAGIC)?;
        let documents_path = dir.join(DOCUMENTS_FILE);
        let (documents, documents_len) = open_checked(&documents_path, &DOCUMENTS_MAGIC)?;

        let record_bytes = dictionary_len - MAGIC_LEN;
        if record_bytes % TermRecord::SIZE as u64 != 0 {
            return Err(Fatal::corrupt(&files.dictionary, "length is not whole records"));
        }
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
            term_count: record_bytes / TermRecord::SIZE as u64,
            files,
            dictionary,
            lexicon,
            postings,
            documents_path,
            documents,
            document_count,
            offsets_at,
        })
    }

    fn record(&self, number: u64) -> Result<TermRecord, Fatal> {
        let mut bytes = [0; TermRecord::SIZE];
        let at = MAGIC_LEN + number * TermRecord::SIZE as u64;
        read_at(&self.dictionary, &self.files.dictionary, at, &mut bytes)?;
        Ok(TermRecord::decode(&bytes))
    }

    /// Binary search of the dictionary for `term`.
    fn find(&self, term: &[u8]) -> Result<Option<TermRecord>, Fatal> {
        let (mut low, mut high) = (0, self.term_count);
        let mut text = Vec::new();
        while low < high {
            let middle = low + (high - low) / 2;
            let record = self.record(middle)?;
            text.resize(record.lexicon_len as usize, 0);
            read_at(&self.lexicon, &self.files.lexicon, record.lexicon_offset, &mut text)?;
            match text.as_slice().cmp(term) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Ok(Some(record)),
            }
        }
        Ok(None)
    }

    /// A term's documents, ascending, each with its number of occurrences.
    fn postings(&self, record: &TermRecord) -> Result<Vec<(u32, u64)>, Fatal> {
        let corrupt = || Fatal::corrupt(&self.files.postings, "bad postings list");
        let len = usize::try_from(record.postings_len).map_err(|_| corrupt())?;
        let mut bytes = vec![0; len];
        read_at(&self.postings, &self.files.postings, record.postings_offset, &mut bytes)?;
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
        let [start, end] = [0, 8].map(|i| {
            u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7].map(|j| bounds[i + j]))
        });
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

fn open_checked(path: &Path, magic: &[u8; 8]) -> Result<(File, u64), Fatal> {
    let file = File::open(path).map_err(|error| Fatal::io("open", path, error))?;
    let len = file
        .metadata()
        .map_err(|error| Fatal::io("read", path, error))?
        .len();
    let mut found = [0; 8];
    read_at(&file, path, 0, &mut found)?;
    if &found != magic {
        return Err(Fatal::corrupt(path, "wrong magic number"));
    }
    Ok((file, len))
}

/// Reads exactly `into.len()` bytes at `offset`; running off the end of the
/// file means an offset in the index is wrong.
fn read_at(mut file: &File, path: &Path, offset: u64, into: &mut [u8]) -> Result<(), Fatal> {
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(into))
        .map_err(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => Fatal::corrupt(path, "an offset points past the end"),
            _ => Fatal::io("read", path, error),
        })
}
