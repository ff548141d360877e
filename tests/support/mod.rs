//! Shared helpers for the integration tests: running the `commitments` binary, a clock the test
//! controls, the seed-like fixture ledger, and direct access to a ledger's sled trees for tampering.
//!
//! Each test file uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use commitment_ledger::{
    ActorId, AreaId, Command, Date, ItemId, Ledger, ManualClock, NewCommitment, OpenLedger, RecordIndicator,
    RecordSource, RegisterActor, RegisterArea, SledStore, SourceId, SystemClock, Timestamp,
};
use commitment_ledger::{Kind, Role, SEED_AREAS, SourceKind, Vocabulary};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

/// The built binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_commitments");

/// Microseconds in a day.
pub const DAY_US: i64 = 86_400_000_000;

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 if killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The arguments, for messages.
    pub args: String,
}

impl Run {
    /// Asserts success and returns the run.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "`commitments {}` failed:\nstdout: {}\nstderr: {}",
            self.args, self.stdout, self.stderr
        );
        self
    }

    /// Asserts the exit code and returns the run.
    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "`commitments {}` exited {} (wanted {code}):\nstdout: {}\nstderr: {}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Standard output parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("`commitments {}` printed no JSON ({e}):\n{}", self.args, self.stdout))
    }

    /// The seq of the (single) record an append printed with `--json`.
    #[track_caller]
    pub fn seq(&self) -> u64 {
        let v = self.json();
        let appended = v["appended"].as_array().expect("an append prints `appended`");
        appended.last().and_then(|a| a["seq"].as_u64()).expect("the append printed a seq")
    }
}

/// Runs `commitments --ledger DIR ARGS…` with a clean environment for the ledger and actor.
///
/// Retries while the ledger is reported locked: sled's lock is an `flock` on an open file description,
/// and a child spawned by another test thread holds a copy of this process's descriptors between its
/// fork and its exec, so a ledger the test process has just closed can look locked for a moment. No
/// test here holds a ledger open across a run of the binary except the lock test, which uses
/// [`cli_once`].
pub fn cli(dir: &Path, args: &[&str]) -> Run {
    for _ in 0..LOCK_RETRIES {
        let run = cli_once(dir, args);
        if !(run.code == 3 && run.stderr.contains("open in another process")) {
            return run;
        }
        std::thread::sleep(LOCK_PAUSE);
    }
    cli_once(dir, args)
}

/// How often a momentarily locked ledger is tried again, and the pause between tries.
const LOCK_RETRIES: u32 = 100;
const LOCK_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

