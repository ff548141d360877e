//! Guards the `commitments` command as people use it: a realistic session through the built binary,
//! read back as JSON (filters, history, log paging, summaries, replay to a record or a date, date
//! precision, Chinese text byte for byte), and the same state after reopening.

mod support;

use commitment_ledger::Ledger;
#[allow(unused_imports)]
use commitment_ledger::{};
use commitment_ledger::{Kind, Role};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use support::*;

/// A ledger directory driven through the binary, every command with `--json`.
struct Session {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Session {
    fn new() -> Session {
        let tmp = tempdir();
        let dir = tmp.path().join("ledger");
        Session { _tmp: tmp, dir }
    }

    /// Runs a command that must succeed; returns its JSON output.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        cli(&self.dir, &all).ok().json()
    }

    /// Runs an append that must succeed; returns the seq it wrote.
    #[track_caller]
    fn append(&self, args: &[&str]) -> u64 {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        cli(&self.dir, &all).ok().seq()
    }

    #[track_caller]
    fn show(&self, id: &str) -> Value {
        self.ok(&["show", id])
    }

    /// The ids of the items `list` prints with extra filter arguments.
    #[track_caller]
    fn list_ids(&self, filter: &[&str]) -> Vec<String> {
        let mut args = vec!["list"];
        args.extend_from_slice(filter);
        ids(&self.ok(&args)["items"])
    }
}

