//! A bounded single-producer single-consumer channel that costs a few
//! nanoseconds per item: a lock-free ring ([`rtrb`]) carries the items, and
//! a [`ConsumerBell`] wakes a consumer that sleeps on an empty ring, as
//! [`crate::wake`] describes. A producer that finds the ring full does not
//! sleep: its run ends (see [`crate::scheduler`]), and the consumer's
//! reports of pops, the ring's [`slack`] (a quarter of it) at a time, and
//! whenever it is about to wait, go to a [`RoomMade`] hook that asks for
//! another run. The slack is also how much room a producer that found the
//! ring full spins for before it gives up, and at most how much a folding
//! consumer takes at once.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use rtrb::{Consumer, Producer, PushError, RingBuffer};

use crate::pace::Pace;
use crate::stats::Recorder;
use crate::wake::ConsumerBell;
use crate::wake::spin::{LINGER, spin_before_sleep, spin_for};

/// Told when the consumer has made room, or gone: the producer, whose run
/// ended on a full ring, is given another.
pub(crate) trait RoomMade: Send + Sync {
    fn room_made(&self);
}

/// What both ends share.
#[derive(Debug)]
struct Bells {
    /// Rung at every push; closed when the sender is gone, hung up when
    /// the receiver is.
    pushed: CachePadded<ConsumerBell>,
}

/// About how long a folding consumer works on one chunk of the ring before
/// it frees the chunk's slots: short enough that a producer waiting for
/// room, and an allocator waiting for memory, get them a little at a time;
/// long enough that freeing slots costs little next to tiny items, whose
/// chunks are then the ring's [`slack`].
const FOLD_CHUNK_WORK: Duration = Duration::from_micros(2);

/// The slack between the two sides of a ring of `capacity`: pops are
/// reported this many at a time, a producer that found the ring full waits
/// for this much room, and a folding consumer takes at most this many
/// items at once. A quarter of the ring: as far apart as the two can be
/// without either side running dry while the other works.
pub(crate) fn slack(capacity: usize) -> usize {
    (capacity / 4).max(1)
}

/// Creates a channel that holds at most `capacity` items, whose receiver
/// tells `room` as it makes room.
pub(crate) fn channel<'a, T>(
    capacity: usize,
    room: Arc<dyn RoomMade + 'a>,
) -> (RingSender<T>, RingReceiver<'a, T>) {
    let (producer, consumer) = RingBuffer::new(capacity);
    let bells = Arc::new(Bells {
        pushed: CachePadded::new(ConsumerBell::new()),
    });
    let slack = slack(capacity);
    let sender = RingSender {
        ring: producer,
        bells: Arc::clone(&bells),
        room_wanted: slack,
    };
    let receiver = RingReceiver {
        ring: consumer,
        bells,
        room,
        unreported: 0,
        report_every: slack,
        enough: slack,
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
    /// Sends `item` if there is room; gives it back if the ring is full or
    /// the receiver is gone (tell which by [`receiver_gone`](Self::receiver_gone)).
    #[inline]
    pub(crate) fn try_send(&mut self, item: T) -> Result<(), T> {
        // A late answer only means one more item is made for nobody.
        if self.receiver_gone() {
            return Err(item);
        }
        match self.ring.push(item) {
            Ok(()) => {
                self.bells.pushed.ring();
                Ok(())
            }
            Err(PushError::Full(item)) => Err(item),
        }
    }

    /// Whether the receiver has hung up; may answer late, never wrongly "yes".
    #[inline]
    pub(crate) fn receiver_gone(&self) -> bool {
        self.bells.pushed.hung_up()
    }

    /// Whether the ring has room for one more item.
    pub(crate) fn has_room(&self) -> bool {
        !self.ring.is_full()
    }

    /// Spins a moment for room on a full ring: first, a moment ([`LINGER`])
    /// for a the ring's [`slack`], so as not to chase the consumer slot by
    /// slot (every item is already pushed, so this holds nothing back), then
    /// up to [`SPIN_BEFORE_SLEEP`](crate::wake::spin::SPIN_BEFORE_SLEEP) for
    /// any room. Whether there is room (or the receiver is gone) by then;
    /// if not, the producer's run ends, and the receiver's next report
    /// asks for another.
    #[cold]
    pub(crate) fn spin_for_room(&self) -> bool {
        spin_for(LINGER, || {
            self.ring.slots() >= self.room_wanted || self.receiver_gone()
        });
        spin_before_sleep(|| !self.ring.is_full() || self.receiver_gone())
    }
}

impl<T> Drop for RingSender<T> {
    fn drop(&mut self) {
        self.bells.pushed.close();
    }
}

/// The receiving end; closes the channel when dropped, so the sender stops.
pub(crate) struct RingReceiver<'a, T> {
    ring: Consumer<T>,
    bells: Arc<Bells>,
    room: Arc<dyn RoomMade + 'a>,
    /// Pops not yet reported to the producer.
    unreported: usize,
    report_every: usize,
    /// Fewer ready items than this, and the consumer lingers.
    enough: usize,
}