/// Runs `commitments --ledger DIR ARGS…` once.
pub fn cli_once(dir: &Path, args: &[&str]) -> Run {
    let mut all: Vec<&str> = vec!["--ledger", dir.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    cli_raw(&all)
}

/// Opens a ledger's store in this process, retrying while it looks locked (see [`cli`]).
pub fn open_store(dir: &Path, create: bool) -> SledStore {
    let mut tries = 0;
    loop {
        match SledStore::open(dir, create) {
            Err(commitment_ledger::StoreError::Locked(_)) if tries < LOCK_RETRIES => {
                tries += 1;
                std::thread::sleep(LOCK_PAUSE);
            }
            other => return other.expect("the store opens"),
        }
    }
}

/// Opens a ledger in this process with the system clock, retrying while it looks locked.
pub fn open_ledger(dir: &Path) -> Ledger {
    Ledger::with_store(open_store(dir, false), Box::new(commitment_ledger::SystemClock)).expect("the ledger opens")
}

/// Opens a directory with sled directly, retrying while it looks locked.
pub fn open_sled(dir: &Path) -> sled::Db {
    let mut tries = 0;
    loop {
        match sled::open(dir) {
            Err(sled::Error::Io(e)) if e.to_string().contains("could not acquire lock") && tries < LOCK_RETRIES => {
                tries += 1;
                std::thread::sleep(LOCK_PAUSE);
            }
            other => return other.expect("sled opens the directory"),
        }
    }
}

/// Runs `commitments ARGS…` as given (no `--ledger`).
pub fn cli_raw(args: &[&str]) -> Run {
    let out = Process::new(BIN)
        .args(args)
        .env_remove("COMMITMENTS_LEDGER")
        .env_remove("COMMITMENTS_ACTOR")
        .output()
        .expect("the binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        args: args.join(" "),
    }
}

/// The `verify --json` report, asserting nothing about it.
pub fn verify(dir: &Path) -> (i32, Value) {
    let run = cli(dir, &["--json", "verify"]);
    let v = run.json();
    (run.code, v)
}

/// The head (seq and hash) of a sound ledger; fails the test if `verify` does not pass.
#[track_caller]
pub fn sound_head(dir: &Path) -> (u64, String) {
    let (code, v) = verify(dir);
    assert_eq!(code, 0, "verify failed: {v}");
    assert_eq!(v["ok"], Value::Bool(true), "{v}");
    let seq = v["head_seq"].as_u64().expect("a head");
    let hash = v["head"].as_str().expect("a head hash").to_string();
    (seq, hash)
}

/// Removes every `"day"` member (the day a view was computed for is today's date), so that two
/// views taken at different moments compare equal when the state is the same.
pub fn without_day(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("day");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

/// A ledger over a new, empty store in `dir` (no record 0 yet).
#[track_caller]
pub fn new_ledger(dir: &Path) -> Ledger {
    Ledger::with_store(SledStore::open(dir, true).expect("the store opens"), Box::new(SystemClock)).expect("opens")
}

/// A manual clock at an RFC 3339 time.
#[track_caller]
pub fn clock_at(rfc3339: &str) -> ManualClock {
    ManualClock::at(ts(rfc3339))
}

/// Parses an RFC 3339 time.
#[track_caller]
pub fn ts(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339).unwrap_or_else(|| panic!("{rfc3339:?} is not RFC 3339"))
}

/// Parses a date.
#[track_caller]
pub fn date(s: &str) -> Date {
    Date::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

/// An actor id.
#[track_caller]
pub fn actor(s: &str) -> ActorId {
    ActorId::new(s).expect("valid actor id")
}

/// An item id.
#[track_caller]
pub fn item(s: &str) -> ItemId {
    ItemId::new(s).expect("valid item id")
}

/// An area id.
#[track_caller]
pub fn area(s: &str) -> AreaId {
    AreaId::new(s).expect("valid area id")
}

/// A source id.
#[track_caller]
pub fn source(s: &str) -> SourceId {
    SourceId::new(s).expect("valid source id")
}

/// The opening record of a Beijing (+08:00) ledger administered by `admin`, with a vocabulary.
pub fn opened_with(admin: &str, vocabulary: Vocabulary) -> OpenLedger {
    OpenLedger {
        title: "京澳合作承诺台账".into(),
        origin: "test.example/commitments".into(),
        utc_offset_minutes: 480,
        admin: actor(admin),
        admin_name: "台账管理员".into(),
        vocabulary,
        admin_key: None,
    }
}

/// The opening record with the default vocabulary.
pub fn opened(admin: &str) -> OpenLedger {
    opened_with(admin, Vocabulary::default_v1())
}

/// The twelve areas of the seed reply.
pub fn seed_areas() -> Vec<RegisterArea> {
    SEED_AREAS
        .iter()
        .map(|(id, zh, en)| RegisterArea { id: area(id), name: zh.to_string(), name_en: Some(en.to_string()) })
        .collect()
}

/// A command registering an actor.
pub fn register(id: &str, name: &str, role: Role) -> Command {
    Command::RegisterActor(RegisterActor { id: actor(id), name: name.into(), name_en: None, role, public_key: None })
}

/// A commitment with the given lead, area and kind, titled and worded in Chinese.
pub fn commitment(id: &str, lead: &str, area_id: &str, kind: Kind) -> NewCommitment {
    NewCommitment {
        id: item(id),
        source: None,
        section: None,
        area: area(area_id),
        lead: actor(lead),
        partners: Vec::new(),
        title: format!("承诺{id}"),
        title_en: None,
        text: format!("关于{id}的承诺原文。"),
        kind,
        on: None,
        due: None,
    }
}

/// A progress command.
pub fn progress(id: &str, text: &str, on: &str) -> Command {
    Command::ReportProgress { item: item(id), text: text.into(), on: Some(date(on)), evidence: None }
}

/// A status command.
pub fn status(id: &str, to: &str, reason: &str) -> Command {
    Command::ChangeStatus { item: item(id), to: to.parse().expect("valid code"), reason: reason.into(), on: None }
}

/// A figure command.
pub fn figure(id: &str, name: &str, value: &str, unit: Option<&str>) -> Command {
    Command::RecordIndicator(RecordIndicator {
        item: item(id),
        name: name.into(),
        value: value.into(),
        unit: unit.map(str::to_string),
        approximate: false,
        as_of: None,
    })
}

/// The accepted time of the fixture's records.
pub const FIXTURE_TIME: &str = "2024-05-10T09:00:00+08:00";

/// The actors of the fixture: (id, name, role).
pub const FIXTURE_ACTORS: [(&str, &str, Role); 8] = [
    ("office", "市政府港澳办", Role::Office),
    ("fin", "市委金融办", Role::Department),
    ("drc", "市发展改革委", Role::Department),
    ("sci", "市科委、中关村管委会", Role::Department),
    ("culture", "市文化和旅游局", Role::Department),
    ("tcm-bureau", "市中医局", Role::Department),
    ("macao-dsepdr", "澳门特区政府政策研究和区域发展局", Role::Counterpart),
    ("lijing", "李静", Role::Deputy),
];

/// The commands that build the fixture after `init`: actors, the reply, four commitments and some
/// updates of every kind. Every event type appears at least once.
pub fn fixture_commands() -> Vec<(ActorId, Command)> {
    let office = actor("office");
    let admin = actor("admin");
    let mut out: Vec<(ActorId, Command)> =
        FIXTURE_ACTORS.iter().map(|(id, name, role)| (admin.clone(), register(id, name, *role))).collect();
    out.push((
        admin.clone(),
        Command::RegisterArea(RegisterArea {
            id: area("heritage"),
            name: "文物保护".into(),
            name_en: Some("cultural heritage".into()),
        }),
    ));
    out.push((
        office.clone(),
        Command::RecordSource(RecordSource {
            id: source("reply-0771"),
            kind: SourceKind::Reply,
            number: Some("0771".into()),
            title: "关于深化京澳合作的建议的答复".into(),
            title_en: Some("Reply to suggestion 0771 on Beijing–Macao cooperation".into()),
            session: Some("北京市十六届人大二次会议".into()),
            date: date("2024-05-10"),
            issuer: office.clone(),
            addressee: Some(actor("lijing")),
            contributors: vec![actor("fin"), actor("drc")],
            digest: None,
        }),
    ));
    let mut bonds = commitment("fin-bonds", "fin", "finance", Kind::Achieved);
    bonds.source = Some(source("reply-0771"));
    bonds.partners = vec![actor("macao-dsepdr")];
    bonds.text = "截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。".into();
    bonds.on = Some(date("2023"));
    let mut lab = commitment("sci-lab", "sci", "science-tech", Kind::Ongoing);
    lab.source = Some(source("reply-0771"));
    lab.partners = vec![actor("drc"), actor("macao-dsepdr")];
    lab.due = Some(date("2099-12"));
    let mut week = commitment("culture-week", "culture", "culture-tourism", Kind::Planned);
    week.source = Some(source("reply-0771"));
    week.due = Some(date("2024-04"));
    let tcm = commitment("tcm-center", "tcm-bureau", "tcm", Kind::Planned);
    for c in [bonds, lab, week, tcm] {
        out.push((office.clone(), Command::RecordCommitment(c)));
    }
    out.extend([
        (actor("sci"), progress("sci-lab", "联合实验室完成选址。", "2024-04-15")),
        (actor("macao-dsepdr"), progress("sci-lab", "澳方完成人员配备。", "2024-05")),
        (actor("fin"), figure("fin-bonds", "在澳门挂牌债券的企业", "4", Some("家"))),
        (actor("fin"), figure("fin-bonds", "债券总额", "2300000000", Some("USD"))),
        (actor("culture"), status("culture-week", "in_progress", "筹备工作已启动")),
        (
            office.clone(),
            Command::Amend(commitment_ledger::Amend {
                item: item("tcm-center"),
                title: Some("中医药国际合作中心".into()),
                title_en: None,
                text: None,
                due: Some(date("2099")),
                area: None,
                reason: "按答复原文更正标题".into(),
            }),
        ),
        (
            office.clone(),
            Command::Reassign {
                item: item("culture-week"),
                lead: actor("drc"),
                partners: Some(vec![actor("culture")]),
                reason: "牵头单位调整".into(),
            },
        ),
        (
            actor("sci"),
            Command::Correct(commitment_ledger::Correct {
                item: item("sci-lab"),
                entry: commitment_ledger::StreamVersion(1),
                text: Some("联合实验室完成选址和设计。".into()),
                value: None,
                reason: "原文漏记设计工作".into(),
            }),
        ),
        (
            actor("lijing"),
            Command::RecordFeedback(commitment_ledger::RecordFeedback {
                source: source("reply-0771"),
                verdict: "satisfied".parse().expect("valid code"),
                text: Some("对答复表示满意。".into()),
                on: Some(date("2024-05-10")),
            }),
        ),
        (
            office.clone(),
            Command::Categorize(commitment_ledger::Categorize {
                source: source("reply-0771"),
                category: "b".parse().expect("valid code"),
                reason: None,
            }),
        ),
    ]);
    out
}

/// Creates the fixture ledger in `dir` with the library (one durable batch after `init`), every
/// record accepted at [`FIXTURE_TIME`]. Returns the seq of the last record.
pub fn build_fixture(dir: &Path) -> u64 {
    let store = open_store(dir, true);
    let mut ledger = Ledger::with_store(store, Box::new(clock_at(FIXTURE_TIME))).expect("ledger opens");
    ledger.init(opened("admin"), seed_areas()).expect("init");
    let appended = ledger.append_batch(fixture_commands()).expect("fixture appends");
    ledger.close().expect("close");
    appended.last().expect("records").seq.0
}

/// A fresh temporary directory; the ledger lives in its `ledger` subdirectory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("commitments-test").tempdir().expect("a temporary directory")
}

/// Copies a directory tree (a closed ledger) to `to`, which must not exist.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Every file under a directory with its contents, for "nothing was touched" checks.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if dir.is_file() {
        out.push((dir.to_path_buf(), std::fs::read(dir).expect("read")));
        return out;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return out };
    let mut entries: Vec<_> = rd.map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.push((p.clone(), Vec::new()));
            out.extend(snapshot(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).expect("read")));
        }
    }
    out
}