fn ids(items: &Value) -> Vec<String> {
    items.as_array().expect("an array of items").iter().map(|i| i["id"].as_str().expect("an id").to_string()).collect()
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const BONDS_TEXT: &str =
    "截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市，澳门“一带一路”债券市场建设取得积极进展。";
const LAB_TEXT: &str = "推动北京高校与澳门大学共建联合实验室（含中医药方向），并在“京澳科技合作周”期间发布成果。";
const LAB_PROGRESS: &str = "联合实验室已完成选址；双方签署《共建协议》。";
const LAB_PROGRESS_FIXED: &str = "联合实验室已完成选址和设计；双方签署《共建协议》。";

/// The session of the seed reply: the office records the reply and its commitments, departments and
/// the Macao counterpart report, the office amends and reassigns, the deputy gives her verdict.
/// Returns the seqs worth remembering.
struct Written {
    culture_week_recorded: u64,
    culture_week_started: u64,
    culture_week_reassigned: u64,
    head: u64,
}

fn realistic_session(s: &Session) -> Written {
    let init = s.ok(&["init", "--title", "京澳合作承诺台账", "--origin", "beijing.example/reply-0771"]);
    let init_seqs: Vec<u64> = init["appended"].as_array().unwrap().iter().map(|a| a["seq"].as_u64().unwrap()).collect();
    assert_eq!(init_seqs, (0..13).collect::<Vec<_>>(), "record 0 and the twelve seed areas, numbered from 0");

    s.append(&["actor", "add", "office", "--name", "北京市人民政府港澳事务办公室", "--role", "office"]);
    s.append(&["actor", "add", "fin", "--name", "市委金融办", "--name-en", "Finance Office"]);
    s.append(&["actor", "add", "drc", "--name", "市发展改革委"]);
    s.append(&["actor", "add", "sci", "--name", "市科委、中关村管委会"]);
    s.append(&["actor", "add", "culture", "--name", "市文化和旅游局"]);
    s.append(&["actor", "add", "heritage", "--name", "市文物局"]);
    s.append(&[
        "actor",
        "add",
        "macao-dsepdr",
        "--name",
        "澳门特别行政区政府政策研究和区域发展局",
        "--name-en",
        "Policy Research and Regional Development Bureau of Macao SAR",
        "--role",
        "counterpart",
    ]);
    s.append(&["actor", "add", "lijing", "--name", "李静", "--role", "deputy"]);
    s.append(&[
        "source",
        "add",
        "reply-0771",
        "--title",
        "关于进一步深化京澳合作的建议的答复",
        "--number",
        "0771",
        "--session",
        "北京市十六届人大二次会议",
        "--date",
        "2024年5月10日",
        "--addressee",
        "lijing",
        "--contributor",
        "fin",
        "--contributor",
        "sci",
        "--actor",
        "office",
    ]);

    let office = ["--actor", "office"];
    let rec = |args: &[&str]| {
        let mut all = vec!["record"];
        all.extend_from_slice(args);
        all.extend_from_slice(&office);
        all.extend_from_slice(&["--source", "reply-0771"]);
        s.append(&all)
    };
    rec(&[
        "fin-bonds",
        "--lead",
        "fin",
        "--area",
        "finance",
        "--partner",
        "macao-dsepdr",
        "--title",
        "京企在澳发行债券",
        "--title-en",
        "Beijing enterprises list bonds in Macao",
        "--text",
        BONDS_TEXT,
        "--kind",
        "achieved",
        "--on",
        "2023年底",
        "--section",
        "二、金融",
    ]);
    rec(&[
        "sci-lab",
        "--lead",
        "sci",
        "--area",
        "science-tech",
        "--partner",
        "macao-dsepdr",
        "--partner",
        "drc",
        "--title",
        "共建京澳联合实验室",
        "--text",
        LAB_TEXT,
        "--kind",
        "ongoing",
        "--due",
        "2024年4月",
    ]);
    let culture_week_recorded = rec(&[
        "culture-week",
        "--lead",
        "culture",
        "--area",
        "culture-tourism",
        "--title",
        "举办“北京文化周”",
        "--due",
        "2099-12-31",
    ]);
    rec(&["tcm-center", "--lead", "drc", "--area", "tcm", "--title", "中医药合作中心", "--due", "2099"]);
    rec(&[
        "heritage-expo",
        "--lead",
        "heritage",
        "--area",
        "culture-tourism",
        "--title",
        "文物展览",
        "--due",
        "2024-06",
    ]);

    // Progress: the lead by default, the Macao counterpart as a partner.
    s.append(&[
        "progress",
        "sci-lab",
        "--text",
        LAB_PROGRESS,
        "--on",
        "2024-04-15",
        "--evidence",
        "京科发〔2024〕12号",
    ]);
    s.append(&["progress", "sci-lab", "--text", "澳方研究人员到位。", "--on", "2024年5月", "--actor", "macao-dsepdr"]);
    // Figures, one stated twice.
    s.append(&["indicator", "fin-bonds", "--name", "挂牌企业", "--value", "3", "--unit", "家", "--as-of", "2023-06"]);
    s.append(&["indicator", "fin-bonds", "--name", "挂牌企业", "--value", "4", "--unit", "家", "--as-of", "2023"]);
    s.append(&[
        "indicator",
        "fin-bonds",
        "--name",
        "债券总额",
        "--value",
        "2300000000",
        "--unit",
        "USD",
        "--approx",
        "--as-of",
        "2023-12-31",
    ]);
    // Status changes.
    let culture_week_started = s.append(&["status", "culture-week", "in_progress", "--reason", "筹备工作已启动"]);
    s.append(&["status", "heritage-expo", "dropped", "--reason", "展品借展协议未能达成", "--on", "2024-05-01"]);
    // An amendment, a reassignment, a correction of the first progress report.
    s.append(&[
        "amend",
        "tcm-center",
        "--title",
        "京澳中医药国际合作中心",
        "--due",
        "2099-06",
        "--reason",
        "按答复原文更正",
        "--actor",
        "office",
    ]);
    let culture_week_reassigned = s.append(&[
        "reassign",
        "culture-week",
        "--lead",
        "drc",
        "--partner",
        "culture",
        "--partner",
        "macao-dsepdr",
        "--reason",
        "牵头单位调整",
        "--actor",
        "office",
    ]);
    s.append(&["correct", "sci-lab", "--entry", "1", "--text", LAB_PROGRESS_FIXED, "--reason", "原报告漏记设计工作"]);
    // The deputy's verdict and the reply's category.
    s.append(&["feedback", "reply-0771", "basically_satisfied", "--text", "希望加快落实。", "--actor", "lijing"]);
    let head = s.append(&["category", "reply-0771", "b", "--reason", "部分事项正在推进", "--actor", "office"]);
    Written { culture_week_recorded, culture_week_started, culture_week_reassigned, head }
}

#[test]
fn a_realistic_session_reads_back_as_written() {
    let s = Session::new();
    let w = realistic_session(&s);

    // Registry.
    let actors = s.ok(&["actor", "list"]);
    let roles: Vec<(String, String)> = actors
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap().to_string(), a["role"].as_str().unwrap().to_string()))
        .collect();
    assert!(roles.contains(&("admin".into(), "admin".into())));
    assert!(roles.contains(&("macao-dsepdr".into(), "counterpart".into())));
    assert!(roles.contains(&("lijing".into(), "deputy".into())));
    assert_eq!(roles.len(), 9);
    assert_eq!(s.ok(&["area", "list"]).as_array().unwrap().len(), 12);
    let sources = s.ok(&["source", "list"]);
    let reply = &sources[0];
    assert_eq!(reply["source"]["id"], "reply-0771");
    assert_eq!(reply["source"]["date"], "2024-05-10", "a Chinese date with a day prints at day precision");
    assert_eq!(reply["source"]["contributors"], json!(["fin", "sci"]));
    assert_eq!(reply["items"], 5);
    assert_eq!(reply["category"]["category"], "b");
    assert_eq!(reply["feedback"][0]["verdict"], "basically_satisfied");
    assert_eq!(reply["feedback"][0]["text"], "希望加快落实。");

    // One item of each shape.
    let bonds = s.show("fin-bonds");
    assert_eq!(bonds["text"], BONDS_TEXT);
    assert_eq!(bonds["title_en"], "Beijing enterprises list bonds in Macao");
    assert_eq!(bonds["section"], "二、金融");
    assert_eq!(bonds["kind"], "achieved");
    assert_eq!(bonds["status"], "delivered");
    assert_eq!(bonds["status_label_zh"], "已完成");
    assert_eq!(bonds["category"], "a");
    assert_eq!(bonds["completion"], "complete");
    assert_eq!(bonds["on"], "2023", "2023年底 is the year 2023, printed at year precision");
    assert_eq!(bonds["partners"], json!(["macao-dsepdr"]));
    let figures = bonds["indicators"].as_array().unwrap();
    assert_eq!(figures.len(), 2);
    assert_eq!(figures[0]["name"], "挂牌企业");
    let history: Vec<(&str, &str)> = figures[0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["value"].as_str().unwrap(), h["as_of"].as_str().unwrap()))
        .collect();
    assert_eq!(history, vec![("3", "2023-06"), ("4", "2023")]);
    assert_eq!(figures[1]["history"][0]["value"], "2300000000");
    assert_eq!(figures[1]["history"][0]["approximate"], true);
    assert_eq!(figures[1]["unit"], "USD");
    assert_eq!(bonds["records"], 4);

    let lab = s.show("sci-lab");
    assert_eq!(lab["text"], LAB_TEXT);
    assert_eq!(lab["status"], "in_progress");
    assert_eq!(lab["due"], "2024-04", "2024年4月 prints at month precision");
    assert_eq!(lab["overdue"], true, "in progress and due April 2024");
    assert_eq!(lab["progress_reports"], 2);
    assert_eq!(lab["latest_progress"]["text"], "澳方研究人员到位。");
    assert_eq!(lab["latest_progress"]["actor"], "macao-dsepdr");
    assert_eq!(lab["latest_progress"]["on"], "2024-05");
    assert_eq!(lab["corrections"][0]["entry"], 1);
    assert_eq!(lab["corrections"][0]["text"], LAB_PROGRESS_FIXED);
    assert_eq!(lab["corrections"][0]["reason"], "原报告漏记设计工作");

    let week = s.show("culture-week");
    assert_eq!(week["status"], "in_progress");
    assert_eq!(week["status_reason"], "筹备工作已启动");
    assert_eq!(week["lead"], "drc");
    assert_eq!(week["partners"], json!(["culture", "macao-dsepdr"]));
    assert_eq!(week["reassignments"], 1);
    assert_eq!(week["due"], "2099-12-31");
    assert_eq!(week["overdue"], false);
    assert_eq!(week["title"], "举办“北京文化周”");

    let tcm = s.show("tcm-center");
    assert_eq!(tcm["title"], "京澳中医药国际合作中心");
    assert_eq!(tcm["due"], "2099-06");
    assert_eq!(tcm["amendments"], 1);
    assert_eq!(tcm["status"], "planned");
    assert_eq!(tcm["category"], "c");

    let expo = s.show("heritage-expo");
    assert_eq!(expo["status"], "dropped");
    assert_eq!(expo["status_reason"], "展品借展协议未能达成");
    assert_eq!(expo["overdue"], false, "a dropped item is closed, never overdue");

    // Filters.
    let all = strs(&["culture-week", "fin-bonds", "heritage-expo", "sci-lab", "tcm-center"]);
    assert_eq!(s.list_ids(&[]), all, "every item, in id order");
    assert_eq!(s.list_ids(&["--area", "finance"]), strs(&["fin-bonds"]));
    assert_eq!(s.list_ids(&["--area", "culture-tourism"]), strs(&["culture-week", "heritage-expo"]));
    assert_eq!(
        s.list_ids(&["--lead", "drc"]),
        strs(&["culture-week", "tcm-center"]),
        "drc leads since the reassignment"
    );
    assert_eq!(s.list_ids(&["--lead", "culture"]), Vec::<String>::new(), "culture no longer leads anything");
    assert_eq!(s.list_ids(&["--involving", "macao-dsepdr"]), strs(&["culture-week", "fin-bonds", "sci-lab"]));
    assert_eq!(s.list_ids(&["--status", "in_progress"]), strs(&["culture-week", "sci-lab"]));
    assert_eq!(s.list_ids(&["--status", "dropped"]), strs(&["heritage-expo"]));
    assert_eq!(s.list_ids(&["--overdue"]), strs(&["sci-lab"]));
    assert_eq!(s.list_ids(&["--source", "reply-0771"]), all);
    assert_eq!(s.list_ids(&["--status", "in_progress", "--lead", "drc"]), strs(&["culture-week"]));
    assert_eq!(s.list_ids(&["--area", "finance", "--overdue"]), Vec::<String>::new());

    // History: oldest first, numbered from 0, each linking to the stream's previous record.
    let history = s.ok(&["history", "sci-lab"]);
    let entries = history.as_array().unwrap();
    let types: Vec<&str> = entries.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["CommitmentRecorded", "ProgressReported", "ProgressReported", "EntryCorrected"]);
    for (n, e) in entries.iter().enumerate() {
        assert_eq!(e["stream_version"], n as u64, "entry numbers count from 0");
        assert_eq!(e["stream"], "item/sci-lab");
        if n > 0 {
            assert_eq!(e["stream_prev"], entries[n - 1]["seq"]);
            assert!(e["seq"].as_u64() > entries[n - 1]["seq"].as_u64(), "oldest first");
        }
    }
    assert_eq!(entries[0]["stream_prev"], Value::Null);
    assert_eq!(entries[1]["event"]["text"], LAB_PROGRESS, "history keeps what was first said");
    assert_eq!(entries[1]["event"]["evidence"], "京科发〔2024〕12号");
    assert_eq!(entries[3]["event"]["entry"], 1);
    let week_history = s.ok(&["history", "culture-week"]);
    let seqs: Vec<u64> = week_history.as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![w.culture_week_recorded, w.culture_week_started, w.culture_week_reassigned]);

    // Summary counts.
    let summary = s.ok(&["summary"]);
    assert_eq!(summary["items"], 5);
    assert_eq!(summary["overdue"], 1);
    assert_eq!(
        summary["by_status"],
        json!({"delivered": 1, "dropped": 1, "in_progress": 2, "planned": 1}),
        "{summary}"
    );
    let area = |id: &str| summary["areas"].as_array().unwrap().iter().find(|a| a["area"] == id).unwrap().clone();
    assert_eq!(area("culture-tourism")["items"], 2);
    assert_eq!(area("culture-tourism")["by_status"], json!({"dropped": 1, "in_progress": 1}));
    assert_eq!(area("science-tech")["overdue"], 1);
    assert_eq!(area("sports")["items"], 0);
    let dept = |id: &str| summary["departments"].as_array().unwrap().iter().find(|d| d["actor"] == id).cloned();
    assert_eq!(dept("drc").unwrap()["led"], 2);
    assert_eq!(dept("drc").unwrap()["partnered"], 1);
    assert_eq!(dept("macao-dsepdr").unwrap()["partnered"], 3);
    assert_eq!(dept("macao-dsepdr").unwrap()["led"], 0);
    assert_eq!(dept("sci").unwrap()["overdue"], 1);
    assert!(dept("culture").unwrap()["led"] == 0, "culture only helps now");
    let src = &summary["sources"][0];
    assert_eq!(src["items"], 5);
    assert_eq!(src["by_category"], json!({"a": 1, "b": 2, "c": 1, "d": 1}));
    assert_eq!(src["category"], "b");
    assert_eq!(src["verdict"], "basically_satisfied");
    assert_eq!(src["overdue"], 1);

    // The projection is exactly the replay of the log; the log verifies.
    let replay = s.ok(&["replay"]);
    assert_eq!(replay["ok"], true);
    assert_eq!(replay["head_seq"], w.head);
    assert_eq!(replay["differences"], json!([]));
    let (head_seq, _) = sound_head(&s.dir);
    assert_eq!(head_seq, w.head);
}

