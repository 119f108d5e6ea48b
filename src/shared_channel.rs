use std::fmt;
use std::sync::mpsc::{
    self, Receiver, RecvError, RecvTimeoutError, Sender, SyncSender, TryRecvError,
};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use crate::sync::Lock as _;

/// Creates an unbounded channel whose receiving end can be cloned and shared
/// by several threads: each message goes to exactly one of them.
///
/// An [`mpsc::Receiver`] is `Send` but not `Sync`, so it cannot be
/// shared as is; this wraps it in a `Mutex`, the classic way (see
/// `ui-tests/` for the error the plain receiver gets). A thread waiting in
/// [`recv`](SharedReceiver::recv) holds the lock, so the others wait for it;
/// only one can take the next message anyway.
///
/// # Examples
///
/// A pool of workers taking jobs from one queue:
///
/// ```
/// use std::sync::mpsc;
/// use std::thread;
///
/// let (jobs, job_queue) = threadpipe::shared_channel();
/// let (results, collected) = mpsc::channel();
/// let workers: Vec<_> = (0..3)
///     .map(|_| {
///         let job_queue = job_queue.clone();
///         let results = results.clone();
///         // Ends when every job sender is gone and the queue is empty.
///         thread::spawn(move || {
///             for n in job_queue {
///                 results.send(n * n).unwrap();
///             }
///         })
///     })
///     .collect();
/// drop(results);
/// for n in 1..=10 {
///     jobs.send(n).unwrap();
/// }
/// drop(jobs);
/// let mut squares: Vec<i32> = collected.iter().collect();
/// squares.sort();
/// assert_eq!(squares, [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
/// # for worker in workers { worker.join().unwrap(); }
/// ```
pub fn shared_channel<T>() -> (Sender<T>, SharedReceiver<T>) {
    let (sender, receiver) = mpsc::channel();
    (sender, SharedReceiver::new(receiver))
}

/// Like [`shared_channel`], bounded: `send` blocks while `bound` messages wait.
///
/// # Examples
///
/// ```
/// let (sender, receiver) = threadpipe::shared_sync_channel(1);
/// let other = receiver.clone();
/// sender.send("one").unwrap();
/// // The channel is full now: `try_send` gives the message back.
/// assert!(sender.try_send("two").is_err());
/// assert_eq!(other.recv(), Ok("one"));
/// ```
pub fn shared_sync_channel<T>(bound: usize) -> (SyncSender<T>, SharedReceiver<T>) {
    let (sender, receiver) = mpsc::sync_channel(bound);
    (sender, SharedReceiver::new(receiver))
}

/// The receiving end of a [`shared_channel`]: `Clone`, `Unpin`, and `Send` and `Sync` when
/// `T` is `Send`, so several threads can take messages from one channel.
///
/// It disconnects like a [`Receiver`]: once every sender is gone and the
/// queue is empty, `recv` returns an error and iteration ends, for every clone.
pub struct SharedReceiver<T> {
    inner: Arc<Mutex<Receiver<T>>>,
}

impl<T> SharedReceiver<T> {
    fn new(receiver: Receiver<T>) -> Self {
        SharedReceiver {
            inner: Arc::new(Mutex::new(receiver)),
        }
    }

    /// Waits for the next message; an error once every sender is gone.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the channel is empty and disconnected.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = threadpipe::shared_channel();
    /// sender.send(1).unwrap();
    /// drop(sender);
    /// assert_eq!(receiver.recv(), Ok(1));
    /// assert!(receiver.recv().is_err());
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.locked().recv()
    }

    /// Takes a message if one is waiting; never waits for one. If another
    /// clone is inside [`recv`](SharedReceiver::recv) right now, nothing is
    /// waiting (it would have taken it), and this says `Empty` at once.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing is waiting,
    /// [`TryRecvError::Disconnected`] when nothing ever will.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc::TryRecvError;
    ///
    /// let (sender, receiver) = threadpipe::shared_channel::<u8>();
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    /// drop(sender);
    /// assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.inner.try_lock() {
            Ok(receiver) => receiver.try_recv(),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().try_recv(),
            Err(TryLockError::WouldBlock) => Err(TryRecvError::Empty),
        }
    }

    /// Waits at most `timeout` for a message, once it has the receiver: if
    /// another clone is inside [`recv`](SharedReceiver::recv), this first
    /// waits for that one to get its message.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] or [`RecvTimeoutError::Disconnected`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (sender, receiver) = threadpipe::shared_channel();
    /// sender.send('x').unwrap();
    /// assert_eq!(receiver.recv_timeout(Duration::from_secs(1)), Ok('x'));
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.locked().recv_timeout(timeout)
    }

    /// An iterator that waits for each message, ending when every sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (sender, receiver) = threadpipe::shared_channel();
    /// for n in 0..3 {
    ///     sender.send(n).unwrap();
    /// }
    /// drop(sender);
    /// assert_eq!(receiver.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> SharedIter<'_, T> {
        SharedIter { receiver: self }
    }
}

impl<T> Clone for SharedReceiver<T> {
    fn clone(&self) -> Self {
        SharedReceiver {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> fmt::Debug for SharedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedReceiver").finish_non_exhaustive()
    }
}

/// Waits for each message of a [`SharedReceiver`]; see [`SharedReceiver::iter`].
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct SharedIter<'a, T> {
    receiver: &'a SharedReceiver<T>,
}

impl<T> Iterator for SharedIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> fmt::Debug for SharedIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedIter").finish_non_exhaustive()
    }
}

impl<'a, T> IntoIterator for &'a SharedReceiver<T> {
    type Item = T;
    type IntoIter = SharedIter<'a, T>;

    fn into_iter(self) -> SharedIter<'a, T> {
        self.iter()
    }
}

/// Waits for each message of a [`SharedReceiver`] it owns.
///
/// This struct is created by the [`IntoIterator`] impl of [`SharedReceiver`].
#[must_use = "iterators are lazy and do nothing unless consumed"]
pub struct SharedIntoIter<T> {
    receiver: SharedReceiver<T>,
}

impl<T> Iterator for SharedIntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.receiver.recv().ok()
    }
}

impl<T> fmt::Debug for SharedIntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedIntoIter").finish_non_exhaustive()
    }
}

impl<T> IntoIterator for SharedReceiver<T> {
    type Item = T;
    type IntoIter = SharedIntoIter<T>;

    fn into_iter(self) -> SharedIntoIter<T> {
        SharedIntoIter { receiver: self }
    }
}
