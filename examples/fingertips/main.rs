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
//! | 2. index each file | [`index_document`](document::index_document) | `parallel_map`: "indexer-0" and the accumulator thread |
//! | 3. merge indexes in memory until large | [`Accumulate`](memory_index::Accumulate) | `off_thread`: "accumulator" |
//! | 4. write large indexes to temporary files | `RunWriter::write` (the last index stays in memory) | the main thread, and "run-writer-0" |
//! | 5. merge the temporary files | [`merge_runs`](merge::merge_runs) | the main thread, and "merger-0" |
//!
//! ```text
//! sorted paths
//!   .map(read_document).errors_to(errors)         1  on the reader thread,
//!   -> Batches::new(..).off_thread(reader)           in batches of 256 KB
//!   .parallel_map(indexer, index each document)   2  on every core, in order
//!   .flatten()
//!   -> Accumulate::new(..).off_thread(accumulator) 3  an in-memory index at a time
//!   .map(|index| writer.write(index))             4  a sorted run per full index
//!   .collect()
//!   -> merge_runs(runs)                           5  runs + the last index: the index
//! ```
//!
//! Stages 4 and 5 split their own work (blocks of terms, slices of the term
//! space) over the cores with `parallel_map_scoped`, since stage 5 runs after
//! the rest of the pipeline has drained: whatever it leaves to one thread
//! leaves the other cores idle.
//!
//! `--single-threaded` runs the same functions as a plain chain without the
//! threadpipe adapters, and writes byte for byte the same index. The chain is
//! built in one place, `build_index` in `pipeline.rs`. The index format is
//! described in `format.rs`.
//!
//! Run it:
//!
//! ```text
//! cargo run --release --example fingertips            # index this crate, search "thread"
//! cargo run --release --example fingertips -- index [--out DIR] [--single-threaded] [--max-memory MB] PATH...
//! cargo run --release --example fingertips -- search [--index DIR] WORD...
//! ```
//!
//! What it costs, on the 194 MB / 21,507-file Linux 6.1 source tree, on a
//! shared 2-core VM (release build, medians of 3, page cache warm):
//!
//! ```text
//! /usr/bin/time -v target/release/examples/fingertips index --out /tmp/fp-idx /tmp/corpus-big
//!   threaded:          about 1.0 s wall, 115 MB peak RSS
//!   --single-threaded: about 1.8 s wall, 106 MB peak RSS
//! ```
//!
//! The classic hand-built version was measured at 5.7 s single-threaded,
//! 5.3 s pipelined and 490 MiB on the same corpus. What made the difference,
//! each step measured: an ASCII fast path for lowercasing and splitting; a
//! hand-written FxHash-style hash and open-addressing tables with 8-byte
//! slots that hold offsets into the text, never a `String` per word or term;
//! postings encoded as varint deltas by the indexers, so the single-threaded
//! accumulator only probes and copies; documents handed between threads in
//! 256 KB batches (a hand-off per file cost a context switch per file); and
//! stages 4 and 5 spread over the cores, since what runs after the pipeline
//! drains runs alone.
//!
//! `DIR` is `./fingertips-index` unless given. `search` prints
//! `<hits>\t<path>` for each document holding every word, most hits first.
//! Exit status, as grep's: 0 when something matched (or was indexed), 1 when
//! nothing matched, 2 on errors, including unreadable or non-UTF-8 files,
//! which are reported and skipped while the rest is indexed.

mod cli;
mod document;
mod errors;
mod files;
mod format;
mod memory_index;
mod merge;
mod pipeline;
mod search;
mod sorted_index;
mod staging;
mod storage;
mod table;
mod tokenize;

#[cfg(test)]
mod tests;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::{env, fs, thread};

use threadpipe::ErrorSink;

use crate::cli::Command;
use crate::errors::{Fatal, FileError};
use crate::pipeline::{IndexConfig, IndexSummary, Mode, build_index};
use crate::staging::unique_suffix;

const FAILURE: u8 = 2;

