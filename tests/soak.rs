//! The randomized soak: random pipelines (chains of `off_thread`,
//! `parallel_map` in every mode, `errors_to` and plain `map`s, over sources
//! that block, stall, wait for the consumer or panic) run side by side on
//! the shared threads, each checked against the sequential chain, until
//! the time is up. Every check of the contract is made on every pipeline:
//! order and completeness, a panic after every earlier item with its own
//! payload, early drops that return, and, once a pipeline is gone, no item
//! alive and no closure running.
//!
//! `cargo test --release --test soak -- --ignored --nocapture` runs each
//! soak for a few seconds (`THREADPIPE_SOAK_SECS` says how many;
//! `THREADPIPE_SOAK_THREADS`, how many pipelines run side by side), and
//! prints how many pipelines, items, panics and early drops it checked.
//! Both are ignored by default while a rare hang is open (see their
//! docs). A failure prints the seed that replays it:
//! `THREADPIPE_SOAK_SEED=<seed>` runs that one pipeline alone. With
//! `THREADPIPE_HOLD_HUNG_TESTS=1`, a hung pipeline's process waits ten
//! minutes before it exits, for a debugger to look at its threads.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// Seconds to soak for when `THREADPIPE_SOAK_SECS` does not say.
const DEFAULT_SECS: u64 = 3;

/// How long a pipeline may take, or its items stay alive after it has gone,
/// before the soak calls it hung.
const PIPELINE_DEADLINE: Duration = Duration::from_secs(30);

/// A small deterministic generator, so that a seed replays a pipeline.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

/// What the soak counts of every pipeline's items and closures, to check
/// that nothing outlives a pipeline.
#[derive(Default)]
struct Census {
    items_alive: AtomicUsize,
    closures_running: AtomicUsize,
}

/// An item: where it came from (its index in the source), its value so
/// far, and a token that counts it alive.
struct Item {
    index: usize,
    value: u64,
    _alive: Counted,
}

/// One of the census's counts, raised while this lives (panics included).
struct Counted {
    census: Arc<Census>,
    count: fn(&Census) -> &AtomicUsize,
}

impl Counted {
    fn new(census: &Arc<Census>, count: fn(&Census) -> &AtomicUsize) -> Self {
        count(census).fetch_add(1, Ordering::SeqCst);
        Counted {
            census: Arc::clone(census),
            count,
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.count)(&self.census).fetch_sub(1, Ordering::SeqCst);
    }
}

/// The payload of every panic the soak plants: the index of the item (or
/// of the source's call) it was planted at.
#[derive(Debug, PartialEq)]
struct Planted(usize);

#[derive(Clone, Copy, Debug)]
enum Source {
    /// Items as fast as they are pulled.
    Ready,
    /// Sleeps a little before some items.
    Stalls,
    /// Items fed through a channel by a thread of the soak, with pauses.
    Channel,
    /// Each item only after the consumer has received the one before:
    /// holding back a produced item would deadlock.
    WaitsForTheConsumer,
}

#[derive(Clone, Copy, Debug)]
enum Stage {
    Map,
    OffThread {
        capacity: usize,
    },
    ParallelMap {
        threads: usize,
        window: usize,
        completion_order: bool,
        init: bool,
        nested: bool,
    },
    /// Items whose value is a multiple of 5 become errors, sent aside.
    ErrorsTo,
}

#[derive(Clone, Copy, Debug)]
enum Panic {
    /// The source panics instead of making the item at this index.
    InSource(usize),
    /// The stage at `stage` panics on the item at `index`.
    InStage { stage: usize, index: usize },
}

/// Which pipelines a soak draws from.
#[derive(Clone, Copy, Debug)]
struct Mix {
    /// `parallel_map` stages per pipeline, nested ones included.
    most_pools: usize,
    /// Sources that wait for the consumer.
    waiting_sources: bool,
}

impl Mix {
    /// What `cargo test` soaks: every adapter, source and mode, with at
    /// most one `parallel_map` per pipeline.
    const ONE_POOL: Mix = Mix {
        most_pools: 1,
        waiting_sources: false,
    };
    /// Everything: chains of `parallel_map`s, nesting, sources that wait.
    const EVERYTHING: Mix = Mix {
        most_pools: usize::MAX,
        waiting_sources: true,
    };
}

