//! `parallel_map_init`: a state per thread that runs `f`, made by `init`
//! exactly once on that thread, lazily, used and dropped only there.

mod common;

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::{self, ThreadId};

use common::{PATIENCE, parallel_map_setups, watchdog};
use threadpipe::ParallelMapOptions;
use threadpipe::prelude::*;

/// A state that remembers the thread that made it, and says where it died.
struct Scratch {
    made_on: ThreadId,
    buffer: String,
    dropped: mpsc::Sender<(ThreadId, ThreadId)>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = self.dropped.send((self.made_on, thread::current().id()));
    }
}

#[test]
fn init_runs_once_on_each_thread_that_runs_f_and_the_state_stays_there() {
    let _watchdog = watchdog();
    for (threads, completion) in [(1, false), (2, false), (3, true), (4, false)] {
        let inits: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
        let runners: Arc<Mutex<HashMap<ThreadId, usize>>> = Arc::default();
        let (dropped, drops) = mpsc::channel();
        let options = ParallelMapOptions::new().threads(threads).window(16);
        let options = if completion {
            options.in_completion_order()
        } else {
            options
        };
        let (made, ran) = (Arc::clone(&inits), Arc::clone(&runners));
        let stage = (0..2_000u32).parallel_map_init_with(
            options,
            move || {
                made.lock().unwrap().push(thread::current().id());
                Scratch {
                    made_on: thread::current().id(),
                    buffer: String::new(),
                    dropped: dropped.clone(),
                }
            },
            move |scratch: &mut Scratch, n| {
                let here = thread::current().id();
                *ran.lock().unwrap().entry(here).or_default() += 1;
                // Used only on the thread that made it.
                assert_eq!(scratch.made_on, here);
                scratch.buffer.clear();
                scratch.buffer.push_str(&n.to_string());
                scratch.buffer.len()
            },
        );
        let digits: usize = stage.sum();
        assert_eq!(digits, 10 + 90 * 2 + 900 * 3 + 1000 * 4);
        let inits = inits.lock().unwrap().clone();
        let runners = runners.lock().unwrap();
        // Exactly once on each thread that ran an item, and nowhere else.
        let mut per_thread: HashMap<ThreadId, usize> = HashMap::new();
        for thread in &inits {
            *per_thread.entry(*thread).or_default() += 1;
        }
        assert!(
            per_thread.values().all(|&count| count == 1),
            "threads {threads}: {per_thread:?}"
        );
        let made: HashSet<&ThreadId> = per_thread.keys().collect();
        let ran_f: HashSet<&ThreadId> = runners.keys().collect();
        assert_eq!(made, ran_f, "threads {threads}");
        // Every state is dropped, each on the thread that made it; the
        // workers' as they exit (joined by now), the consumer's with the
        // adapter (dropped by `sum`).
        for _ in 0..inits.len() {
            let (made_on, dropped_on) = drops
                .recv_timeout(PATIENCE)
                .expect("every state is dropped");
            assert_eq!(made_on, dropped_on);
        }
    }
}

#[test]
fn init_does_not_run_before_an_item_does() {
    let _watchdog = watchdog();
    let inits = Arc::new(Mutex::new(0));
    let made = Arc::clone(&inits);
    let stage = (0..1u32).parallel_map_init_with(
        ParallelMapOptions::new().threads(4),
        move || *made.lock().unwrap() += 1,
        |(), n| n,
    );
    assert_eq!(*inits.lock().unwrap(), 0, "building ran init");
    assert_eq!(stage.collect::<Vec<_>>(), [0]);
    // One item: one thread ran `f`, so one state, however many workers.
    assert_eq!(*inits.lock().unwrap(), 1);
}

#[test]
fn a_consumer_that_moves_to_another_thread_makes_a_state_there() {
    let _watchdog = watchdog();
    // One worker that is kept busy, so the consumer runs items itself: on
    // this thread first, then on another after the adapter moves there.
    let inits: Arc<Mutex<Vec<ThreadId>>> = Arc::default();
    let made = Arc::clone(&inits);
    let options = ParallelMapOptions::new()
        .threads(1)
        .name("pm-moves")
        .window(64);
    let mut stage = (0..400u32).parallel_map_init_with(
        options,
        move || {
            made.lock().unwrap().push(thread::current().id());
            thread::current().id()
        },
        |made_on: &mut ThreadId, n| {
            assert_eq!(
                *made_on,
                thread::current().id(),
                "a state used on another thread"
            );
            if common::stage_name().as_deref() == Some("pm-moves-0") {
                thread::sleep(std::time::Duration::from_micros(200));
            }
            n
        },
    );
    let first: Vec<u32> = stage.by_ref().take(200).collect();
    let (rest, other) =
        thread::spawn(move || (stage.collect::<Vec<u32>>(), thread::current().id()))
            .join()
            .unwrap();
    assert_eq!(first, (0..200).collect::<Vec<_>>());
    assert_eq!(rest, (200..400).collect::<Vec<_>>());
    let inits = inits.lock().unwrap();
    let here = thread::current().id();
    assert_eq!(inits.iter().filter(|t| **t == here).count(), 1, "{inits:?}");
    assert_eq!(
        inits.iter().filter(|t| **t == other).count(),
        1,
        "{inits:?}"
    );
}