/// One session read back record by record: `replay --to` and `log` paging.
#[test]
fn replay_to_a_record_and_the_paged_log_read_the_session_back() {
    let s = Session::new();
    let w = realistic_session(&s);
    replay_to_a_record_shows_the_state_then(&s, &w);
    the_log_pages_and_links(&s, &w);
}

fn replay_to_a_record_shows_the_state_then(s: &Session, w: &Written) {
    // Just before the status change: planned, led by culture.
    let before = s.ok(&["replay", "--to", &(w.culture_week_started - 1).to_string()]);
    assert_eq!(before["seq"], w.culture_week_started - 1);
    let week = before["items"].as_array().unwrap().iter().find(|i| i["id"] == "culture-week").unwrap();
    assert_eq!(week["status"], "planned");
    assert_eq!(week["lead"], "culture");
    assert_eq!(week["records"], 1);
    assert_eq!(ids(&before["items"]).len(), 5, "every item was recorded before the status change");

    // At the status change, before the reassignment.
    let at = s.ok(&["replay", "--to", &w.culture_week_started.to_string()]);
    let week = at["items"].as_array().unwrap().iter().find(|i| i["id"] == "culture-week").unwrap();
    assert_eq!(week["status"], "in_progress");
    assert_eq!(week["lead"], "culture");

    // Before the item existed.
    let earlier = s.ok(&["replay", "--to", &(w.culture_week_recorded - 1).to_string()]);
    assert!(!ids(&earlier["items"]).contains(&"culture-week".to_string()));
    assert_eq!(ids(&earlier["items"]), strs(&["fin-bonds", "sci-lab"]));

    // Replay to record 0: no items, nothing but the opening.
    let zero = s.ok(&["replay", "--to", "0"]);
    assert_eq!(zero["seq"], 0);
    assert_eq!(zero["items"], json!([]));

    // Replaying to the head is the live state; replays leave the live projection alone.
    let full = s.ok(&["replay", "--to", &w.head.to_string()]);
    let live = s.ok(&["list"]);
    assert_eq!(without_day(full["items"].clone()), without_day(live["items"].clone()));
    assert_eq!(s.ok(&["replay"])["ok"], true);
    assert_eq!(s.show("culture-week")["lead"], "drc");
}

