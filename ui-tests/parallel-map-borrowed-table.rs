// `parallel_map`'s workers may outlive the function that started them, so
// its closure cannot borrow a local table: the compiler says the borrowed
// data "escapes" (a lifetime error, which no trait can word better). Use
// `parallel_map_scoped` inside `std::thread::scope`, which waits for the
// workers, or move an owned table in (see pass/parallel-map-scoped-table.rs).
use std::collections::HashMap;

use threadpipe::prelude::*;

fn codes(words: Vec<&'static str>, table: &HashMap<String, u32>) -> Vec<u32> {
    words.into_iter().parallel_map(|word| table[word]).collect()
}

fn main() {
    let table = HashMap::from([("pipe".to_owned(), 1), ("stage".to_owned(), 2)]);
    println!("{:?}", codes(vec!["stage", "pipe"], &table));
}
