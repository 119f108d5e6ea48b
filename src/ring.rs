//! A bounded single-producer single-consumer channel that costs a few
//! nanoseconds per item: a lock-free ring ([`rtrb`]) carries the items, and
//! two [`Bell`]s let each side sleep when it cannot go on.
//!
//! Every push is visible to the consumer at once (it is one release store),
//! and rings the bell with one atomic add, which wakes the consumer if it is
//! asleep: so an item is never stranded, even if the producer then blocks for
//! ever inside its source. Pops are counted in batches (every quarter of the
//! capacity, and whenever the consumer is about to wait), which is when a
//! producer waiting for room is woken. Before sleeping, each side spins
//! briefly, since parking and waking a thread costs about 10 µs.

use std::sync::Arc;
use std::time::Instant;

use crossbeam_utils::{Backoff, CachePadded};
use rtrb::{Consumer, Producer, PushError, RingBuffer};

use crate::bell::{Bell, count_after, count_distance};
use crate::profile::StageStats;

/// A consumer that finds fewer items than this waits a moment for more.
const LINGER_BELOW: usize = 16;
/// That moment: a few hundred nanoseconds of `spin_loop`, never more.
const LINGER_SPINS: u32 = 64;

/// The two bells both ends share.
#[derive(Debug)]
struct Bells {
    /// Items pushed; closed when the sender is gone.
    pushed: CachePadded<Bell>,
    /// Items popped (reported in batches); closed when the receiver is gone.
    /// Padded apart, since each side writes one and mostly reads the other.
    popped: CachePadded<Bell>,
}

/// Creates a channel that holds at most `capacity` items.
pub(crate) fn channel<T>(capacity: usize) -> (RingSender<T>, RingReceiver<T>) {
    let (producer, consumer) = RingBuffer::new(capacity);
    let bells = Arc::new(Bells {
        pushed: CachePadded::new(Bell::new()),
        popped: CachePadded::new(Bell::new()),
    });
    let sender = RingSender {
        ring: producer,
        bells: Arc::clone(&bells),
        pushed: 0,
        capacity,
    };
    let receiver = RingReceiver {
        ring: consumer,
        bells,
        popped: 0,
        unreported: 0,
        report_every: (capacity / 4).max(1),
    };
    (sender, receiver)
}

/// The sending end; closes the channel when dropped.
pub(crate) struct RingSender<T> {
    ring: Producer<T>,
    bells: Arc<Bells>,
    /// Items pushed so far.
    pushed: usize,
    capacity: usize,
}

impl<T> RingSender<T> {
    /// Sends `item`, waiting while the channel is full; gives it back if the
    /// receiver is gone.
    #[inline]
    pub(crate) fn send(&mut self, item: T, stats: Option<&StageStats>) -> Result<(), T> {
        // A late answer only means one more item is made for nobody.
        if self.bells.popped.looks_closed() {
            return Err(item);
        }
        let mut item = item;
        let mut waiting_since = None;
        loop {
            match self.ring.push(item) {
                Ok(()) => break,
                Err(PushError::Full(back)) => {
                    item = back;
                    if stats.is_some() {
                        waiting_since.get_or_insert_with(Instant::now);
                    }
                    if !self.wait_for_room() {
                        return Err(item);
                    }
                }
            }
        }
        self.pushed = count_after(self.pushed, 1);
        self.bells.pushed.ring(1);
        if let (Some(stats), Some(since)) = (stats, waiting_since) {
            stats.waited_output_full(since);
        }
        Ok(())
    }

    /// Whether the receiver has hung up; may answer late, never wrongly "yes".
    #[inline]
    pub(crate) fn receiver_gone(&self) -> bool {
        self.bells.popped.looks_closed()
    }

    /// Waits until the consumer has reported a pop that leaves room; `false`
    /// if the receiver is gone.
    #[cold]
    fn wait_for_room(&self) -> bool {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if !self.ring.is_full() {
                return true;
            }
            backoff.snooze();
        }
        let full = |reading: crate::bell::Reading| {
            !reading.closed && count_distance(self.pushed, reading.count) >= self.capacity
        };
        loop {
            let reading = self.bells.popped.read();
            if reading.closed {
                return false;
            }
            if !full(reading) || !self.ring.is_full() {
                return true;
            }
            self.bells.popped.sleep_while(full);
        }
    }
}

impl<T> Drop for RingSender<T> {
    fn drop(&mut self) {
        self.bells.pushed.close();
    }
}

/// The receiving end; closes the channel when dropped, so the sender stops.
pub(crate) struct RingReceiver<T> {
    ring: Consumer<T>,
    bells: Arc<Bells>,
    /// Items popped so far.
    popped: usize,
    /// Pops not yet reported to the producer.
    unreported: usize,
    report_every: usize,
}

impl<T> RingReceiver<T> {
    /// The next item, waiting for one; `None` once the sender is gone and
    /// every item it sent has been received.
    #[inline]
    pub(crate) fn recv(&mut self, stats: Option<&StageStats>) -> Option<T> {
        let mut waiting_since = None;
        let item = loop {
            if let Ok(item) = self.ring.pop() {
                break Some(item);
            }
            if stats.is_some() {
                waiting_since.get_or_insert_with(Instant::now);
            }
            if !self.wait_for_items() {
                // Closed: whatever was pushed before closing is in the ring.
                break self.ring.pop().ok();
            }
        };
        if let (Some(stats), Some(since)) = (stats, waiting_since) {
            stats.waited_input_empty(since);
        }
        if item.is_some() {
            self.popped = count_after(self.popped, 1);
            self.unreported += 1;
            if self.unreported >= self.report_every {
                self.report();
            }
        }
        item
    }

    /// Tells the producer about the pops since the last report.
    fn report(&mut self) {
        if self.unreported > 0 {
            self.bells.popped.ring(self.unreported);
            self.unreported = 0;
        }
    }

    /// Waits until an item has been pushed; `false` once the sender is gone.
    #[cold]
    fn wait_for_items(&mut self) -> bool {
        // The producer may be waiting for these pops to make room.
        self.report();
        // While spinning, watch the ring, not the bell: the producer adds to
        // the bell on every push, and a locked add on a cache line this
        // thread keeps reading would stall it each time.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            let ready = self.ring.slots();
            if ready > 0 {
                if ready < LINGER_BELOW {
                    // Let a few more arrive before taking them: chasing the
                    // producer item by item makes every cache line of the
                    // ring cross between the cores twice.
                    for _ in 0..LINGER_SPINS {
                        std::hint::spin_loop();
                    }
                }
                return true;
            }
            backoff.snooze();
        }
        let empty = |reading: crate::bell::Reading| !reading.closed && reading.count == self.popped;
        loop {
            let reading = self.bells.pushed.read();
            if !empty(reading) {
                return reading.count != self.popped;
            }
            self.bells.pushed.sleep_while(empty);
        }
    }
}

impl<T> Drop for RingReceiver<T> {
    fn drop(&mut self) {
        self.bells.popped.close();
    }
}