impl<T> RingReceiver<'_, T> {
    /// The next item, waiting for one; `None` once the sender is gone and
    /// every item it sent has been received.
    #[inline]
    pub(crate) fn recv(&mut self, stats: &Recorder) -> Option<T> {
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

    /// If the sender is gone, hands every item left to `each`, so that
    /// they are dropped here one by one rather than all at once with the
    /// ring. While the sender is there, taking items would only make room
    /// for it to pull more before it sees the hang-up; it drops what is
    /// left when it goes.
    pub(crate) fn drain_if_sender_gone(&mut self, mut each: impl FnMut(T)) {
        if self.ring.is_abandoned() {
            while let Ok(item) = self.ring.pop() {
                each(item);
            }
        }
    }

    /// Folds every item until the sender is gone, taking what is ready a
    /// chunk at a time: at most the ring's [`slack`], and about
    /// [`FOLD_CHUNK_WORK`] of folding; `each_chunk` hears how many items
    /// each chunk held, once they are folded.
    pub(crate) fn fold<B>(
        &mut self,
        init: B,
        mut f: impl FnMut(B, T) -> B,
        stats: &Recorder,
        mut each_chunk: impl FnMut(usize),
    ) -> B {
        let mut accumulated = init;
        let mut pace = Pace::default();
        loop {
            let wanted = pace.items_in(FOLD_CHUNK_WORK, self.enough);
            let mut ready = self.ring.slots();
            if ready == 0 {
                if !self.wait_for_items(stats) {
                    return accumulated;
                }
                ready = self.ring.slots();
            } else if ready < wanted {
                ready = self.linger(ready, wanted);
            }
            // A chunk frees its slots only once it is folded: a large one
            // would leave a worker facing a slow `f` without room, and
            // would free items the producer allocated in a burst, which
            // some allocators then hand back to the system (see
            // `benches/README.md`, items that own memory).
            let taken = ready.min(wanted);
            let chunk = self
                .ring
                .read_chunk(taken)
                .expect("threadpipe: the ring shrank under its only consumer");
            let started = pace.start();
            // If `f` panics, the stage is dropped as the panic unwinds, which
            // hangs up; the slots and counts left behind no longer matter.
            accumulated = chunk.into_iter().fold(accumulated, &mut f);
            pace.ran(taken, started);
            each_chunk(taken);
            self.popped(taken);
        }
    }

    /// Counts `items` popped, and reports them every the ring's [`slack`].
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
            self.unreported = 0;
            self.room.room_made();
        }
    }

    /// Says the receiver has gone, so that the sender stops, without
    /// dropping the items it holds; dropping the receiver does it too.
    pub(crate) fn hang_up(&self) {
        self.bells.pushed.hang_up();
        self.room.room_made();
    }

    /// Waits a moment for `wanted` items, when only `ready` are there;
    /// how many are ready then. Taking items as soon as one is there would
    /// chase the producer slot by slot, and make every cache line of the
    /// ring cross between the cores twice.
    fn linger(&self, ready: usize, wanted: usize) -> usize {
        if ready >= wanted {
            return ready;
        }
        spin_for(LINGER, || {
            self.ring.slots() >= wanted || self.bells.pushed.is_closed()
        });
        self.ring.slots()
    }

    /// Waits until an item has been pushed, and tells `stats` how long;
    /// `false` once the sender is gone and every item it pushed was taken.
    #[cold]
    fn wait_for_items(&mut self, stats: &Recorder) -> bool {
        let since = stats.clock();
        let more = self.spin_then_sleep_for_items();
        stats.waited_input_empty(since);
        more
    }

    fn spin_then_sleep_for_items(&mut self) -> bool {
        // The producer may be waiting for these pops to make room.
        self.report();
        if spin_before_sleep(|| !self.ring.is_empty() || self.bells.pushed.is_closed()) {
            let ready = self.ring.slots();
            if ready == 0 {
                // Closed, and every push came before the close.
                return false;
            }
            self.linger(ready, self.enough);
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

impl<T> Drop for RingReceiver<'_, T> {
    fn drop(&mut self) {
        self.hang_up();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    use super::*;

    /// Counts the receiver's reports of room.
    #[derive(Default)]
    struct Reports(AtomicUsize);

    impl RoomMade for Reports {
        fn room_made(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn channel_of<T>(capacity: usize) -> (RingSender<T>, RingReceiver<'static, T>, Arc<Reports>) {
        let reports = Arc::new(Reports::default());
        let (sender, receiver) = channel(capacity, Arc::clone(&reports) as Arc<dyn RoomMade>);
        (sender, receiver, reports)
    }

    /// Sends, spinning while the ring is full, as a producer's runs would.
    fn send<T>(sender: &mut RingSender<T>, mut item: T) -> Result<(), T> {
        loop {
            match sender.try_send(item) {
                Ok(()) => return Ok(()),
                Err(back) if sender.receiver_gone() => return Err(back),
                Err(back) => {
                    item = back;
                    thread::yield_now();
                }
            }
        }
    }

    #[test]
    fn items_arrive_in_order_and_the_end_is_seen() {
        let (mut sender, mut receiver, _) = channel_of(4);
        let producer = thread::spawn(move || {
            for n in 0..1000 {
                send(&mut sender, n).unwrap();
            }
        });
        let got: Vec<i32> = std::iter::from_fn(|| receiver.recv(&Recorder::off())).collect();
        producer.join().unwrap();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
        assert_eq!(
            receiver.recv(&Recorder::off()),
            None,
            "the end stays the end"
        );
    }

    #[test]
    fn holds_at_most_its_capacity() {
        let (mut sender, receiver, _) = channel_of(3);
        for n in 0..3 {
            sender.try_send(n).unwrap();
        }
        assert!(!sender.has_room());
        assert_eq!(sender.try_send(3), Err(3), "full");
        assert!(!sender.receiver_gone());
        drop(receiver);
        // A full ring whose receiver is gone: the send gives the item back,
        // and says why.
        assert_eq!(sender.try_send(3), Err(3));
        assert!(sender.receiver_gone());
        assert!(sender.spin_for_room(), "no room, but nothing to wait for");
    }

    #[test]
    fn a_send_after_the_hang_up_gives_the_item_back() {
        let (mut sender, receiver, reports) = channel_of::<u8>(8);
        drop(receiver);
        assert!(sender.receiver_gone());
        assert_eq!(sender.try_send(7), Err(7));
        assert!(
            reports.0.load(Ordering::SeqCst) >= 1,
            "the hang-up is reported as room"
        );
    }

    #[test]
    fn pops_are_reported_a_quarter_at_a_time() {
        let (mut sender, mut receiver, reports) = channel_of(16);
        for n in 0..16 {
            sender.try_send(n).unwrap();
        }
        for _ in 0..slack(16) - 1 {
            receiver.recv(&Recorder::off()).unwrap();
        }
        assert_eq!(reports.0.load(Ordering::SeqCst), 0, "less than a quarter");
        receiver.recv(&Recorder::off()).unwrap();
        assert_eq!(reports.0.load(Ordering::SeqCst), 1, "a quarter");
    }

    #[test]
    fn fold_takes_chunks_of_at_most_a_quarter() {
        let (mut sender, mut receiver, _) = channel_of(16);
        for n in 0..16 {
            sender.try_send(n).unwrap();
        }
        drop(sender);
        let mut chunks = Vec::new();
        let total = receiver.fold(
            0,
            |sum, n| sum + n,
            &Recorder::off(),
            |chunk| chunks.push(chunk),
        );
        assert_eq!(total, (0..16).sum::<i32>());
        assert_eq!(chunks.iter().sum::<usize>(), 16);
        assert!(
            chunks.iter().all(|&chunk| (1..=slack(16)).contains(&chunk)),
            "{chunks:?}"
        );
    }

    #[test]
    fn drains_only_once_the_sender_is_gone() {
        let (mut sender, mut receiver, _) = channel_of(8);
        for n in 0..5 {
            sender.try_send(n).unwrap();
        }
        let mut drained = Vec::new();
        receiver.drain_if_sender_gone(|n| drained.push(n));
        assert!(
            drained.is_empty(),
            "took items while the sender could refill"
        );
        drop(sender);
        receiver.drain_if_sender_gone(|n| drained.push(n));
        assert_eq!(drained, [0, 1, 2, 3, 4]);
    }
}
