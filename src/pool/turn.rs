//! When a panic's turn comes in completion order: once every entry before
//! it has been delivered, however the runs finished them.
//!
//! In input order the turn is plain: the consumer delivers entries by index,
//! and a panic is the entry at its index. In completion order results come
//! as they finish, so a panic can finish first while entries before it (the
//! items pulled before the source panicked, or those before the item whose
//! `f` panicked) are still queued or running. The consumer holds the panic
//! aside, delivers what comes, and raises it once the lowest index not yet
//! delivered is the panic's own. The entries after a panic are dropped unrun,
//! as in input order (see [`Control::skips`](super::control::Control::skips)),
//! so that turn always comes.

use std::collections::VecDeque;
use std::ops::Range;

use crate::unwind::{self, PanicPayload};

/// The consumer's record of which indices it has delivered in completion
/// order, and the panic it holds until its turn.
///
/// It records the gaps, not the deliveries: every index below `seen_up_to`
/// has been delivered but those in `missing`. Entries pulled and not yet
/// delivered number at most the window, so `missing` stays that short
/// however long one slow item holds the lowest gap open; and since each run
/// delivers its entries in index order, a delivery usually closes the front
/// of a gap, found among few.
#[derive(Default)]
pub(super) struct PanicTurn {
    /// Every index from here up is yet to be delivered.
    seen_up_to: u64,
    /// The gaps below `seen_up_to`, in order, none empty, none touching.
    missing: VecDeque<Range<u64>>,
    /// The panic with the lowest index that has arrived, and that index.
    held: Option<(u64, PanicPayload)>,
}

impl PanicTurn {
    /// Records that the result of entry `index` has been delivered.
    pub(super) fn delivered(&mut self, index: u64) {
        if index >= self.seen_up_to {
            if index > self.seen_up_to {
                self.missing.push_back(self.seen_up_to..index);
            }
            self.seen_up_to = index + 1;
            return;
        }
        // The gap that holds `index`: the first that ends above it.
        let at = self.missing.partition_point(|gap| gap.end <= index);
        let Some(gap) = self.missing.get_mut(at).filter(|gap| gap.contains(&index)) else {
            return; // delivered before: nothing to record
        };
        if index == gap.start {
            gap.start += 1;
            if gap.is_empty() {
                self.missing.remove(at);
            }
        } else if index + 1 == gap.end {
            gap.end = index;
        } else {
            let rest = index + 1..gap.end;
            gap.end = index;
            self.missing.insert(at + 1, rest);
        }
    }

    /// Every index below this one has been delivered.
    fn all_below(&self) -> u64 {
        self.missing
            .front()
            .map_or(self.seen_up_to, |gap| gap.start)
    }

    /// Holds the panic of entry `index` until its turn. Of two panics the
    /// one with the lower index is the stream's; the other is
    /// [discarded](unwind::discard).
    pub(super) fn hold(&mut self, index: u64, payload: PanicPayload) {
        match &self.held {
            Some((held, _)) if *held < index => unwind::discard(Err::<(), _>(payload)),
            _ => {
                if let Some((_, displaced)) = self.held.replace((index, payload)) {
                    unwind::discard(Err::<(), _>(displaced));
                }
            }
        }
    }

    /// The held panic, once every entry before it has been delivered.
    pub(super) fn due(&mut self) -> Option<PanicPayload> {
        match &self.held {
            Some((index, _)) if *index == self.all_below() => self.held.take().map(|(_, p)| p),
            _ => None,
        }
    }
}

