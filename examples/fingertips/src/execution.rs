//! How the work runs: on threads or inline ([`Mode`]), cut into pieces of
//! what size ([`Pieces`]), and how stages 4 and 5 split their own work over
//! the cores ([`spread`]). The pipeline and the stages that split their
//! work both read these; this module imports none of them.

use std::thread;

use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

use crate::errors::Fatal;

/// How the stages run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Reader, indexers, accumulator and writer on threads of their own.
    Threaded,
    /// The same chain, every stage inline on this thread (threadpipe's
    /// `inline` option): the same work in the same order, no thread.
    SingleThreaded,
}

impl Mode {
    /// Whether threadpipe's stages run inline.
    pub(crate) fn inline(self) -> bool {
        self == Mode::SingleThreaded
    }
}

/// How the work is cut into pieces: sizes that change the speed and the
/// memory, never a byte of the index. Tests shrink them to reach every
/// boundary with small inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pieces {
    /// Text per batch of documents handed to an indexer.
    pub(crate) batch_bytes: usize,
    /// Postings per block when an in-memory index is written.
    pub(crate) block_postings: u32,
    /// Postings bytes per partition of a merge.
    pub(crate) partition_bytes: u64,
    /// Runs merged at once.
    pub(crate) fan_in: usize,
}

impl Default for Pieces {
    fn default() -> Self {
        Pieces {
            // Big enough to make hand-offs between threads rare (a file is
            // tens of microseconds of work), small enough that the last few
            // batches still keep every core busy.
            batch_bytes: 256 << 10,
            block_postings: 1 << 16,
            partition_bytes: 1 << 20,
            // Three open files per run, per partition being merged at a
            // time: well under the usual limit of 1024.
            fan_in: 32,
        }
    }
}

/// Runs `work` on each of `items` and hands the results, in order, to
/// `sink`: on a pool of threads named `name` in the threaded mode, inline
/// otherwise. Stages 4 and 5 split their work with it.
pub(crate) fn spread<T, U, W, S>(
    mode: Mode,
    name: &str,
    items: Vec<T>,
    work: W,
    mut sink: S,
) -> Result<(), Fatal>
where
    T: Send,
    U: Send,
    W: Fn(T) -> Result<U, Fatal> + Send + Sync,
    S: FnMut(U) -> Result<(), Fatal>,
{
    thread::scope(|scope| {
        // A small window: each result is a block of the output in memory.
        let options = ParallelMapOptions::new()
            .window(4)
            .name(name)
            .inline(mode.inline());
        items
            .into_iter()
            .parallel_map_scoped_with(scope, options, work)
            .try_for_each(|done| sink(done?))
    })
}
