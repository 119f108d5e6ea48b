//! The `index` command: the five stages put together, in [`build_index`],
//! the one place that decides which stage runs on which thread.
//!
//! Imports run one way: `main` and `cli` use this module, and this module
//! uses the stages' modules, which never use it back. What the stages
//! share (the mode, the sizes of the pieces, `spread`, the progress bar)
//! lives in `execution` and `progress`, below all of them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use threadpipe::prelude::*;
use threadpipe::{ErrorSink, OffThreadOptions, ParallelMapOptions, Profile};

use crate::document::{Document, Scratch, read_document};
use crate::errors::{Fatal, FileError};
use crate::execution::{Mode, Pieces};
use crate::files::{list_files, sorted_unique};
use crate::format::{DOCUMENTS_FILE, MAGIC_LEN, TermFiles, TermRecord};
use crate::memory_index::{Accumulate, InMemoryIndex};
use crate::merge::{Run, merge_runs};
use crate::progress::Progress;
use crate::staging::Staging;
use crate::storage::{DocumentsWriter, TermWriter};

/// What `index` needs to know.
#[derive(Clone, Debug)]
pub(crate) struct IndexConfig {
    pub(crate) roots: Vec<PathBuf>,
    pub(crate) out: PathBuf,
    pub(crate) mode: Mode,
    /// Memory for in-memory indexes, in bytes; see [`IndexConfig::flush_at`].
    pub(crate) max_memory: usize,
    /// Where progress is drawn: a bar on a terminal, or nowhere.
    pub(crate) progress: ProgressBar,
    /// Where the threaded stages record their figures (`--profile`).
    pub(crate) profile: Option<Profile>,
    pub(crate) pieces: Pieces,
}

/// The default `--max-memory`, in megabytes.
pub(crate) const DEFAULT_MAX_MEMORY_MB: u32 = 192;

impl IndexConfig {
    /// The defaults: threaded, [`DEFAULT_MAX_MEMORY_MB`], no progress bar.
    pub(crate) fn new(roots: Vec<PathBuf>, out: PathBuf) -> Self {
        IndexConfig {
            roots,
            out,
            mode: Mode::Threaded,
            max_memory: (DEFAULT_MAX_MEMORY_MB as usize) << 20,
            progress: ProgressBar::hidden(),
            profile: None,
            pieces: Pieces::default(),
        }
    }

    /// The size at which an in-memory index is written out. Up to three are
    /// alive at once in the threaded pipeline (one filling, one waiting in the
    /// channel, one being written), so each gets a third of the budget. The
    /// single-threaded mode flushes at the same size, so that both modes do
    /// the same work. Offsets inside an index are 32-bit, hence the cap.
    pub(crate) fn flush_at(&self) -> usize {
        (self.max_memory / 3).clamp(1, 1 << 31)
    }
}

/// What an `index` run did.
#[derive(Clone, Debug)]
pub(crate) struct IndexSummary {
    pub(crate) documents: u64,
    pub(crate) input_bytes: u64,
    pub(crate) terms: u64,
    pub(crate) runs: usize,
    pub(crate) elapsed: Duration,
}

/// Builds the index of every file under `config.roots` at `config.out`.
///
/// Files that cannot be indexed go to `errors` and are skipped; anything else
/// that fails stops the build and leaves `config.out` as it was, and so does
/// finding nothing to index.
pub(crate) fn build_index<S>(config: &IndexConfig, errors: S) -> Result<IndexSummary, Fatal>
where
    S: ErrorSink<FileError> + Clone + Send + 'static,
{
    let started = Instant::now();
    let staging = Staging::create(&config.out)?;
    let paths: Vec<PathBuf> = list_files(&config.roots, &[&config.out, &staging.dir])
        .into_iter()
        .errors_to(errors.clone())
        .collect();
    let paths = sorted_unique(paths);
    let runs_dir = staging.dir.join("runs");
    fs::create_dir(&runs_dir).map_err(|error| Fatal::io("create", &runs_dir, error))?;
    let documents = staging.dir.join(DOCUMENTS_FILE);
    let mut writer = RunWriter::create(&runs_dir, &documents, config.pieces.block_postings)?;
    let progress = Progress::new(config.progress.clone(), paths.len());
    let flush_at = config.flush_at();

    // ================= THE STAGES =================
    // The one chain, for both modes: `--single-threaded` runs every
    // threadpipe stage inline (the same work in the same order, no thread),
    // and `execution::spread`, which stages 4 and 5 use to split their
    // own work, likewise. `--profile` hooks in here too.
    //
    //   stage         function               threaded mode
    //   1 read        read_document, Batches reader thread (off_thread)
    //   2 index       Scratch::index         parallel_map_init: indexer-0 + the accumulator thread
    //   3 accumulate  Accumulate             accumulator thread (off_thread)
    //   4 write runs  RunWriter::write       this thread + spread: run-writer-0
    //   5 merge       merge_runs             this thread + spread: merger-0, after the chain
    let inline = config.mode.inline();
    let profile = config.profile.as_ref();
    let off_thread = |name: &str, capacity: usize| {
        let options = OffThreadOptions::new()
            .name(name)
            .capacity(capacity)
            .inline(inline);
        profiled(options, profile, OffThreadOptions::profile)
    };
    let indexers = ParallelMapOptions::new()
        .window(INDEXER_WINDOW)
        .name("indexer")
        .inline(inline);
    let indexers = profiled(indexers, profile, ParallelMapOptions::profile);
    let documents = paths.into_iter().map(read_document).errors_to(errors);
    let indexed = Batches::new(documents, config.pieces.batch_bytes)
        .off_thread_with(off_thread("reader", READ_AHEAD))
        .parallel_map_init_with(indexers, Scratch::default, |scratch, batch| {
            let index = |document| scratch.index(document);
            batch.into_iter().map(index).collect::<Vec<_>>()
        })
        .flatten();
    let runs = Accumulate::new(indexed, flush_at, progress)
        .off_thread_with(off_thread("accumulator", 1))
        .map(|index| writer.write(index, config.mode))
        .collect::<Result<Vec<Run>, Fatal>>()?;
    let run_count = runs.len();
    let final_files = TermFiles::new(&staging.dir, "");
    merge_runs(runs, &runs_dir, &final_files, config.mode, config.pieces)?;
    // ============== END OF THE STAGES ==============

    let (documents, input_bytes) = writer.finish()?;
    if documents == 0 {
        // An index of nothing must not replace one of something.
        return Err(Fatal::NothingToIndex {
            out: config.out.clone(),
        });
    }
    fs::remove_dir(&runs_dir).map_err(|error| Fatal::io("remove", &runs_dir, error))?;
    let terms = term_count(&final_files.dictionary)?;
    staging.commit()?;
    Ok(IndexSummary {
        documents,
        input_bytes,
        terms,
        runs: run_count,
        elapsed: started.elapsed(),
    })
}