/// The sled trees of a closed ledger, opened directly (as an attacker with file access would).
pub struct Raw {
    /// The database.
    pub db: sled::Db,
    /// The log: seq (8 bytes big-endian) → record bytes.
    pub log: sled::Tree,
    /// `format` and `head`.
    pub meta: sled::Tree,
    /// Projections.
    pub derived: sled::Tree,
}

impl Raw {
    /// Opens the ledger directory with sled.
    pub fn open(dir: &Path) -> Raw {
        let db = open_sled(dir);
        let log = db.open_tree("log").expect("log tree");
        let meta = db.open_tree("meta").expect("meta tree");
        let derived = db.open_tree("derived").expect("derived tree");
        Raw { db, log, meta, derived }
    }

    /// Record bytes at a seq.
    pub fn get(&self, seq: u64) -> Vec<u8> {
        self.log.get(seq.to_be_bytes()).expect("read").expect("record present").to_vec()
    }

    /// Writes record bytes at a seq.
    pub fn put(&self, seq: u64, bytes: &[u8]) {
        self.log.insert(seq.to_be_bytes(), bytes).expect("write");
    }

    /// Removes the record at a seq.
    pub fn remove(&self, seq: u64) {
        self.log.remove(seq.to_be_bytes()).expect("remove").expect("record present");
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.log.len() as u64
    }

