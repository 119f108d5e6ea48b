//! The index on disk, and the streaming writer and reader of its term files.
//!
//! An index is a directory of four files; a temporary run (a sorted index of
//! some of the documents, written when memory fills) has the same format but
//! only the three term files. Integers are little-endian; every file starts
//! with an 8-byte magic naming its kind and version.
//!
//! - `lexicon`: every term's text (lowercase UTF-8), sorted bytewise, back to back.
//! - `dictionary`: one [`TermRecord`] (36 bytes) per term, in the same order:
//!   where its text and its postings are, how many documents hold it, and the
//!   last of them. Fixed-size records make binary search a seek per probe.
//! - `postings`: each term's postings list. For each document containing the
//!   term, ascending: the document id minus the previous one (the first is
//!   absolute), the number of occurrences, then each word position minus the
//!   previous one (the first is absolute); all as LEB128 varints. Deltas keep
//!   most numbers under 128, one byte each.
//! - `documents`: the paths, back to back, then one u64 offset per document
//!   plus the end offset, then the document count as a u64. Document ids are
//!   positions in this table.
//!
//! Every byte is determined by the documents and their order alone, so an
//! index built in one run, in many runs merged, on one thread or many, is the
//! same file for the same input; the tests hold the code to that.

use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::errors::Fatal;

pub(crate) const DICTIONARY_MAGIC: [u8; 8] = *b"FTdict01";
pub(crate) const LEXICON_MAGIC: [u8; 8] = *b"FTlexi01";
pub(crate) const POSTINGS_MAGIC: [u8; 8] = *b"FTpost01";
pub(crate) const DOCUMENTS_MAGIC: [u8; 8] = *b"FTdocs01";
pub(crate) const MAGIC_LEN: u64 = 8;

/// The name of the documents table in an index directory.
pub(crate) const DOCUMENTS_FILE: &str = "documents";

/// Appends `value` as a LEB128 varint: 7 bits a byte, high bit = more follows.
#[inline]
pub(crate) fn push_varint(out: &mut Vec<u8>, mut value: u32) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint at `*at`, moving past it; `None` if it is cut off or too long.
#[inline]
pub(crate) fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        let bits = u32::from(byte & 0x7f);
        if shift == 28 && bits > 0x0f {
            return None; // more than 32 bits
        }
        value |= bits << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// A term's entry in `dictionary`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TermRecord {
    pub(crate) lexicon_offset: u64,
    pub(crate) lexicon_len: u32,
    pub(crate) doc_count: u32,
    /// Lets a merge re-base the next run's first document id without decoding.
    pub(crate) last_doc: u32,
    pub(crate) postings_offset: u64,
    pub(crate) postings_len: u64,
}

impl TermRecord {
    pub(crate) const SIZE: usize = 36;

    pub(crate) fn encode(&self) -> [u8; Self::SIZE] {
        let mut bytes = [0; Self::SIZE];
        bytes[0..8].copy_from_slice(&self.lexicon_offset.to_le_bytes());
        bytes[8..12].copy_from_slice(&self.lexicon_len.to_le_bytes());
        bytes[12..16].copy_from_slice(&self.doc_count.to_le_bytes());
        bytes[16..20].copy_from_slice(&self.last_doc.to_le_bytes());
        bytes[20..28].copy_from_slice(&self.postings_offset.to_le_bytes());
        bytes[28..36].copy_from_slice(&self.postings_len.to_le_bytes());
        bytes
    }

    pub(crate) fn decode(bytes: &[u8; Self::SIZE]) -> Self {
        let u32_at = |at: usize| u32::from_le_bytes([0, 1, 2, 3].map(|i| bytes[at + i]));
        let u64_at = |at: usize| u64::from_le_bytes([0, 1, 2, 3, 4, 5, 6, 7].map(|i| bytes[at + i]));
        TermRecord {
            lexicon_offset: u64_at(0),
            lexicon_len: u32_at(8),
            doc_count: u32_at(12),
            last_doc: u32_at(16),
            postings_offset: u64_at(20),
            postings_len: u64_at(28),
        }
    }
}

/// Where the three term files of an index or a run are.
#[derive(Clone, Debug)]
pub(crate) struct TermFiles {
    pub(crate) dictionary: PathBuf,
    pub(crate) lexicon: PathBuf,
    pub(crate) postings: PathBuf,
}

impl TermFiles {
    /// `dir/{prefix}dictionary` and so on; the final index has no prefix.
    pub(crate) fn new(dir: &Path, prefix: &str) -> Self {
        TermFiles {
            dictionary: dir.join(format!("{prefix}dictionary")),
            lexicon: dir.join(format!("{prefix}lexicon")),
            postings: dir.join(format!("{prefix}postings")),
        }
    }

    fn each(&self) -> [&Path; 3] {
        [&self.dictionary, &self.lexicon, &self.postings]
    }