/// A stage's `options`, recording into `profile` if `--profile` made one.
///
/// The options' `profile` method (passed as `attach`) takes a `&Profile`,
/// not an `Option`, so the branch is made here, once for every kind of
/// stage, and the chain is built the same way with or without a profile.
fn profiled<O>(options: O, profile: Option<&Profile>, attach: fn(O, &Profile) -> O) -> O {
    match profile {
        Some(profile) => attach(options, profile),
        None => options,
    }
}

/// Groups documents into batches of at least `batch_bytes` of text (but
/// the last).
///
/// A source file is a small piece of work (tens of microseconds to index);
/// handing each one between threads would cost a wake-up, often a context
/// switch, per file. Batches make the hand-offs a hundred times rarer.
pub(crate) struct Batches<I> {
    documents: I,
    batch_bytes: usize,
}

impl<I> Batches<I> {
    pub(crate) fn new(documents: I, batch_bytes: usize) -> Self {
        Batches {
            documents,
            batch_bytes,
        }
    }
}

impl<I: Iterator<Item = Document>> Iterator for Batches<I> {
    type Item = Vec<Document>;

    fn next(&mut self) -> Option<Vec<Document>> {
        let mut batch = Vec::new();
        let mut bytes = 0;
        while bytes < self.batch_bytes {
            let Some(document) = self.documents.next() else {
                break;
            };
            bytes += document.text.len();
            batch.push(document);
        }
        (!batch.is_empty()).then_some(batch)
    }
}

/// Batches read ahead of the indexers: enough that they never wait for the
/// reader, few enough to keep memory small.
const READ_AHEAD: usize = 4;

/// Batches being indexed or waiting for their turn to be accumulated: one
/// per thread and some room for batches that take longer than others.
const INDEXER_WINDOW: usize = 8;

fn term_count(dictionary: &Path) -> Result<u64, Fatal> {
    let len = fs::metadata(dictionary)
        .map_err(|error| Fatal::io("read", dictionary, error))?
        .len();
    Ok((len - MAGIC_LEN) / TermRecord::SIZE as u64)
}

/// Stage 4: writes each full in-memory index as a numbered run, and the
/// documents table as the documents come.
struct RunWriter {
    dir: PathBuf,
    written: usize,
    documents: DocumentsWriter,
    input_bytes: u64,
    block_postings: u32,
}

impl RunWriter {
    fn create(dir: &Path, documents: &Path, block_postings: u32) -> Result<Self, Fatal> {
        Ok(RunWriter {
            dir: dir.to_owned(),
            written: 0,
            documents: DocumentsWriter::create(documents)?,
            input_bytes: 0,
            block_postings,
        })
    }

    /// Sorts `index` and writes it as a run, unless it is the last one,
    /// which stage 5 merges from memory.
    fn write(&mut self, index: InMemoryIndex, mode: Mode) -> Result<Run, Fatal> {
        for path in &index.documents {
            self.documents.add(path)?;
        }
        self.input_bytes += index.input_bytes;
        let last = index.is_last();
        let sorted = index.sort();
        if last {
            return Ok(Run::InMemory(sorted));
        }
        self.written += 1;
        let files = TermFiles::new(&self.dir, &format!("run{:06}.", self.written));
        let mut writer = TermWriter::create(files)?;
        sorted.write(&mut writer, mode, self.block_postings)?;
        Ok(Run::OnDisk(writer.finish()?))
    }

    /// Completes the documents table; returns the documents and bytes indexed.
    fn finish(self) -> Result<(u64, u64), Fatal> {
        Ok((self.documents.finish()?, self.input_bytes))
    }
}
