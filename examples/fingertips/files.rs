//! Finding the files to index.
//!
//! Every regular file under the given paths, recursively. Symbolic links to
//! files are followed; links to directories are not, so a link cycle cannot
//! make the walk endless. Problems (a path that does not exist, a directory
//! that cannot be listed) come out as errors in the listing, so they travel
//! through `errors_to` like every other per-file failure.

use std::fs;
use std::path::{Path, PathBuf};

use crate::errors::{FileError, Problem};

/// The files under `roots`, in no particular order, and the problems met.
pub(crate) fn list_files(roots: &[PathBuf]) -> Vec<Result<PathBuf, FileError>> {
    let mut listing = Vec::new();
    for root in roots {
        match fs::metadata(root) {
            Ok(metadata) if metadata.is_dir() => walk(root, &mut listing),
            Ok(metadata) if metadata.is_file() => listing.push(Ok(root.clone())),
            Ok(_) => listing.push(Err(FileError::new(
                root.clone(),
                Problem::NotFileOrDirectory,
            ))),
            Err(error) => listing.push(Err(FileError::new(
                root.clone(),
                Problem::Unreadable(error),
            ))),
        }
    }
    listing
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

fn walk(directory: &Path, listing: &mut Vec<Result<PathBuf, FileError>>) {
    let entries = match fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) => {
            let problem = Problem::ListingFailed(error);
            listing.push(Err(FileError::new(directory.to_owned(), problem)));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let problem = Problem::ListingFailed(error);
                listing.push(Err(FileError::new(directory.to_owned(), problem)));
                continue;
            }
        };
        let path = entry.path();
        // The entry's own type comes from the directory listing itself on
        // most systems, so this costs no system call per file.
        let file_type = match entry.file_type() {
            Ok(file_type) => file_type,
            Err(error) => {
                listing.push(Err(FileError::new(path, Problem::Unreadable(error))));
                continue;
            }
        };
        if file_type.is_dir() {
            walk(&path, listing);
        } else if file_type.is_file() || (file_type.is_symlink() && path.is_file()) {
            listing.push(Ok(path));
        }
    }
}
