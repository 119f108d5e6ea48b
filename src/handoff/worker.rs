//! What an `off_thread` worker thread runs: its source, to the end or until
//! the consumer hangs up, one item or one batch per push.

use std::collections::VecDeque;
use std::mem;

use rtrb::Consumer;

use super::ring::RingSender;
use crate::stats::Stats;
use crate::unwind::{self, FirstPanic, PanicPayload};

/// Runs `source` to its end, sending every item, unless the consumer hangs
/// up first; then drops `source` and `sender`, here on the worker thread.
/// The first panic, of the source's `next` or of a drop, is returned.
pub(super) fn send_items<I: Iterator>(
    mut source: I,
    mut sender: RingSender<I::Item>,
    stats: &Stats,
) -> Result<(), PanicPayload> {
    let mut first = FirstPanic::default();
    first.keep(unwind::catch(|| {
        for item in source.by_ref() {
            if sender.send(item, stats).is_err() {
                return;
            }
        }
    }));
    let_go(source, sender, first)
}

/// Like [`send_items`], in batches of `batch` items; a partial batch is sent
/// when the source ends or panics. Batches come from `emptied` when the
/// consumer has handed some back, so that memory is not allocated on one
/// thread and freed on the other.
pub(super) fn send_batches<I: Iterator>(
    mut source: I,
    mut sender: RingSender<VecDeque<I::Item>>,
    emptied: &mut Consumer<VecDeque<I::Item>>,
    batch: usize,
    stats: &Stats,
) -> Result<(), PanicPayload> {
    let mut fresh = || {
        emptied
            .pop()
            .unwrap_or_else(|_| VecDeque::with_capacity(batch))
    };
    let mut filling = fresh();
    let mut first = FirstPanic::default();
    // After a panic `filling` holds only finished items, which are sent.
    first.keep(unwind::catch(|| {
        for item in source.by_ref() {
            // A hang-up shows only when a batch is sent: look for it at every
            // item, so that no more are pulled for nobody.
            if sender.receiver_gone() {
                return;
            }
            filling.push_back(item);
            if filling.len() == batch {
                let full = mem::replace(&mut filling, fresh());
                if sender.send(full, stats).is_err() {
                    return;
                }
            }
        }
    }));
    // Sent before the source is dropped, which may take long. If the
    // consumer has hung up, the batch comes back and is dropped here.
    if !filling.is_empty()
        && let Err(unsent) = sender.send(filling, stats)
    {
        first.keep(unwind::catch_drop(unsent));
    }
    let_go(source, sender, first)
}

/// Drops the source, then the sender, catching their panics: a source whose
/// `next` panicked may panic again as it is dropped, and the sender, if the
/// consumer has hung up, drops the items left in the ring. The first panic
/// of the worker's is the one returned.
fn let_go<I, T>(
    source: I,
    sender: RingSender<T>,
    mut first: FirstPanic,
) -> Result<(), PanicPayload> {
    first.keep(unwind::catch_drop(source));
    first.keep(unwind::catch_drop(sender));
    first.into_result()
}
