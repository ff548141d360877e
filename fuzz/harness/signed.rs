//! The signed-log target: an insider who can write the ledger's files edits its signed log (the
//! sample ledger's, [`super::fixtures::sample_ledger`]) — flips and sets bytes, deletes, repeats,
//! swaps and truncates records, moves their times — then, as the flags say, re-chains it (fixes every
//! seq field and link, and the acknowledged head) and re-signs what changed with stolen keys.
//!
//! Whatever the edits, the verifier never panics, and:
//! - without stolen keys, it calls a log sound only if every record in it is a statement its actor
//!   signed in the original (same statement, same signature): nothing changed in a signed field, and
//!   no unsigned record, gets through;
//! - held to the checkpoint of the original log (its size and Merkle root, witnessed at the time of
//!   its last record), it calls a log sound only if the records the checkpoint covers are exactly the
//!   original's, stolen keys or not.
//!
//! Input: a flags byte ([`RECHAIN`], [`STOLEN_KEYS`]), then edits of 4 bytes each (see [`edit`]).

use super::fixtures;
use commitment_ledger::rules;
use commitment_ledger::{
    Event, Hash, Head, Record, Seq, Signed, Statement, Timestamp, Trusted, Verifier, hash_record_bytes,
    stored_statement,
};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Fix every record's seq field and link, and the acknowledged head, after the edits.
pub const RECHAIN: u8 = 1;
/// Re-sign every record whose signature no longer verifies, with its actor's key (stolen), then re-chain.
pub const STOLEN_KEYS: u8 = 2;

/// At most this many edits are applied.
pub const MAX_EDITS: usize = 16;

/// The original: the sample ledger's stored records, its origin, and its checkpoint.
struct Original {
    log: Vec<Vec<u8>>,
    origin: String,
    statements: BTreeSet<(Vec<u8>, [u8; 64])>,
    checkpoint: Trusted,
}

fn original() -> &'static Original {
    static ORIGINAL: OnceLock<Original> = OnceLock::new();
    ORIGINAL.get_or_init(|| {
        let (ledger, _) = fixtures::sample_ledger();
        let log = super::log_bytes(&ledger);
        let origin = fixtures::signed_opened().origin;
        let statements = log.iter().map(|b| stored_statement(b, &origin).expect("the sample is signed")).collect();
        let report = verify(&log, Vec::new());
        assert!(report.ok && report.unsigned == 0 && report.signed == log.len() as u64, "{report:?}");
        let root: [u8; 32] = super::base64_decode(&report.root.expect("a root")).try_into().expect("32 bytes");
        let last = Record::decode(log.last().expect("records")).expect("decodes").time;
        let checkpoint = Trusted {
            label: "original".into(),
            size: log.len() as u64,
            root,
            witnesses: vec!["witness".into()],
            witnessed: Some(last),
            meets_policy: true,
        };
        Original { log, origin, statements, checkpoint }
    })
}

/// The sample ledger's log, as stored.
pub fn sample_log() -> Vec<Vec<u8>> {
    original().log.clone()
}

/// Runs the verifier over a log as a store holds it, with the acknowledged head at its last record.
pub fn verify(log: &[Vec<u8>], trusted: Vec<Trusted>) -> commitment_ledger::Report {
    let head = log.last().map(|b| Head {
        seq: Seq(log.len() as u64 - 1),
        hash: hash_record_bytes(b),
        time: Record::decode(b).map_or(Timestamp(0), |r| r.time),
    });
    let mut v = Verifier::new(head);
    v.hold_to(trusted);
    let mut bad = None;
    for (i, bytes) in log.iter().enumerate() {
        if let Err(b) = v.push(&(i as u64).to_be_bytes(), bytes) {
            bad = Some(b);
            break;
        }
    }
    v.finish(bad)
}

