//! Stage profiling: which stage of a pipeline limits its throughput. The
//! public face of the figures [`crate::stats`] records; how to read them is
//! on [`ProfileReport`].

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::stats::{Recorder, StageFigures};
use crate::sync::Lock as _;

/// Collects the figures of every stage it is given to.
///
/// Give the same `Profile` to each stage of a pipeline, through
/// [`OffThreadOptions::profile`](crate::OffThreadOptions::profile) or
/// [`ParallelMapOptions::profile`](crate::ParallelMapOptions::profile), in
/// the order the chain is written (upstream first), then print its
/// [`report`](Profile::report); [`ProfileReport`] says how to read it.
/// Cloning a `Profile` gives another handle to the same figures.
///
/// Each stage counts the items it delivers and times its waits, and only
/// its waits (and a `parallel_map` consumer's help): a stage's fast path
/// costs one branch and one counter update per item more than without a
/// profile, which `benches/README.md` measures as within the noise.
///
/// # Examples
///
/// ```
/// use threadpipe::prelude::*;
/// use threadpipe::{OffThreadOptions, Profile};
///
/// let profile = Profile::new();
/// let total: u64 = (0..10_000u64)
///     .off_thread_with(OffThreadOptions::new().name("numbers").profile(&profile))
///     .map(|n| n * 2)
///     .sum();
/// assert_eq!(total, 99_990_000);
///
/// let report = profile.report();
/// assert_eq!(report.stages()[0].items(), 10_000);
/// println!("{report}"); // a table, and which stage limited the run
/// ```
#[derive(Clone, Debug, Default)]
pub struct Profile {
    stages: Arc<Mutex<Vec<Arc<StageFigures>>>>,
}

impl Profile {
    /// An empty profile, to be given to the stages of one pipeline.
    ///
    /// # Examples
    ///
    /// ```
    /// let profile = threadpipe::Profile::new();
    /// assert!(profile.report().stages().is_empty());
    /// ```
    pub fn new() -> Self {
        Profile::default()
    }

    /// Adds a stage; called as each profiled stage is built.
    pub(crate) fn register(&self, name: &str, threads: usize) -> Recorder {
        let stats = Arc::new(StageFigures::new(name, threads));
        self.stages.locked().push(Arc::clone(&stats));
        Recorder::recording_to(stats)
    }

    /// The figures so far, one row per stage in the order they were built.
    ///
    /// Can be taken while the pipeline runs; a stage still running counts its
    /// time up to now.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::{ParallelMapOptions, Profile};
    ///
    /// let profile = Profile::new();
    /// let options = ParallelMapOptions::new().name("square").profile(&profile);
    /// let squares: Vec<u64> = (0..100u64).parallel_map_with(options, |n| n * n).collect();
    /// assert_eq!(squares.len(), 100);
    /// let report = profile.report();
    /// assert_eq!(report.stages()[0].name(), "square");
    /// assert!(report.limiting_stage().is_some());
    /// ```
    pub fn report(&self) -> ProfileReport {
        let stages = self.stages.locked();
        ProfileReport {
            stages: stages.iter().map(|stats| StageReport::of(stats)).collect(),
        }
    }
}

/// The figures of one stage: one row of a [`ProfileReport`], which says
/// what each means and how to read them together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageReport {
    name: String,
    threads: usize,
    items: u64,
    elapsed: Duration,
    active: Duration,
    output_full: Duration,
    input_empty: Duration,
    helped: Duration,
}

impl StageReport {
    fn of(stats: &StageFigures) -> Self {
        let snapshot = stats.snapshot();
        StageReport {
            name: stats.name.clone(),
            threads: stats.threads,
            items: snapshot.items,
            elapsed: snapshot.elapsed,
            active: snapshot.worker_time,
            output_full: snapshot.output_full,
            input_empty: snapshot.input_empty,
            helped: snapshot.helped,
        }
    }
}

impl StageReport {
    /// The stage's name, as given in its options.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many worker threads the stage has.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many items the stage has delivered to its consumer.
    pub fn items(&self) -> u64 {
        self.items
    }

