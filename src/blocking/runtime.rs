//! The background runtime of a blocking session: a current-thread tokio
//! runtime on a thread of its own, which every clone of the session shares.
//!
//! Callers hand it futures and wait for their output on a `std` channel:
//! waiting blocks the calling thread, whatever it is (a plain thread, a pool
//! thread, an async worker), and never panics. The runtime is dropped on its
//! own thread, when the last handle to it goes.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::thread;

use tokio::sync::oneshot;

use crate::{Error, Result};

/// The name of the thread that runs a blocking session's runtime.
const THREAD_NAME: &str = "http-session-blocking";

/// A future that borrows a value lent to the runtime (see [`Runtime::lend`]).
pub(crate) type LentFuture<'a, R> = Pin<Box<dyn Future<Output = R> + Send + 'a>>;

/// The blocking session's background runtime stopped before it finished an
/// operation: the operation's task panicked, or the runtime's thread is gone.
///
/// A blocking call that meets this returns an [`Error`] with this as its
/// source, instead of waiting forever or panicking.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct RuntimeStopped;

impl fmt::Display for RuntimeStopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the blocking session's background runtime stopped the operation")
    }
}

impl std::error::Error for RuntimeStopped {}

/// A blocking session was called on its own background thread (from a
/// middleware or layer of the session, say), where waiting would wait
/// forever: the thread that waits is the one that must do the work.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct CalledFromRuntime;

impl fmt::Display for CalledFromRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a blocking session was called on its own background runtime")
    }
}

impl std::error::Error for CalledFromRuntime {}

/// A current-thread runtime driven by a thread of its own. Dropping it stops
/// the runtime and waits for the thread, unless it is dropped on that thread.
pub(crate) struct Runtime {
    handle: tokio::runtime::Handle,
    /// Dropped to stop the runtime.
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
    thread_id: thread::ThreadId,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("thread", &self.thread.as_ref().map(|t| t.thread().id()))
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts the runtime on a new thread.
    ///
    /// # Errors
    /// The OS refused a thread, or the runtime's drivers could not start.
    pub(crate) fn start() -> Result<Runtime> {
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, started) = mpsc::sync_channel(1);
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready.send(Err(err));
                        return;
                    }
                };
                let _ = ready.send(Ok(runtime.handle().clone()));
                // Spawned tasks run while this waits; an error means every
                // handle is gone, which is also the signal to stop.
                let _ = runtime.block_on(stopped);
                // Dropped here, on its own thread, outside any async context:
                // its tasks (connections, unread bodies) are dropped with it.
                drop(runtime);
            })
            .map_err(Error::builder)?;
        match started.recv() {
            Ok(Ok(handle)) => Ok(Runtime {
                handle,
                stop: Some(stop),
                thread_id: thread.thread().id(),
                thread: Some(thread),
            }),
            Ok(Err(err)) => {
                let _ = thread.join();
                Err(Error::builder(err))
            }
            Err(_) => {
                let _ = thread.join();
                Err(Error::builder(RuntimeStopped))
            }
        }
    }

    /// Runs `future` on the runtime and blocks this thread until it is done.
    /// `future` is made on the caller's thread but first polled on the
    /// runtime: whatever needs a runtime (timers, sockets) goes in it.
    ///
    /// # Errors
    /// [`RuntimeStopped`] (as a request error) when the future's task never
    /// finished: it panicked, or the runtime is gone; [`CalledFromRuntime`]
    /// on the runtime's own thread.
    pub(crate) fn run<F>(&self, future: F) -> Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.check_thread()?;
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(future.await);
        });
        // A task that is dropped unfinished drops `tx`: `recv` returns.
        rx.recv().map_err(|_| Error::request(RuntimeStopped))
    }

    /// Lends `value` to the future `f` makes from it, runs that future on the
    /// runtime, and blocks until it is done. The value comes back even when
    /// the future does not finish (it panicked, or the runtime stopped), with
    /// an error for the output.
    pub(crate) fn lend<T, R>(
        &self,
        value: T,
        f: for<'a> fn(&'a mut T) -> LentFuture<'a, R>,
    ) -> (T, Result<R>)
    where
        T: Send + 'static,
        R: Send + 'static,
    {
        if let Err(err) = self.check_thread() {
            return (value, Err(err));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        // Made here, not in the task: a task dropped before its first poll
        // drops the guard too, which sends the value back.
        let mut lent = Lent {
            value: Some(value),
            tx,
        };
        self.handle.spawn(async move {
            if let Some(value) = lent.value.as_mut() {
                let output = f(value).await;
                lent.give_back(Some(output));
            }
        });
        let (value, output) = rx
            .recv()
            .expect("a lent value is sent back when its guard drops");
        (value, output.ok_or_else(|| Error::body(RuntimeStopped)))
    }

    /// Refuses to wait on the runtime's own thread, where nothing else would
    /// run the work waited for.
    fn check_thread(&self) -> Result<()> {
        if thread::current().id() == self.thread_id {
            return Err(Error::request(CalledFromRuntime));
        }
        Ok(())
    }
}

/// Holds a lent value on the runtime and sends it back (with the output,
/// if the future finished) when dropped, however that happens.
struct Lent<T, R> {
    value: Option<T>,
    tx: mpsc::SyncSender<(T, Option<R>)>,
}

impl<T, R> Lent<T, R> {
    fn give_back(&mut self, output: Option<R>) {
        if let Some(value) = self.value.take() {
            let _ = self.tx.send((value, output));
        }
    }
}

impl<T, R> Drop for Lent<T, R> {
    fn drop(&mut self) {
        self.give_back(None);
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // On the runtime's own thread (the last handle dropped by one of
            // its tasks), the thread finishes by itself once that task ends.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}
