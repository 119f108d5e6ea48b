// Adapters are lazy: an `off_thread` that nobody iterates does nothing at all.
#![deny(unused_must_use)]

use threadpipe::prelude::*;

fn main() {
    (0..3).map(|n| n * 2).off_thread();
}
