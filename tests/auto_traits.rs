//! Which public types are `Send`, `Sync` and `Unpin`, and under which
//! conditions: the same facts the type docs state.

use std::rc::Rc;
use std::sync::mpsc::{Sender, SyncSender};
use std::vec::IntoIter;

use static_assertions::{assert_impl_all, assert_not_impl_any};
use threadpipe::{
    ErrorsTo, OffThread, OffThreadOptions, OffThreadScoped, ParallelMap, ParallelMapOptions,
    ParallelMapScoped,
};

type Bytes = IntoIter<u8>;

// A stage can be handed to another thread (and so feed another stage)...
assert_impl_all!(OffThread<Bytes>: Send, Unpin);
assert_impl_all!(OffThreadScoped<'static, 'static, Bytes>: Send, Unpin);
assert_impl_all!(ParallelMap<Bytes, String>: Send, Unpin);
assert_impl_all!(ParallelMapScoped<'static, 'static, Bytes, String>: Send, Unpin);
// ...but only one thread at a time may pull from it.
assert_not_impl_any!(OffThread<Bytes>: Sync);
assert_not_impl_any!(OffThreadScoped<'static, 'static, Bytes>: Sync);
assert_not_impl_any!(ParallelMap<Bytes, String>: Sync);
assert_not_impl_any!(ParallelMapScoped<'static, 'static, Bytes, String>: Sync);
// The stages hold closures of unknown unwind safety, and state they share
// with their threads: not unwind safe.
assert_not_impl_any!(OffThread<Bytes>: std::panic::UnwindSafe);
// A stage cannot be cloned: the clone would need a second worker.
assert_not_impl_any!(OffThread<Bytes>: Clone);
assert_not_impl_any!(ParallelMap<Bytes, u8>: Clone);

// Not `Send` when what the source yields is not.
assert_not_impl_any!(OffThread<IntoIter<Rc<u8>>>: Send);
assert_not_impl_any!(ParallelMap<Bytes, Rc<u8>>: Send);

// `errors_to` adds no thread of its own: it is as `Send` and `Sync` as its parts.
assert_impl_all!(ErrorsTo<IntoIter<Result<u8, String>>, Sender<String>>: Send, Sync, Unpin);
assert_impl_all!(ErrorsTo<IntoIter<Result<u8, String>>, SyncSender<String>>: Send, Sync, Unpin);
assert_not_impl_any!(ErrorsTo<IntoIter<Result<Rc<u8>, String>>, Sender<String>>: Send);

// Options are plain data.
assert_impl_all!(OffThreadOptions: Send, Sync, Unpin, Clone, Default);
assert_impl_all!(ParallelMapOptions: Send, Sync, Unpin, Clone, Default);

// A profile is shared by the threads of every stage it is given to.
assert_impl_all!(threadpipe::Profile: Send, Sync, Clone, Default);
assert_impl_all!(threadpipe::ProfileReport: Send, Sync, Clone);

// A shared receiver is the `Sync` form of an `mpsc::Receiver`.
assert_impl_all!(threadpipe::SharedReceiver<String>: Send, Sync, Clone);
assert_not_impl_any!(std::sync::mpsc::Receiver<String>: Sync);
assert_not_impl_any!(threadpipe::SharedReceiver<Rc<u8>>: Send, Sync);

// The owning iterator of a shared receiver, and options' Debug.
assert_impl_all!(threadpipe::SharedIntoIter<String>: Send, Sync);
assert_impl_all!(threadpipe::OffThreadOptions: std::fmt::Debug);
