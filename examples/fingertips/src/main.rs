//! fingertips: builds an inverted index of a tree of text files, then finds
//! the files that contain given words, fast, without loading the index.
//!
//! It is threadpipe's version of the `fingertips` program from *Programming
//! Rust* (Blandy, Orendorff and Tindall, chapter "Concurrency"). The book
//! builds a five-stage pipeline by hand out of threads and channels; here the
//! same five stages are one iterator chain, and one method call moves a stage
//! onto threads:
//!
//! | the book's stage | here | runs on |
//! |---|---|---|
//! | 1. read the files | [`read_document`](document::read_document), then `errors_to` | `off_thread`: "reader" |
//! | 2. index each file | [`Scratch::index`](document::Scratch::index) | `parallel_map_init`: "indexer-0" and the accumulator thread, a [`Scratch`](document::Scratch) each |
//! | 3. merge indexes in memory until large | [`Accumulate`](memory_index::Accumulate) | `off_thread`: "accumulator" |
//! | 4. write large indexes to temporary files | `RunWriter::write` (the last index stays in memory) | the main thread, and "run-writer-0" |
//! | 5. merge the temporary files | [`merge_runs`](merge::merge_runs) | the main thread, and "merger-0" |
//!
//! ```text
//! sorted paths
//!   .map(read_document).errors_to(errors)              1  on the reader thread,
//!   -> Batches::new(..).off_thread(reader)                in batches of 256 KB
//!   .parallel_map_init(indexer, Scratch, index each)   2  on every core, in order
//!   .flatten()
//!   -> Accumulate::new(..).off_thread(accumulator)     3  an in-memory index at a time
//!   .map(|index| writer.write(index))                  4  a sorted run per full index
//!   .collect()
//!   -> merge_runs(runs)                                5  runs + the last index: the index
//! ```
//!
//! Stages 4 and 5 split their own work (blocks of terms, slices of the term
//! space) over the cores with `parallel_map_scoped`, since stage 5 runs after
//! the rest of the pipeline has drained: whatever it leaves to one thread
//! leaves the other cores idle.
//!
//! `--single-threaded` runs the very same chain with every threadpipe stage
//! inline (threadpipe's `inline` option), on one thread, and writes byte
//! for byte the same index. The chain is built in one place, `build_index`
//! in `pipeline.rs`. The index format is described in `format.rs`.
//!
//! Around the chain, fingertips uses the crates its readers know: clap for
//! the command line, walkdir for the directory walk, indicatif for the
//! progress bar, hashbrown's `HashTable` for the term tables (keys kept
//! outside the table; no slower than the hand-written table it replaced).
//! It keeps the system allocator: mimalloc made it slower here, and three
//! times as big (`benches/README.md` has both sets of figures).
//!
//! Run it (from the top of the repository):
//!
//! ```text
//! cargo run --release -p fingertips            # index threadpipe's sources, search "thread"
//! cargo run --release -p fingertips -- index [--out DIR] [--single-threaded] [--max-memory MB] [--profile] PATH...
//! cargo run --release -p fingertips -- search [--index DIR] WORD...
//! ```
//!
//! What it costs on ~194 MB of the Linux sources (laid out by
//! `../shared/corpus.sh`, the corpus script the project's steering side
//! provides beside the repository) is in `benches/README.md`. What made
//! the difference against the classic hand-built version: the inner loops
//! avoid a `String` per word or term (an ASCII fast path for lowercasing
//! and splitting, an FxHash-style hash, 8-byte table slots that point into
//! the text), the indexers encode postings, so the accumulator only probes
//! and copies, documents cross threads in 256 KB batches, and stages 4 and
//! 5 spread over the cores.
//!
//! `DIR` is `./fingertips-index` unless given. `search` prints
//! `<hits>\t<path>` for each document holding every word, most hits first.
//! Exit status, as grep's: 0 when something matched (or was indexed), 1 when
//! nothing matched, 2 on errors, including unreadable or non-UTF-8 files,
//! which are reported and skipped while the rest is indexed. Finding
//! nothing at all to index is an error too, and leaves an existing index
//! as it was. Every error is one line on stderr, in one format whatever the
//! mode: `fingertips: PATH: what went wrong`, or `PATH:LINE:` where the
//! line is known (`errors.rs`).

mod cli;
mod document;
mod errors;
mod execution;
mod files;
mod format;
mod memory_index;
mod merge;
mod pipeline;
mod progress;
mod search;
mod sorted_index;
mod staging;
mod storage;
mod table;
mod tokenize;

#[cfg(test)]
mod tests;
/// Fails a hung test run instead of letting it hang (shared with threadpipe's tests/).
#[cfg(test)]
#[path = "../../../tests/common/watchdog.rs"]
mod watchdog;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::{env, fs};

use clap::Parser;
use indicatif::ProgressBar;
use threadpipe::Profile;

use crate::cli::{Cli, Command};
use crate::errors::{Fatal, Reporter};
use crate::execution::Mode;
use crate::pipeline::{IndexConfig, IndexSummary, build_index};
use crate::staging::unique_suffix;

