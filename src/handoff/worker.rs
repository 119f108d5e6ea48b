//! What an `off_thread` worker thread runs: its source, to the end or until
//! the consumer hangs up, one item or one batch per push.

use std::collections::VecDeque;
use std::mem;

use rtrb::Consumer;

use super::ring::RingSender;
use crate::stats::Stats;
use crate::unwind::{self, PanicPayload};

/// Runs `source` to its end, sending every item, unless the consumer hangs
/// up first; then drops `source`, here on the worker thread. A panic of the
/// source, in `next` or in its drop, is returned.
pub(super) fn send_items<I: Iterator>(
    source: I,
    sender: &mut RingSender<I::Item>,
    stats: &Stats,
) -> Result<(), PanicPayload> {
    // The loop consumes `source`, so its drop is caught here too.
    unwind::catch(|| {
        for item in source {
            if sender.send(item, stats).is_err() {
                return;
            }
        }
    })
}

/// Like [`send_items`], in batches of `batch` items; a partial batch is sent
/// when the source ends or panics. Batches come from `emptied` when the
/// consumer has handed some back, so that memory is not allocated on one
/// thread and freed on the other.
pub(super) fn send_batches<I: Iterator>(
    source: I,
    sender: &mut RingSender<VecDeque<I::Item>>,
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
    // After a panic `filling` holds only finished items, which are sent.
    let outcome = unwind::catch(|| {
        for item in source {
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
    });
    // If the consumer has hung up this fails, and nobody is left to tell.
    if !filling.is_empty() {
        let _ = sender.send(filling, stats);
    }
    outcome
}
