// The error channel must carry the error type: a channel of `String`s cannot
// take `ParseIntError`s. Convert the errors first, or make the channel match
// (see pass/errors-to-matching-sink.rs).
use std::num::ParseIntError;
use std::sync::mpsc;

use threadpipe::prelude::*;

fn main() {
    let (sender, _errors) = mpsc::channel::<String>();
    let numbers: Vec<u32> = ["1", "x"].into_iter().map(str::parse::<u32>).errors_to(sender).collect();
    let _: Option<ParseIntError> = None;
    println!("{numbers:?}");
}