/// Records accepted on different days: the library writes the past (as an import of historical material
/// would, with its own clock), the binary appends today.
#[test]
fn replay_as_of_a_date_shows_the_state_at_the_end_of_that_day() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    let clock = clock_at("2024-03-01T10:00:00+08:00");
    {
        let mut l = Ledger::with_store(open_store(&dir, true), Box::new(clock.clone())).unwrap();
        l.init(opened("admin"), seed_areas()).unwrap();
        l.append(&actor("admin"), register("culture", "市文化和旅游局", Role::Department)).unwrap();
        let mut week = commitment("culture-week", "culture", "culture-tourism", Kind::Planned);
        week.due = Some(date("2024-04"));
        l.append(&actor("admin"), commitment_ledger::Command::RecordCommitment(week)).unwrap();
        // Late on 15 June in Beijing (15:30 UTC): still 15 June.
        clock.set(ts("2024-06-15T23:30:00+08:00"));
        l.append(&actor("culture"), status("culture-week", "in_progress", "筹备启动")).unwrap();
        // Just after midnight in Beijing: 16 June there, though still 15 June in UTC.
        clock.set(ts("2024-06-16T00:30:00+08:00"));
        l.append(&actor("culture"), progress("culture-week", "场地已确定。", "2024-06-16")).unwrap();
        l.close().unwrap();
    }
    // Today, through the binary.
    cli(&dir, &["status", "culture-week", "delivered", "--reason", "文化周已举办"]).ok();

    let as_of = |day: &str| -> Value { cli(&dir, &["--json", "replay", "--as-of", day]).ok().json() };
    let item = |v: &Value| v["items"].as_array().unwrap().iter().find(|i| i["id"] == "culture-week").cloned();

    assert_eq!(as_of("2024-02-29")["items"], json!([]), "nothing was recorded yet");
    assert_eq!(as_of("2024-02-29")["seq"], Value::Null);

    let march = as_of("2024-03-31");
    let week = item(&march).unwrap();
    assert_eq!(week["status"], "planned");
    assert_eq!(week["overdue"], false, "due April 2024, seen from 31 March");
    assert_eq!(march["day"], "2024-03-31");

    let may = as_of("2024-05");
    assert_eq!(may["day"], "2024-05-31", "a month means its last day");
    let week = item(&may).unwrap();
    assert_eq!(week["status"], "planned");
    assert_eq!(week["overdue"], true, "due April 2024, seen from 31 May");

    let june15 = item(&as_of("2024-06-15")).unwrap();
    assert_eq!(june15["status"], "in_progress", "accepted at 23:30 Beijing time on the 15th");
    assert_eq!(june15["latest_progress"], Value::Null, "accepted on the 16th, Beijing time");
    let june16 = item(&as_of("2024-06-16")).unwrap();
    assert_eq!(june16["latest_progress"]["text"], "场地已确定。");
    assert_eq!(june16["status"], "in_progress");

    // show, list and summary take --as-of too.
    let show = cli(&dir, &["--json", "show", "culture-week", "--as-of", "2024-04-30"]).ok().json();
    assert_eq!(show["status"], "planned");
    assert_eq!(show["overdue"], false);
    let listed = cli(&dir, &["--json", "list", "--overdue", "--as-of", "2024-05-01"]).ok().json();
    assert_eq!(ids(&listed["items"]), strs(&["culture-week"]));
    let summary = cli(&dir, &["--json", "summary", "--as-of", "2024-06-15"]).ok().json();
    assert_eq!(summary["by_status"], json!({"in_progress": 1}));
    assert_eq!(summary["overdue"], 1);

    // And now: delivered, not overdue.
    let now = cli(&dir, &["--json", "show", "culture-week"]).ok().json();
    assert_eq!(now["status"], "delivered");
    assert_eq!(now["overdue"], false);
    sound_head(&dir);
}

