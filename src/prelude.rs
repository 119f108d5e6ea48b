//! The one import a pipeline needs: `use threadpipe::prelude::*;`.
//!
//! It brings the extension traits into scope, so their methods can be called
//! on any iterator, and nothing else.
//!
//! ```
//! use threadpipe::prelude::*;
//!
//! let doubled: Vec<i32> = (1..4).off_thread().map(|n| n * 2).collect();
//! assert_eq!(doubled, [2, 4, 6]);
//! ```

pub use crate::errors_to::ErrorsToExt;
pub use crate::off_thread::OffThreadExt;
pub use crate::parallel_map::ParallelMapExt;
