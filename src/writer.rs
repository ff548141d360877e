//! Group commit: one thread owns the ledger; many callers hand it commands and wait for their own
//! results.
//!
//! The writer takes whatever commands are waiting (up to [`MAX_GROUP`]), decides them in order
//! against the state the accepted ones before them left, writes the accepted records in one durable
//! write, and only then answers each caller: with its record's head, or with the rule that refused it
//! (a refused command does not fail its neighbours). After each group it publishes an immutable
//! [`Snapshot`] that readers use without waiting for the writer.

use crate::command::Command;
use crate::decide::Rejection;
use crate::ids::ActorId;
use crate::ledger::{Ledger, LedgerError};
use crate::record::Head;
use crate::state::State;
use crate::store::Store;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

/// Most commands decided and written together.
pub const MAX_GROUP: usize = 1024;

/// Why an append through the writer did not happen. Nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    /// The rules refused the command (HTTP: see [`Rejection`]).
    #[error("{0}")]
    Rejected(Rejection),
    /// The store failed while writing the group the command was in (HTTP 503).
    #[error("{0}")]
    Store(String),
    /// The ledger is damaged and takes no appends (HTTP 503).
    #[error("the ledger is damaged and takes no appends: {0} (run `commitments verify`)")]
    Damaged(String),
    /// The queue is full: try again later (HTTP 503 with Retry-After).
    #[error("the writer's queue is full; try again shortly")]
    Busy,
    /// The writer has stopped.
    #[error("the writer has stopped")]
    Closed,
}

impl From<LedgerError> for WriterError {
    fn from(e: LedgerError) -> WriterError {
        match e {
            LedgerError::Rejected { rejection, .. } => WriterError::Rejected(rejection),
            LedgerError::Damaged(why) => WriterError::Damaged(why),
            other => WriterError::Store(other.to_string()),
        }
    }
}

/// The state as of the end of a group: what readers see. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The last durable record.
    pub head: Option<Head>,
    /// The state as of that record, with every item.
    pub state: State,
}

struct Request {
    actor: Option<ActorId>,
    command: Command,
    reply: mpsc::Sender<Result<Head, WriterError>>,
}

/// A handle to the writer thread. Dropping it (or [`Writer::close`]) lets the writer finish the
/// commands already queued and stop.
pub struct Writer<S: Store + Send + 'static> {
    queue: Option<SyncSender<Request>>,
    snapshot: Arc<RwLock<Snapshot>>,
    thread: Option<JoinHandle<Ledger<S>>>,
}

impl<S: Store + Send + 'static> std::fmt::Debug for Writer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("head", &self.snapshot().head).finish_non_exhaustive()
    }
}

/// A submitted command's result, to wait for.
#[derive(Debug)]
pub struct Ticket(Receiver<Result<Head, WriterError>>);

impl Ticket {
    /// Waits until the command's record is durable (or refused).
    pub fn wait(self) -> Result<Head, WriterError> {
        self.0.recv().unwrap_or(Err(WriterError::Closed))
    }
}

impl<S: Store + Send + 'static> Writer<S> {
    /// Starts the writer thread over a ledger, with room for `queue` waiting commands. Every item is
    /// loaded first, so that snapshots hold the whole state.
    pub fn start(mut ledger: Ledger<S>, queue: usize) -> Result<Writer<S>, LedgerError> {
        ledger.load_all()?;
        let snapshot = Arc::new(RwLock::new(Snapshot { head: ledger.head(), state: ledger.state().clone() }));
        let (tx, rx) = mpsc::sync_channel(queue.max(1));
        let published = Arc::clone(&snapshot);
        let thread = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || run(ledger, rx, &published))
            .map_err(|e| LedgerError::Store(crate::store::StoreError::Engine(format!("cannot start the writer: {e}"))))?;
        Ok(Writer { queue: Some(tx), snapshot, thread: Some(thread) })
    }

    /// Queues a command; `actor` none means the default actor ([`Ledger::default_actor`]). Refused
    /// with [`WriterError::Busy`] when the queue is full.
    pub fn submit(&self, actor: Option<ActorId>, command: Command) -> Result<Ticket, WriterError> {
        let (reply, rx) = mpsc::channel();
        let queue = self.queue.as_ref().ok_or(WriterError::Closed)?;
        match queue.try_send(Request { actor, command, reply }) {
            Ok(()) => Ok(Ticket(rx)),
            Err(TrySendError::Full(_)) => Err(WriterError::Busy),
            Err(TrySendError::Disconnected(_)) => Err(WriterError::Closed),
        }
    }

    /// Appends one command and waits until it is durable.
    pub fn append(&self, actor: Option<ActorId>, command: Command) -> Result<Head, WriterError> {
        self.submit(actor, command)?.wait()
    }

    /// The state as of the last group written.
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops taking commands, lets the writer finish those queued, and returns the ledger.
    pub fn close(mut self) -> Result<Ledger<S>, WriterError> {
        self.queue = None;
        let thread = self.thread.take().ok_or(WriterError::Closed)?;
        thread.join().map_err(|_| WriterError::Store("the writer thread panicked".into()))
    }
}

impl<S: Store + Send + 'static> Drop for Writer<S> {
    fn drop(&mut self) {
        self.queue = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The writer thread: one group at a time until every handle is gone.
fn run<S: Store>(mut ledger: Ledger<S>, rx: Receiver<Request>, published: &RwLock<Snapshot>) -> Ledger<S> {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(r) => group.push(r),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(group.len());
        let mut commands = Vec::with_capacity(group.len());
        for r in group {
            let actor = match r.actor {
                Some(a) => Ok(a),
                None => match ledger.default_actor(&r.command) {
                    Ok(Some(a)) => Ok(a),
                    Ok(None) => Err(WriterError::Rejected(Rejection::NotOpened)),
                    Err(e) => Err(WriterError::from(e)),
                },
            };
            match actor {
                Ok(a) => {
                    commands.push((a, r.command));
                    replies.push(r.reply);
                }
                Err(e) => {
                    let _ = r.reply.send(Err(e));
                }
            }
        }
        match ledger.append_group(commands) {
            Ok(results) => {
                *published.write().unwrap_or_else(|e| e.into_inner()) =
                    Snapshot { head: ledger.head(), state: ledger.state().clone() };
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result.map_err(WriterError::Rejected));
                }
            }
            Err(e) => {
                let e = WriterError::from(e);
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
    ledger
}