fn the_log_pages_and_links(s: &Session, w: &Written) {
    let full = s.ok(&["log", "--limit", "1000"]);
    let full = full.as_array().unwrap();
    assert_eq!(full.len() as u64, w.head + 1);
    for (n, r) in full.iter().enumerate() {
        assert_eq!(r["seq"], n as u64);
        let prev = if n == 0 { "0".repeat(64) } else { full[n - 1]["hash"].as_str().unwrap().to_string() };
        assert_eq!(r["prev"], prev.as_str(), "record {n} links to the one before");
    }
    assert_eq!(full[0]["type"], "LedgerOpened");
    assert_eq!(full[0]["event"]["origin"], "beijing.example/reply-0771");

    // The default page is 50 records.
    let default = s.ok(&["log"]);
    assert_eq!(default.as_array().unwrap().len() as u64, (w.head + 1).min(50));

    // Pages of 7 put together give the whole log.
    let mut paged = Vec::new();
    let mut from = 0u64;
    loop {
        let page = s.ok(&["log", "--from", &from.to_string(), "--limit", "7"]);
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        assert_eq!(page[0]["seq"], from);
        from += page.len() as u64;
        paged.extend(page);
    }
    assert_eq!(&paged, full);

    let page = s.ok(&["log", "--from", "13", "--limit", "3"]);
    let seqs: Vec<u64> = page.as_array().unwrap().iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![13, 14, 15]);
    assert_eq!(page[0]["type"], "ActorRegistered");
    assert_eq!(page[0]["event"]["id"], "office");
    assert_eq!(s.ok(&["log", "--from", &(w.head + 1).to_string()]), json!([]));
    assert_eq!(s.ok(&["log", "--limit", "0"]), json!([]));
}

