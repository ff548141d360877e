//! Guards the forever-format: the ledger in `tests/fixtures/golden-v1/`, written once by record format 1
//! and event version 1, must open, verify and project in every later version of this crate.
//!
//! The fixture holds the same ledger twice: `ledger/` is a closed sled ledger directory, and
//! `records.hex` holds the raw bytes of each record (one line of lowercase hex per record, seq 0 first).
//! `expected.txt` gives the record count and the head. Nothing in `golden-v1/` may ever be rewritten.
//! When the format moves on, write a new fixture next to it (see [`generate_golden_fixture`]) and keep
//! every old one verifying.

use commitment_ledger::{
    ActorId, AreaId, Code, Command, Date, Hash, ItemId, Ledger, MemStore, NewCommitment, Record, Seq, SourceId, Store,
    StreamVersion,
};
#[allow(unused_imports)]
use commitment_ledger::{
    Amend, Categorize, Correct, Head, OpenLedger, RecordFeedback, RecordIndicator, RecordSource, RegisterActor,
    RegisterArea, Timestamp,
};
use commitment_ledger::{EventType, ManualClock};
use commitment_ledger::{Kind, Role, SEED_AREAS, SourceKind, Vocabulary};
use std::collections::BTreeSet;

fn ts(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339).expect("a valid RFC 3339 time")
}
use std::path::{Path, PathBuf};

/// The fixture every version must read. Never regenerate it.
const FIXTURE: &str = "tests/fixtures/golden-v1";

/// Where [`generate_golden_fixture`] writes. To create a new fixture version, change this to the next
/// unused name (`golden-v2`, …), run the generator, commit the result, and add tests for it beside the
/// ones for v1. The generator refuses to write into a directory that exists.
const NEW_FIXTURE: &str = "tests/fixtures/golden-v1";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE).join(name)
}

fn actor(s: &str) -> ActorId {
    ActorId::new(s).unwrap()
}
fn item(s: &str) -> ItemId {
    ItemId::new(s).unwrap()
}
fn source(s: &str) -> SourceId {
    SourceId::new(s).unwrap()
}
fn code(s: &str) -> Code {
    Code::new(s).unwrap()
}
fn text(s: &str) -> String {
    s.to_string()
}

/// Record count and head, as `expected.txt` states them.
struct Expected {
    records: u64,
    head_seq: u64,
    head: Hash,
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(fixture("expected.txt")).unwrap();
    let field = |name: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("expected.txt has no {name} line"))
            .trim()
            .to_string()
    };
    Expected {
        records: field("records").parse().unwrap(),
        head_seq: field("head_seq").parse().unwrap(),
        head: Hash::from_hex(&field("head")).expect("64 hex digits"),
    }
}

fn unhex(line: &str) -> Vec<u8> {
    assert!(line.len().is_multiple_of(2), "odd number of hex digits");
    (0..line.len()).step_by(2).map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap()).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw records of `records.hex`, seq 0 first.
fn raw_records() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(fixture("records.hex")).unwrap();
    text.lines().filter(|l| !l.is_empty()).map(unhex).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the sled fixture in a temporary directory (opening a sled directory writes to it).
fn sled_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ledger");
    copy_dir(&fixture("ledger"), &dir);
    (tmp, dir)
}

