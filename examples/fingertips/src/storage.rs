//! Reading and writing the files laid out in `format.rs`.
//!
//! Terms are written a [`TermBlock`] at a time: a block is built in memory,
//! on any thread, with offsets relative to itself, and [`TermWriter`] appends
//! blocks in order, moving their offsets. That is what lets stages 4 and 5
//! build the blocks of one file on several cores. Terms are read either as a
//! stream over a range of records ([`TermReader`], for merging) or by random
//! access ([`TermLookup`], for search and for planning a merge).

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::errors::Fatal;
use crate::format::{
    DICTIONARY_MAGIC, DOCUMENTS_MAGIC, LEXICON_MAGIC, MAGIC_LEN, POSTINGS_MAGIC, TermFiles,
    TermRecord, path_to_bytes,
};

/// Terms and their postings lists, in sorted order, built in memory; offsets
/// in its records count from the start of the block.
#[derive(Debug, Default)]
pub(crate) struct TermBlock {
    records: Vec<TermRecord>,
    lexicon: Vec<u8>,
    /// The current term's postings list is appended here directly.
    pub(crate) postings: Vec<u8>,
    term: TermRecord,
}

impl TermBlock {
    /// Starts the next term; its text must sort after the previous one's.
    pub(crate) fn begin_term(&mut self, text: &[u8]) {
        self.term.lexicon_offset = self.lexicon.len() as u64;
        self.term.lexicon_len = text.len() as u32;
        self.term.postings_offset = self.postings.len() as u64;
        self.lexicon.extend_from_slice(text);
    }

    /// Ends the current term: its list held `doc_count` documents, up to `last_doc`.
    pub(crate) fn end_term(&mut self, doc_count: u32, last_doc: u32) {
        self.term.doc_count = doc_count;
        self.term.last_doc = last_doc;
        self.term.postings_len = self.postings.len() as u64 - self.term.postings_offset;
        self.records.push(self.term);
    }

    /// The number of terms.
    pub(crate) fn len(&self) -> usize {
        self.records.len()
    }

    /// The `number`th term: its record, text and postings list.
    pub(crate) fn term(&self, number: usize) -> (&TermRecord, &[u8], &[u8]) {
        let record = &self.records[number];
        let text_start = record.lexicon_offset as usize;
        let text = &self.lexicon[text_start..text_start + record.lexicon_len as usize];
        let list_start = record.postings_offset as usize;
        let list = &self.postings[list_start..list_start + record.postings_len as usize];
        (record, text, list)
    }
}

/// A file being written, with its path for error messages.
struct Output {
    path: PathBuf,
    writer: BufWriter<File>,
    offset: u64,
}

impl Output {
    fn create(path: &Path, magic: &[u8; 8]) -> Result<Self, Fatal> {
        let file = File::create(path).map_err(|error| Fatal::io("create", path, error))?;
        let mut output = Output {
            path: path.to_owned(),
            writer: BufWriter::with_capacity(1 << 16, file),
            offset: 0,
        };
        output.write(magic)?;
        Ok(output)
    }

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

/// Writes the term files of an index or a run, a block at a time.
pub(crate) struct TermWriter {
    files: TermFiles,
    dictionary: Output,
    lexicon: Output,
    postings: Output,
    encoded: Vec<u8>,
}

impl TermWriter {
    pub(crate) fn create(files: TermFiles) -> Result<Self, Fatal> {
        Ok(TermWriter {
            dictionary: Output::create(&files.dictionary, &DICTIONARY_MAGIC)?,
            lexicon: Output::create(&files.lexicon, &LEXICON_MAGIC)?,
            postings: Output::create(&files.postings, &POSTINGS_MAGIC)?,
            files,
            encoded: Vec::new(),
        })
    }

    /// Appends a block, whose terms must sort after those already written.
    pub(crate) fn append(&mut self, block: &TermBlock) -> Result<(), Fatal> {
        self.encoded.clear();
        for record in &block.records {
            let placed = TermRecord {
                lexicon_offset: record.lexicon_offset + self.lexicon.offset,
                postings_offset: record.postings_offset + self.postings.offset,
                ..*record
            };
            self.encoded.extend_from_slice(&placed.encode());
        }
        self.dictionary.write(&self.encoded)?;
        self.lexicon.write(&block.lexicon)?;
        self.postings.write(&block.postings)
    }

    pub(crate) fn finish(self) -> Result<TermFiles, Fatal> {
        self.dictionary.finish()?;
        self.lexicon.finish()?;
        self.postings.finish()?;
        Ok(self.files)
    }
}

/// A stretch of a term file's records, and where the first one's text and
/// postings start, so that a reader can seek straight there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RecordRange {
    pub(crate) records: (u64, u64),
    pub(crate) lexicon_offset: u64,
    pub(crate) postings_offset: u64,
}

/// A file being read sequentially, with its path for error messages.
struct Input {
    path: PathBuf,
    reader: BufReader<File>,
    offset: u64,
}

impl Input {
    fn open_at(path: &Path, magic: &[u8; 8], offset: u64) -> Result<Self, Fatal> {
        let (file, _) = open_checked(path, magic)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        reader
            .seek(SeekFrom::Start(offset))
            .map_err(|error| Fatal::io("read", path, error))?;
        Ok(Input {
            path: path.to_owned(),
            reader,
            offset,
        })
    }

    fn read(&mut self, into: &mut [u8]) -> Result<(), Fatal> {
        self.offset += into.len() as u64;
        self.reader
            .read_exact(into)
            .map_err(|error| eof_is_corrupt(error, &self.path))
    }
}