    pub(crate) fn rename_to(&self, to: &TermFiles) -> Result<(), Fatal> {
        for (from, to) in self.each().into_iter().zip(to.each()) {
            fs::rename(from, to).map_err(|error| Fatal::io("move", from, error))?;
        }
        Ok(())
    }

    pub(crate) fn remove(&self) -> Result<(), Fatal> {
        for path in self.each() {
            fs::remove_file(path).map_err(|error| Fatal::io("remove", path, error))?;
        }
        Ok(())
    }
}

/// A file being written, with its path for error messages.
struct Output {
    path: PathBuf,
    writer: BufWriter<File>,
    offset: u64,
}

impl Output {
    fn create(path: &Path, magic: &[u8; 8], buffer: usize) -> Result<Self, Fatal> {
        let file = File::create(path).map_err(|error| Fatal::io("create", path, error))?;
        let mut output = Output {
            path: path.to_owned(),
            writer: BufWriter::with_capacity(buffer, file),
            offset: 0,
        };
        output.write(magic)?;
        Ok(output)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), Fatal> {
        self.offset += bytes.len() as u64;
        self.writer
            .write_all(bytes)
            .map_err(|error| Fatal::io("write", &self.path, error))
    }

    fn finish(mut self) -> Result<(), Fatal> {
        self.writer
            .flush()
            .map_err(|error| Fatal::io("write", &self.path, error))
    }
}

/// Writes the term files, one term at a time, in sorted order.
pub(crate) struct TermWriter {
    files: TermFiles,
    dictionary: Output,
    lexicon: Output,
    postings: Output,
    term: TermRecord,
    terms: u64,
}

impl TermWriter {
    pub(crate) fn create(files: TermFiles) -> Result<Self, Fatal> {
        Ok(TermWriter {
            dictionary: Output::create(&files.dictionary, &DICTIONARY_MAGIC, 1 << 16)?,
            lexicon: Output::create(&files.lexicon, &LEXICON_MAGIC, 1 << 16)?,
            postings: Output::create(&files.postings, &POSTINGS_MAGIC, 1 << 18)?,
            files,
            term: TermRecord::default(),
            terms: 0,
        })
    }

    /// Starts the next term; its text must sort after the previous one's.
    pub(crate) fn begin_term(&mut self, text: &[u8]) -> Result<(), Fatal> {
        self.term.lexicon_offset = self.lexicon.offset;
        self.term.lexicon_len = text.len() as u32;
        self.term.postings_offset = self.postings.offset;
        self.lexicon.write(text)
    }

    /// Appends bytes of the current term's postings list.
    #[inline]
    pub(crate) fn write_postings(&mut self, bytes: &[u8]) -> Result<(), Fatal> {
        self.postings.write(bytes)
    }

    #[inline]
    pub(crate) fn write_postings_varint(&mut self, value: u32) -> Result<(), Fatal> {
        let mut bytes = [0; 5];
        let mut len = 0;
        let mut value = value;
        while value >= 0x80 {
            bytes[len] = value as u8 | 0x80;
            value >>= 7;
            len += 1;
        }
        bytes[len] = value as u8;
        self.postings.write(&bytes[..=len])
    }

    /// Ends the current term: its list held `doc_count` documents, up to `last_doc`.
    pub(crate) fn end_term(&mut self, doc_count: u32, last_doc: u32) -> Result<(), Fatal> {
        self.term.doc_count = doc_count;
        self.term.last_doc = last_doc;
        self.term.postings_len = self.postings.offset - self.term.postings_offset;
        self.terms += 1;
        self.dictionary.write(&self.term.encode())
    }

    /// Flushes everything; returns the files and the number of terms.
    pub(crate) fn finish(self) -> Result<(TermFiles, u64), Fatal> {
        self.dictionary.finish()?;
        self.lexicon.finish()?;
        self.postings.finish()?;
        Ok((self.files, self.terms))
    }
}

/// A file being read from the start, with its path for error messages.
struct Input {
    path: PathBuf,
    reader: BufReader<File>,
    offset: u64,
}

impl Input {
    fn open(path: &Path, magic: &[u8; 8]) -> Result<(Self, u64), Fatal> {
        let file = File::open(path).map_err(|error| Fatal::io("open", path, error))?;
        let len = file
            .metadata()
            .map_err(|error| Fatal::io("read", path, error))?
            .len();
        let mut input = Input {
            path: path.to_owned(),
            reader: BufReader::with_capacity(1 << 16, file),
            offset: 0,
        };
        let mut found = [0; 8];
        input.read(&mut found)?;
        if &found != magic {
            return Err(Fatal::corrupt(path, "wrong magic number"));
        }
        Ok((input, len))
    }

    fn read(&mut self, into: &mut [u8]) -> Result<(), Fatal> {
        self.offset += into.len() as u64;
        self.reader
            .read_exact(into)
            .map_err(|error| Fatal::io("read", &self.path, error))
    }
}