    /// Flushes and closes.
    pub fn close(self) {
        self.db.flush().expect("flush");
    }
}

/// The record format's fixed offsets (see `schema/record-format.md` and `src/record.rs`).
pub mod layout {
    /// The record's seq: u64 little-endian.
    pub const SEQ: std::ops::Range<usize> = 1..9;
    /// The previous record's hash.
    pub const PREV: std::ops::Range<usize> = 9..41;
    /// The acceptance time: i64 little-endian microseconds.
    pub const TIME: std::ops::Range<usize> = 41..49;
}

/// Rewrites the seq field inside record bytes.
pub fn set_seq(bytes: &mut [u8], seq: u64) {
    bytes[layout::SEQ].copy_from_slice(&seq.to_le_bytes());
}

/// Rewrites the prev-hash field inside record bytes.
pub fn set_prev(bytes: &mut [u8], prev: [u8; 32]) {
    bytes[layout::PREV].copy_from_slice(&prev);
}

/// The record hash over stored bytes, computed as the format document says.
pub fn record_hash(bytes: &[u8]) -> [u8; 32] {
    let context = match bytes.first() {
        Some(2) => "commitment-ledger 2026-11-29 record v2",
        _ => "commitment-ledger 2026-11-27 record v1",
    };
    blake3::derive_key(context, bytes)
}

