//! The states of a `parallel_map_init` stage kept outside its runs: the
//! consumer's (one for each thread it has helped on), and the one of a
//! stage run inline.
//!
//! The policy for every state, these and the runs' own (see
//! `Shared::leave`): a state is dropped on the thread that holds it, once
//! the stage is done with it, and a panic of its drop is caught and
//! discarded, in every mode and order. A run's state is dropped after the
//! stream is over, with nobody left to raise its panic to; raising the
//! consumer's would make whether `(…).parallel_map_init(…).count()` panics
//! depend on which thread happened to run which items.

use crate::unwind;

/// States by the thread (or other key) they belong to; each made at most
/// once, when first wanted.
pub(super) struct States<K, S> {
    states: Vec<(K, Option<S>)>,
}

impl<K: PartialEq, S> States<K, S> {
    pub(super) fn new() -> Self {
        States { states: Vec::new() }
    }

    /// The state kept for `key`: `None` until the stage makes it.
    pub(super) fn of(&mut self, key: K) -> &mut Option<S> {
        let at = match self.states.iter().position(|(held, _)| *held == key) {
            Some(at) => at,
            None => {
                self.states.push((key, None));
                self.states.len() - 1
            }
        };
        &mut self.states[at].1
    }
}

impl<K, S> Drop for States<K, S> {
    /// Drops each state in turn, each under a catch of its own (a second
    /// panic while the first unwinds would abort), discarding their panics.
    fn drop(&mut self) {
        for (_, state) in self.states.drain(..) {
            unwind::discard(unwind::catch_drop(state));
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::States;

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Loud;

    impl Drop for Loud {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
            panic!("a state's drop panics");
        }
    }

    /// Every state is dropped, each once, though each one's drop panics,
    /// and no panic gets out.
    #[test]
    fn every_state_is_dropped_and_no_panic_gets_out() {
        let mut states = States::new();
        for key in 0..3 {
            assert!(states.of(key).is_none());
            *states.of(key) = Some(Loud);
        }
        assert!(states.of(1).is_some(), "made once per key");
        let dropped = std::panic::catch_unwind(move || drop(states));
        assert!(dropped.is_ok());
        assert_eq!(DROPPED.load(Ordering::SeqCst), 3);
    }
}
