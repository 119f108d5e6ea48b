// The fix for off-thread-borrowed-source.rs: a scoped stage may borrow, since
// the scope waits for its worker before the borrowed data can go away.
use std::thread;

use threadpipe::prelude::*;

fn total_length(words: &[String]) -> usize {
    thread::scope(|scope| words.iter().map(String::len).off_thread_scoped(scope).sum())
}

fn main() {
    assert_eq!(total_length(&["pipe".to_owned(), "line".to_owned()]), 8);
}