/// One edit, 4 bytes `op, a, b, c`; `op % 8` says which: 0 flips bit `op >> 5` of byte `b·256 + c`
/// of record `a`; 1 sets byte `2·b + (c & 1)` of record `a` to `c`; 2 deletes record `a`; 3 repeats
/// record `a` at position `b`; 4 swaps records `a` and `b`; 5 keeps the first `a` records; 6 moves the
/// time of record `a` by `b` (signed) times 1000 seconds; 7 gives record `a` the signature of record
/// `b`. Record and byte numbers wrap around.
pub fn edit(log: &mut Vec<Vec<u8>>, e: &[u8]) {
    let [op, a, b, c] =
        [e[0], e.get(1).copied().unwrap_or(0), e.get(2).copied().unwrap_or(0), e.get(3).copied().unwrap_or(0)];
    if log.is_empty() {
        return;
    }
    let n = log.len();
    let i = usize::from(a) % n;
    let j = usize::from(b) % n;
    match op % 8 {
        0 => {
            let r = &mut log[i];
            let at = (usize::from(b) << 8 | usize::from(c)) % r.len().max(1);
            if let Some(byte) = r.get_mut(at) {
                *byte ^= 1 << (op >> 5);
            }
        }
        1 => {
            let r = &mut log[i];
            let at = (usize::from(b) << 1 | usize::from(c & 1)) % r.len().max(1);
            if let Some(byte) = r.get_mut(at) {
                *byte = c;
            }
        }
        2 => {
            log.remove(i);
        }
        3 => {
            let copy = log[i].clone();
            log.insert(usize::from(b) % (n + 1), copy);
        }
        4 => log.swap(i, j),
        5 => log.truncate(usize::from(a) % (n + 1)),
        6 => {
            let r = &mut log[i];
            if r.len() >= 49 {
                let t = i64::from_le_bytes(r[41..49].try_into().expect("8 bytes"));
                let t = t.saturating_add(i64::from(b as i8) * 1_000_000_000);
                r[41..49].copy_from_slice(&t.to_le_bytes());
            }
        }
        _ => {
            let sig = log[j].len().checked_sub(64).map(|k| log[j][k..].to_vec());
            if let (Some(sig), Some(k)) = (sig, log[i].len().checked_sub(64)) {
                log[i][k..].copy_from_slice(&sig);
            }
        }
    }
}

/// Fixes every record's seq field and its link to the record before it (an insider re-chaining).
pub fn rechain(log: &mut [Vec<u8>]) {
    let mut prev = Hash::ZERO;
    for (i, r) in log.iter_mut().enumerate() {
        if r.len() >= 41 {
            r[1..9].copy_from_slice(&(i as u64).to_le_bytes());
            r[9..41].copy_from_slice(&prev.0);
        }
        prev = hash_record_bytes(r);
    }
}

/// Re-signs every readable record with the key its actor had at that point of the log (an insider
/// with every actor's private key), keeping the actor's time.
pub fn resign(log: &mut [Vec<u8>], origin: &str) {
    let mut state = fixtures::CoreState::default();
    for r in log.iter_mut() {
        let Ok(mut rec) = Record::decode(r) else { continue };
        if rec.event_version != rec.event.event_type().version() {
            continue;
        }
        let key = rules::signing_key(state.registry(), &rec.actor, &rec.event).ok().flatten();
        if let (Some(key), Some(signed)) = (key.and_then(|k| fixtures::private_key_of(&k)), rec.signature) {
            let origin = match &rec.event {
                Event::LedgerOpened(o) => o.origin.clone(),
                _ => origin.to_string(),
            };
            let statement = Statement {
                actor: rec.actor.clone(),
                stream_version: rec.stream_version,
                event: rec.event.clone(),
                actor_time: signed.actor_time,
            };
            let s = statement.sign(&key, &origin);
            rec.signature = Some(Signed { actor_time: signed.actor_time, signature: s.signature });
            *r = rec.encode();
        }
        state.apply(&rec);
    }
}

/// The target (see the module's documentation).
pub fn signed_log(data: &[u8]) {
    let Some((&flags, edits)) = data.split_first() else { return };
    let o = original();
    let mut log = o.log.clone();
    for e in edits.chunks(4).take(MAX_EDITS) {
        edit(&mut log, e);
    }
    if flags & STOLEN_KEYS != 0 {
        resign(&mut log, &o.origin);
    }
    if flags & (RECHAIN | STOLEN_KEYS) != 0 {
        rechain(&mut log);
    }
    let plain = verify(&log, Vec::new());
    if plain.ok {
        assert_eq!(plain.records, log.len() as u64, "{plain:?}");
        assert_eq!(plain.unsigned, 0, "an unsigned record in a signed ledger was called sound: {plain:?}");
        if flags & STOLEN_KEYS == 0 {
            for (i, r) in log.iter().enumerate() {
                let s = stored_statement(r, &o.origin);
                assert!(
                    s.is_some_and(|s| o.statements.contains(&s)),
                    "record {i} is not a statement its actor signed, and the log was called sound: {plain:?}"
                );
            }
        }
    } else {
        let first = plain.first_bad_seq.expect("an unsound log names a record");
        assert!(first <= log.len() as u64, "{plain:?}");
    }
    let held = verify(&log, vec![o.checkpoint.clone()]);
    if held.ok {
        let n = o.log.len();
        assert!(
            log.len() >= n && log[..n] == o.log[..],
            "records the checkpoint covers were changed, and the log was called sound: {held:?}"
        );
        assert_eq!(held.checkpoints.len(), 1);
        assert_eq!(held.checkpoints[0].consistent, Some(true), "{held:?}");
    }
    // Unchanged, the log is sound either way.
    if log == o.log {
        assert!(plain.ok && held.ok, "{plain:?}\n{held:?}");
    }
}