impl Drop for PanicTurn {
    /// A panic still held when the consumer drops the stage has nobody to
    /// go to; its payload is [discarded](unwind::discard), so that a
    /// payload whose own drop panics does not escape from the drop.
    fn drop(&mut self) {
        if let Some((_, payload)) = self.held.take() {
            unwind::discard(Err::<(), _>(payload));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(tag: u64) -> PanicPayload {
        Box::new(tag)
    }

    fn tag(payload: PanicPayload) -> u64 {
        *payload.downcast::<u64>().expect("a test payload")
    }

    #[test]
    fn a_panic_is_due_once_every_entry_before_it_is_delivered() {
        let mut turn = PanicTurn::default();
        turn.hold(3, payload(3));
        for index in [2, 0] {
            turn.delivered(index);
            assert!(turn.due().is_none(), "1 is still out");
        }
        turn.delivered(1);
        assert_eq!(turn.due().map(tag), Some(3));
        assert!(turn.due().is_none(), "raised once");
    }

    #[test]
    fn entries_after_the_panic_do_not_hold_it() {
        let mut turn = PanicTurn::default();
        turn.delivered(5);
        turn.delivered(4);
        turn.hold(1, payload(1));
        assert!(turn.due().is_none());
        turn.delivered(0);
        assert_eq!(turn.due().map(tag), Some(1));
    }

    #[test]
    fn the_lower_of_two_panics_is_kept() {
        let mut turn = PanicTurn::default();
        turn.hold(4, payload(4));
        turn.hold(2, payload(2));
        turn.hold(3, payload(3));
        turn.delivered(0);
        turn.delivered(1);
        assert_eq!(turn.due().map(tag), Some(2));
    }

    #[test]
    fn a_panic_with_nothing_before_it_is_due_at_once() {
        let mut turn = PanicTurn::default();
        turn.hold(0, payload(0));
        assert_eq!(turn.due().map(tag), Some(0));
    }

    #[test]
    fn the_record_stays_as_short_as_what_is_out_of_order() {
        let mut turn = PanicTurn::default();
        // Deliveries in pairs swapped, as two runs might make them.
        for pair in 0..10_000u64 {
            turn.delivered(2 * pair + 1);
            turn.delivered(2 * pair);
            assert_eq!(turn.all_below(), 2 * pair + 2);
            assert!(turn.missing.is_empty(), "{:?}", turn.missing);
        }
        turn.delivered(20_005);
        turn.delivered(20_002);
        assert_eq!(turn.all_below(), 20_000);
        turn.delivered(20_000);
        turn.delivered(20_001);
        assert_eq!(turn.all_below(), 20_003);
        turn.hold(20_004, payload(9));
        assert!(turn.due().is_none());
        turn.delivered(20_003);
        assert_eq!(turn.all_below(), 20_004);
        assert_eq!(turn.due().map(tag), Some(9));
    }

    #[test]
    fn one_slow_entry_keeps_one_gap_however_many_pass_it() {
        let mut turn = PanicTurn::default();
        for index in 1..100_000 {
            turn.delivered(index);
        }
        assert_eq!(turn.missing.len(), 1);
        assert_eq!(turn.all_below(), 0);
        turn.delivered(0);
        assert_eq!(turn.all_below(), 100_000);
        assert!(turn.missing.is_empty());
    }

    #[test]
    fn agrees_with_a_plain_record_in_any_order() {
        // Each block of 64 indices delivered in a scrambled order, blocks
        // overlapping as runs' chunks do; checked against a set of all.
        let mut turn = PanicTurn::default();
        let mut plain = std::collections::BTreeSet::new();
        let mut lowest_missing = 0;
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        // Miri takes a second a block: a few still overlap.
        let blocks = if cfg!(miri) { 4 } else { 200 };
        for block in 0..blocks {
            let mut indices: Vec<u64> = (block * 32..block * 32 + 64).collect();
            for at in (1..indices.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                indices.swap(at, (seed % (at as u64 + 1)) as usize);
            }
            for index in indices {
                turn.delivered(index);
                plain.insert(index);
                while plain.contains(&lowest_missing) {
                    lowest_missing += 1;
                }
                assert_eq!(turn.all_below(), lowest_missing);
            }
        }
    }

    #[test]
    fn a_held_panic_dropped_unraised_does_not_escape() {
        struct Cursed;
        impl Drop for Cursed {
            fn drop(&mut self) {
                panic!("a payload whose drop panics");
            }
        }
        let mut turn = PanicTurn::default();
        turn.hold(3, Box::new(Cursed));
        turn.hold(5, Box::new(Cursed)); // discarded at once
        assert!(unwind::catch(move || drop(turn)).is_ok());
    }
}