/// Reads the term files of an index or run from start to end, term by term.
pub(crate) struct TermReader {
    dictionary: Input,
    lexicon: Input,
    postings: Input,
    remaining: u64,
    /// The current term: its record, text and postings list.
    pub(crate) record: TermRecord,
    pub(crate) text: Vec<u8>,
    pub(crate) postings_list: Vec<u8>,
}

impl TermReader {
    pub(crate) fn open(files: &TermFiles) -> Result<Self, Fatal> {
        let (dictionary, len) = Input::open(&files.dictionary, &DICTIONARY_MAGIC)?;
        let records = len - MAGIC_LEN;
        if records % TermRecord::SIZE as u64 != 0 {
            return Err(Fatal::corrupt(&files.dictionary, "length is not whole records"));
        }
        Ok(TermReader {
            dictionary,
            lexicon: Input::open(&files.lexicon, &LEXICON_MAGIC)?.0,
            postings: Input::open(&files.postings, &POSTINGS_MAGIC)?.0,
            remaining: records / TermRecord::SIZE as u64,
            record: TermRecord::default(),
            text: Vec::new(),
            postings_list: Vec::new(),
        })
    }

    /// Moves to the next term, reading its text and postings; `false` at the end.
    pub(crate) fn advance(&mut self) -> Result<bool, Fatal> {
        if self.remaining == 0 {
            return Ok(false);
        }
        self.remaining -= 1;
        let mut bytes = [0; TermRecord::SIZE];
        self.dictionary.read(&mut bytes)?;
        self.record = TermRecord::decode(&bytes);
        // Streaming relies on the records describing the other two files in
        // order; a record that does not is a damaged or foreign file.
        if self.record.lexicon_offset != self.lexicon.offset
            || self.record.postings_offset != self.postings.offset
        {
            let detail = "record does not follow its predecessor";
            return Err(Fatal::corrupt(&self.dictionary.path, detail));
        }
        self.text.resize(self.record.lexicon_len as usize, 0);
        self.lexicon.read(&mut self.text)?;
        let postings_len = usize::try_from(self.record.postings_len)
            .map_err(|_| Fatal::corrupt(&self.dictionary.path, "postings list too long"))?;
        self.postings_list.resize(postings_len, 0);
        self.postings.read(&mut self.postings_list)?;
        Ok(true)
    }
}

/// Writes the `documents` table as documents arrive, in id order.
pub(crate) struct DocumentsWriter {
    output: Output,
    offsets: Vec<u64>,
}

impl DocumentsWriter {
    pub(crate) fn create(path: &Path) -> Result<Self, Fatal> {
        Ok(DocumentsWriter {
            output: Output::create(path, &DOCUMENTS_MAGIC, 1 << 16)?,
            offsets: Vec::new(),
        })
    }

    pub(crate) fn add(&mut self, path: &Path) -> Result<(), Fatal> {
        self.offsets.push(self.output.offset);
        self.output.write(&path_to_bytes(path))
    }

    /// Writes the offsets table; returns the number of documents.
    pub(crate) fn finish(mut self) -> Result<u64, Fatal> {
        let count = self.offsets.len() as u64;
        self.offsets.push(self.output.offset);
        for offset in std::mem::take(&mut self.offsets) {
            self.output.write(&offset.to_le_bytes())?;
        }
        self.output.write(&count.to_le_bytes())?;
        self.output.finish()?;
        Ok(count)
    }
}

#[cfg(unix)]
pub(crate) fn path_to_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(path.as_os_str().as_bytes())
}

#[cfg(not(unix))]
pub(crate) fn path_to_bytes(path: &Path) -> std::borrow::Cow<'_, [u8]> {
    // Elsewhere a path need not be bytes; it is stored as (lossy) UTF-8.
    match path.to_string_lossy() {
        std::borrow::Cow::Borrowed(text) => std::borrow::Cow::Borrowed(text.as_bytes()),
        std::borrow::Cow::Owned(text) => std::borrow::Cow::Owned(text.into_bytes()),
    }
}

#[cfg(unix)]
pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
pub(crate) fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_reject_damage() {
        let values = [0, 1, 127, 128, 300, 16_383, 16_384, u32::MAX - 1, u32::MAX];
        let mut bytes = Vec::new();
        for value in values {
            push_varint(&mut bytes, value);
        }
        let mut at = 0;
        for value in values {
            assert_eq!(read_varint(&bytes, &mut at), Some(value));
        }
        assert_eq!(at, bytes.len());
        assert_eq!(read_varint(&[0x80], &mut 0), None, "cut off");
        assert_eq!(read_varint(&[0xff; 6], &mut 0), None, "too long");
    }

    #[test]
    fn records_round_trip() {
        let record = TermRecord {
            lexicon_offset: 1 << 40,
            lexicon_len: 7,
            doc_count: 3,
            last_doc: 99,
            postings_offset: 12,
            postings_len: u64::MAX,
        };
        assert_eq!(TermRecord::decode(&record.encode()), record);
    }
}