/// Writes the acknowledged-head witness of a ledger directory the way `src/sled_store.rs` documents it
/// (two 88-byte slots at offsets 0 and 512; magic, counter, seq, hash, time, an 8-byte BLAKE3 check),
/// as an insider who read the format would: both slots say `(seq, hash)`.
pub fn write_witness(dir: &Path, seq: u64, hash: [u8; 32]) {
    let slot = |counter: u64| {
        let mut s = vec![0u8; 88];
        s[..8].copy_from_slice(b"CLWITNES");
        s[8..16].copy_from_slice(&counter.to_le_bytes());
        s[16..24].copy_from_slice(&seq.to_le_bytes());
        s[24..56].copy_from_slice(&hash);
        let check = blake3::derive_key("commitment-ledger 2026-11-29 acknowledged head v1", &s[..64]);
        s[64..72].copy_from_slice(&check[..8]);
        s
    };
    let mut file = vec![0u8; 600];
    file[..88].copy_from_slice(&slot(1000));
    file[512..600].copy_from_slice(&slot(1001));
    std::fs::write(dir.join("acknowledged"), file).expect("writes the witness");
}

/// A ledger over `MemStore` with the test's clock, and the commands and assertions of the `rules_*` tests.
pub mod mem;

/// The private key of `actor` in a ledger directory's `keys/` folder, read as an insider who copies
/// the folder would.
#[track_caller]
pub fn stolen_key(dir: &Path, actor: &str) -> commitment_ledger::keys::SigningKey {
    let path = dir.join("keys").join(format!("{actor}.pem"));
    commitment_ledger::keys::read_private_key(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Record bytes re-signed with `key` over the record's statement (`Record::statement`) for a ledger of
/// `origin`, keeping the actor's time: what an insider holding the actor's key writes after changing
/// a signed record. The record must be readable and in its event type's current version.
#[track_caller]
pub fn resign(bytes: &[u8], origin: &str, key: &commitment_ledger::keys::SigningKey) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let mut rec = commitment_ledger::Record::decode(bytes).expect("a readable record");
    let actor_time = rec.signature.map_or(rec.time, |s| s.actor_time);
    let signature = key.sign(&rec.statement(origin, actor_time)).to_bytes();
    rec.signature = Some(commitment_ledger::Signed { actor_time, signature });
    rec.encode()
}

/// Where the actor's time and the signature of a format 2 record are: its last 72 bytes (see
/// `schema/record-format.md` §2).
pub fn signed_tail(bytes: &[u8]) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    assert_eq!(bytes.first(), Some(&2), "a format 2 (signed) record");
    let n = bytes.len();
    (n - 72..n - 64, n - 64..n)
}

/// The indented (four-space) code blocks of a Markdown fixture under tests/fixtures, in order. Each
/// block's lines lose their indentation and are joined with "\n", with a final "\n"; blank lines inside
/// a block are kept.
pub fn indented_blocks(relative: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut pending_blank = 0;
    for line in text.lines() {
        if let Some(code) = line.strip_prefix("    ") {
            if !current.is_empty() {
                current.extend(std::iter::repeat_n("", pending_blank));
            }
            pending_blank = 0;
            current.push(code);
        } else if line.is_empty() && !current.is_empty() {
            pending_blank += 1;
        } else {
            if !current.is_empty() {
                blocks.push(current.join("\n") + "\n");
                current.clear();
            }
            pending_blank = 0;
        }
    }
    if !current.is_empty() {
        blocks.push(current.join("\n") + "\n");
    }
    blocks
}

/// The signed-note vectors of tests/fixtures/signed-note/README.md: (verifier key, signed note,
/// signed checkpoint).
pub fn signed_note_vectors() -> (String, String, String) {
    let blocks = indented_blocks("signed-note/README.md");
    assert_eq!(blocks.len(), 3, "expected three example blocks in the fixture, got {blocks:?}");
    (blocks[0].trim_end().to_owned(), blocks[1].clone(), blocks[2].clone())
}