    /// From the stage's first `next()` until its end (or until now).
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// How long the stage's worker threads ran, added up; a thread still
    /// running counts only once it has finished.
    pub fn worker_time(&self) -> Duration {
        self.active
    }

    /// Time the stage's workers, added up, spent waiting because its output
    /// was full: the code after the stage could not keep up.
    pub fn waited_output_full(&self) -> Duration {
        self.output_full
    }

    /// Time the stage's consumer spent waiting because the stage had nothing
    /// ready: the stage, or the code before it, could not keep up.
    pub fn waited_input_empty(&self) -> Duration {
        self.input_empty
    }

    /// Time the stage's consumer spent running the stage's own work: a
    /// `parallel_map` consumer runs `f` while it would otherwise wait for a
    /// result. This time counts as the stage's work, not the consumer's.
    pub fn consumer_helped(&self) -> Duration {
        self.helped
    }
}

/// What a [`Profile`] found: one row per stage, and which one limited the run.
///
/// Its `Display` is a table. Each row is a group of threads between two
/// hand-offs: the row of stage `reader` is the thread(s) `reader` started,
/// which run the code *above* it in the chain, back to the stage before;
/// the last row, `consumer of ...`, is the thread that pulls the last
/// stage (usually yours). The columns:
///
/// | column | what it counts (the [`StageReport`] method) |
/// |---|---|
/// | `items` | items the stage handed to its consumer ([`items`](StageReport::items)) |
/// | `elapsed` | from the stage's first `next()` to its end, or to now ([`elapsed`](StageReport::elapsed)) |
/// | `worker time` | the stage's worker threads' lifetimes, added up ([`worker_time`](StageReport::worker_time)) |
/// | `output full` | time its workers waited because the consumer had not taken their items yet: what comes after the stage is slower ([`waited_output_full`](StageReport::waited_output_full)) |
/// | `input empty` | time its consumer waited because nothing was ready: this stage, or one before it, is slower ([`waited_input_empty`](StageReport::waited_input_empty)) |
/// | `helped` | time a `parallel_map` stage's consumer spent running `f` itself, while it would otherwise have waited; it counts as the stage's work ([`consumer_helped`](StageReport::consumer_helped)) |
/// | `busy` | the share of the group's time spent working: its threads' time, less the time they waited on either side, over `elapsed` times the number of threads (the help included on both sides) |
///
/// The last line names the busiest group: the one that [`limits`](ProfileReport::limiting_stage)
/// the pipeline, and the one to make faster (or to give more threads).
///
/// # Reading a report
///
/// fingertips (`cargo run --release -p fingertips -- index --profile
/// PATH`) indexing the Linux sources on a 2-core machine:
///
/// ```text
/// threads                           items    elapsed  worker time  output full  input empty       helped   busy
/// reader (1 thread)                   656    613.9ms      611.8ms      474.4ms      100.0ms        0.0ns    22%
/// indexer (1 thread)                  656    617.4ms      616.5ms        0.0ns       34.1ms      394.8ms    90%
/// accumulator (1 thread)                3    623.1ms      619.5ms        0.0ns      421.4ms        0.0ns    31%
/// consumer of accumulator                                                                                   32%
/// limited by: indexer
/// ```
///
/// The reader spent 474 ms of its 614 waiting for room (`output full`):
/// reading does not hold the pipeline up. The indexer's worker never
/// waited, and its consumer, the accumulator's thread, ran `f` itself for
/// 395 ms (`helped`): indexing kept about two threads busy, 90% of the
/// time, so it is the limit. The accumulator's thread spent the rest of its
/// time merging (31% busy); the main thread, which writes the merged runs,
/// waited 421 ms for them (the accumulator's `input empty`). Faster
/// indexing, or more cores, would make the run faster; a faster reader or
/// a faster merge would not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileReport {
    stages: Vec<StageReport>,
}

/// One group of threads between two hand-offs, and how busy it was.
struct Segment<'a> {
    label: String,
    busy: f64,
    report: Option<&'a StageReport>,
}

impl ProfileReport {
    /// The stages, upstream first.
    pub fn stages(&self) -> &[StageReport] {
        &self.stages
    }

