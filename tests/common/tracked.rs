//! Values that count themselves: every one made and every one dropped, by
//! its id, so that a value lost (never dropped) or dropped twice shows, and
//! which one.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use std::time::{Duration, Instant};

use super::PATIENCE;

/// Counts the [`Tracked`] values it made and their drops, per id. Clones
/// share the counts; use one tracker per kind of value (items, results).
#[derive(Clone, Default)]
pub struct Tracker {
    counts: Arc<Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    /// How many values of each id were made, and how many dropped.
    made: BTreeMap<usize, usize>,
    dropped: BTreeMap<usize, usize>,
}

/// A value on the heap (a `String`, as most items are) whose drop its
/// [`Tracker`] counts.
#[derive(Debug)]
pub struct Tracked {
    pub id: usize,
    pub value: String,
    tracker: Tracker,
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tracker({} live)", self.live())
    }
}

impl Tracker {
    /// Counts on a tracker whose lock a panicking drop may have poisoned.
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new value with this `id`.
    pub fn track(&self, id: usize) -> Tracked {
        *self.counts().made.entry(id).or_default() += 1;
        Tracked {
            id,
            value: id.to_string(),
            tracker: self.clone(),
        }
    }

    /// How many values made are not dropped yet.
    pub fn live(&self) -> usize {
        let counts = self.counts();
        let made: usize = counts.made.values().sum();
        let dropped: usize = counts.dropped.values().sum();
        made.saturating_sub(dropped)
    }

    /// How many values were made.
    pub fn made(&self) -> usize {
        self.counts().made.values().sum()
    }

    /// Fails, naming `what` and the ids at fault, unless every value made
    /// has been dropped exactly once (and nothing else was).
    pub fn assert_each_dropped_once(&self, what: &str) {
        let counts = self.counts();
        let leaked: Vec<usize> = counts
            .made
            .iter()
            .filter(|&(id, made)| counts.dropped.get(id).copied().unwrap_or(0) < *made)
            .map(|(id, _)| *id)
            .collect();
        let twice: Vec<usize> = counts
            .dropped
            .iter()
            .filter(|&(id, dropped)| counts.made.get(id).copied().unwrap_or(0) < *dropped)
            .map(|(id, _)| *id)
            .collect();
        assert!(
            leaked.is_empty() && twice.is_empty(),
            "{what}: never dropped: {leaked:?}; dropped more than made: {twice:?}"
        );
    }

    /// Waits until no value is live (they may be dropped on the stage's
    /// threads, after the consumer has let go), then checks
    /// [`assert_each_dropped_once`](Self::assert_each_dropped_once).
    pub fn wait_until_each_dropped_once(&self, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.live() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.assert_each_dropped_once(what);
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        *self.tracker.counts().dropped.entry(self.id).or_default() += 1;
    }
}
