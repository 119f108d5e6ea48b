//! What can go wrong, and what the user is told.
//!
//! Every failure stops the command (exit status 1) with one line naming
//! the file, or standard input or output, and what was being done to it.
//! A reader that stops early (`pzip big | head`) is not a failure:
//! [`Error::is_broken_pipe`] lets `main` end quietly then.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Where bytes come from or go to, as the user named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    Stdin,
    Stdout,
    File(PathBuf),
}

impl Place {
    pub(crate) fn file(path: &Path) -> Place {
        Place::File(path.to_owned())
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Stdin => f.write_str("standard input"),
            Place::Stdout => f.write_str("standard output"),
            Place::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A failure that stops the command.
#[derive(Debug)]
pub(crate) enum Error {
    /// An I/O operation failed: "cannot `action` `place`: `error`".
    Io {
        action: &'static str,
        place: Place,
        error: io::Error,
    },
    /// The input of `-d` is not a gzip stream, or is cut short.
    NotGzip { place: Place, error: io::Error },
    /// The deflate library refused its input; never expected, since every
    /// call passes a valid level, dictionary and flush.
    Deflate(String),
}

impl Error {
    /// An I/O `error` while doing `action` to `place`; for `map_err`
    /// closures.
    pub(crate) fn io(action: &'static str, place: &Place, error: io::Error) -> Error {
        Error::Io {
            action,
            place: place.clone(),
            error,
        }
    }

    /// Whether this is a write to a reader that has gone away.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { error, .. } if error.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io {
                action,
                place,
                error,
            } => write!(f, "cannot {action} {place}: {error}"),
            Error::NotGzip { place, error } => {
                write!(f, "{place}: not a valid gzip stream: {error}")
            }
            Error::Deflate(detail) => write!(f, "the deflate library failed: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_place_and_the_action() {
        let missing = io::Error::from(io::ErrorKind::NotFound);
        let error = Error::io("open", &Place::file(Path::new("a/b.txt")), missing);
        let message = error.to_string();
        assert!(message.starts_with("cannot open a/b.txt: "), "{message}");
        assert!(!error.is_broken_pipe());
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        let error = Error::io("write to", &Place::Stdout, pipe);
        assert!(
            error
                .to_string()
                .starts_with("cannot write to standard output: ")
        );
        assert!(error.is_broken_pipe());
    }
}