#[test]
fn dates_print_at_the_precision_they_were_given() {
    let s = Session::new();
    s.ok(&["init", "--title", "日期"]);
    s.append(&["actor", "add", "fin", "--name", "市委金融办"]);
    let cases = [
        ("2024", "2024"),
        ("2024-04", "2024-04"),
        ("2024-04-05", "2024-04-05"),
        ("2024年", "2024"),
        ("2024年4月", "2024-04"),
        ("2024年4月5日", "2024-04-05"),
        ("2023年底", "2023"),
        ("2023年末", "2023"),
    ];
    for (n, (given, _)) in cases.iter().enumerate() {
        let id = format!("d{n}");
        s.append(&[
            "record", &id, "--lead", "fin", "--area", "finance", "--title", "日期", "--due", given, "--on", given,
        ]);
        // Figures and progress for the three shapes of date.
        if n < 3 {
            s.append(&["indicator", &id, "--name", "数", "--value", "1", "--as-of", given]);
            s.append(&["progress", &id, "--text", "进展", "--on", given]);
        }
    }
    let items = s.ok(&["list"]);
    let log = s.ok(&["log", "--limit", "1000"]);
    for (n, (given, printed)) in cases.iter().enumerate() {
        let item = items["items"].as_array().unwrap().iter().find(|i| i["id"] == format!("d{n}")).unwrap();
        assert_eq!(item["due"], *printed, "due {given}");
        assert_eq!(item["on"], *printed, "on {given}");
        let recorded = log
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["type"] == "CommitmentRecorded" && r["event"]["id"] == format!("d{n}"))
            .unwrap();
        assert_eq!(recorded["event"]["due"], *printed, "the log prints due {given} as {printed}");
        if n < 3 {
            assert_eq!(item["indicators"][0]["history"][0]["as_of"], *printed, "as-of {given}");
            assert_eq!(item["latest_progress"]["on"], *printed, "progress on {given}");
        }
    }
    // Progress without a date is dated today, at day precision.
    s.append(&["progress", "d0", "--text", "今天的进展"]);
    let on = s.show("d0")["latest_progress"]["on"].as_str().unwrap().to_string();
    assert_eq!(on.len(), 10, "{on:?} is a day");
}