    /// Each group of threads between two hand-offs, with the share of the
    /// stage's time it spent working rather than waiting or already gone.
    ///
    /// The threads of stage `k` run the code between stage `k - 1` and stage
    /// `k`: they wait when stage `k`'s output is full and when stage `k - 1`
    /// has nothing ready. The last group is the consumer of the last stage.
    fn segments(&self) -> Vec<Segment<'_>> {
        let mut segments = Vec::with_capacity(self.stages.len() + 1);
        let mut waited_for_input = Duration::ZERO;
        for stage in &self.stages {
            // The consumer's help is extra capacity the stage used.
            let capacity =
                stage.elapsed.as_secs_f64() * stage.threads as f64 + stage.helped.as_secs_f64();
            let worked = stage
                .active
                .saturating_sub(stage.output_full + waited_for_input)
                + stage.helped;
            segments.push(Segment {
                label: format!(
                    "{} ({} thread{})",
                    stage.name,
                    stage.threads,
                    plural(stage.threads)
                ),
                busy: busy_share(capacity, worked.as_secs_f64()),
                report: Some(stage),
            });
            // Its consumer was not doing its own work while it waited, nor
            // while it helped.
            waited_for_input = stage.input_empty + stage.helped;
        }
        if let Some(last) = self.stages.last() {
            let worked = last.elapsed.saturating_sub(waited_for_input);
            segments.push(Segment {
                label: format!("consumer of {}", last.name),
                busy: busy_share(last.elapsed.as_secs_f64(), worked.as_secs_f64()),
                report: None,
            });
        }
        segments
    }

    /// The name of the group of threads that was busiest, and so limited
    /// the pipeline: a stage's name, or `consumer of <last stage>`.
    ///
    /// `None` when no profiled stage has started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadpipe::prelude::*;
    /// use threadpipe::{OffThreadOptions, Profile};
    ///
    /// let profile = Profile::new();
    /// let slow_source = (0..200).inspect(|_| std::thread::sleep(std::time::Duration::from_micros(200)));
    /// let total: i32 = slow_source
    ///     .off_thread_with(OffThreadOptions::new().name("slow source").profile(&profile))
    ///     .sum();
    /// assert_eq!(total, 19_900);
    /// // The consumer waited for the source nearly all the time.
    /// assert_eq!(profile.report().limiting_stage().as_deref(), Some("slow source"));
    /// ```
    pub fn limiting_stage(&self) -> Option<String> {
        if self.stages.iter().all(|stage| stage.elapsed.is_zero()) {
            return None;
        }
        let segments = self.segments();
        let busiest = segments.iter().max_by(|a, b| a.busy.total_cmp(&b.busy))?;
        Some(match busiest.report {
            Some(stage) => stage.name.clone(),
            None => busiest.label.clone(),
        })
    }
}

/// The share of `capacity` (thread-seconds) spent working.
fn busy_share(capacity: f64, worked: f64) -> f64 {
    if capacity <= 0.0 {
        0.0
    } else {
        (worked / capacity).clamp(0.0, 1.0)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl fmt::Display for ProfileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<28} {:>10} {:>10} {:>12} {:>12} {:>12} {:>12} {:>6}",
            "threads",
            "items",
            "elapsed",
            "worker time",
            "output full",
            "input empty",
            "helped",
            "busy"
        )?;
        for segment in self.segments() {
            let columns = segment.report.map(|stage| {
                (
                    stage.items.to_string(),
                    format!("{:.1?}", stage.elapsed),
                    format!("{:.1?}", stage.active),
                    format!("{:.1?}", stage.output_full),
                    format!("{:.1?}", stage.input_empty),
                    format!("{:.1?}", stage.helped),
                )
            });
            let (items, elapsed, active, full, empty, helped) = columns.unwrap_or_default();
            writeln!(
                f,
                "{:<28} {items:>10} {elapsed:>10} {active:>12} {full:>12} {empty:>12} {helped:>12} {:>5.0}%",
                segment.label,
                segment.busy * 100.0
            )?;
        }
        match self.limiting_stage() {
            Some(name) => write!(f, "limited by: {name}"),
            None => write!(f, "limited by: (nothing has run yet)"),
        }
    }
}
