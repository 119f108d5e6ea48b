//! What can go wrong, and what the user is told.
//!
//! Two kinds: a [`FileError`] costs one input file, which is reported and
//! skipped while the rest is indexed (the exit status is 2 at the end); a
//! [`Fatal`] error stops the command. Both name the path involved and what
//! was being done to it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::Utf8Error;

/// An input path that could not be indexed.
#[derive(Debug)]
pub(crate) struct FileError {
    pub(crate) path: PathBuf,
    pub(crate) problem: Problem,
}

#[derive(Debug)]
pub(crate) enum Problem {
    Unreadable(io::Error),
    ListingFailed(io::Error),
    NotUtf8(Utf8Error),
    /// Over [`MAX_FILE_BYTES`](crate::document::MAX_FILE_BYTES).
    TooLarge(u64),
    NotFileOrDirectory,
}

impl FileError {
    pub(crate) fn new(path: PathBuf, problem: Problem) -> Self {
        FileError { path, problem }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.problem {
            Problem::Unreadable(error) => write!(f, "{path}: cannot read: {error}"),
            Problem::ListingFailed(error) => write!(f, "{path}: cannot list directory: {error}"),
            Problem::NotUtf8(error) => write!(f, "{path}: not UTF-8 text: {error}"),
            Problem::TooLarge(bytes) => {
                write!(
                    f,
                    "{path}: too large to index ({bytes} bytes; the limit is 1 GiB)"
                )
            }
            Problem::NotFileOrDirectory => write!(f, "{path}: not a regular file or directory"),
        }
    }
}

/// A failure that stops the command.
#[derive(Debug)]
pub(crate) enum Fatal {
    /// An I/O operation failed: "cannot `action` `path`: `error`".
    Io {
        action: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    /// A file of an index does not hold what fingertips writes.
    Corrupt { path: PathBuf, detail: String },
    /// A path fingertips will not touch, and why.
    Refused { path: PathBuf, reason: &'static str },
    /// No file could be indexed: the index at `out`, if any, is left as it was.
    NothingToIndex { out: PathBuf },
}

impl Fatal {
    /// An I/O `error` while doing `action` to `path`; for `map_err` closures,
    /// so that the path is copied only when something failed.
    pub(crate) fn io(action: &'static str, path: &Path, error: io::Error) -> Fatal {
        Fatal::Io {
            action,
            path: path.to_owned(),
            error,
        }
    }

    pub(crate) fn corrupt(path: &Path, detail: impl Into<String>) -> Fatal {
        Fatal::Corrupt {
            path: path.to_owned(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fatal::Io {
                action,
                path,
                error,
            } => write!(f, "cannot {action} {}: {error}", path.display()),
            Fatal::Corrupt { path, detail } => {
                write!(
                    f,
                    "{}: not a valid fingertips index file: {detail}",
                    path.display()
                )
            }
            Fatal::Refused { path, reason } => write!(f, "{}: {reason}", path.display()),
            Fatal::NothingToIndex { out } => write!(
                f,
                "nothing to index (no readable text file in the paths given); {} was left as it was",
                out.display()
            ),
        }
    }
}