#[test]
fn chinese_text_is_kept_byte_for_byte() {
    let s = Session::new();
    s.ok(&["init", "--title", "京澳合作承诺台账（测试）"]);
    s.append(&["actor", "add", "fin", "--name", "市委金融办（市金融监管局）", "--name-en", "Finance Office"]);
    let title = "《京澳合作备忘录》——“一带一路”；𠀀𪚥 ✓";
    let text = "第一段：截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。\n\t第二段：全角空格　、半角空格 ，以及 emoji 🏮 和组合字符 é。";
    s.append(&[
        "record",
        "cn",
        "--lead",
        "fin",
        "--area",
        "finance",
        "--title",
        title,
        "--title-en",
        "MoU",
        "--text",
        text,
    ]);
    let progress = "完成第1阶段（约60%）；下一步：“签约”。\n附：见〔2024〕3号文。";
    s.append(&["progress", "cn", "--text", progress, "--on", "2024-04", "--evidence", "京金融〔2024〕3号"]);
    s.append(&["indicator", "cn", "--name", "签约金额（亿元）", "--value", "12.5", "--unit", "亿元"]);

    let item = s.show("cn");
    assert_eq!(item["title"].as_str().unwrap().as_bytes(), title.as_bytes());
    assert_eq!(item["text"].as_str().unwrap().as_bytes(), text.as_bytes());
    assert_eq!(item["latest_progress"]["text"].as_str().unwrap().as_bytes(), progress.as_bytes());
    assert_eq!(item["latest_progress"]["evidence"], "京金融〔2024〕3号");
    assert_eq!(item["indicators"][0]["name"], "签约金额（亿元）");
    assert_eq!(item["indicators"][0]["unit"], "亿元");
    let history = s.ok(&["history", "cn"]);
    assert_eq!(history[0]["event"]["text"].as_str().unwrap().as_bytes(), text.as_bytes());
    assert_eq!(history[1]["event"]["text"].as_str().unwrap().as_bytes(), progress.as_bytes());
    let actors = s.ok(&["actor", "list"]);
    assert!(actors.as_array().unwrap().iter().any(|a| a["name"] == "市委金融办（市金融监管局）"));
    let log = s.ok(&["log"]);
    assert_eq!(log[0]["event"]["title"], "京澳合作承诺台账（测试）");

    // The table output prints the original title, and the English one with --english.
    let table = cli(&s.dir, &["list"]).ok().stdout;
    assert!(table.contains("《京澳合作备忘录》"), "{table}");
    let english = cli(&s.dir, &["--english", "list"]).ok().stdout;
    assert!(english.contains("MoU"), "{english}");
    assert!(!english.contains("《京澳合作备忘录》"), "{english}");
}

