//! Building an index beside its destination, and putting it in place.
//!
//! Everything is written into a hidden directory next to the destination
//! (same file system, so a rename moves it), which is renamed into place
//! only once complete. A failure at any point, a panic included, removes the
//! staging directory and leaves a previous index as it was. Only an index,
//! or an empty directory, is ever replaced.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::errors::Fatal;
use crate::format::{DOCUMENTS_FILE, DOCUMENTS_MAGIC, MAGIC_LEN};

/// The directory an index is built in, removed on drop unless committed.
pub(crate) struct Staging {
    pub(crate) dir: PathBuf,
    out: PathBuf,
    committed: bool,
}

impl Staging {
    pub(crate) fn create(out: &Path) -> Result<Self, Fatal> {
        check_replaceable(out)?;
        let (parent, name) = split_destination(out)?;
        let dir = parent.join(format!(".{name}.partial-{}", unique_suffix()));
        fs::create_dir(&dir).map_err(|error| Fatal::io("create", &dir, error))?;
        Ok(Staging {
            dir,
            out: out.to_owned(),
            committed: false,
        })
    }

    /// Puts the finished index in place of whatever was at `out`.
    ///
    /// Two renames, not one: a directory cannot be renamed over a non-empty
    /// one. Between them `out` briefly does not exist, but it never holds a
    /// partial index, and if the second rename fails the old one goes back.
    pub(crate) fn commit(mut self) -> Result<(), Fatal> {
        let (parent, name) = split_destination(&self.out)?;
        let old = parent.join(format!(".{name}.old-{}", unique_suffix()));
        let replacing = fs::symlink_metadata(&self.out).is_ok();
        if replacing {
            fs::rename(&self.out, &old).map_err(|error| Fatal::io("move", &self.out, error))?;
        }
        if let Err(error) = fs::rename(&self.dir, &self.out) {
            if replacing {
                let _ = fs::rename(&old, &self.out);
            }
            return Err(Fatal::io("put the new index in place", &self.out, error));
        }
        self.committed = true;
        if replacing {
            fs::remove_dir_all(&old).map_err(|error| Fatal::io("remove", &old, error))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the failure that got us here is the one to report.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Refuses to replace anything but an index or an empty directory: `--out`
/// pointed at a home directory by mistake must not delete it.
fn check_replaceable(out: &Path) -> Result<(), Fatal> {
    let Ok(metadata) = fs::symlink_metadata(out) else {
        return Ok(());
    };
    let refuse = |reason| {
        Err(Fatal::Refused {
            path: out.to_owned(),
            reason,
        })
    };
    if !metadata.is_dir() {
        return refuse("exists and is not a directory; not replacing it");
    }
    let mut entries = fs::read_dir(out).map_err(|error| Fatal::io("list", out, error))?;
    if entries.next().is_none() {
        return Ok(());
    }
    let documents = out.join(DOCUMENTS_FILE);
    let mut magic = [0; MAGIC_LEN as usize];
    let is_index = fs::File::open(&documents)
        .and_then(|mut file| std::io::Read::read_exact(&mut file, &mut magic))
        .is_ok_and(|()| magic == DOCUMENTS_MAGIC);
    if is_index {
        Ok(())
    } else {
        refuse("exists and is not a fingertips index; not replacing it")
    }
}

fn split_destination(out: &Path) -> Result<(PathBuf, String), Fatal> {
    let name = out.file_name().ok_or_else(|| Fatal::Refused {
        path: out.to_owned(),
        reason: "is not a usable name for an index directory",
    })?;
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_string_lossy().into_owned()))
}

/// A suffix no other live process or earlier call of this one uses.
pub(crate) fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{call}", std::process::id())
}
