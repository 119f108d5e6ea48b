//! The figures a profiled stage records as it runs, behind a handle that
//! costs one branch per call when no [`Profile`](crate::Profile) was given.
//!
//! Only waits are timed, and only when they happen; the fast path of a
//! hand-off counts delivered items with a plain load and store, since one
//! consumer counts at a time. [`crate::profile`] turns these figures into
//! the public report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The live figures of one stage, shared by its threads and its profile.
#[derive(Debug)]
pub(crate) struct StageFigures {
    pub(crate) name: String,
    pub(crate) threads: usize,
    items: AtomicU64,
    /// Worker threads' lifetimes, added up.
    worker_nanos: AtomicU64,
    /// Time the consumer spent running the stage's own work (a
    /// `parallel_map` consumer that helps), which belongs to the stage.
    helped_nanos: AtomicU64,
    output_full_nanos: AtomicU64,
    input_empty_nanos: AtomicU64,
    started: OnceLock<Instant>,
    ended: OnceLock<Instant>,
}

/// What [`StageFigures`] held when it was read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot {
    pub(crate) items: u64,
    pub(crate) elapsed: Duration,
    pub(crate) worker_time: Duration,
    pub(crate) helped: Duration,
    pub(crate) output_full: Duration,
    pub(crate) input_empty: Duration,
}

impl StageFigures {
    pub(crate) fn new(name: &str, threads: usize) -> Self {
        StageFigures {
            name: name.to_owned(),
            threads,
            items: AtomicU64::new(0),
            worker_nanos: AtomicU64::new(0),
            helped_nanos: AtomicU64::new(0),
            output_full_nanos: AtomicU64::new(0),
            input_empty_nanos: AtomicU64::new(0),
            started: OnceLock::new(),
            ended: OnceLock::new(),
        }
    }

    /// The figures as of now; a stage still running counts up to now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let elapsed = match (self.started.get(), self.ended.get()) {
            (Some(started), Some(ended)) => ended.saturating_duration_since(*started),
            (Some(started), None) => started.elapsed(),
            (None, _) => Duration::ZERO,
        };
        let read = |nanos: &AtomicU64| Duration::from_nanos(nanos.load(Ordering::Relaxed));
        Snapshot {
            items: self.items.load(Ordering::Relaxed),
            elapsed,
            worker_time: read(&self.worker_nanos),
            helped: read(&self.helped_nanos),
            output_full: read(&self.output_full_nanos),
            input_empty: read(&self.input_empty_nanos),
        }
    }
}

/// The time now, on targets that have a clock: std's `Instant` panics on
/// `wasm32-unknown-unknown`, where a profile then counts items but times
/// nothing.
fn now() -> Option<Instant> {
    if cfg!(all(target_arch = "wasm32", target_os = "unknown")) {
        None
    } else {
        Some(Instant::now())
    }
}

/// A stage's handle on its figures: every method does nothing when the
/// stage is not profiled.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Option<Arc<Rows>>);

/// The rows a stage records to: its own, if profiled, and those of the
/// stages fused into it (see [`Recorder::with_upstream`]).
struct Rows {
    own: Option<Arc<StageFigures>>,
    /// Rows that count the stage's items, its start and its end, and no
    /// time: a fused stage's items each passed through them.
    upstream: Vec<Arc<StageFigures>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "profiled" } else { "off" })
    }
}

impl Recorder {
    /// A handle that records nothing.
    pub(crate) fn off() -> Self {
        Recorder(None)
    }

    pub(crate) fn recording_to(stats: Arc<StageFigures>) -> Self {
        Recorder(Some(Arc::new(Rows {
            own: Some(stats),
            upstream: Vec::new(),
        })))
    }

    /// This stage's handle, also counting items, start and end in the rows
    /// of `upstream`: stages fused into this one, whose items all pass
    /// through it.
    pub(crate) fn with_upstream(self, upstream: Recorder) -> Self {
        let mut rows: Vec<Arc<StageFigures>> = Vec::new();
        if let Some(up) = upstream.0 {
            rows.extend(up.upstream.iter().cloned());
            rows.extend(up.own.clone());
        }
        let own = self.0.and_then(|mine| {
            rows.extend(mine.upstream.iter().cloned());
            mine.own.clone()
        });
        if own.is_none() && rows.is_empty() {
            return Recorder::off();
        }
        Recorder(Some(Arc::new(Rows {
            own,
            upstream: rows,
        })))
    }

    fn own(&self) -> Option<&StageFigures> {
        self.0.as_ref().and_then(|rows| rows.own.as_deref())
    }

    fn each(&self, mut f: impl FnMut(&StageFigures)) {
        if let Some(rows) = &self.0 {
            rows.own.iter().chain(&rows.upstream).for_each(|row| f(row));
        }
    }

    /// The current time, if anything will be timed: pass it back to one of
    /// the `waited_*` methods once the wait is over.
    #[inline]
    pub(crate) fn clock(&self) -> Option<Instant> {
        self.own().and_then(|_| now())
    }

    /// The stage's first `next()`.
    pub(crate) fn start(&self) {
        if let Some(now) = now() {
            self.each(|stats| {
                let _ = stats.started.set(now);
            });
        }
    }

    /// The stage has ended or been dropped; later calls change nothing.
    pub(crate) fn end(&self) {
        if let Some(now) = now() {
            self.each(|stats| {
                let _ = stats.ended.set(now);
            });
        }
    }

    /// Counts delivered items. Only the stage's consumer counts, one thread
    /// at a time, so a load and a store do: no locked add on every item.
    #[inline]
    pub(crate) fn delivered(&self, items: usize) {
        if self.0.is_some() {
            self.each(|stats| {
                let counted = stats.items.load(Ordering::Relaxed);
                stats
                    .items
                    .store(counted.wrapping_add(items as u64), Ordering::Relaxed);
            });
        }
    }

    /// A worker thread that began at `since` is leaving.
    #[inline]
    pub(crate) fn worker_done(&self, since: Option<Instant>) {
        self.add_since(since, |stats| &stats.worker_nanos);
    }

    /// The consumer ran the stage's work itself since `since`.
    #[inline]
    pub(crate) fn helped(&self, since: Option<Instant>) {
        self.add_since(since, |stats| &stats.helped_nanos);
    }

    /// A worker waited, since `since`, because the stage's output was full.
    #[inline]
    pub(crate) fn waited_output_full(&self, since: Option<Instant>) {
        self.add_since(since, |stats| &stats.output_full_nanos);
    }

    /// The consumer waited, since `since`, because nothing was ready.
    #[inline]
    pub(crate) fn waited_input_empty(&self, since: Option<Instant>) {
        self.add_since(since, |stats| &stats.input_empty_nanos);
    }

    #[inline]
    fn add_since(&self, since: Option<Instant>, total: impl Fn(&StageFigures) -> &AtomicU64) {
        if let (Some(stats), Some(since)) = (self.own(), since) {
            let nanos = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
            total(stats).fetch_add(nanos, Ordering::Relaxed);
        }
    }
}