/// The state read through the library and through the binary.
fn states(dir: &Path) -> (Vec<commitment_ledger::ItemState>, commitment_ledger::Registry) {
    let mut l = open_ledger(dir);
    let mut items = Vec::new();
    l.for_each_item(&mut |i| items.push(i.clone())).unwrap();
    let registry = l.registry().clone();
    (items, registry)
}

#[test]
fn reopening_after_many_appends_gives_the_same_state() {
    let tmp = tempdir();
    let dir = tmp.path().join("ledger");
    build_fixture(&dir);
    {
        let clock = clock_at(FIXTURE_TIME);
        let mut l = Ledger::with_store(open_store(&dir, false), Box::new(clock.clone())).unwrap();
        // 600 records: single appends and batches, over several simulated days.
        for round in 0..20u64 {
            clock.shift(DAY_US);
            let batch: Vec<_> = (0..25u64)
                .map(|n| {
                    let (who, cmd) = if n % 2 == 0 {
                        ("sci", progress("sci-lab", &format!("第{round}轮第{n}次进展"), "2024-05-01"))
                    } else {
                        ("fin", figure("fin-bonds", "在澳门挂牌债券的企业", &(round * 100 + n).to_string(), Some("家")))
                    };
                    (actor(who), cmd)
                })
                .collect();
            l.append_batch(batch).unwrap();
            for n in 0..5u64 {
                l.append(&actor("office"), progress("tcm-center", &format!("第{round}轮办公室记录{n}"), "2024-05"))
                    .unwrap();
            }
        }
        assert!(l.check_projection().unwrap().is_empty());
        l.close().unwrap();
    }
    let (head, _) = sound_head(&dir);
    let before_list = without_day(cli(&dir, &["--json", "list"]).ok().json());
    let before_summary = without_day(cli(&dir, &["--json", "summary"]).ok().json());
    let before_show = cli(&dir, &["--json", "show", "fin-bonds"]).ok().json();
    assert_eq!(before_show["indicators"][0]["history"].as_array().unwrap().len(), 1 + 20 * 12);
    let lab = cli(&dir, &["--json", "show", "sci-lab"]).ok().json();
    assert_eq!(lab["progress_reports"], 2 + 20 * 13);
    assert_eq!(lab["latest_progress"]["text"], "第19轮第24次进展");
    let (items, registry) = states(&dir);

    // Reopening (every command above reopened it) changes nothing; neither does a rebuild.
    assert_eq!(states(&dir), (items.clone(), registry.clone()));
    assert_eq!(cli(&dir, &["--json", "replay"]).ok().json()["ok"], true);
    cli(&dir, &["--json", "replay", "--rebuild"]).ok();
    assert_eq!(without_day(cli(&dir, &["--json", "list"]).ok().json()), before_list);
    assert_eq!(without_day(cli(&dir, &["--json", "summary"]).ok().json()), before_summary);
    assert_eq!(cli(&dir, &["--json", "show", "fin-bonds"]).ok().json(), before_show);
    assert_eq!(states(&dir), (items, registry));
    assert_eq!(sound_head(&dir).0, head);
    assert_eq!(head, 36 + 20 * 30);
}

#[test]
fn the_ledger_and_actor_come_from_the_environment() {
    let tmp = tempdir();
    let dir = tmp.path().join("env-ledger");
    build_fixture(&dir);
    let run = |args: &[&str]| {
        std::process::Command::new(BIN)
            .args(args)
            .env("COMMITMENTS_LEDGER", &dir)
            .env("COMMITMENTS_ACTOR", "macao-dsepdr")
            .output()
            .unwrap()
    };
    let out = run(&["--json", "progress", "sci-lab", "--text", "澳方报告", "--on", "2024-05-01"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let show = run(&["--json", "show", "sci-lab"]);
    let v: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["latest_progress"]["actor"], "macao-dsepdr");
    assert_eq!(v["latest_progress"]["text"], "澳方报告");
}
