//! Where the output goes: standard output, or a file that appears only
//! once it is complete.
//!
//! A file is written as a temporary file beside it (same directory, so the
//! final rename is atomic and never copies) and renamed over the target on
//! success; on any error, or a panic, the temporary file is deleted when
//! dropped, so no partial output is ever left under the name the user gave.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::errors::{Error, Place};

/// Big enough that the 10-byte header and the blocks' few-byte ends do not
/// cost a system call each; a whole block bypasses the buffer.
const BUFFER: usize = 64 * 1024;

/// The destination of the output.
pub(crate) enum Output {
    Stdout(BufWriter<Box<dyn Write + Send>>),
    File {
        temp: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
}

impl Output {
    pub(crate) fn stdout() -> Result<Output, Error> {
        Ok(Output::Stdout(BufWriter::with_capacity(
            BUFFER,
            raw_stdout()?,
        )))
    }

    /// A temporary file beside `path`, to become `path` on [`finish`](Output::finish).
    pub(crate) fn file(path: &Path) -> Result<Output, Error> {
        let place = Place::file(path);
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".pzip-").suffix(".partial");
        // A plain file's permissions (0666 less the umask), not the
        // temporary file's private 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder
            .tempfile_in(dir)
            .map_err(|error| Error::io("create a temporary file for", &place, error))?;
        Ok(Output::File {
            temp: BufWriter::with_capacity(BUFFER, temp),
            path: path.to_owned(),
        })
    }

    pub(crate) fn place(&self) -> Place {
        match self {
            Output::Stdout(_) => Place::Stdout,
            Output::File { path, .. } => Place::file(path),
        }
    }

    pub(crate) fn writer(&mut self) -> &mut (dyn Write + Send) {
        match self {
            Output::Stdout(writer) => writer,
            Output::File { temp, .. } => temp,
        }
    }

    /// Flushes, and puts a file in place.
    pub(crate) fn finish(self) -> Result<(), Error> {
        let place = self.place();
        match self {
            Output::Stdout(mut writer) => writer
                .flush()
                .map_err(|error| Error::io("write to", &place, error)),
            Output::File { temp, path } => {
                let temp = temp
                    .into_inner()
                    .map_err(|error| Error::io("write to", &place, error.into_error()))?;
                temp.persist(&path)
                    .map(drop)
                    .map_err(|error| Error::io("rename a temporary file to", &place, error.error))
            }
        }
    }
}

/// Standard output without std's line buffering, which would search every
/// block for a newline: a second handle to the same file descriptor.
#[cfg(unix)]
fn raw_stdout() -> Result<Box<dyn Write + Send>, Error> {
    use std::os::fd::AsFd;
    let fd = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|error| Error::io("open", &Place::Stdout, error))?;
    Ok(Box::new(std::fs::File::from(fd)))
}

#[cfg(not(unix))]
fn raw_stdout() -> Result<Box<dyn Write + Send>, Error> {
    Ok(Box::new(io::stdout()))
}
