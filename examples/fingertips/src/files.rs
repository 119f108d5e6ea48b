//! Finding the files to index, with walkdir.
//!
//! Every regular file under the given paths, recursively. Symbolic links to
//! files are followed; links to directories are not, so a link cycle cannot
//! make the walk endless. The index being written, and the one it replaces,
//! are left out: `fingertips index .` run twice must not index its own
//! output. Problems (a path that does not exist, a directory that cannot be
//! listed) come out as errors in the listing, so they travel through
//! `errors_to` like every other per-file failure.

use std::io;
use std::path::{self, Path, PathBuf};

use walkdir::WalkDir;

use crate::errors::{FileError, Problem};

/// The files under `roots`, in no particular order, and the problems met;
/// the directories in `skip` are not entered.
pub(crate) fn list_files(roots: &[PathBuf], skip: &[&Path]) -> Vec<Result<PathBuf, FileError>> {
    let skip: Vec<PathBuf> = skip
        .iter()
        .filter_map(|dir| path::absolute(dir).ok())
        .collect();
    let skipped = |path: &Path| path::absolute(path).is_ok_and(|path| skip.contains(&path));
    let mut listing = Vec::new();
    for root in roots {
        let walk = WalkDir::new(root)
            .follow_root_links(true)
            .into_iter()
            .filter_entry(|entry| !(entry.file_type().is_dir() && skipped(entry.path())));
        for entry in walk {
            match entry {
                Ok(entry) => {
                    let kind = entry.file_type();
                    let is_file = kind.is_file() || (kind.is_symlink() && entry.path().is_file());
                    if is_file {
                        listing.push(Ok(entry.into_path()));
                    } else if entry.depth() == 0 && !kind.is_dir() {
                        listing.push(Err(FileError::new(
                            entry.into_path(),
                            Problem::NotFileOrDirectory,
                        )));
                    }
                }
                Err(error) => listing.push(Err(walk_error(root, error))),
            }
        }
    }
    listing
}

/// What walkdir met, as the error of the path it met it at.
fn walk_error(root: &Path, error: walkdir::Error) -> FileError {
    let path = error.path().unwrap_or(root).to_owned();
    // A root that is not there is unreadable; a directory inside that
    // cannot be listed is a listing failure.
    let at_root = error.depth() == 0;
    let error = error
        .into_io_error()
        .unwrap_or_else(|| io::Error::other("a symbolic link loop"));
    let problem = if at_root {
        Problem::Unreadable(error)
    } else {
        Problem::ListingFailed(error)
    };
    FileError::new(path, problem)
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
