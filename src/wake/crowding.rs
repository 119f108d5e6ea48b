//! Whether the process has more busy threadpipe threads than cores: then a
//! thread that waits should yield its core rather than spin on it.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Worker threads of every threadpipe stage that are alive and not asleep
/// on a bell.
static AWAKE_WORKERS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread is a threadpipe worker (see [`Worker`]).
    static IS_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Counts the calling thread as an awake worker until it is dropped.
#[derive(Debug)]
pub(crate) struct Worker(());

impl Worker {
    pub(crate) fn enter() -> Self {
        IS_WORKER.with(|is| is.set(true));
        AWAKE_WORKERS.fetch_add(1, Ordering::Relaxed);
        Worker(())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        AWAKE_WORKERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// While alive, the calling thread, if it is a worker, does not count as
/// awake: it sleeps on a bell and needs no core.
#[derive(Debug)]
pub(crate) struct Asleep(bool);

impl Asleep {
    pub(crate) fn enter() -> Self {
        let worker = IS_WORKER.with(Cell::get);
        if worker {
            AWAKE_WORKERS.fetch_sub(1, Ordering::Relaxed);
        }
        Asleep(worker)
    }
}

impl Drop for Asleep {
    fn drop(&mut self) {
        if self.0 {
            AWAKE_WORKERS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Whether the awake workers and a consumer are more than the cores, so
/// that some of them wait for a core whenever all are busy. (Consumers are
/// the callers' threads, which threadpipe does not count; one is assumed.)
pub(crate) fn crowded() -> bool {
    static CORES: OnceLock<usize> = OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    AWAKE_WORKERS.load(Ordering::Relaxed) >= cores
}
