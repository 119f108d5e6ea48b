//! What the scheduler's tests, and the tests of protocols built on a
//! stage's [`Runs`], share: runs whose tickets are only counted.

use std::sync::Arc;

use super::{Runs, Submit, Ticket, Work};
use crate::sync::shim::{AtomicUsize, Ordering};

/// A set of threads that only counts the tickets it is given.
#[derive(Default)]
pub(crate) struct CountedTickets(AtomicUsize);

impl CountedTickets {
    /// The tickets submitted so far.
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Submit<'static> for CountedTickets {
    fn submit(&self, _ticket: Ticket<'static>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn stage_started(&self) -> bool {
        true
    }

    fn stage_ended(&self) {}
}

/// A stage with nothing to do.
struct NoWork;

impl Work for NoWork {
    fn run(self: Arc<Self>) {}
}

/// The runs of a stage with nothing to do (gone already: a ticket is only
/// counted), at most `cap` at a time, waiting in place for work if
/// `wait_for_work`; and the count of the tickets they ask for.
pub(crate) fn counted_runs(
    cap: usize,
    wait_for_work: bool,
) -> (Runs<'static>, Arc<CountedTickets>) {
    let tickets = Arc::new(CountedTickets::default());
    let work: Arc<dyn Work> = Arc::new(NoWork);
    let runs = Runs::new(Arc::downgrade(&work), cap, wait_for_work, tickets.clone());
    (runs, tickets)
}
