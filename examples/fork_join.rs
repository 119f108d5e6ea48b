//! Fork-join: process many files in parallel and bring every result, and the
//! first error, back to the caller. Three ways, one lesson each:
//!
//! 1. `spawn`/`join` over chunks: the threads may outlive the caller, so the
//!    shared glossary must be `'static`, hence an `Arc`, and every chunk of
//!    paths is moved into its thread;
//! 2. rayon: `par_iter` + `reduce_with`, keeping the first error;
//! 3. scoped: `std::thread::scope` with threadpipe's `parallel_map_scoped`,
//!    where the workers simply borrow the glossary and the paths.
//!
//! Each counts, per file, the words found in a glossary. The run includes a
//! path that does not exist: each version must return that I/O error to the
//! caller as an `Err` (naming the file), and each must agree on the rest.
//!
//! ```text
//! cargo run --release --example fork_join
//! ```
//!
//! Exits non-zero if the versions disagree or an error goes missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::{fs, io, thread};

use rayon::prelude::*;
use threadpipe::prelude::*;

type Glossary = HashMap<String, &'static str>;

fn glossary() -> Glossary {
    [
        ("thread", "a path of execution"),
        ("channel", "a queue between threads"),
        ("mutex", "a lock around data"),
        ("scope", "a region threads cannot outlive"),
    ]
    .into_iter()
    .map(|(word, meaning)| (word.to_owned(), meaning))
    .collect()
}

/// A file's path and how many of its words the glossary knows.
type Tally = (PathBuf, usize);

fn tally(path: &Path, glossary: &Glossary) -> io::Result<Tally> {
    let text = fs::read_to_string(path)
        .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", path.display())))?;
    let known = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| glossary.contains_key(&word.to_lowercase()))
        .count();
    Ok((path.to_owned(), known))
}

/// 1. Threads that may outlive this function: everything they use is owned.
fn spawn_join(
    paths: &[PathBuf],
    glossary: Arc<Glossary>,
    threads: usize,
) -> io::Result<Vec<Tally>> {
    let chunk = paths.len().div_ceil(threads).max(1);
    let handles: Vec<_> = paths
        .chunks(chunk)
        .map(|chunk| {
            let chunk = chunk.to_vec();
            let glossary = Arc::clone(&glossary);
            thread::spawn(move || {
                chunk
                    .iter()
                    .map(|path| tally(path, &glossary))
                    .collect::<io::Result<Vec<_>>>()
            })
        })
        .collect();
    let mut all = Vec::with_capacity(paths.len());
    for handle in handles {
        all.extend(handle.join().expect("a worker does not panic")?);
    }
    Ok(all)
}

/// 2. rayon: results in order; of several errors, the first in path order.
fn rayon_reduce(paths: &[PathBuf], glossary: &Glossary) -> io::Result<Vec<Tally>> {
    paths
        .par_iter()
        .map(|path| tally(path, glossary).map(|tally| vec![tally]))
        .reduce_with(|left, right| match (left, right) {
            (Ok(mut left), Ok(right)) => {
                left.extend(right);
                Ok(left)
            }
            (Err(error), _) | (_, Err(error)) => Err(error),
        })
        .unwrap_or(Ok(Vec::new()))
}

/// 3. Scoped: the workers borrow; the first error stops the collection.
fn scoped(paths: &[PathBuf], glossary: &Glossary) -> io::Result<Vec<Tally>> {
    thread::scope(|scope| {
        paths
            .iter()
            .parallel_map_scoped(scope, |path| tally(path, glossary))
            .collect()
    })
}

/// Writes `count` small text files into a fresh directory.
fn make_corpus(count: usize) -> io::Result<(PathBuf, Vec<PathBuf>)> {
    let dir = std::env::temp_dir().join(format!("fork_join-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    let words = [
        "thread", "channel", "mutex", "scope", "pipe", "stage", "iterator",
    ];
    let mut paths = Vec::with_capacity(count);
    for n in 0..count {
        let text: Vec<&str> = (0..200)
            .map(|k| words[(n * 7 + k * 3) % words.len()])
            .collect();
        let path = dir.join(format!("doc{n:04}.txt"));
        fs::write(&path, text.join(" "))?;
        paths.push(path);
    }
    Ok((dir, paths))
}

fn run() -> Result<String, String> {
    let (dir, paths) =
        make_corpus(400).map_err(|error| format!("cannot write the corpus: {error}"))?;
    let glossary = glossary();
    let threads = thread::available_parallelism().map_or(2, |n| n.get());

    let by_spawn = spawn_join(&paths, Arc::new(glossary.clone()), threads);
    let by_rayon = rayon_reduce(&paths, &glossary);
    let by_scope = scoped(&paths, &glossary);
    let agree =
        matches!((&by_spawn, &by_rayon, &by_scope), (Ok(a), Ok(b), Ok(c)) if a == b && b == c);
    if !agree {
        return Err("the three versions disagree".to_owned());
    }
    let total: usize = by_scope
        .as_ref()
        .map_or(0, |tallies| tallies.iter().map(|(_, n)| n).sum());

    // Now one path is missing: every version must hand the error back.
    let mut with_missing = paths.clone();
    with_missing.insert(123, dir.join("missing.txt"));
    let errors = [
        (
            "spawn/join",
            spawn_join(&with_missing, Arc::new(glossary.clone()), threads).err(),
        ),
        ("rayon", rayon_reduce(&with_missing, &glossary).err()),
        (
            "scoped parallel_map",
            scoped(&with_missing, &glossary).err(),
        ),
    ];
    fs::remove_dir_all(&dir)
        .map_err(|error| format!("cannot clean up {}: {error}", dir.display()))?;
    let mut report = format!(
        "{} files, {total} glossary words, the same from all three versions",
        paths.len()
    );
    for (name, error) in errors {
        let error = error.ok_or_else(|| format!("{name} lost the I/O error"))?;
        if !error.to_string().contains("missing.txt") {
            return Err(format!(
                "{name} returned an error that does not name the file: {error}"
            ));
        }
        report.push_str(&format!("\n{name:<20} returned: {error}"));
    }
    Ok(report)
}

fn main() -> ExitCode {
    match run() {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("fork_join: {problem}");
            ExitCode::FAILURE
        }
    }
}

/// Runs with the test suite (`test = true` in Cargo.toml).
/// Fails a hung test run instead of letting it hang (shared with tests/).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod watchdog;

#[cfg(test)]
mod tests {
    #[test]
    fn all_versions_agree_and_return_the_error() {
        let _watchdog = crate::watchdog::watchdog();
        super::run().unwrap();
    }
}
