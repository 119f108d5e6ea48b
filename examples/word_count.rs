//! Counts the words in a tree of text files, as one iterator chain.
//!
//! Shows the three core adapters on real files: `errors_to` sends unreadable
//! files to a channel (reported on stderr, with the path and the reason, and
//! skipped), `off_thread` reads files on a thread of its own, and
//! `parallel_map` counts each file's words on every core, in order.
//!
//! Run it on the crate's own sources (the default) or on any paths:
//!
//! ```text
//! cargo run --release --example word_count
//! cargo run --release --example word_count -- PATH...
//! ```
//!
//! Exit status: 0 when every file was read, 2 when some could not be (the
//! rest is still counted), 1 on bad usage.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::{env, fmt, fs, io, process, thread};

use threadpipe::prelude::*;

/// A file that could not be read, and why.
#[derive(Debug)]
struct ReadError {
    path: PathBuf,
    reason: io::Error,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Every regular file under `root`, depth first, in name order so that runs
/// are repeatable; unreadable directories come out as errors.
fn files_under(root: &Path, out: &mut Vec<Result<PathBuf, ReadError>>) {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(reason) if reason.kind() == io::ErrorKind::NotADirectory => {
            out.push(Ok(root.to_owned()));
            return;
        }
        Err(reason) => {
            out.push(Err(ReadError {
                path: root.to_owned(),
                reason,
            }));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            files_under(&path, out);
        } else if path.is_file() {
            out.push(Ok(path));
        }
    }
}

fn read_text(path: PathBuf) -> Result<(PathBuf, String), ReadError> {
    match fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(reason) => Err(ReadError { path, reason }),
    }
}

/// Word frequencies of one text: lowercased runs of alphanumeric characters.
fn count_words(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_insert(0) += 1;
    }
    counts
}

/// What a run found.
#[derive(Debug)]
struct Summary {
    files: usize,
    /// Word frequencies, most frequent first, ties by word.
    ranked: Vec<(String, usize)>,
    /// Paths that could not be read (reported on stderr as they happen).
    failures: usize,
}

/// Counts the words of every file under `roots`, as one iterator chain.
fn count_all(roots: &[PathBuf]) -> Summary {
    let mut listed = Vec::new();
    for root in roots {
        files_under(root, &mut listed);
    }

    let (error_sender, errors) = mpsc::channel::<ReadError>();
    // Report errors as they happen, from a thread of their own.
    let reporter = thread::spawn(move || {
        errors
            .iter()
            .inspect(|error| eprintln!("word_count: {error}"))
            .count()
    });

    let mut files = 0;
    let mut totals: HashMap<String, usize> = HashMap::new();
    for (_path, counts) in listed
        .into_iter()
        .errors_to(error_sender.clone()) // unreadable directories
        .map(read_text) // on the reader thread, below
        .errors_to(error_sender) // unreadable or non-UTF-8 files
        .off_thread()
        .parallel_map(|(path, text)| (path, count_words(&text)))
    {
        files += 1;
        for (word, count) in counts {
            *totals.entry(word).or_insert(0) += count;
        }
    }
    let failures = reporter.join().expect("the error reporter does not panic");

    let mut ranked: Vec<(String, usize)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Summary {
        files,
        ranked,
        failures,
    }
}

fn main() {
    let mut roots: Vec<PathBuf> = env::args_os().skip(1).map(PathBuf::from).collect();
    if roots
        .iter()
        .any(|root| root.to_str().is_some_and(|arg| arg.starts_with('-')))
    {
        eprintln!(
            "usage: word_count [PATH...]   (default: this crate's src/, examples/ and README.md)"
        );
        process::exit(1);
    }
    if roots.is_empty() {
        let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        roots = ["src", "examples", "README.md"]
            .iter()
            .map(|part| crate_dir.join(part))
            .collect();
    }
    let summary = count_all(&roots);
    println!(
        "{} files, {} distinct words; the most common:",
        summary.files,
        summary.ranked.len()
    );
    for (word, count) in summary.ranked.iter().take(10) {
        println!("{count:>8}  {word}");
    }
    if summary.failures > 0 {
        eprintln!(
            "word_count: {} path(s) could not be read and were skipped",
            summary.failures
        );
        process::exit(2);
    }
}

/// Runs with the test suite (`test = true` in Cargo.toml).
/// Fails a hung test run instead of letting it hang (shared with tests/).
#[cfg(test)]
#[path = "../tests/common/watchdog.rs"]
mod watchdog;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words_and_reports_bad_files_without_losing_the_rest() {
        let _watchdog = crate::watchdog::watchdog();
        let dir = env::temp_dir().join(format!("word_count-test-{}", std::process::id()));
        fs::create_dir_all(dir.join("sub")).unwrap();
        fs::write(dir.join("a.txt"), "Pipe pipe, stage!").unwrap();
        fs::write(dir.join("sub").join("b.txt"), "stage Ünïcode").unwrap();
        fs::write(dir.join("bad.bin"), [0xff, 0xfe, 0x00]).unwrap();
        let summary = count_all(&[dir.clone(), dir.join("missing")]);
        fs::remove_dir_all(&dir).unwrap();

        assert_eq!(summary.files, 2);
        assert_eq!(
            summary.failures, 2,
            "the non-UTF-8 file and the missing path"
        );
        let expected = [("pipe", 2), ("stage", 2), ("ünïcode", 1)];
        let ranked: Vec<(&str, usize)> = summary
            .ranked
            .iter()
            .map(|(w, n)| (w.as_str(), *n))
            .collect();
        assert_eq!(ranked, expected);
    }
}
