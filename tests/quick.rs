//! Properties: every adapter yields what the sequential chain yields, for
//! random lengths, capacities, thread counts, panic positions and early drops.

mod common;

use std::sync::mpsc;

use common::{Boom, PATIENCE, drain_catching, panicking_at, watchdog};
use proptest::prelude::*;
use threadpipe::prelude::*;
use threadpipe::{OffThreadOptions, ParallelMapOptions};

/// Checks `hint` against the number of items really left, after every step.
fn assert_hints_valid<I: Iterator>(mut iter: I) {
    let mut hints = vec![iter.size_hint()];
    while iter.next().is_some() {
        hints.push(iter.size_hint());
    }
    let total = hints.len() - 1;
    for (taken, (lower, upper)) in hints.into_iter().enumerate() {
        let left = total - taken;
        assert!(lower <= left, "lower {lower} > {left} left");
        assert!(
            upper.is_none_or(|upper| upper >= left),
            "upper {upper:?} < {left} left"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn off_thread_yields_the_sequential_items(len in 0usize..300, capacity in 1usize..8, stages in 1usize..4) {
        let _watchdog = watchdog();
        let mut chain: Box<dyn Iterator<Item = usize> + Send> = Box::new(0..len);
        for _ in 0..stages {
            chain = Box::new(chain.map(|n| n + 1).off_thread_with(OffThreadOptions::new().capacity(capacity)));
        }
        let expected: Vec<usize> = (0..len).map(|n| n + stages).collect();
        prop_assert_eq!(chain.collect::<Vec<_>>(), expected);
    }

    #[test]
    fn parallel_map_yields_the_sequential_items(len in 0usize..300, threads in 1usize..4, window in 1usize..10) {
        let _watchdog = watchdog();
        let options = ParallelMapOptions::new().threads(threads).window(window);
        let got: Vec<String> = (0..len).parallel_map_with(options, |n| format!("{n}")).collect();
        prop_assert_eq!(got, (0..len).map(|n| format!("{n}")).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_comes_after_exactly_the_earlier_items(at in 0usize..40, capacity in 1usize..5, threads in 1usize..4) {
        let _watchdog = watchdog();
        let mut off = panicking_at(at).off_thread_with(OffThreadOptions::new().capacity(capacity));
        let (items, payload) = drain_catching(&mut off);
        prop_assert_eq!(items, (0..at).collect::<Vec<_>>());
        prop_assert_eq!(payload.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b), Some(Boom(at)));

        let options = ParallelMapOptions::new().threads(threads).window(capacity);
        let mut mapped = panicking_at(at).parallel_map_with(options, |n| n * 2);
        let (items, payload) = drain_catching(&mut mapped);
        prop_assert_eq!(items, (0..at).map(|n| n * 2).collect::<Vec<_>>());
        prop_assert_eq!(payload.and_then(|p| p.downcast::<Boom>().ok()).map(|b| *b), Some(Boom(at)));
    }

    #[test]
    fn early_drop_keeps_a_prefix_and_stops_the_worker(len in 0usize..100, taken in 0usize..120, capacity in 1usize..6) {
        let _watchdog = watchdog();
        let (source, dropped) = common::Counting::with_drop_signal(Some(len));
        let mut stage = source.off_thread_with(OffThreadOptions::new().capacity(capacity));
        let got: Vec<usize> = stage.by_ref().take(taken).collect();
        prop_assert_eq!(got, (0..taken.min(len)).collect::<Vec<_>>());
        drop(stage);
        prop_assert!(dropped.recv_timeout(PATIENCE).is_ok(), "the worker never dropped its source");
    }

    #[test]
    fn size_hints_stay_valid(len in 0usize..200, modulus in 1usize..5, threads in 1usize..3) {
        let _watchdog = watchdog();
        assert_hints_valid((0..len).filter(move |n| n % modulus == 0).off_thread_with(OffThreadOptions::new().capacity(3)));
        assert_hints_valid((0..len).off_thread());
        let options = ParallelMapOptions::new().threads(threads).window(4);
        assert_hints_valid((0..len).filter(move |n| n % modulus == 0).parallel_map_with(options, |n| n));
    }

    #[test]
    fn errors_to_partitions_like_the_sequential_chain(flags in proptest::collection::vec(any::<bool>(), 0..200)) {
        let _watchdog = watchdog();
        let results: Vec<Result<usize, usize>> =
            flags.iter().enumerate().map(|(n, &ok)| if ok { Ok(n) } else { Err(n) }).collect();
        let (sender, errors) = mpsc::channel();
        let values: Vec<usize> = results.clone().into_iter().errors_to(sender).off_thread().collect();
        let (oks, errs): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
        prop_assert_eq!(values, oks.into_iter().map(Result::unwrap).collect::<Vec<_>>());
        prop_assert_eq!(errors.iter().collect::<Vec<_>>(), errs.into_iter().map(Result::unwrap_err).collect::<Vec<_>>());
    }
}
