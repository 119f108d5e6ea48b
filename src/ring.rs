//! A bounded single-producer single-consumer channel that costs a few
//! nanoseconds per item: a lock-free ring ([`rtrb`]) carries the items, a
//! [`Doorbell`] wakes a consumer that sleeps on an empty ring, and a
//! [`Bell`] wakes a producer that sleeps on a full one.
//!
//! Every push is visible to the consumer at once (it is one release store),
//! and costs no locked instruction where Linux's `membarrier` is available
//! (a full fence elsewhere): the doorbell wakes a sleeping consumer through
//! an asymmetric fence pair, so an item is never stranded, even if the
//! producer then blocks for ever inside its source. Pops are counted in
//! batches (every quarter of the capacity, and whenever the consumer is about
//! to wait), which is when a producer waiting for room is woken. Before
//! sleeping, each side spins for up to 20 µs, since parking and waking a
//! thread costs about 10 µs. And neither side chases the other item by item
//! if it can help it, since every cache line that crosses between two cores
//! costs tens of nanoseconds: a consumer that runs out of items, or folds,
//! waits up to 1 µs for a quarter of the ring before it takes fewer, and a
//! producer that finds the ring full waits up to 1 µs for a quarter of it
//! to empty before it takes any room.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;
use rtrb::{Consumer, Producer, PushError, RingBuffer};

use crate::bell::Bell;
use crate::doorbell::Doorbell;
use crate::profile::StageStats;

/// How long a consumer that finds only a few items waits for more before it
/// takes them (a bounded, microsecond wait, never more), and how long a
/// producer that finds the ring full waits for a quarter of it to empty
/// before it takes any room.
const LINGER: Duration = Duration::from_micros(1);
/// How many `spin_loop`s apart a spinning side looks at the ring: each look
/// pulls a cache line from the other side's core.
const SPINS_PER_LOOK: u32 = 8;

/// How long a side that cannot go on spins before it sleeps. Waking a
/// sleeper costs about 10 µs, and a consumer runs a `membarrier` (an
/// interrupt on every core running a thread of the process) before it
/// sleeps, so a wait that ends
/// within this is cheaper spun; a side blocked for longer sleeps after it.
const SPIN_BEFORE_SLEEP: Duration = Duration::from_micros(20);
/// For this long a waiting side only spins; after it, it also yields its
/// core between looks, in case the other side is waiting for it there.
const SPIN_ONLY: Duration = Duration::from_micros(2);

/// Spins until `done` says so, for at most `limit`; whether it said so.
fn spin_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        let spun = start.elapsed();
        if spun >= limit {
            return false;
        }
        if spun < SPIN_ONLY {
            for _ in 0..SPINS_PER_LOOK {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }
}

/// The two bells both ends share.
#[derive(Debug)]
struct Bells {
    /// Rung at every push; closed when the sender is gone.
    pushed: CachePadded<Doorbell>,
    /// Counts pops (reported in batches); closed when the receiver is gone.
    /// Padded apart, since each side writes one and mostly reads the other.
    popped: CachePadded<Bell>,
}

/// Creates a channel that holds at most `capacity` items.
pub(crate) fn channel<T>(capacity: usize) -> (RingSender<T>, RingReceiver<T>) {
    let (producer, consumer) = RingBuffer::new(capacity);
    let bells = Arc::new(Bells {
        pushed: CachePadded::new(Doorbell::new()),
        popped: CachePadded::new(Bell::new()),
    });
    // Pops are reported this often, and a producer that found the ring full
    // waits for this much room: about as far apart as the two can be
    // without either side chasing the other slot by slot.
    let quarter = (capacity / 4).max(1);
    let sender = RingSender {
        ring: producer,
        bells: Arc::clone(&bells),
        room_wanted: quarter,
    };
    let receiver = RingReceiver {
        ring: consumer,
        bells,
        unreported: 0,
        report_every: quarter,
        enough: quarter,
    };
    (sender, receiver)
}

/// The sending end; closes the channel when dropped.
pub(crate) struct RingSender<T> {
    ring: Producer<T>,
    bells: Arc<Bells>,
    room_wanted: usize,
}

