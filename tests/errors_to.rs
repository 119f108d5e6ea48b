//! The `errors_to` contract: values flow on, errors go to the sink in order.

mod common;

use std::sync::atomic::Ordering;
use std::sync::{Arc, mpsc};
use std::thread;

use common::{Counting, watchdog};
use threadpipe::prelude::*;
use threadpipe::{ErrorSink, OffThreadOptions};

/// Every third number is an error carrying the number.
fn every_third_fails(n: usize) -> Result<usize, String> {
    if n % 3 == 2 {
        Err(format!("bad {n}"))
    } else {
        Ok(n)
    }
}

#[test]
fn smoke() {
    let _watchdog = watchdog();
    let (sender, errors) = mpsc::channel();
    let values: Vec<usize> = (0..6).map(every_third_fails).errors_to(sender).collect();
    assert_eq!(values, [0, 1, 3, 4]);
    assert_eq!(errors.try_iter().collect::<Vec<_>>(), ["bad 2", "bad 5"]);
}

#[test]
fn errors_arrive_in_order_from_a_worker() {
    let _watchdog = watchdog();
    let (sender, errors) = mpsc::channel();
    let values: Vec<usize> = (0..3000)
        .map(every_third_fails)
        .errors_to(sender)
        .off_thread_with(OffThreadOptions::new().capacity(7))
        .collect();
    let (expected_values, expected_errors): (Vec<_>, Vec<_>) =
        (0..3000).map(every_third_fails).partition(Result::is_ok);
    assert_eq!(
        values,
        expected_values
            .into_iter()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    );
    // The worker has exited, so its sender is gone and this ends.
    let errors: Vec<String> = errors.iter().collect();
    assert_eq!(
        errors,
        expected_errors
            .into_iter()
            .map(Result::unwrap_err)
            .collect::<Vec<_>>()
    );
}

#[test]
fn hung_up_receiver_ends_the_stream_for_good() {
    let _watchdog = watchdog();
    let (sender, errors) = mpsc::channel();
    drop(errors);
    let source = Counting::new(Some(100));
    let pulls = Arc::clone(&source.pulls);
    let mut values = source.map(every_third_fails).errors_to(sender);
    // Values before the first error still flow: only an error needs the receiver.
    assert_eq!(values.next(), Some(0));
    assert_eq!(values.next(), Some(1));
    assert_eq!(
        values.next(),
        None,
        "2 is an error nobody can receive: stop"
    );
    let pulled = pulls.load(Ordering::SeqCst);
    assert_eq!(pulled, 3);
    assert_eq!(values.next(), None);
    assert_eq!(values.next(), None);
    assert_eq!(
        pulls.load(Ordering::SeqCst),
        pulled,
        "not pulled again after the hang-up"
    );
    assert_eq!(values.size_hint(), (0, Some(0)));
}

#[test]
fn hung_up_receiver_stops_an_off_thread_stage() {
    let _watchdog = watchdog();
    let (sender, errors) = mpsc::channel();
    drop(errors);
    let (source, dropped) = Counting::with_drop_signal(None);
    let values: Vec<usize> = source
        .map(every_third_fails)
        .errors_to(sender)
        .off_thread()
        .collect();
    assert_eq!(values, [0, 1]);
    dropped
        .recv_timeout(common::PATIENCE)
        .expect("the worker dropped its source");
}

#[test]
fn bounded_error_channel_drained_concurrently() {
    let _watchdog = watchdog();
    for bound in [0, 1, 4] {
        let (sender, errors) = mpsc::sync_channel(bound);
        let drainer = thread::spawn(move || errors.iter().collect::<Vec<String>>());
        let values: Vec<usize> = (0..300)
            .map(every_third_fails)
            .errors_to(sender)
            .off_thread()
            .collect();
        assert_eq!(values.len(), 200);
        let errors = drainer.join().unwrap();
        assert_eq!(errors.len(), 100, "bound {bound}");
        assert_eq!(errors.first().map(String::as_str), Some("bad 2"));
        assert_eq!(errors.last().map(String::as_str), Some("bad 299"));
    }
}

#[test]
fn size_hint_is_valid_at_every_step() {
    let _watchdog = watchdog();
    let (sender, _errors) = mpsc::channel();
    let mut values = (0..30).map(every_third_fails).errors_to(sender);
    assert_eq!(values.size_hint(), (0, Some(30)));
    let mut left = 20;
    while let Some(_) = values.next() {
        left -= 1;
        let (lower, upper) = values.size_hint();
        assert!(lower <= left && upper.is_some_and(|upper| upper >= left));
    }
    assert_eq!(values.size_hint(), (0, Some(0)));
}

#[test]
fn stays_ended_after_the_source_ends() {
    let _watchdog = watchdog();
    let (sender, _errors) = mpsc::channel();
    let mut values = std::iter::once(Ok::<u8, ()>(1)).errors_to(sender);
    assert_eq!(values.next(), Some(1));
    assert_eq!(values.next(), None);
    assert_eq!(values.next(), None);
}

#[test]
fn works_with_a_custom_sink() {
    let _watchdog = watchdog();
    struct Collect(Vec<String>);
    impl ErrorSink<String> for &mut Collect {
        fn send_error(&mut self, error: String) -> Result<(), String> {
            self.0.push(error);
            Ok(())
        }
    }
    let mut sink = Collect(Vec::new());
    let values: Vec<usize> = (0..6).map(every_third_fails).errors_to(&mut sink).collect();
    assert_eq!(values, [0, 1, 3, 4]);
    assert_eq!(sink.0, ["bad 2", "bad 5"]);
}

#[test]
fn debug_shows_the_source() {
    let _watchdog = watchdog();
    let (sender, _errors) = mpsc::channel::<()>();
    let values = vec![Ok::<u8, ()>(1)].into_iter().errors_to(sender);
    assert_eq!(
        format!("{values:?}"),
        "ErrorsTo { source: Some(IntoIter([Ok(1)])), .. }"
    );
}
