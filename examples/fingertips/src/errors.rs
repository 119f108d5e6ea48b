//! What can go wrong, and what the user is told.
//!
//! Two kinds: a [`FileError`] costs one input file, which is reported and
//! skipped while the rest is indexed (the exit status is 2 at the end); a
//! [`Fatal`] error stops the command. Both read `PATH: what went wrong`,
//! `PATH:LINE: ...` where the line is known, with the value at fault (a
//! size, a detail of a corrupt file) where there is one.
//!
//! One [`Reporter`] tells the user about both, in both modes: it is the
//! `errors_to` sink of the single-threaded and the threaded pipeline alike,
//! and reports each file on the spot, from whichever thread found it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::Utf8Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::ProgressBar;
use threadpipe::ErrorSink;

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
    /// The first bytes that are not UTF-8, and the line they are on.
    NotUtf8 {
        error: Utf8Error,
        line: u64,
    },
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
            Problem::NotUtf8 { error, line } => write!(f, "{path}:{line}: not UTF-8 text: {error}"),
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
    /// An I/O operation failed: "`path`: cannot `action`: `error`".
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
    /// `search` was given no word to look for.
    NoSearchTerms,
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
            } => write!(f, "{}: cannot {action}: {error}", path.display()),
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
                "{}: left as it was: nothing to index (no readable text file in the paths given)",
                out.display()
            ),
            Fatal::NoSearchTerms => write!(
                f,
                "search: no WORD to search for (words are letters and digits)"
            ),
        }
    }
}

/// The exit status of a command that failed, or that skipped files: 2, as
/// grep's on errors.
const FAILURE: u8 = 2;

/// Tells the user what went wrong, on stderr, one line each, prefixed
/// `fingertips: `, above the progress bar if one is drawn (the bar is
/// erased for the line and drawn again below it).
///
/// Clones share one count of skipped files, so the clone given to the
/// pipeline as its `errors_to` sink counts for the one [`finish`] is
/// called on. Reporting on the spot, from whichever thread found the
/// error, loses nothing if the build stops early, and needs no thread or
/// channel of its own, in either mode.
///
/// [`finish`]: Reporter::finish
#[derive(Clone, Debug)]
pub(crate) struct Reporter {
    progress: ProgressBar,
    skipped: Arc<AtomicUsize>,
}

impl Reporter {
    /// A reporter that writes above `progress` (hidden if there is none).
    pub(crate) fn new(progress: ProgressBar) -> Self {
        Reporter {
            progress,
            skipped: Arc::default(),
        }
    }

    /// Tells the user a file was skipped, and counts it.
    pub(crate) fn file_skipped(&self, error: &FileError) {
        self.say(format_args!("{error} (skipped)"));
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }

    /// Reports the failure that stops the command; returns its exit status.
    pub(crate) fn fatal(&self, fatal: &Fatal) -> ExitCode {
        self.say(format_args!("{fatal}"));
        ExitCode::from(FAILURE)
    }

    /// The exit status of a command that ran to the end: success, unless
    /// files were skipped, which a last line counts.
    pub(crate) fn finish(&self) -> ExitCode {
        match self.skipped.load(Ordering::Relaxed) {
            0 => ExitCode::SUCCESS,
            skipped => {
                self.say(format_args!(
                    "{skipped} path(s) could not be indexed and were skipped"
                ));
                ExitCode::from(FAILURE)
            }
        }
    }

    /// How many files have been skipped so far.
    #[cfg(test)]
    pub(crate) fn skipped_count(&self) -> usize {
        self.skipped.load(Ordering::Relaxed)
    }

    fn say(&self, message: fmt::Arguments<'_>) {
        self.progress.suspend(|| eprintln!("fingertips: {message}"));
    }
}

impl ErrorSink<FileError> for Reporter {
    /// Reports `error` at once; never refuses one.
    fn send_error(&mut self, error: FileError) -> Result<(), FileError> {
        self.file_skipped(&error);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_starts_with_the_path() {
        let path = Path::new("some/dir/file.txt");
        let io_error = || io::Error::from(io::ErrorKind::NotFound);
        let messages = [
            FileError::new(path.to_owned(), Problem::Unreadable(io_error())).to_string(),
            FileError::new(path.to_owned(), Problem::TooLarge(1 << 31)).to_string(),
            Fatal::io("read", path, io_error()).to_string(),
            Fatal::corrupt(path, "too short").to_string(),
            Fatal::NothingToIndex {
                out: path.to_owned(),
            }
            .to_string(),
        ];
        for message in messages {
            assert!(message.starts_with("some/dir/file.txt: "), "{message}");
        }
    }
}