#[derive(Debug)]
struct Plan {
    seed: u64,
    len: usize,
    source: Source,
    stages: Vec<Stage>,
    panic: Option<Panic>,
    /// Items the consumer takes before it drops the pipeline (`None`: all).
    take: Option<usize>,
}

impl Plan {
    fn new(seed: u64, mix: Mix) -> Self {
        let mut rng = Rng(seed);
        let len = match rng.below(4) {
            0 => rng.below(4) as usize,
            1 | 2 => rng.below(300) as usize,
            _ => rng.below(3_000) as usize,
        };
        let source = match rng.below(6) {
            0 => Source::Stalls,
            1 => Source::Channel,
            2 if mix.waiting_sources => Source::WaitsForTheConsumer,
            _ => Source::Ready,
        };
        let stages: Vec<Stage> = (0..1 + rng.below(4))
            .map(|_| match rng.below(6) {
                0 => Stage::Map,
                1 => Stage::ErrorsTo,
                2 => Stage::OffThread {
                    capacity: 1 + rng.below(64) as usize,
                },
                _ => Stage::ParallelMap {
                    threads: 1 + rng.below(4) as usize,
                    window: 1 + rng.below(32) as usize,
                    completion_order: rng.chance(4),
                    init: rng.chance(3),
                    nested: rng.chance(8),
                },
            })
            .collect();
        let mut pools = 0;
        let stages = stages
            .into_iter()
            .map(|stage| match stage {
                Stage::ParallelMap { nested, .. } => {
                    pools += 1 + usize::from(nested);
                    if pools > mix.most_pools {
                        pools -= 1 + usize::from(nested);
                        Stage::OffThread { capacity: 4 }
                    } else {
                        stage
                    }
                }
                other => other,
            })
            .collect::<Vec<_>>();
        // A panic's place in the order is defined only while every stage
        // keeps the order; completion order is soaked without panics.
        let ordered = !stages.iter().any(|stage| {
            matches!(
                stage,
                Stage::ParallelMap {
                    completion_order: true,
                    ..
                }
            )
        });
        let panic = (ordered && len > 0 && rng.chance(3)).then(|| {
            let index = rng.below(len as u64) as usize;
            if rng.chance(3) {
                Panic::InSource(index)
            } else {
                Panic::InStage {
                    stage: rng.below(stages.len() as u64) as usize,
                    index,
                }
            }
        });
        let take = rng.chance(3).then(|| rng.below(len as u64 + 2) as usize);
        Plan {
            seed,
            len,
            source,
            stages,
            panic,
            take,
        }
    }

    fn ordered(&self) -> bool {
        self.panic.is_some()
            || !self.stages.iter().any(|stage| {
                matches!(
                    stage,
                    Stage::ParallelMap {
                        completion_order: true,
                        ..
                    }
                )
            })
    }
}

/// What stage `stage` does to a value: distinct per stage, so that a
/// skipped or repeated stage shows.
fn step(stage: usize, value: u64) -> u64 {
    value.wrapping_mul(31).wrapping_add(stage as u64 + 7)
}

/// What the sequential chain does.
struct Expected {
    /// The values it yields.
    values: Vec<u64>,
    /// The index its panic is planted at, if it panics.
    panic: Option<usize>,
    /// For each index of the source, how many items the consumer has
    /// received before the source makes it (a source that waits for the
    /// consumer waits for that many answers).
    received_before: Vec<usize>,
}

fn expected(plan: &Plan) -> Expected {
    let mut out = Vec::new();
    let mut before = Vec::with_capacity(plan.len);
    for index in 0..plan.len {
        before.push(out.len());
        if matches!(plan.panic, Some(Panic::InSource(at)) if at == index) {
            return Expected {
                values: out,
                panic: Some(index),
                received_before: before,
            };
        }
        let mut value = index as u64;
        let mut dropped = false;
        for (stage, kind) in plan.stages.iter().enumerate() {
            if matches!(plan.panic, Some(Panic::InStage { stage: s, index: i }) if s == stage && i == index)
            {
                if matches!(kind, Stage::ErrorsTo) && value.is_multiple_of(5) {
                    // The error went aside before the closure could panic.
                    dropped = true;
                    break;
                }
                return Expected {
                    values: out,
                    panic: Some(index),
                    received_before: before,
                };
            }
            match kind {
                Stage::ErrorsTo if value.is_multiple_of(5) => {
                    dropped = true;
                    break;
                }
                Stage::ErrorsTo | Stage::OffThread { .. } => {}
                Stage::Map | Stage::ParallelMap { .. } => value = step(stage, value),
            }
        }
        if !dropped {
            out.push(value);
        }
    }
    Expected {
        values: out,
        panic: None,
        received_before: before,
    }
}