impl<T> RingSender<T> {
    /// Sends `item`, waiting while the channel is full; gives it back if the
    /// receiver is gone.
    #[inline]
    pub(crate) fn send(&mut self, item: T, stats: Option<&StageStats>) -> Result<(), T> {
        // A late answer only means one more item is made for nobody.
        if self.receiver_gone() {
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
        self.bells.pushed.ring();
        if let (Some(stats), Some(since)) = (stats, waiting_since) {
            stats.waited_output_full(since);
        }
        Ok(())
    }

    /// Whether the receiver has hung up; may answer late, never wrongly "yes".
    #[inline]
    pub(crate) fn receiver_gone(&self) -> bool {
        // The doorbell's flag, not the popped bell's: the consumer writes the
        // popped bell's line at every report, the doorbell's almost never.
        self.bells.pushed.hung_up()
    }

    /// Waits until there is room; `false` if the receiver is gone. It first
    /// waits a moment for a quarter of the ring, so as not to chase the
    /// consumer slot by slot: every item is already pushed, so this holds
    /// nothing back.
    #[cold]
    fn wait_for_room(&self) -> bool {
        spin_for(LINGER, || {
            self.ring.slots() >= self.room_wanted || self.receiver_gone()
        });
        if spin_for(SPIN_BEFORE_SLEEP, || {
            !self.ring.is_full() || self.receiver_gone()
        }) {
            return !self.receiver_gone();
        }
        loop {
            // Read the count before looking at the ring: a report after this
            // changes the count, so the sleep below does not miss it.
            let seen = self.bells.popped.read();
            if seen.closed {
                return false;
            }
            if !self.ring.is_full() {
                return true;
            }
            self.bells.popped.sleep_while(|now| now == seen);
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
    /// Pops not yet reported to the producer.
    unreported: usize,
    report_every: usize,
    /// Fewer ready items than this, and the consumer lingers.
    enough: usize,
}

impl<T> RingReceiver<T> {
    /// The next item, waiting for one; `None` once the sender is gone and
    /// every item it sent has been received.
    #[inline]
    pub(crate) fn recv(&mut self, stats: Option<&StageStats>) -> Option<T> {
        let item = match self.ring.pop() {
            Ok(item) => Some(item),
            // Either items have come, or the sender has gone and every item
            // it pushed has been taken.
            Err(_) => {
                self.wait_for_items(stats);
                self.ring.pop().ok()
            }
        };
        if item.is_some() {
            self.popped(1);
        }
        item
    }

    /// Folds every item until the sender is gone, taking what is ready a
    /// chunk (at most a quarter of the ring) at a time; `each_chunk` hears
    /// how many items each chunk held, once they are folded.
    pub(crate) fn fold<B>(
        &mut self,
        init: B,
        mut f: impl FnMut(B, T) -> B,
        stats: Option<&StageStats>,
        mut each_chunk: impl FnMut(usize),
    ) -> B {
        let mut accumulated = init;
        loop {
            let mut ready = self.ring.slots();
            if ready == 0 {
                if !self.wait_for_items(stats) {
                    return accumulated;
                }
                ready = self.ring.slots();
            } else if ready < self.enough {
                ready = self.linger(ready);
            }
            // A chunk frees its slots only once it is folded: a whole ring at
            // a time would leave a worker facing a slow `f` without room.
            let taken = ready.min(self.enough);
            let chunk = self
                .ring
                .read_chunk(taken)
                .expect("threadpipe: the ring shrank under its only consumer");
            // If `f` panics, the stage is dropped as the panic unwinds, which
            // hangs up; the slots and counts left behind no longer matter.
            accumulated = chunk.into_iter().fold(accumulated, &mut f);
            each_chunk(taken);
            self.popped(taken);
        }
    }

    /// Counts `items` popped, and reports them every quarter of the ring.
    #[inline]
    fn popped(&mut self, items: usize) {
        self.unreported += items;
        if self.unreported >= self.report_every {
            self.report();
        }
    }

    /// Tells the producer about the pops since the last report.
    fn report(&mut self) {
        if self.unreported > 0 {
            self.bells.popped.ring(self.unreported);
            self.unreported = 0;
        }
    }

    /// Waits a moment for more than the `ready` items, unless they are
    /// enough; how many are ready then. Taking items as soon as one is there
    /// would chase the producer slot by slot, and make every cache line of
    /// the ring cross between the cores twice.
    fn linger(&self, ready: usize) -> usize {
        if ready >= self.enough {
            return ready;
        }
        spin_for(LINGER, || {
            self.ring.slots() >= self.enough || self.bells.pushed.is_closed()
        });
        self.ring.slots()
    }

    /// Waits until an item has been pushed, and tells `stats` how long;
    /// `false` once the sender is gone and every item it pushed was taken.
    #[cold]
    fn wait_for_items(&mut self, stats: Option<&StageStats>) -> bool {
        let since = stats.map(|_| Instant::now());
        let more = self.spin_then_sleep_for_items();
        if let (Some(stats), Some(since)) = (stats, since) {
            stats.waited_input_empty(since);
        }
        more
    }

    fn spin_then_sleep_for_items(&mut self) -> bool {
        // The producer may be waiting for these pops to make room.
        self.report();
        if spin_for(SPIN_BEFORE_SLEEP, || {
            !self.ring.is_empty() || self.bells.pushed.is_closed()
        }) {
            let ready = self.ring.slots();
            if ready == 0 {
                // Closed, and every push came before the close.
                return false;
            }
            self.linger(ready);
            return true;
        }
        loop {
            if !self.ring.is_empty() {
                return true;
            }
            if self.bells.pushed.is_closed() {
                // Every push came before the close, so this sees them all.
                return !self.ring.is_empty();
            }
            let ring = &self.ring;
            self.bells.pushed.sleep_while(|| ring.is_empty());
        }
    }
}

impl<T> Drop for RingReceiver<T> {
    fn drop(&mut self) {
        self.bells.pushed.hang_up();
        // Wakes a producer that sleeps for room.
        self.bells.popped.close();
    }
}
