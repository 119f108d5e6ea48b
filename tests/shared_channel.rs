//! `shared_channel`: several receivers, each message delivered exactly once.

mod common;

use std::sync::mpsc;
use std::thread;

use common::watchdog;
use threadpipe::{shared_channel, shared_sync_channel};

#[test]
fn each_message_reaches_exactly_one_worker() {
    let _watchdog = watchdog();
    let (jobs, queue) = shared_channel();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || queue.into_iter().collect::<Vec<u32>>())
        })
        .collect();
    drop(queue);
    for n in 0..10_000 {
        jobs.send(n).unwrap();
    }
    drop(jobs);
    let mut all: Vec<u32> = workers
        .into_iter()
        .flat_map(|worker| worker.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..10_000).collect::<Vec<_>>());
}

#[test]
fn each_worker_sees_its_messages_in_send_order() {
    let _watchdog = watchdog();
    let (jobs, queue) = shared_channel();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let queue = queue.clone();
            thread::spawn(move || queue.iter().collect::<Vec<u32>>())
        })
        .collect();
    for n in 0..3000 {
        jobs.send(n).unwrap();
    }
    drop(jobs);
    for worker in workers {
        let got = worker.join().unwrap();
        assert!(
            got.windows(2).all(|pair| pair[0] < pair[1]),
            "out of order: {got:?}"
        );
    }
}

#[test]
fn disconnection_ends_every_clone() {
    let _watchdog = watchdog();
    let (sender, first) = shared_channel::<u8>();
    let second = first.clone();
    sender.send(7).unwrap();
    drop(sender);
    assert_eq!(second.recv(), Ok(7));
    assert!(first.recv().is_err());
    assert!(second.recv().is_err());
    assert_eq!(first.try_recv(), Err(mpsc::TryRecvError::Disconnected));
}

#[test]
fn bounded_sender_waits_for_a_receiver() {
    let _watchdog = watchdog();
    let (sender, queue) = shared_sync_channel(2);
    sender.send(1).unwrap();
    sender.send(2).unwrap();
    assert!(matches!(
        sender.try_send(3),
        Err(mpsc::TrySendError::Full(3))
    ));
    let receiver = thread::spawn(move || queue.iter().collect::<Vec<_>>());
    sender.send(3).unwrap(); // waits until the receiver thread takes one
    drop(sender);
    assert_eq!(receiver.join().unwrap(), [1, 2, 3]);
}

#[test]
fn try_recv_does_not_wait_for_a_clone_inside_recv() {
    let _watchdog = watchdog();
    let (sender, waiting) = shared_channel::<u8>();
    let other = waiting.clone();
    let (entered, inside) = mpsc::channel();
    let blocked = thread::spawn(move || {
        entered.send(()).unwrap();
        waiting.recv()
    });
    inside.recv().unwrap();
    // The other clone may or may not be inside `recv` yet; either way nothing
    // is there, and `try_recv` must say so rather than wait for the message.
    for _ in 0..1000 {
        assert_eq!(other.try_recv(), Err(mpsc::TryRecvError::Empty));
    }
    sender.send(9).unwrap();
    assert_eq!(blocked.join().unwrap(), Ok(9));
}

#[test]
fn debug_does_not_need_debug_messages() {
    let _watchdog = watchdog();
    struct Opaque;
    let (_sender, receiver) = shared_channel::<Opaque>();
    assert_eq!(format!("{receiver:?}"), "SharedReceiver { .. }");
}