type Chain = Box<dyn Iterator<Item = Item> + Send>;

/// The plan as a chain, and the consumer's side of the source (what keeps
/// a waiting source going), if it has one.
fn build(
    plan: &Plan,
    received_before: &[usize],
    census: &Arc<Census>,
) -> (Chain, Option<mpsc::Sender<()>>) {
    let panic = plan.panic;
    let (len, seed) = (plan.len, plan.seed);
    let make = {
        let census = Arc::clone(census);
        move |index: usize| {
            if matches!(panic, Some(Panic::InSource(at)) if at == index) {
                std::panic::panic_any(Planted(index));
            }
            Item {
                index,
                value: index as u64,
                _alive: Counted::new(&census, |census| &census.items_alive),
            }
        }
    };
    let mut answers = None;
    let mut chain: Chain = match plan.source {
        Source::Ready => Box::new((0..len).map(make)),
        Source::Stalls => Box::new((0..len).map(move |index| {
            if Rng(seed ^ index as u64).chance(50) {
                std::thread::sleep(Duration::from_millis(2));
            }
            make(index)
        })),
        Source::Channel => {
            let (sender, receiver) = mpsc::sync_channel(4);
            std::thread::spawn(move || {
                for index in 0..len {
                    if Rng(seed ^ index as u64).chance(40) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    if sender.send(index).is_err() {
                        return;
                    }
                }
            });
            Box::new(receiver.into_iter().map(make))
        }
        Source::WaitsForTheConsumer => {
            let (answer, answers_received) = mpsc::channel::<()>();
            answers = Some(answer);
            let received_before = received_before.to_vec();
            let (mut index, mut answered) = (0, 0);
            Box::new(std::iter::from_fn(move || {
                if index >= len {
                    return None;
                }
                // Items filtered out on the way get no answer; past a
                // planted panic, none is waited for (the consumer stops).
                let due = received_before.get(index).copied().unwrap_or(0);
                while answered < due {
                    if answers_received.recv().is_err() {
                        return None; // the consumer has gone
                    }
                    answered += 1;
                }
                index += 1;
                Some(make(index - 1))
            }))
        }
    };
    for (at, kind) in plan.stages.iter().copied().enumerate() {
        let census = Arc::clone(census);
        let work = move |mut item: Item| {
            let _running = Counted::new(&census, |census| &census.closures_running);
            if matches!(panic, Some(Panic::InStage { stage, index }) if stage == at && index == item.index)
            {
                std::panic::panic_any(Planted(item.index));
            }
            item.value = step(at, item.value);
            item
        };
        chain = match kind {
            Stage::Map => Box::new(chain.map(work)),
            Stage::OffThread { capacity } => Box::new(
                chain
                    .inspect(move |item| {
                        // A stage with nothing to do but move items: its
                        // panic is planted in the chain it moves.
                        if matches!(panic, Some(Panic::InStage { stage, index }) if stage == at && index == item.index)
                        {
                            std::panic::panic_any(Planted(item.index));
                        }
                    })
                    .off_thread_with(OffThreadOptions::new().capacity(capacity)),
            ),
            Stage::ErrorsTo => {
                let (sender, errors) = mpsc::channel();
                // Drained by a thread of its own, as an error log would be.
                std::thread::spawn(move || errors.into_iter().for_each(drop::<Item>));
                Box::new(
                    chain
                        .map(move |item| {
                            if item.value.is_multiple_of(5) { Err(item) } else { Ok(item) }
                        })
                        .errors_to(sender)
                        .inspect(move |item| {
                            if matches!(panic, Some(Panic::InStage { stage, index }) if stage == at && index == item.index)
                            {
                                std::panic::panic_any(Planted(item.index));
                            }
                        }),
                )
            }
            Stage::ParallelMap {
                threads,
                window,
                completion_order,
                init,
                nested,
            } => {
                let mut options = ParallelMapOptions::new().threads(threads).window(window);
                if completion_order {
                    options = options.in_completion_order();
                }
                let work = move |item: Item| {
                    if nested {
                        // A pipeline inside the closure: its result must be
                        // what the sequential sum is.
                        let inner: u64 = (0..item.index as u64 % 50)
                            .parallel_map_with(ParallelMapOptions::new().threads(threads), |n| n)
                            .sum();
                        assert_eq!(inner, (0..item.index as u64 % 50).sum::<u64>());
                    }
                    work(item)
                };
                if init {
                    Box::new(chain.parallel_map_init_with(
                        options,
                        || 0u64,
                        move |made: &mut u64, item| {
                            *made += 1;
                            work(item)
                        },
                    ))
                } else {
                    Box::new(chain.parallel_map_with(options, work))
                }
            }
        };
    }
    (chain, answers)
}

