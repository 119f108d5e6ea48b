// `errors_to` splits `Result`s; an iterator of plain values has no errors to send.
use std::sync::mpsc;

use threadpipe::prelude::*;

fn main() {
    let (sender, _errors) = mpsc::channel::<String>();
    let values: Vec<i32> = (0..3).errors_to(sender).collect();
    println!("{values:?}");
}
