//! Finding the files to index.
//!
//! Every regular file under the given paths, recursively. Symbolic links to
//! files are followed; links to directories are not, so a link cycle cannot
//! make the walk endless. The index being written, and the one it replaces,
//! are left out: `fingertips index .` run twice must not index its own
//! output. Problems (a path that does not exist, a directory that cannot be
//! listed) come out as errors in the listing, so they travel through
//! `errors_to` like every other per-file failure.

use std::fs;
use std::path::{self, Path, PathBuf};

use crate::errors::{FileError, Problem};

/// The files under `roots`, in no particular order, and the problems met;
/// the directories in `skip` are not entered.
pub(crate) fn list_files(roots: &[PathBuf], skip: &[&Path]) -> Vec<Result<PathBuf, FileError>> {
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|dir| path::absolute(dir).ok())
        .collect();
    let mut walk = Walk {
        skip,
        listing: Vec::new(),
    };
    for root in roots {
        match fs::metadata(root) {
            Ok(metadata) if metadata.is_dir() => walk.directory(root),
            Ok(metadata) if metadata.is_file() => walk.listing.push(Ok(root.clone())),
            Ok(_) => walk.fail(root, Problem::NotFileOrDirectory),
            Err(error) => walk.fail(root, Problem::Unreadable(error)),
        }
    }
    walk.listing
}

/// Sorts found paths bytewise (as `LC_ALL=C sort` does) and drops repeats
/// (roots may overlap). A document's id is its position in this list, so ids
/// are the same on every run. Bytewise, not `Path`'s component order, which
/// costs ten times as much and orders nothing better for this purpose.
pub(crate) fn sorted_unique(mut paths: Vec<PathBuf>) -> Vec<PathBuf> {
    paths.sort_unstable_by(|a, b| path_order(a, b));
    paths.dedup();
    paths
}

/// The order of document ids: paths compared as bytes.
pub(crate) fn path_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let a = a.as_os_str().as_encoded_bytes();
    a.cmp(b.as_os_str().as_encoded_bytes())
}

struct Walk {
    /// Absolute paths of directories not to enter.
    skip: Vec<PathBuf>,
    listing: Vec<Result<PathBuf, FileError>>,
}

impl Walk {
    fn fail(&mut self, path: &Path, problem: Problem) {
        self.listing
            .push(Err(FileError::new(path.to_owned(), problem)));
    }

    fn directory(&mut self, directory: &Path) {
        if path::absolute(directory).is_ok_and(|absolute| self.skip.contains(&absolute)) {
            return;
        }
        let entries = match fs::read_dir(directory) {
            Ok(entries) => entries,
            Err(error) => return self.fail(directory, Problem::ListingFailed(error)),
        };
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    self.fail(directory, Problem::ListingFailed(error));
                    continue;
                }
            };
            let path = entry.path();
            // The entry's own type comes from the directory listing itself on
            // most systems, so this costs no system call per file.
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => self.directory(&path),
                Ok(kind) if kind.is_file() || (kind.is_symlink() && path.is_file()) => {
                    self.listing.push(Ok(path));
                }
                Ok(_) => {}
                Err(error) => self.fail(&path, Problem::Unreadable(error)),
            }
        }
    }
}