/// What one pipeline did, for the soak's figures.
#[derive(Default)]
struct Tally {
    pipelines: usize,
    items: usize,
    panics: usize,
    early_drops: usize,
}

/// Runs one plan and checks it; the failure, said in words, if any.
fn run(plan: &Plan, tally: &mut Tally) -> Result<(), String> {
    let census = Arc::new(Census::default());
    let expected = expected(plan);
    let (want, want_panic) = (expected.values.as_slice(), expected.panic);
    let (mut chain, answers) = build(plan, &expected.received_before, &census);
    let mut got = Vec::new();
    let limit = plan.take.unwrap_or(usize::MAX);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        while got.len() < limit {
            let Some(item) = chain.next() else { break };
            got.push(item.value);
            drop(item);
            if let Some(answers) = &answers {
                let _ = answers.send(());
            }
        }
    }));
    let dropping = Instant::now();
    drop(answers);
    drop(chain);
    let drop_took = dropping.elapsed();
    tally.pipelines += 1;
    tally.items += got.len();
    let early = got.len() == limit && limit < want.len();
    tally.early_drops += usize::from(early);
    match outcome {
        Err(payload) => {
            tally.panics += 1;
            let Some(Planted(index)) = payload.downcast_ref::<Planted>() else {
                return Err("a panic arrived with a payload the soak did not plant".into());
            };
            if want_panic != Some(*index) {
                return Err(format!(
                    "the panic planted at {index} arrived; expected {want_panic:?}"
                ));
            }
            if got != want {
                return Err(format!(
                    "before the panic: {} items, expected {} (the first difference at {:?})",
                    got.len(),
                    want.len(),
                    got.iter().zip(want).position(|(a, b)| a != b)
                ));
            }
        }
        Ok(()) => {
            let all = want.len();
            let want = &want[..all.min(limit)];
            if want_panic.is_some() && got.len() == all && limit > all {
                return Err("the planted panic never arrived".into());
            }
            if plan.ordered() {
                if got != want {
                    return Err(format!(
                        "got {} items, expected {} (the first difference at {:?})",
                        got.len(),
                        want.len(),
                        got.iter().zip(want).position(|(a, b)| a != b)
                    ));
                }
            } else {
                // In completion order, any `limit` of them, each once.
                let mut left = expected.values.clone();
                left.sort_unstable();
                for value in &got {
                    match left.binary_search(value) {
                        Ok(at) => {
                            left.remove(at);
                        }
                        Err(_) => {
                            return Err(format!(
                                "in completion order: {value} came, which was not due (or came twice)"
                            ));
                        }
                    }
                }
                if got.len() != want.len() {
                    return Err(format!(
                        "in completion order: got {} items, expected {}",
                        got.len(),
                        want.len()
                    ));
                }
            }
        }
    }
    if drop_took > PIPELINE_DEADLINE {
        return Err(format!("dropping the pipeline took {drop_took:?}"));
    }
    // Once a pipeline is gone, nothing of it lives on, soon.
    let deadline = Instant::now() + PIPELINE_DEADLINE;
    loop {
        let alive = census.items_alive.load(Ordering::SeqCst);
        let running = census.closures_running.load(Ordering::SeqCst);
        if alive == 0 && running == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{PIPELINE_DEADLINE:?} after the pipeline went: {alive} items alive, {running} closures running"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
}