/// Streams the terms of a range of records: record, text and postings list.
pub(crate) struct TermReader {
    dictionary: Input,
    lexicon: Input,
    postings: Input,
    remaining: u64,
    pub(crate) record: TermRecord,
    pub(crate) text: Vec<u8>,
    pub(crate) postings_list: Vec<u8>,
}

impl TermReader {
    pub(crate) fn open(files: &TermFiles, range: &RecordRange) -> Result<Self, Fatal> {
        let (first, end) = range.records;
        let dictionary_offset = MAGIC_LEN + first * TermRecord::SIZE as u64;
        Ok(TermReader {
            dictionary: Input::open_at(&files.dictionary, &DICTIONARY_MAGIC, dictionary_offset)?,
            lexicon: Input::open_at(&files.lexicon, &LEXICON_MAGIC, range.lexicon_offset)?,
            postings: Input::open_at(&files.postings, &POSTINGS_MAGIC, range.postings_offset)?,
            remaining: end - first,
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
            let detail = "a record does not follow its predecessor";
            return Err(Fatal::corrupt(&self.dictionary.path, detail));
        }
        self.text.resize(self.record.lexicon_len as usize, 0);
        self.lexicon.read(&mut self.text)?;
        let postings_len = usize::try_from(self.record.postings_len)
            .map_err(|_| Fatal::corrupt(&self.dictionary.path, "a postings list is too long"))?;
        self.postings_list.resize(postings_len, 0);
        self.postings.read(&mut self.postings_list)?;
        Ok(true)
    }
}

/// Random access to the terms of an index or run: a seek per record.
pub(crate) struct TermLookup {
    files: TermFiles,
    dictionary: File,
    lexicon: File,
    len: u64,
}

impl TermLookup {
    pub(crate) fn open(files: &TermFiles) -> Result<Self, Fatal> {
        let (dictionary, dictionary_len) = open_checked(&files.dictionary, &DICTIONARY_MAGIC)?;
        let (lexicon, _) = open_checked(&files.lexicon, &LEXICON_MAGIC)?;
        let record_bytes = dictionary_len - MAGIC_LEN;
        if !record_bytes.is_multiple_of(TermRecord::SIZE as u64) {
            return Err(Fatal::corrupt(
                &files.dictionary,
                "its length is not whole records",
            ));
        }
        Ok(TermLookup {
            files: files.clone(),
            dictionary,
            lexicon,
            len: record_bytes / TermRecord::SIZE as u64,
        })
    }

    /// The number of terms.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn record(&self, number: u64) -> Result<TermRecord, Fatal> {
        let mut bytes = [0; TermRecord::SIZE];
        let at = MAGIC_LEN + number * TermRecord::SIZE as u64;
        read_at(&self.dictionary, &self.files.dictionary, at, &mut bytes)?;
        Ok(TermRecord::decode(&bytes))
    }

    pub(crate) fn text(&self, record: &TermRecord, into: &mut Vec<u8>) -> Result<(), Fatal> {
        into.resize(record.lexicon_len as usize, 0);
        read_at(
            &self.lexicon,
            &self.files.lexicon,
            record.lexicon_offset,
            into,
        )
    }

    /// The number of the first record for which `is_after` holds, which must
    /// be false, then true, along the records (a binary search).
    pub(crate) fn first_where(
        &self,
        mut is_after: impl FnMut(&Self, &TermRecord) -> Result<bool, Fatal>,
    ) -> Result<u64, Fatal> {
        let (mut low, mut high) = (0, self.len);
        while low < high {
            let middle = low + (high - low) / 2;
            if is_after(self, &self.record(middle)?)? {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(low)
    }

    /// The number of the first term not less than `term`.
    pub(crate) fn lower_bound(&self, term: &[u8]) -> Result<u64, Fatal> {
        let mut text = Vec::new();
        self.first_where(|lookup, record| {
            lookup.text(record, &mut text)?;
            Ok(text.as_slice() >= term)
        })
    }

    /// The record of `term`, if the index has it.
    pub(crate) fn find(&self, term: &[u8]) -> Result<Option<TermRecord>, Fatal> {
        let number = self.lower_bound(term)?;
        if number == self.len {
            return Ok(None);
        }
        let record = self.record(number)?;
        let mut text = Vec::new();
        self.text(&record, &mut text)?;
        Ok((text == term).then_some(record))
    }

    /// A range of records, with the offsets a [`TermReader`] starts from.
    pub(crate) fn range(&self, records: Range<u64>) -> Result<RecordRange, Fatal> {
        let first = self.record(records.start)?;
        Ok(RecordRange {
            records: (records.start, records.end),
            lexicon_offset: first.lexicon_offset,
            postings_offset: first.postings_offset,
        })
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
            output: Output::create(path, &DOCUMENTS_MAGIC)?,
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
        let table: Vec<u8> = self
            .offsets
            .iter()
            .flat_map(|offset| offset.to_le_bytes())
            .collect();
        self.output.write(&table)?;
        self.output.write(&count.to_le_bytes())?;
        self.output.finish()?;
        Ok(count)
    }
}

/// Opens a file of an index and checks its magic; returns it and its length.
pub(crate) fn open_checked(path: &Path, magic: &[u8; 8]) -> Result<(File, u64), Fatal> {
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

/// Reads exactly `into.len()` bytes at `offset`.
pub(crate) fn read_at(
    mut file: &File,
    path: &Path,
    offset: u64,
    into: &mut [u8],
) -> Result<(), Fatal> {
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.read_exact(into))
        .map_err(|error| eof_is_corrupt(error, path))
}

/// Running off the end of an index file means an offset in it is wrong.
fn eof_is_corrupt(error: io::Error, path: &Path) -> Fatal {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => Fatal::corrupt(path, "an offset points past the end"),
        _ => Fatal::io("read", path, error),
    }
}