#[test]
fn the_sled_fixture_opens_verifies_and_projects() {
    let want = expected();
    let (_tmp, dir) = sled_copy();
    let mut ledger = Ledger::open(&dir).unwrap();
    assert_eq!(ledger.damage(), None);
    let head = ledger.head().unwrap();
    assert_eq!((head.seq, head.hash), (Seq(want.head_seq), want.head));

    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, want.records);
    assert_eq!(report.head_seq, Some(want.head_seq));
    assert_eq!(report.head.as_deref(), Some(want.head.to_hex().as_str()));
    assert_eq!(report.unacknowledged, 0, "the stored head is the last record");

    assert_eq!(ledger.check_projection().unwrap(), Vec::<String>::new());

    let info = ledger.registry().info().unwrap().clone();
    assert_eq!(info.admin, actor("hmo"));
    assert_eq!(info.utc_offset_minutes, 480);
    assert_eq!(info.vocabulary, Vocabulary::default_v1());

    let bonds = ledger.item(&item("0771-fin-bonds")).unwrap().unwrap();
    assert_eq!(bonds.core.status, code("delivered"));
    assert_eq!(bonds.core.lead, actor("finance-office"));
    assert_eq!(bonds.indicators.len(), 2);
    assert_eq!(bonds.indicators[1].history[0].value, "2300000000");
    assert!(bonds.indicators[1].history[0].approximate);

    let beyond = ledger.item(&item("0771-sci-beyond")).unwrap().unwrap();
    assert_eq!(beyond.core.status, code("in_progress"));
    assert_eq!(beyond.due, Some(Date::Month(2024, 12)));
    assert_eq!(beyond.amendments, 1);

    let tcm = ledger.item(&item("0771-tcm-expo")).unwrap().unwrap();
    assert_eq!(tcm.core.lead, actor("tcm-bureau"));
    assert_eq!(tcm.core.partners, vec![actor("science-commission")]);
    assert_eq!(tcm.reassignments, 1);

    let perform = ledger.item(&item("0771-cul-perform")).unwrap().unwrap();
    assert_eq!(perform.progress_reports, 2);
    assert_eq!(perform.latest_progress.as_ref().unwrap().on, Date::Month(2024, 5));
    assert_eq!(perform.corrections.len(), 1);
    assert_eq!(perform.corrections[0].value.as_deref(), Some("87"));

    let history = ledger.history(&item("0771-cul-perform")).unwrap().unwrap();
    let versions: Vec<u64> = history.iter().map(|(r, _)| r.stream_version.0).collect();
    assert_eq!(versions, [0, 1, 2, 3, 4, 5]);

    let reply = &ledger.registry().sources[&source("reply-0771")];
    assert_eq!(reply.items, 4);
    assert_eq!(reply.category.as_ref().unwrap().0.category, code("b"));
    assert_eq!(reply.feedback[0].verdict, code("satisfied"));
}

#[test]
fn the_raw_records_verify_in_a_memory_store() {
    let want = expected();
    let records = raw_records();
    assert_eq!(records.len() as u64, want.records);
    let mut store = MemStore::new();
    for (seq, bytes) in records.iter().enumerate() {
        store.log_mut().insert(seq as u64, bytes.clone());
    }
    *store.head_mut() = Some(Head { time: Timestamp(0), seq: Seq(want.head_seq), hash: want.head });
    let ledger = Ledger::with_store(store, Box::new(ManualClock::at(ts("2024-07-04T00:00:00+08:00")))).unwrap();
    assert_eq!(ledger.damage(), None);
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.records, want.records);
    assert_eq!(report.head.as_deref(), Some(want.head.to_hex().as_str()));
    assert_eq!(ledger.head().map(|h| (h.seq, h.hash)), Some((Seq(want.head_seq), want.head)));
}

