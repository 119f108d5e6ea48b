// The fix for parallel-map-borrowed-table.rs: inside a scope, which waits for
// its threads before it returns, the workers may borrow the table.
use std::collections::HashMap;
use std::thread;

use threadpipe::prelude::*;

fn codes(words: Vec<&'static str>, table: &HashMap<String, u32>) -> Vec<u32> {
    thread::scope(|scope| {
        words
            .into_iter()
            .parallel_map_scoped(scope, |word| table[word])
            .collect()
    })
}

fn main() {
    let table = HashMap::from([("pipe".to_owned(), 1), ("stage".to_owned(), 2)]);
    assert_eq!(codes(vec!["stage", "pipe"], &table), [2, 1]);
}