/// Every adapter, source and mode, with at most one `parallel_map` in each
/// pipeline (one that holds no other in its closure). Not run by default:
/// CI's first minute of it, on 2026-12-03, hung once (seed
/// 3841458163667758669: a `parallel_map_init` stage of 2 threads, window
/// 24, under an `off_thread` of capacity 58, dropped after 834 of 968
/// items), which 20 replays of the seed and 148,000 pipelines of soak on
/// the same code did not reproduce; open in issue 19.
#[test]
#[ignore = "a rare hang CI found (seed 3841458163667758669), open in issue 19; run with --ignored"]
fn random_pipelines_keep_the_contract() {
    soak(Mix::ONE_POOL);
}

/// Chains of `parallel_map`s, nesting, and sources that wait for the
/// consumer, besides. The hangs this soak found have tests of their own
/// (`parallel_map_sources.rs`, `scheduler::workers`, `pool`,
/// `wake::cores`, `scheduler::runs`). Not run by default while the other
/// mix's rare hang is open.
#[test]
#[ignore = "its mix includes the other's, whose rare hang is open (issue 19); run with --ignored"]
fn random_chains_of_pools_keep_the_contract() {
    soak(Mix::EVERYTHING);
}

fn soak(mix: Mix) {
    if let Some(seed) = env_u64("THREADPIPE_SOAK_SEED") {
        let plan = Plan::new(seed, mix);
        let _watchdog = common::watchdog_for(&format!("{plan:?}"), PIPELINE_DEADLINE * 2);
        if let Err(failure) = run(&plan, &mut Tally::default()) {
            panic!("{failure}\n{plan:#?}");
        }
        return;
    }
    let secs = env_u64("THREADPIPE_SOAK_SECS").unwrap_or(DEFAULT_SECS);
    let first_seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |since| since.as_nanos() as u64);
    let until = Instant::now() + Duration::from_secs(secs);
    let failed = Arc::new(AtomicBool::new(false));
    // Quiet the planted panics; any other goes through the usual hook.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<Planted>().is_none() {
            hook(info);
        }
    }));
    // Pipelines run side by side from a few threads, sharing the set.
    let soakers = env_u64("THREADPIPE_SOAK_THREADS").unwrap_or(3);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let runners: Vec<_> = (0..soakers)
            .map(|soaker| {
                let failed = Arc::clone(&failed);
                scope.spawn(move || {
                    let mut tally = Tally::default();
                    let mut seed = Rng(first_seed.wrapping_add(soaker)).next();
                    while Instant::now() < until && !failed.load(Ordering::SeqCst) {
                        let plan = Plan::new(seed, mix);
                        let started = Instant::now();
                        let watch = common::watchdog_for(&format!("{plan:?}"), PIPELINE_DEADLINE * 2);
                        if let Err(failure) = run(&plan, &mut tally) {
                            failed.store(true, Ordering::SeqCst);
                            panic!(
                                "{failure}\nreplay with THREADPIPE_SOAK_SEED={seed}\n{plan:#?}\n(ran {:?})",
                                started.elapsed()
                            );
                        }
                        drop(watch);
                        seed = Rng(seed).next();
                    }
                    tally
                })
            })
            .collect();
        runners
            .into_iter()
            .map(|runner| runner.join().expect("a soaker failed"))
            .collect()
    });
    let total = tallies.iter().fold(Tally::default(), |sum, tally| Tally {
        pipelines: sum.pipelines + tally.pipelines,
        items: sum.items + tally.items,
        panics: sum.panics + tally.panics,
        early_drops: sum.early_drops + tally.early_drops,
    });
    eprintln!(
        "soak: {} random pipelines, {} items, {} planted panics caught, {} early drops; \
         every check held ({secs} s, first seed {first_seed})",
        total.pipelines, total.items, total.panics, total.early_drops
    );
    assert!(total.pipelines > 0);
}