#[test]
fn the_sled_log_holds_exactly_the_raw_records() {
    let (_tmp, dir) = sled_copy();
    let ledger = Ledger::open(&dir).unwrap();
    let mut from_sled = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |key, bytes| {
            assert_eq!(key, (from_sled.len() as u64).to_be_bytes(), "log keys are seqs, 8 bytes big-endian");
            from_sled.push(bytes.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    assert!(from_sled == raw_records(), "ledger/ and records.hex hold different records");
}

#[test]
fn every_event_type_appears_in_the_fixture() {
    let mut seen = BTreeSet::new();
    for bytes in raw_records() {
        let rec = Record::decode(&bytes).unwrap();
        assert_eq!(rec.signature, None);
        seen.insert(rec.event.event_type() as u16);
    }
    let all: BTreeSet<u16> = EventType::ALL.iter().map(|t| *t as u16).collect();
    assert_eq!(seen, all, "the fixture must hold every event type");
    assert_eq!(all, (1..=13).collect());
}

/// The sled directory as `schema/record-format.md` describes it, read with sled alone.
#[test]
fn the_sled_fixture_has_the_documented_layout() {
    let want = expected();
    let (_tmp, dir) = sled_copy();
    let db = sled::open(&dir).unwrap();
    let names: BTreeSet<Vec<u8>> = db.tree_names().into_iter().map(|n| n.to_vec()).collect();
    for tree in [&b"log"[..], b"meta", b"derived"] {
        assert!(names.contains(tree), "no tree {:?}", String::from_utf8_lossy(tree));
    }
    let meta = db.open_tree("meta").unwrap();
    assert_eq!(meta.get("format").unwrap().unwrap().as_ref(), b"commitment-ledger store v1");
    let head = meta.get("head").unwrap().unwrap();
    assert_eq!(head.len(), 40, "Head: seq u64 LE, then 32 hash bytes");
    assert_eq!(&head[..8], &want.head_seq.to_le_bytes());
    assert_eq!(&head[8..], &want.head.0);
    let log = db.open_tree("log").unwrap();
    assert_eq!(log.len() as u64, want.records);
    let (last_key, last) = log.last().unwrap().unwrap();
    assert_eq!(last_key.as_ref(), &want.head_seq.to_be_bytes());
    assert_eq!(blake3::derive_key("commitment-ledger 2026-11-27 record v1", &last), want.head.0);
    let derived = db.open_tree("derived").unwrap();
    for (key, _) in derived.iter().map(Result::unwrap) {
        assert!(key.starts_with(b"p/"), "a closed ledger keeps only its live projection, found {key:?}");
    }
}

/// The writer of this version still writes v1 byte for byte: replaying the generator's commands in
/// memory reproduces `records.hex`. If this fails, the bytes a command produces have changed; that
/// needs a new event version or record format (see `schema/record-format.md`, "Versioning"), a new
/// fixture, and this test pointed at it.
#[test]
fn the_writer_still_writes_the_fixture_bytes() {
    let clock = ManualClock::at(ts("2024-06-03T09:00:00+08:00"));
    let mut ledger = Ledger::with_store(MemStore::new(), Box::new(clock.clone())).unwrap();
    write_golden_ledger(&mut ledger, &clock);
    let mut written = Vec::new();
    ledger
        .store()
        .scan(Seq(0), &mut |_, bytes| {
            written.push(bytes.to_vec());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    let fixture = raw_records();
    assert_eq!(written.len(), fixture.len());
    for (seq, (w, f)) in written.iter().zip(&fixture).enumerate() {
        assert!(w == f, "record {seq} is written differently now:\n now {}\nthen {}", hex(w), hex(f));
    }
}

/// Writes the fixture. Run only when deliberately creating a new fixture version:
///
/// ```text
/// cargo test --test golden -- --ignored generate_golden_fixture
/// ```
///
/// after pointing [`NEW_FIXTURE`] at a new, unused directory. It refuses to overwrite an existing
/// fixture: v1 is frozen forever.
#[test]
#[ignore = "writes a new golden fixture; run only on purpose"]
fn generate_golden_fixture() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join(NEW_FIXTURE);
    assert!(!out.exists(), "{} exists; fixtures are never overwritten (change NEW_FIXTURE)", out.display());
    let staging = tempfile::tempdir().unwrap();
    let dir = staging.path().join("ledger");
    let clock = ManualClock::at(ts("2024-06-03T09:00:00+08:00"));
    let mut ledger = Ledger::with_store(
        commitment_ledger::SledStore::open(&dir, true).unwrap(),
        Box::new(commitment_ledger::SystemClock),
    )
    .unwrap();
    ledger.set_clock(Box::new(clock.clone()));
    write_golden_ledger(&mut ledger, &clock);

    let mut lines = String::new();
    ledger
        .store()
        .scan(Seq(0), &mut |_, bytes| {
            lines.push_str(&hex(bytes));
            lines.push('\n');
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    let head = ledger.head().unwrap();
    let report = ledger.verify(&mut |_| {}).unwrap();
    assert!(report.ok, "{report:?}");
    ledger.close().unwrap();

    std::fs::create_dir_all(&out).unwrap();
    copy_dir(&dir, &out.join("ledger"));
    std::fs::write(out.join("records.hex"), lines).unwrap();
    std::fs::write(
        out.join("expected.txt"),
        format!(
            "# Written once by tests/golden.rs generate_golden_fixture; never edit.\nrecords {}\nhead_seq {}\nhead {}\n",
            report.records,
            head.seq,
            head.hash.to_hex()
        ),
    )
    .unwrap();
}

/// The fixture's content: commitments from the seed reply (Beijing municipal government to deputy Li Jing,
/// proposal 0771, on Beijing–Macao cooperation) and every kind of update, at plausible times.
fn write_golden_ledger<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock) {
    let hmo = actor("hmo");
    let reply = source("reply-0771");
    let section_2 = "关于加大投资引资、拓宽合作领域，推动京澳企业“走出去”“引进来”";
    let section_3 = "三、关于助力学科交叉、促进科技交流，推动中医药、新工科融合";
    let section_4 = "四、关于创新文化符号，推动文化融合，促进民心相通";

    clock.set(ts("2024-06-03T09:00:00+08:00"));
    let areas = ["finance", "science-tech", "tcm", "culture-tourism"]
        .iter()
        .map(|id| {
            let (_, zh, en) = SEED_AREAS.iter().find(|(a, _, _)| a == id).unwrap();
            RegisterArea { id: AreaId::new(*id).unwrap(), name: text(zh), name_en: Some(text(en)) }
        })
        .collect();
    let opened = OpenLedger {
        title: text("京澳合作承诺台账"),
        origin: text("commitments.example.gov.cn/beijing-macao"),
        utc_offset_minutes: 480,
        admin: hmo.clone(),
        admin_name: text("北京市人民政府港澳事务办公室"),
        vocabulary: Vocabulary::default_v1(),
    };
    ledger.init(opened, areas).unwrap();

    clock.set(ts("2024-06-03T09:10:00+08:00"));
    let actors = [
        ("finance-office", "市委金融办", Some("Beijing Municipal Financial Work Office"), Role::Department),
        (
            "development-reform",
            "市发展改革委",
            Some("Beijing Municipal Commission of Development and Reform"),
            Role::Department,
        ),
        (
            "science-commission",
            "市科委、中关村管委会",
            Some("Beijing Municipal Science and Technology Commission"),
            Role::Department,
        ),
        (
            "culture-tourism-bureau",
            "市文化和旅游局",
            Some("Beijing Municipal Bureau of Culture and Tourism"),
            Role::Department,
        ),
        ("tcm-bureau", "市中医药局", None, Role::Department),
        (
            "macao-dsepdr",
            "澳门特区政策研究和区域发展局",
            Some("Policy Research and Regional Development Bureau, Macao SAR"),
            Role::Counterpart,
        ),
        ("deputy-li-jing", "李静", None, Role::Deputy),
        ("audit-bureau", "北京市审计局", Some("Beijing Municipal Audit Bureau"), Role::Auditor),
    ];
    let commands = actors
        .iter()
        .map(|(id, name, en, role)| {
            let e = RegisterActor { id: actor(id), name: text(name), name_en: en.map(text), role: *role };
            (hmo.clone(), Command::RegisterActor(e))
        })
        .collect();
    ledger.append_batch(commands).unwrap();

    clock.set(ts("2024-06-03T09:30:00+08:00"));
    let reply_source = RecordSource {
        id: reply.clone(),
        kind: SourceKind::Reply,
        number: Some(text("0771")),
        title: text("关于“深入推进京澳合作，共建‘一带一路’高质量发展，助力北京中国式现代化建设”的建议的答复意见"),
        title_en: Some(text("Reply to proposal 0771 on deepening Beijing–Macao cooperation")),
        session: Some(text("北京市十六届人大二次会议")),
        date: Date::Day(2024, 5, 20),
        issuer: hmo.clone(),
        addressee: Some(actor("deputy-li-jing")),
        contributors: ["finance-office", "development-reform", "science-commission", "culture-tourism-bureau"]
            .map(actor)
            .to_vec(),
        // BLAKE3 of the reply's text as received (seed/reply-0771.txt).
        digest: Some(text("blake3:2a3c33382953490327d666a484176e151b2448745e294e6b4030f209f065e566")),
    };
    let memorandum = RecordSource {
        id: source("mou-bj-mo-2023"),
        kind: SourceKind::Memorandum,
        number: None,
        title: text("京澳合作会议第一次会议备忘录"),
        title_en: Some(text("Memorandum of the first Beijing–Macao Cooperation Meeting")),
        session: None,
        date: Date::Year(2023),
        issuer: hmo.clone(),
        addressee: None,
        contributors: vec![actor("macao-dsepdr")],
        digest: None,
    };
    ledger
        .append_batch(vec![
            (hmo.clone(), Command::RecordSource(reply_source)),
            (hmo.clone(), Command::RecordSource(memorandum)),
        ])
        .unwrap();

    clock.set(ts("2024-06-03T10:00:00+08:00"));
    let commitment = |id: &str, section: &str, area: &str, lead: &str, partners: &[&str]| NewCommitment {
        id: item(id),
        source: Some(reply.clone()),
        section: Some(text(section)),
        area: AreaId::new(area).unwrap(),
        lead: actor(lead),
        partners: partners.iter().map(|p| actor(p)).collect(),
        title: String::new(),
        title_en: None,
        text: String::new(),
        kind: Kind::Planned,
        on: None,
        due: None,
    };
    let commitments = vec![
        NewCommitment {
            title: text("市属国企赴澳门发行债券"),
            title_en: Some(text("Beijing state-owned enterprises list bonds in Macao")),
            text: text("截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。"),
            kind: Kind::Achieved,
            on: Some(Date::Year(2023)),
            ..commitment("0771-fin-bonds", section_2, "finance", "finance-office", &[])
        },
        NewCommitment {
            title: text("支持科创企业赴澳门参加BEYOND博览会"),
            text: text(
                "支持北京优质科创企业赴澳门参加BEYOND国际科技创新博览会等展会，打造“创新跳板”，共同开拓国际市场。",
            ),
            due: Some(Date::Year(2024)),
            ..commitment("0771-sci-beyond", section_3, "science-tech", "science-commission", &["macao-dsepdr"])
        },
        NewCommitment {
            title: text("借助澳门国际贸易投资展览会推动中医药国际化"),
            text: text(
                "下步将继续支持北京中医药行业借助澳门国际贸易投资展览会等平台，推动两地共同为中医药的国际化传播和全球化发展贡献力量。",
            ),
            ..commitment("0771-tcm-expo", section_3, "tcm", "science-commission", &[])
        },
        NewCommitment {
            title: text("京澳互访演出"),
            title_en: Some(text("Exchange of performances between Beijing and Macao")),
            text: text("2023年，两地互访演出项目8批次，87人次。"),
            kind: Kind::Ongoing,
            on: Some(Date::Year(2023)),
            ..commitment("0771-cul-perform", section_4, "culture-tourism", "culture-tourism-bureau", &["macao-dsepdr"])
        },
    ];
    ledger
        .append_batch(commitments.into_iter().map(|c| (hmo.clone(), Command::RecordCommitment(c))).collect())
        .unwrap();

    let figure = |id: &str, name: &str, value: &str, unit: &str, approximate: bool| {
        Command::RecordIndicator(RecordIndicator {
            item: item(id),
            name: text(name),
            value: text(value),
            unit: Some(text(unit)),
            approximate,
            as_of: Some(Date::Year(2023)),
        })
    };
    clock.set(ts("2024-06-05T15:20:00+08:00"));
    let finance = actor("finance-office");
    ledger
        .append_batch(vec![
            (finance.clone(), figure("0771-fin-bonds", "在澳门挂牌上市债券的北京市属国企", "4", "家", false)),
            (finance, figure("0771-fin-bonds", "在澳门挂牌上市的债券规模", "2300000000", "USD", true)),
        ])
        .unwrap();
    clock.set(ts("2024-06-05T16:00:00+08:00"));
    let culture = actor("culture-tourism-bureau");
    ledger.append(&culture, figure("0771-cul-perform", "互访演出项目", "8", "批次", false)).unwrap();
    // Entered wrongly (the reply says 87); corrected below.
    ledger.append(&culture, figure("0771-cul-perform", "互访演出人次", "78", "人次", false)).unwrap();

    clock.set(ts("2024-06-07T10:30:00+08:00"));
    ledger
        .append(
            &culture,
            Command::ReportProgress {
                item: item("0771-cul-perform"),
                text: text(
                    "2024年4月，北京人民艺术剧院赴澳门参加第四届粤港澳大湾区中国戏剧文化节，演出话剧《哈姆雷特》。",
                ),
                on: Some(Date::Month(2024, 4)),
                evidence: None,
            },
        )
        .unwrap();
    ledger
        .append(
            &culture,
            Command::ReportProgress {
                item: item("0771-cul-perform"),
                text: text("5月，北方昆曲剧院赴澳门举办“爱上昆曲”传统文化进澳门活动。"),
                on: Some(Date::Month(2024, 5)),
                evidence: Some(text("第0771号建议的答复意见")),
            },
        )
        .unwrap();

    clock.set(ts("2024-06-07T11:00:00+08:00"));
    let correction = Correct {
        item: item("0771-cul-perform"),
        entry: StreamVersion(2),
        text: None,
        value: Some(text("87")),
        reason: text("录入错误：答复原文为87人次。"),
    };
    ledger.append(&culture, Command::Correct(correction)).unwrap();

    clock.set(ts("2024-06-12T09:00:00+08:00"));
    let status = Command::ChangeStatus {
        item: item("0771-sci-beyond"),
        to: code("in_progress"),
        reason: text("已与澳门经济及科技发展局对接参展事宜。"),
        on: Some(Date::Day(2024, 6, 11)),
    };
    ledger.append(&actor("science-commission"), status).unwrap();

    clock.set(ts("2024-06-12T09:30:00+08:00"));
    let amendment = Amend {
        item: item("0771-sci-beyond"),
        title: None,
        title_en: Some(text("Support Beijing technology firms at the BEYOND Expo in Macao")),
        text: None,
        due: Some(Date::Month(2024, 12)),
        area: None,
        reason: text("明确展会举办时间（2024年12月）。"),
    };
    ledger.append(&hmo, Command::Amend(amendment)).unwrap();

    clock.set(ts("2024-06-20T14:00:00+08:00"));
    let reassignment = Command::Reassign {
        item: item("0771-tcm-expo"),
        lead: actor("tcm-bureau"),
        partners: Some(vec![actor("science-commission")]),
        reason: text("该事项由市中医药局牵头办理，市科委配合。"),
    };
    ledger.append(&hmo, reassignment).unwrap();

    clock.set(ts("2024-07-01T10:00:00+08:00"));
    let category =
        Categorize {
            source: reply.clone(), category: code("b"), reason: Some(text("所提事项正在推进，部分已落实。"))
        };
    ledger.append(&hmo, Command::Categorize(category)).unwrap();

    clock.set(ts("2024-07-03T16:45:00+08:00"));
    let feedback = RecordFeedback {
        source: reply,
        verdict: code("satisfied"),
        text: Some(text("对答复表示满意，建议持续跟进京澳合作会议成果落实。")),
        on: Some(Date::Day(2024, 7, 3)),
    };
    ledger.append(&actor("deputy-li-jing"), Command::RecordFeedback(feedback)).unwrap();
}
