//! A ledger over `MemStore` with a clock the test sets, the fixture on it, and the commands and
//! assertions the `rules_*` tests share: `ok` appends what must be accepted, `no` what must be refused
//! (checking that nothing was written).

use super::*;
use commitment_ledger::{
    Amend, Categorize, Code, Command, Correct, Head, ItemState, Ledger, LedgerError, ManualClock, MemStore,
    NewCommitment, RecordFeedback, RecordIndicator, RecordSource, Rejection, Seq, State, StreamVersion,
};
use commitment_ledger::{Kind, Role, SourceKind, Vocabulary};
use std::ops::ControlFlow;

/// A ledger over memory, with the test's clock.
pub struct MemLedger {
    /// The ledger.
    pub l: Ledger<MemStore>,
    /// Its clock, which the test moves.
    pub clock: ManualClock,
}

/// An empty ledger (no record 0), the clock at the fixture's time.
pub fn empty() -> MemLedger {
    let clock = clock_at(FIXTURE_TIME);
    let l = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    MemLedger { l, clock }
}

/// A ledger opened with a vocabulary and the seed areas, nothing else.
pub fn opened_ledger(vocabulary: Vocabulary) -> MemLedger {
    let mut t = empty();
    t.l.init(opened_with("admin", vocabulary), seed_areas()).unwrap();
    t
}

/// The fixture: actors, the reply 0771 addressed to 李静, four commitments and their updates.
pub fn fixture() -> MemLedger {
    let mut t = opened_ledger(Vocabulary::default_v1());
    t.l.append_batch(fixture_commands()).unwrap();
    t
}

impl MemLedger {
    /// Appends a command that must be accepted.
    #[track_caller]
    pub fn ok(&mut self, who: &str, command: Command) -> Head {
        let described = format!("{command:?}");
        self.l.append(&actor(who), command).unwrap_or_else(|e| panic!("{who} was refused {described}: {e}"))
    }

    /// Appends a command that must be refused; checks nothing was written and returns why.
    #[track_caller]
    pub fn no(&mut self, who: &str, command: Command) -> Rejection {
        let before = self.l.head();
        let described = format!("{command:?}");
        let rejection = match self.l.append(&actor(who), command) {
            Ok(a) => panic!("{who} was allowed {described} (record {})", a.seq),
            Err(LedgerError::Rejected { index: 0, rejection }) => rejection,
            Err(e) => panic!("{who}: {described} failed otherwise: {e}"),
        };
        assert_eq!(self.l.head(), before, "a refused command moved the head");
        rejection
    }

    /// The state of an item, which must exist.
    #[track_caller]
    pub fn item(&mut self, id: &str) -> ItemState {
        self.l.item(&item(id)).unwrap().unwrap_or_else(|| panic!("no item {id}"))
    }

    /// Every item's state, in id order.
    pub fn items(&mut self) -> Vec<ItemState> {
        let mut out = Vec::new();
        self.l.for_each_item(&mut |i| out.push(i.clone())).unwrap();
        out
    }

    /// The full state, folded from the log.
    pub fn folded(&self) -> State {
        let mut st = State::default();
        self.l
            .for_each_record(Seq(0), &mut |rec, _| {
                st.apply(rec);
                ControlFlow::Continue(())
            })
            .unwrap();
        st
    }

    /// Number of records in the store.
    pub fn stored(&self) -> usize {
        self.l.store().clone().log_mut().len()
    }

    /// A second ledger over a copy of this one's store (a reopen), with its own settings.
    pub fn reopen(&self, tweak: impl FnOnce(&mut MemStore)) -> MemLedger {
        let mut store = self.l.store().clone();
        tweak(&mut store);
        let clock = self.clock.clone();
        MemLedger { l: Ledger::with_store(store, Box::new(clock.clone())).unwrap(), clock }
    }
}

pub fn code(s: &str) -> Code {
    s.parse().unwrap()
}

pub fn field_of(r: &Rejection) -> &'static str {
    match r {
        Rejection::InvalidField { field, .. } => field,
        other => panic!("not an invalid field: {other:?}"),
    }
}

#[track_caller]
pub fn assert_field(r: Rejection, field: &str) {
    assert_eq!(field_of(&r), field, "{r}");
}

#[track_caller]
pub fn assert_not_allowed(r: Rejection, who: &str) {
    assert!(matches!(&r, Rejection::NotAllowed { actor, .. } if actor.as_str() == who), "{r:?}");
}

pub fn new_actor(id: &str, role: Role) -> Command {
    register(id, &format!("{id}的名称"), role)
}

pub fn new_item(id: &str, lead: &str) -> Command {
    Command::RecordCommitment(commitment(id, lead, "finance", Kind::Planned))
}

pub fn with<F: FnOnce(&mut NewCommitment)>(id: &str, lead: &str, f: F) -> Command {
    let mut c = commitment(id, lead, "finance", Kind::Planned);
    f(&mut c);
    Command::RecordCommitment(c)
}

pub fn source_cmd(id: &str, f: impl FnOnce(&mut RecordSource)) -> Command {
    let mut s = RecordSource {
        id: source(id),
        kind: SourceKind::Reply,
        number: None,
        title: "答复".into(),
        title_en: None,
        session: None,
        date: date("2024-05-01"),
        issuer: actor("office"),
        addressee: None,
        contributors: Vec::new(),
        digest: None,
    };
    f(&mut s);
    Command::RecordSource(s)
}

pub fn amend(id: &str, f: impl FnOnce(&mut Amend)) -> Command {
    let mut a =
        Amend {
            item: item(id), title: None, title_en: None, text: None, due: None, area: None, reason: "更正".into()
        };
    f(&mut a);
    Command::Amend(a)
}

pub fn reassign(id: &str, lead: &str, partners: Option<&[&str]>) -> Command {
    Command::Reassign {
        item: item(id),
        lead: actor(lead),
        partners: partners.map(|p| p.iter().map(|a| actor(a)).collect()),
        reason: "调整".into(),
    }
}

pub fn correct(id: &str, entry: u64, text: Option<&str>, value: Option<&str>) -> Command {
    Command::Correct(Correct {
        item: item(id),
        entry: StreamVersion(entry),
        text: text.map(str::to_string),
        value: value.map(str::to_string),
        reason: "更正".into(),
    })
}

pub fn feedback(src: &str, verdict: &str) -> Command {
    Command::RecordFeedback(RecordFeedback { source: source(src), verdict: code(verdict), text: None, on: None })
}

pub fn categorize(src: &str, category: &str) -> Command {
    Command::Categorize(Categorize { source: source(src), category: code(category), reason: None })
}

pub fn figure_as_of(id: &str, value: &str, as_of: &str) -> Command {
    Command::RecordIndicator(RecordIndicator {
        item: item(id),
        name: "数".into(),
        value: value.into(),
        unit: None,
        approximate: false,
        as_of: Some(date(as_of)),
    })
}
