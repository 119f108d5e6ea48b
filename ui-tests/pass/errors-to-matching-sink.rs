// The fix for errors-to-wrong-sink.rs: turn each error into what the channel carries.
use std::sync::mpsc;

use threadpipe::prelude::*;

fn main() {
    let (sender, errors) = mpsc::channel::<String>();
    let numbers: Vec<u32> = ["1", "x"]
        .into_iter()
        .map(|text| text.parse::<u32>().map_err(|error| format!("{text:?}: {error}")))
        .errors_to(sender)
        .collect();
    assert_eq!(numbers, [1]);
    assert_eq!(errors.try_iter().collect::<Vec<_>>(), ["\"x\": invalid digit found in string"]);
}
