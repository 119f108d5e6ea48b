// Items cross to the workers, so they must be `Send`: `Rc<RefCell<u32>>`
// items would leave their non-atomic count and borrow flag shared between
// threads. Use `Arc<Mutex<u32>>` (see pass/parallel-map-arc-mutex-items.rs).
use std::cell::RefCell;
use std::rc::Rc;

use threadpipe::prelude::*;

fn main() {
    let cells: Vec<Rc<RefCell<u32>>> = (0..3).map(|n| Rc::new(RefCell::new(n))).collect();
    let doubled: Vec<u32> = cells.into_iter().parallel_map(|cell| *cell.borrow() * 2).collect();
    println!("{doubled:?}");
}
