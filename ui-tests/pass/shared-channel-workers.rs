// The fix for receiver-shared-by-workers.rs: a shared receiver takes turns
// behind a lock, so any number of workers may hold it.
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

fn main() {
    let (jobs, queue) = threadpipe::shared_channel::<u32>();
    let total = AtomicU32::new(0);
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for job in queue.iter() {
                    total.fetch_add(job, Ordering::Relaxed);
                }
            });
        }
        for job in 1..=4 {
            jobs.send(job).unwrap();
        }
        drop(jobs);
    });
    assert_eq!(total.load(Ordering::Relaxed), 10);
}
