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
//!
//! This module holds the layout; `storage.rs` reads and writes it.

use std::fs;
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
        let mut rest: &[u8] = bytes;
        // Fields are read in the order they are laid out.
        TermRecord {
            lexicon_offset: u64::from_le_bytes(take(&mut rest)),
            lexicon_len: u32::from_le_bytes(take(&mut rest)),
            doc_count: u32::from_le_bytes(take(&mut rest)),
            last_doc: u32::from_le_bytes(take(&mut rest)),
            postings_offset: u64::from_le_bytes(take(&mut rest)),
            postings_len: u64::from_le_bytes(take(&mut rest)),
        }
    }
}

/// Takes `N` bytes off the front of `bytes`; a record always has them.
#[inline]
fn take<const N: usize>(bytes: &mut &[u8]) -> [u8; N] {
    match bytes.split_first_chunk::<N>() {
        Some((head, rest)) => {
            *bytes = rest;
            *head
        }
        None => [0; N],
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
