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
            .map_err(|e| {
                LedgerError::Store(crate::store::StoreError::Engine(format!("cannot start the writer: {e}")))
            })?;
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
                None => match ledger.default_actor(Some(&r.command)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{NewCommitment, OpenLedger, RegisterActor, RegisterArea};
    use crate::date::{ManualClock, Timestamp};
    use crate::ids::{AreaId, ItemId, Seq};
    use crate::store::MemStore;
    use crate::vocab::{Kind, Role, Vocabulary};

    fn a(s: &str) -> ActorId {
        ActorId::new(s).unwrap()
    }

    /// A ledger with an administrator, `departments` departments and one item led by each.
    fn ledger(departments: usize) -> Ledger<MemStore> {
        let clock = ManualClock::at(Timestamp::parse("2024-06-01T09:00:00+08:00").unwrap());
        let mut l = Ledger::with_store(MemStore::new(), Box::new(clock)).unwrap();
        let opened = OpenLedger {
            title: "t".into(),
            origin: "example.test/writer".into(),
            utc_offset_minutes: 480,
            admin: a("admin"),
            admin_name: "admin".into(),
            vocabulary: Vocabulary::default_v1(),
            admin_key: None,
        };
        l.init(opened, RegisterArea::seed()).unwrap();
        for d in 0..departments {
            let dep = a(&format!("dep-{d}"));
            let register = RegisterActor {
                id: dep.clone(),
                name: format!("部门{d}"),
                name_en: None,
                role: Role::Department,
                public_key: None,
            };
            l.append(&a("admin"), Command::RegisterActor(register)).unwrap();
            let item = NewCommitment {
                id: ItemId::new(format!("item-{d}")).unwrap(),
                source: None,
                section: None,
                area: AreaId::new("finance").unwrap(),
                lead: dep,
                partners: Vec::new(),
                title: format!("承诺{d}"),
                title_en: None,
                text: format!("承诺{d}的原文"),
                kind: Kind::Ongoing,
                on: None,
                due: None,
            };
            l.append(&a("admin"), Command::RecordCommitment(item)).unwrap();
        }
        l
    }

    fn progress(d: usize, n: usize) -> Command {
        Command::ReportProgress {
            item: ItemId::new(format!("item-{d}")).unwrap(),
            text: format!("第{n}次进展"),
            on: None,
            evidence: None,
        }
    }

    #[test]
    fn many_threads_append_each_gets_its_own_record_and_the_chain_verifies() {
        const THREADS: usize = 16;
        const EACH: usize = 40;
        let l = ledger(THREADS);
        let before = l.head().unwrap().seq;
        let writer = Writer::start(l, 64).unwrap();
        let results: Vec<Vec<(usize, Head)>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|d| {
                    let writer = &writer;
                    s.spawn(move || {
                        (0..EACH)
                            .map(|n| {
                                let head = loop {
                                    // A full queue answers Busy at once; a client tries again.
                                    match writer.append(Some(a(&format!("dep-{d}"))), progress(d, n)) {
                                        Err(WriterError::Busy) => std::thread::yield_now(),
                                        other => break other.unwrap(),
                                    }
                                };
                                (n, head)
                            })
                            .collect()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let snapshot = writer.snapshot();
        let l = writer.close().unwrap();
        // Every acknowledged append is in the log exactly once, with the seq and hash it was told.
        let mut seqs: Vec<Seq> = results.iter().flatten().map(|(_, h)| h.seq).collect();
        seqs.sort();
        seqs.dedup();
        assert_eq!(seqs.len(), THREADS * EACH);
        assert_eq!(l.head().unwrap().seq.0, before.0 + (THREADS * EACH) as u64);
        for (d, mine) in results.iter().enumerate() {
            // Each thread's appends are in its order, and each record is what it asked for.
            assert!(mine.windows(2).all(|w| w[0].1.seq < w[1].1.seq), "thread {d} out of order");
            for (n, head) in mine {
                let (rec, hash) = l.record(head.seq).unwrap().unwrap();
                assert_eq!(hash, head.hash);
                assert_eq!(rec.actor, a(&format!("dep-{d}")));
                assert_eq!(rec.event.describe(), format!("progress on {}: 第{n}次进展", rec.time.day(480)));
            }
        }
        let report = l.verify(&mut |_| {}).unwrap();
        assert!(report.ok, "{report:?}");
        // The last snapshot is the state as of the last group: every item has all its reports.
        assert_eq!(snapshot.head, l.head());
        for d in 0..THREADS {
            let item = snapshot.state.get(&ItemId::new(format!("item-{d}")).unwrap()).unwrap();
            assert_eq!(item.progress_reports, EACH as u64);
        }
    }

    #[test]
    fn a_refused_command_does_not_fail_its_neighbours() {
        let l = ledger(2);
        let head = l.head().unwrap();
        let writer = Writer::start(l, 16).unwrap();
        // Queue several at once so that they share a group: one is refused by the rules.
        let tickets = vec![
            writer.submit(Some(a("dep-0")), progress(0, 1)).unwrap(),
            writer.submit(Some(a("dep-1")), progress(0, 2)).unwrap(), // dep-1 does not work on item-0
            writer.submit(Some(a("dep-1")), progress(1, 3)).unwrap(),
            writer.submit(None, progress(1, 4)).unwrap(), // the default actor is the item's lead
        ];
        let results: Vec<_> = tickets.into_iter().map(Ticket::wait).collect();
        assert!(results[0].is_ok());
        assert!(matches!(&results[1], Err(WriterError::Rejected(crate::decide::Rejection::NotAllowed { .. }))));
        assert!(results[2].is_ok() && results[3].is_ok());
        let seqs: Vec<u64> = results.iter().filter_map(|r| r.as_ref().ok()).map(|h| h.seq.0).collect();
        assert_eq!(seqs, vec![head.seq.0 + 1, head.seq.0 + 2, head.seq.0 + 3], "no gap where the refusal was");
        let l = writer.close().unwrap();
        assert!(l.verify(&mut |_| {}).unwrap().ok);
    }

    #[test]
    fn readers_see_a_consistent_snapshot_while_the_writer_goes_on() {
        let l = ledger(1);
        let writer = Writer::start(l, 16).unwrap();
        let old = writer.snapshot();
        let old_reports = old.state.get(&ItemId::new("item-0").unwrap()).unwrap().progress_reports;
        for n in 0..5 {
            writer.append(Some(a("dep-0")), progress(0, n)).unwrap();
        }
        // The snapshot taken before is unchanged; a new one has every append.
        assert_eq!(old.state.get(&ItemId::new("item-0").unwrap()).unwrap().progress_reports, old_reports);
        let new = writer.snapshot();
        assert_eq!(new.state.get(&ItemId::new("item-0").unwrap()).unwrap().progress_reports, old_reports + 5);
        assert_eq!(new.head.unwrap().seq.0, old.head.unwrap().seq.0 + 5);
    }

    #[test]
    fn a_failed_write_fails_the_whole_group_and_leaves_nothing_behind() {
        let mut l = ledger(1);
        let head = l.head().unwrap();
        l.store_mut_for_tests().fail_appends = 1;
        let writer = Writer::start(l, 16).unwrap();
        let err = writer.append(Some(a("dep-0")), progress(0, 1)).unwrap_err();
        assert!(matches!(err, WriterError::Store(_)), "{err:?}");
        assert_eq!(writer.snapshot().head, Some(head));
        // The next group goes through, right after the last durable record.
        let next = writer.append(Some(a("dep-0")), progress(0, 2)).unwrap();
        assert_eq!(next.seq, head.seq.next());
        let l = writer.close().unwrap();
        assert!(l.verify(&mut |_| {}).unwrap().ok);
    }
}