/// A state whose `Drop` panics, counting how many were made and dropped.
struct Loud(Arc<(AtomicUsize, AtomicUsize)>);

impl Loud {
    fn new(counts: &Arc<(AtomicUsize, AtomicUsize)>) -> Self {
        counts.0.fetch_add(1, Ordering::SeqCst);
        Loud(Arc::clone(counts))
    }
}

impl Drop for Loud {
    fn drop(&mut self) {
        self.0.1.fetch_add(1, Ordering::SeqCst);
        panic!("a state's drop panics");
    }
}

/// A panic in a state's drop is caught and discarded in every mode and
/// order: on the runs' threads, for the consumer's states, inline, and
/// scoped. It used to be raised where the consumer or an inline stage
/// dropped its state and discarded on the runs', so whether `count()`
/// panicked depended on which thread ran which items. Every state is
/// dropped all the same, by the time the stage is.
#[test]
fn a_panic_in_a_states_drop_never_reaches_the_consumer() {
    let _watchdog = watchdog();
    let mut setups: Vec<(String, ParallelMapOptions)> = parallel_map_setups("pm-loud", 1..=3)
        .into_iter()
        .map(|setup| (setup.to_string(), setup.options))
        .collect();
    setups.push(("inline".to_owned(), ParallelMapOptions::new().inline(true)));
    for (setup, options) in &setups {
        for items in [0u64, 1, 200] {
            let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
            let made = Arc::clone(&counts);
            let counted = std::panic::catch_unwind(AssertUnwindSafe(|| {
                (0..items)
                    .parallel_map_init_with(options.clone(), move || Loud::new(&made), |_, n| n)
                    .count()
            }));
            assert_eq!(counted.ok(), Some(items as usize), "{setup}, {items} items");
            let (made, dropped) = (
                counts.0.load(Ordering::SeqCst),
                counts.1.load(Ordering::SeqCst),
            );
            assert_eq!(made, dropped, "{setup}, {items} items: every state dropped");
            assert!(items == 0 || made > 0, "{setup}: a state was made");
        }
        // Scoped: the states live in the scope's threads.
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let counted = std::panic::catch_unwind(AssertUnwindSafe(|| {
            thread::scope(|scope| {
                (0..200u64)
                    .parallel_map_init_scoped_with(
                        scope,
                        options.clone(),
                        || Loud::new(&counts),
                        |_, n| n,
                    )
                    .count()
            })
        }));
        assert_eq!(counted.ok(), Some(200), "{setup}, scoped");
        let (made, dropped) = (
            counts.0.load(Ordering::SeqCst),
            counts.1.load(Ordering::SeqCst),
        );
        assert_eq!(made, dropped, "{setup}, scoped: every state dropped");
    }
}

/// A state that borrows from the caller: a table to read, and a log of
/// where it was made and where it died.
struct Borrowing<'a> {
    made_on: ThreadId,
    glossary: &'a [String],
    buffer: String,
    log: &'a Mutex<Vec<(ThreadId, ThreadId)>>,
}

impl Drop for Borrowing<'_> {
    fn drop(&mut self) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.push((self.made_on, thread::current().id()));
    }
}

#[test]
fn init_scoped_states_borrow_and_live_on_their_own_thread() {
    let _watchdog = watchdog();
    let glossary: Vec<String> = (0..500).map(|n| format!("word{n}")).collect();
    let log = Mutex::new(Vec::new());
    let inits = AtomicUsize::new(0);
    let words: Vec<String> = thread::scope(|scope| {
        (0..500usize)
            .parallel_map_init_scoped(
                scope,
                || {
                    inits.fetch_add(1, Ordering::SeqCst);
                    Borrowing {
                        made_on: thread::current().id(),
                        glossary: &glossary,
                        buffer: String::new(),
                        log: &log,
                    }
                },
                |state: &mut Borrowing<'_>, n| {
                    assert_eq!(state.made_on, thread::current().id(), "a state moved");
                    state.buffer.clear();
                    state.buffer.push_str(&state.glossary[n]);
                    state.buffer.clone()
                },
            )
            .collect()
    });
    // In order, one result per item.
    assert_eq!(words, glossary);
    // By the scope's end every state made was dropped, each on the thread
    // that made it, and each thread made one.
    let log = log.into_inner().unwrap();
    assert_eq!(
        log.len(),
        inits.load(Ordering::SeqCst),
        "a state was never dropped"
    );
    assert!(
        log.iter()
            .all(|(made_on, dropped_on)| made_on == dropped_on),
        "a state was dropped on another thread: {log:?}"
    );
    let mut threads: Vec<ThreadId> = log.iter().map(|(made_on, _)| *made_on).collect();
    threads.sort_unstable_by_key(|id| format!("{id:?}"));
    threads.dedup();
    assert_eq!(
        threads.len(),
        log.len(),
        "a thread made two states: {log:?}"
    );
}