fn main() -> ExitCode {
    match cli::parse(env::args_os().skip(1).collect()) {
        Err(problem) => {
            eprintln!("fingertips: {problem}\n{}", cli::usage());
            ExitCode::from(FAILURE)
        }
        Ok(Command::Help) => {
            say(&cli::usage());
            ExitCode::SUCCESS
        }
        Ok(Command::Demo) => demo(),
        Ok(Command::Index(config)) => match index_reporting_errors(&config) {
            Ok((summary, skipped)) => {
                say(&describe(&summary, &config.out));
                if let Some(profile) = &config.profile {
                    print_profile(profile, config.mode);
                }
                exit_status(skipped)
            }
            Err(fatal) => fail(&fatal),
        },
        Ok(Command::Search { index, terms }) => match search::search(&index, &terms) {
            Ok(hits) => print_hits(&hits, usize::MAX, Path::new("")),
            Err(fatal) => fail(&fatal),
        },
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

/// Runs `index`, reporting skipped files on stderr as they happen; returns
/// the summary and how many files were skipped.
fn index_reporting_errors(config: &IndexConfig) -> Result<(IndexSummary, usize), Fatal> {
    match config.mode {
        Mode::Threaded => {
            // The channel is drained while the pipeline runs, so messages
            // appear as files fail, whichever thread found them.
            let (errors, received) = mpsc::channel::<FileError>();
            let reporter = thread::Builder::new()
                .name("error reporter".to_owned())
                .spawn(move || received.iter().inspect(report).count())
                .map_err(|error| Fatal::io("start a thread for", Path::new("errors"), error))?;
            let built = build_index(config, errors);
            let skipped = reporter
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok((built?, skipped))
        }
        Mode::SingleThreaded => {
            let errors = ReportNow::default();
            let built = build_index(config, errors.clone())?;
            Ok((built, errors.reported.load(Ordering::Relaxed)))
        }
    }
}

fn report(error: &FileError) {
    // On a terminal, first erase the progress line the message would follow.
    let erase = if io::stderr().is_terminal() {
        "\r\x1b[K"
    } else {
        ""
    };
    eprintln!("{erase}fingertips: {error} (skipped)");
}

/// An error sink for the single-threaded mode: reports on the spot, no thread.
#[derive(Clone, Default)]
struct ReportNow {
    reported: Arc<AtomicUsize>,
}

impl ErrorSink<FileError> for ReportNow {
    fn send_error(&mut self, error: FileError) -> Result<(), FileError> {
        report(&error);
        self.reported.fetch_add(1, Ordering::Relaxed);
        Ok(())
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

fn exit_status(skipped: usize) -> ExitCode {
    if skipped == 0 {
        return ExitCode::SUCCESS;
    }
    eprintln!("fingertips: {skipped} path(s) could not be indexed and were skipped");
    ExitCode::from(FAILURE)
}

fn fail(fatal: &Fatal) -> ExitCode {
    eprintln!("fingertips: {fatal}");
    ExitCode::from(FAILURE)
}

/// Prints up to `limit` hits as `<hits>\t<path>`, paths shown relative to
/// `base` where they are under it; exit status 0 if there were any, else 1.
fn print_hits(hits: &[search::Hit], limit: usize, base: &Path) -> ExitCode {
    let mut out = io::BufWriter::new(io::stdout().lock());
    for hit in hits.iter().take(limit) {
        let path = hit.path.strip_prefix(base).unwrap_or(&hit.path);
        if let Err(error) = writeln!(out, "{}\t{}", hit.hits, path.display()) {
            return stdout_failed(&error, hits);
        }
    }
    if let Err(error) = out.flush() {
        return stdout_failed(&error, hits);
    }
    if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A reader that stops early (`| head`) is not an error; anything else is.
fn stdout_failed(error: &io::Error, hits: &[search::Hit]) -> ExitCode {
    if error.kind() == io::ErrorKind::BrokenPipe {
        return if hits.is_empty() {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    eprintln!("fingertips: cannot write the results: {error}");
    ExitCode::from(FAILURE)
}

/// No arguments: index this crate's own sources and docs into a fresh
/// temporary directory, and run a sample search. Works on a fresh checkout.
fn demo() -> ExitCode {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
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
    let scratch = TempDir(env::temp_dir().join(format!("fingertips-demo-{}", unique_suffix())));
    if let Err(error) = fs::create_dir(&scratch.0) {
        return fail(&Fatal::io("create", &scratch.0, error));
    }
    let config = IndexConfig::new(roots, scratch.0.join("index"));
    say(&format!(
        "fingertips: indexing the sources of {}",
        crate_dir.display()
    ));
    let (summary, skipped) = match index_reporting_errors(&config) {
        Ok(done) => done,
        Err(fatal) => return fail(&fatal),
    };
    say(&describe(&summary, &config.out));
    let query = ["thread".to_owned()];
    let hits = match search::search(&config.out, &query) {
        Ok(hits) => hits,
        Err(fatal) => return fail(&fatal),
    };
    say(&format!(
        "\nsearch thread: {} files; the top ones:",
        hits.len()
    ));
    let _ = print_hits(&hits, 8, crate_dir);
    say("\nIndex and search your own files:\n  \
         cargo run --release --example fingertips -- index --out DIR PATH...\n  \
         cargo run --release --example fingertips -- search --index DIR WORD...");
    exit_status(skipped)
}

/// A directory removed, with everything in it, when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