fn main() -> ExitCode {
    match Cli::parse().command {
        None => demo(),
        Some(Command::Index {
            out,
            single_threaded,
            max_memory,
            profile,
            paths,
        }) => {
            let mut config = IndexConfig::new(paths, out);
            if single_threaded {
                config.mode = Mode::SingleThreaded;
            }
            config.max_memory = (max_memory as usize) << 20;
            config.profile = profile.then(Profile::new);
            config.progress = progress_bar();
            let reporter = Reporter::new(config.progress.clone());
            match build_index(&config, reporter.clone()) {
                Ok(summary) => {
                    say(&describe(&summary, &config.out));
                    if let Some(profile) = &config.profile {
                        print_profile(profile, config.mode);
                    }
                    reporter.finish()
                }
                Err(fatal) => reporter.fatal(&fatal),
            }
        }
        Some(Command::Search { index, words }) => {
            let reporter = Reporter::new(ProgressBar::hidden());
            let terms: Vec<String> = words
                .iter()
                .flat_map(|word| tokenize::words(word))
                .collect();
            if terms.is_empty() {
                return reporter.fatal(&Fatal::NoSearchTerms);
            }
            match search::search(&index, &terms) {
                Ok(hits) => print_hits(&hits, usize::MAX, Path::new(""), &reporter),
                Err(fatal) => reporter.fatal(&fatal),
            }
        }
    }
}

/// A progress bar on stderr, drawn only if it is a terminal.
fn progress_bar() -> ProgressBar {
    if io::stderr().is_terminal() {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    }
}

/// The `--profile` report, on stderr so that it never mixes with results.
fn print_profile(profile: &threadpipe::Profile, mode: Mode) {
    match mode {
        Mode::Threaded => eprintln!("\nstage profile:\n{}", profile.report()),
        Mode::SingleThreaded => {
            eprintln!("--profile: the single-threaded mode runs no stages on other threads");
        }
    }
}

fn describe(summary: &IndexSummary, out: &Path) -> String {
    let runs = match summary.runs {
        1 => "one in-memory index".to_owned(),
        runs => format!("{runs} sorted runs merged"),
    };
    format!(
        "indexed {} files ({:.1} MB) in {:.2} s: {} terms, {runs}; index in {}",
        summary.documents,
        summary.input_bytes as f64 / 1e6,
        summary.elapsed.as_secs_f64(),
        summary.terms,
        out.display()
    )
}

/// Prints a line of commentary. Unlike `println!`, does not panic when the
/// reader has gone (`| head`): the work is done, and its status stands.
fn say(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// Prints up to `limit` hits as `<hits>\t<path>`, paths shown relative to
/// `base` where they are under it; exit status 0 if there were any, else 1.
fn print_hits(hits: &[search::Hit], limit: usize, base: &Path, reporter: &Reporter) -> ExitCode {
    let mut out = io::BufWriter::new(io::stdout().lock());
    for hit in hits.iter().take(limit) {
        let path = hit.path.strip_prefix(base).unwrap_or(&hit.path);
        if let Err(error) = writeln!(out, "{}\t{}", hit.hits, path.display()) {
            return stdout_failed(error, hits, reporter);
        }
    }
    if let Err(error) = out.flush() {
        return stdout_failed(error, hits, reporter);
    }
    if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A reader that stops early (`| head`) is not an error; anything else is.
fn stdout_failed(error: io::Error, hits: &[search::Hit], reporter: &Reporter) -> ExitCode {
    if error.kind() == io::ErrorKind::BrokenPipe {
        return if hits.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    reporter.fatal(&Fatal::io(
        "write the results",
        Path::new("standard output"),
        error,
    ))
}

/// No arguments: index threadpipe's own sources and docs (this program's
/// among them) into a fresh temporary directory, and run a sample search.
/// Works on a fresh checkout.
fn demo() -> ExitCode {
    let crate_dir = &Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let crate_dir = &fs::canonicalize(crate_dir).unwrap_or_else(|_| crate_dir.to_owned());
    let parts = [
        "src",
        "examples",
        "tests",
        "benches",
        "ui-tests",
        "README.md",
        "Cargo.toml",
    ];
    let roots: Vec<PathBuf> = parts
        .iter()
        .map(|part| crate_dir.join(part))
        .filter(|path| path.exists())
        .collect();
    let progress = progress_bar();
    let reporter = Reporter::new(progress.clone());
    let scratch = TempDir(env::temp_dir().join(format!("fingertips-demo-{}", unique_suffix())));
    if let Err(error) = fs::create_dir(&scratch.0) {
        return reporter.fatal(&Fatal::io("create", &scratch.0, error));
    }
    let mut config = IndexConfig::new(roots, scratch.0.join("index"));
    config.progress = progress;
    say(&format!(
        "fingertips: indexing the sources of {}",
        crate_dir.display()
    ));
    let summary = match build_index(&config, reporter.clone()) {
        Ok(summary) => summary,
        Err(fatal) => return reporter.fatal(&fatal),
    };
    say(&describe(&summary, &config.out));
    let query = ["thread".to_owned()];
    let hits = match search::search(&config.out, &query) {
        Ok(hits) => hits,
        Err(fatal) => return reporter.fatal(&fatal),
    };
    say(&format!(
        "\nsearch thread: {} files; the top ones:",
        hits.len()
    ));
    let _ = print_hits(&hits, 8, crate_dir, &reporter);
    say("\nIndex and search your own files:\n  \
         cargo run --release -p fingertips -- index --out DIR PATH...\n  \
         cargo run --release -p fingertips -- search --index DIR WORD...");
    reporter.finish()
}

/// A directory removed, with everything in it, when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
