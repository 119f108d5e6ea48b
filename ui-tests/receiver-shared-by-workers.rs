// An `mpsc::Receiver` is not `Sync`: two workers receiving through one
// reference could race on its internals. Use `threadpipe::shared_channel`
// (see pass/shared-channel-workers.rs).
use std::sync::mpsc;
use std::thread;

fn main() {
    let (jobs, queue) = mpsc::channel::<u32>();
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                for job in queue.iter() {
                    println!("{job}");
                }
            });
        }
        jobs.send(1).unwrap();
        drop(jobs);
    });
}
