//! Guards status transitions through the ledger: for every pair of statuses of a vocabulary (the
//! default one and a custom one), a change is accepted exactly when the ledger's own vocabulary lists
//! the move, and closed statuses take no more updates.

mod support;

use commitment_ledger::{Code, Command, Kind, Rejection, Role, StatusDef, Term, Vocabulary};
use support::mem::*;
use support::*;

// ---------------------------------------------------------------------------------------------
// Transitions come from the vocabulary.

/// A path of statuses from `from` to `to` along the vocabulary's moves (breadth first).
fn path(vocab: &Vocabulary, from: &Code, to: &Code) -> Option<Vec<Code>> {
    let mut queue = std::collections::VecDeque::from([vec![from.clone()]]);
    let mut seen = std::collections::HashSet::from([from.clone()]);
    while let Some(p) = queue.pop_front() {
        let last = p.last().unwrap();
        if last == to {
            return Some(p);
        }
        for n in &vocab.status(last).unwrap().next {
            if seen.insert(n.clone()) {
                let mut q = p.clone();
                q.push(n.clone());
                queue.push_back(q);
            }
        }
    }
    None
}

/// For every pair of statuses (from, to) of a vocabulary: brings a new item to `from`, then asks for
/// `to`. Accepted exactly when the vocabulary lists the move.
fn check_every_transition(vocab: Vocabulary) {
    let mut t = opened_ledger(vocab.clone());
    t.ok("admin", new_actor("fin", Role::Department));
    let start = vocab.initial_status(Kind::Planned).unwrap().term.code.clone();
    let mut n = 0;
    for from in &vocab.statuses {
        let Some(route) = path(&vocab, &start, &from.term.code) else { continue };
        for to in &vocab.statuses {
            n += 1;
            let id = format!("t{n}");
            t.ok("admin", new_item(&id, "fin"));
            for step in &route[1..] {
                t.ok("fin", status(&id, step.as_str(), "推进"));
            }
            let allowed = from.next.contains(&to.term.code);
            let c = status(&id, to.term.code.as_str(), "变更");
            if allowed {
                t.ok("fin", c);
                assert_eq!(t.item(&id).core.status, to.term.code);
            } else {
                let r = t.no("fin", c);
                assert!(
                    matches!(&r, Rejection::IllegalTransition { from: f, to: x, .. } if f == &from.term.code && x == &to.term.code),
                    "{} → {}: {r:?}",
                    from.term.code,
                    to.term.code
                );
            }
        }
    }
    assert_eq!(n, vocab.statuses.len() * vocab.statuses.len(), "every status is reachable, every pair tried");
}

#[test]
fn every_transition_of_the_default_vocabulary_is_allowed_exactly_when_listed() {
    let vocab = Vocabulary::default_v1();
    // Spot checks against the vocabulary people use, independent of the data structure.
    let next = |s: &str| vocab.status(&code(s)).unwrap().next.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert!(next("planned").contains(&"delivered".to_string()));
    assert!(!next("delivered").contains(&"dropped".to_string()));
    assert!(next("dropped").is_empty());
    check_every_transition(vocab);
}

/// A vocabulary unlike the default: planned may only start; a dropped item may be revived; a new
/// status "suspended" sits beside in_progress; delivered items are closed to updates.
fn custom_vocabulary() -> Vocabulary {
    let mut v = Vocabulary::default_v1();
    let find = |v: &mut Vocabulary, c: &str| v.statuses.iter().position(|s| s.term.code.as_str() == c).unwrap();
    let planned = find(&mut v, "planned");
    v.statuses[planned].next = vec![code("in_progress")];
    let dropped = find(&mut v, "dropped");
    v.statuses[dropped].next = vec![code("planned")];
    let in_progress = find(&mut v, "in_progress");
    v.statuses[in_progress].next.push(code("suspended"));
    let delivered = find(&mut v, "delivered");
    v.statuses[delivered].accepts_updates = false;
    v.statuses.push(StatusDef {
        term: Term { code: code("suspended"), label: "suspended".into(), label_zh: "暂停".into() },
        next: vec![code("in_progress"), code("dropped")],
        closed: false,
        accepts_updates: true,
        category: code("b"),
        completion: code("limited"),
        initial_for: None,
    });
    assert_eq!(v.check(), Ok(()));
    v
}

#[test]
fn transitions_follow_the_ledgers_own_vocabulary() {
    let mut t = opened_ledger(custom_vocabulary());
    t.ok("admin", new_actor("fin", Role::Department));
    t.ok("admin", new_item("x", "fin"));
    // Allowed by the default vocabulary, not by this one.
    let r = t.no("fin", status("x", "delivered", "直接完成"));
    assert!(matches!(&r, Rejection::IllegalTransition { allowed, .. } if allowed == "in_progress"), "{r:?}");
    t.ok("fin", status("x", "in_progress", "启动"));
    t.ok("fin", status("x", "suspended", "暂停"));
    t.ok("fin", status("x", "dropped", "放弃"));
    assert!(matches!(t.no("fin", progress("x", "进展", "2024-05-01")), Rejection::Closed { .. }));
    // Refused by the default vocabulary (dropped is final), allowed by this one.
    t.ok("fin", status("x", "planned", "恢复"));
    t.ok("fin", progress("x", "恢复后的进展", "2024-05-01"));
    // Delivered takes no more updates here.
    t.ok("admin", Command::RecordCommitment(commitment("y", "fin", "finance", Kind::Achieved)));
    assert!(matches!(t.no("fin", figure("y", "数", "1", None)), Rejection::Closed { .. }));
    check_every_transition(custom_vocabulary());
}
