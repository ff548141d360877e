//! Guards the refusals: every bad input through the binary exits 2 (or 3 for storage and locks) with a
//! message naming the field or problem, and leaves the ledger exactly as it was (same head, still sound).

mod support;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use support::*;

/// A fresh fixture ledger.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    /// The head as last checked; `None` after a successful command.
    head: Cell<Option<(u64, String)>>,
}

impl Fixture {
    fn new() -> Fixture {
        let tmp = tempdir();
        let dir = tmp.path().join("ledger");
        build_fixture(&dir);
        Fixture { _tmp: tmp, dir, head: Cell::new(None) }
    }

    /// The head of the ledger, which must verify. In process (cheaper than a run of the binary);
    /// `Drop` closes and unlocks it before the next run.
    #[track_caller]
    fn sound_head(&self) -> (u64, String) {
        let ledger = open_ledger(&self.dir);
        let report = ledger.verify(&mut |_| {}).expect("verify runs");
        assert!(report.ok, "the ledger no longer verifies: {report:?}");
        (report.head_seq.expect("a head"), report.head.expect("a head hash"))
    }

    /// Runs a command that must be refused with `code`, its stderr naming every one of `needles`;
    /// checks that the head did not move and the ledger still verifies.
    #[track_caller]
    fn refused(&self, code: i32, args: &[&str], needles: &[&str]) {
        let before = self.head.take().unwrap_or_else(|| self.sound_head());
        let run = cli(&self.dir, args).code(code);
        for needle in needles {
            assert!(run.stderr.contains(needle), "`{}`: stderr does not name {needle:?}:\n{}", run.args, run.stderr);
        }
        assert!(!run.stdout.contains("appended"), "`{}` printed an append: {}", run.args, run.stdout);
        let after = self.sound_head();
        assert_eq!(after, before, "`{}` moved the head", run.args);
        self.head.set(Some(after));
    }

    /// Runs a command that must succeed.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> serde_json::Value {
        self.head.set(None);
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        cli(&self.dir, &all).ok().json()
    }
}

impl Drop for Fixture {
    /// Every test ends with the binary's own verdict on the ledger.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            sound_head(&self.dir);
        }
    }
}

#[test]
fn unknown_items_are_named() {
    let f = Fixture::new();
    let unknown = ["unknown item", "\"no-such-item\""];
    f.refused(2, &["progress", "no-such-item", "--text", "进展", "--on", "2024-05-01"], &unknown);
    f.refused(2, &["status", "no-such-item", "delivered", "--reason", "完成"], &unknown);
    f.refused(2, &["indicator", "no-such-item", "--name", "数", "--value", "1"], &unknown);
    f.refused(2, &["amend", "no-such-item", "--title", "新", "--reason", "更正", "--actor", "office"], &unknown);
    f.refused(2, &["reassign", "no-such-item", "--lead", "fin", "--reason", "调整", "--actor", "office"], &unknown);
    f.refused(2, &["correct", "no-such-item", "--entry", "1", "--text", "改", "--reason", "更正"], &unknown);
    // Reads too.
    f.refused(2, &["show", "no-such-item"], &unknown);
    f.refused(2, &["history", "no-such-item"], &unknown);
}

#[test]
fn unknown_actors_are_named() {
    let f = Fixture::new();
    let unknown = ["unknown actor", "\"nobody\""];
    f.refused(2, &["progress", "sci-lab", "--text", "进展", "--on", "2024-05-01", "--actor", "nobody"], &unknown);
    f.refused(2, &["actor", "add", "x", "--name", "某部门", "--actor", "nobody"], &unknown);
    f.refused(2, &["record", "new-item", "--lead", "nobody", "--area", "finance", "--title", "新承诺"], &unknown);
    f.refused(
        2,
        &["record", "new-item", "--lead", "fin", "--partner", "nobody", "--area", "finance", "--title", "新承诺"],
        &unknown,
    );
    f.refused(2, &["reassign", "sci-lab", "--lead", "nobody", "--reason", "调整", "--actor", "office"], &unknown);
    f.refused(
        2,
        &["source", "add", "s2", "--title", "来源", "--date", "2024-01-01", "--addressee", "nobody"],
        &unknown,
    );
    // An actor id that is not an id at all.
    f.refused(2, &["progress", "sci-lab", "--text", "进展", "--actor", "Finance Office"], &["actor", "a-z"]);
}

#[test]
fn unknown_areas_sources_and_codes_are_named() {
    let f = Fixture::new();
    f.refused(
        2,
        &["record", "new-item", "--lead", "fin", "--area", "space", "--title", "新承诺"],
        &["unknown area", "\"space\""],
    );
    f.refused(2, &["amend", "sci-lab", "--area", "space", "--reason", "调整", "--actor", "office"], &["unknown area"]);
    f.refused(
        2,
        &["record", "new-item", "--lead", "fin", "--area", "finance", "--title", "新", "--source", "reply-9999"],
        &["unknown source", "reply-9999"],
    );
    f.refused(2, &["feedback", "reply-9999", "satisfied", "--actor", "lijing"], &["unknown source"]);
    f.refused(2, &["category", "reply-9999", "a"], &["unknown source"]);
    f.refused(
        2,
        &["feedback", "reply-0771", "happy", "--actor", "lijing"],
        &["unknown verdict", "happy", "satisfied, basically_satisfied, dissatisfied"],
    );
    f.refused(2, &["category", "reply-0771", "e"], &["unknown category", "a, b, c, d"]);
    f.refused(2, &["status", "sci-lab", "finished", "--reason", "完成"], &["unknown status", "finished"]);
    f.refused(2, &["status", "sci-lab", "Delivered", "--reason", "完成"], &["status", "\"Delivered\""]);
}

#[test]
fn duplicate_ids_are_refused() {
    let f = Fixture::new();
    f.refused(
        2,
        &["record", "fin-bonds", "--lead", "fin", "--area", "finance", "--title", "重复"],
        &["item", "\"fin-bonds\" already exists"],
    );
    f.refused(2, &["actor", "add", "fin", "--name", "又一个金融办"], &["actor", "\"fin\" already exists"]);
    f.refused(2, &["actor", "add", "admin", "--name", "管理员"], &["actor", "\"admin\" already exists"]);
    f.refused(2, &["area", "add", "finance", "--name", "金融"], &["area", "\"finance\" already exists"]);
    f.refused(
        2,
        &["source", "add", "reply-0771", "--title", "重复", "--date", "2024-05-10"],
        &["source", "\"reply-0771\" already exists"],
    );
    f.refused(2, &["init", "--title", "再来一次"], &["already initialized"]);
}

#[test]
fn illegal_status_changes_are_refused() {
    let f = Fixture::new();
    // delivered → dropped is not a move the vocabulary allows.
    f.refused(
        2,
        &["status", "fin-bonds", "dropped", "--reason", "撤回"],
        &["fin-bonds", "delivered may not change to dropped", "allowed: in_progress, partially_delivered"],
    );
    f.refused(
        2,
        &["status", "fin-bonds", "delivered", "--reason", "再次完成"],
        &["delivered may not change to delivered"],
    );
    // Drop an item, then try to work on it.
    f.ok(&["status", "tcm-center", "dropped", "--reason", "合作方调整"]);
    f.refused(
        2,
        &["progress", "tcm-center", "--text", "仍在推进", "--on", "2024-05-01"],
        &["tcm-center is dropped", "no more progress"],
    );
    f.refused(2, &["indicator", "tcm-center", "--name", "数", "--value", "1"], &["tcm-center is dropped"]);
    f.refused(2, &["status", "tcm-center", "in_progress", "--reason", "恢复"], &["allowed: none"]);
}

#[test]
fn malformed_and_impossible_dates_are_refused() {
    let f = Fixture::new();
    // Every date field of the command line, as (arguments before the date, the field's name).
    let fields: [(&[&str], &str); 6] = [
        (&["progress", "sci-lab", "--text", "进展", "--on"], "on:"),
        (&["record", "new-item", "--lead", "fin", "--area", "finance", "--title", "新", "--due"], "due:"),
        (&["indicator", "fin-bonds", "--name", "数", "--value", "1", "--as-of"], "as-of:"),
        (&["source", "add", "s2", "--title", "来源", "--date"], "date:"),
        (&["show", "sci-lab", "--as-of"], "as-of:"),
        (&["replay", "--as-of"], "as-of:"),
    ];
    let bad_dates = [
        ("2023-02-29", "no such day"),
        ("2024-02-30", "no such day"),
        ("2024-13", "month"),
        ("2024-00", "month"),
        ("yesterday", "four digits"),
        ("24-05-01", "four digits"),
        ("2024/05/01", "four digits"),
        ("2024年13月", "month"),
        ("", "four digits"),
    ];
    // Each bad date in two fields, each field with three bad dates.
    for (n, (bad, why)) in bad_dates.iter().enumerate() {
        for (before, field) in [fields[n % 6], fields[(n + 3) % 6]] {
            let mut args = before.to_vec();
            args.push(bad);
            f.refused(2, &args, &[field, why, bad]);
        }
    }
}

#[test]
fn dates_in_the_future_are_refused_where_they_say_when_something_happened() {
    let f = Fixture::new();
    f.refused(2, &["progress", "sci-lab", "--text", "进展", "--on", "2099-01-01"], &["on:", "in the future"]);
    f.refused(2, &["status", "sci-lab", "delivered", "--reason", "完成", "--on", "2099"], &["on:", "in the future"]);
    f.refused(2, &["indicator", "fin-bonds", "--name", "数", "--value", "1", "--as-of", "2099-12"], &["as-of:"]);
    f.refused(2, &["feedback", "reply-0771", "satisfied", "--on", "2099", "--actor", "lijing"], &["on:"]);
    f.refused(2, &["source", "add", "s2", "--title", "来源", "--date", "2099-01-01"], &["date:", "in the future"]);
    f.refused(
        2,
        &["record", "new-item", "--lead", "fin", "--area", "finance", "--title", "新", "--on", "2099"],
        &["on:", "in the future"],
    );
    // A due date is a promise: the future is where it belongs.
    f.ok(&["record", "new-item", "--lead", "fin", "--area", "finance", "--title", "新", "--due", "2099-12-31"]);
}

#[test]
fn empty_text_is_refused() {
    let f = Fixture::new();
    f.refused(2, &["progress", "sci-lab", "--text", "", "--on", "2024-05-01"], &["text: is empty"]);
    f.refused(2, &["progress", "sci-lab", "--text", " \n\t　", "--on", "2024-05-01"], &["text"]);
    f.refused(2, &["record", "new-item", "--lead", "fin", "--area", "finance", "--title", ""], &["title: is empty"]);
    f.refused(
        2,
        &["record", "new-item", "--lead", "fin", "--area", "finance", "--title", "新", "--text", ""],
        &["text: is empty"],
    );
    f.refused(2, &["actor", "add", "new-dept", "--name", ""], &["name: is empty"]);
    f.refused(2, &["status", "sci-lab", "delivered", "--reason", ""], &["reason: is empty"]);
    f.refused(2, &["amend", "sci-lab", "--title", "新", "--reason", "", "--actor", "office"], &["reason"]);
    f.refused(2, &["amend", "sci-lab", "--reason", "无内容", "--actor", "office"], &["nothing to amend"]);
    f.refused(2, &["correct", "sci-lab", "--entry", "1", "--reason", "更正"], &["corrected text"]);
    f.refused(2, &["record", "", "--lead", "fin", "--area", "finance", "--title", "新"], &["id:", "is empty"]);
}

#[test]
fn over_long_text_is_refused_at_the_limits() {
    let f = Fixture::new();
    let title_513 = "x".repeat(513);
    f.refused(
        2,
        &["record", "long", "--lead", "fin", "--area", "finance", "--title", &title_513],
        &["title: is 513 bytes; the limit is 512"],
    );
    // Bytes, not characters: 171 Chinese characters are 513 bytes.
    let title_zh = "金".repeat(171);
    f.refused(
        2,
        &["record", "long", "--lead", "fin", "--area", "finance", "--title", &title_zh],
        &["title: is 513 bytes"],
    );
    f.refused(2, &["actor", "add", "long", "--name", &title_513], &["name: is 513 bytes"]);
    let text_over = "文".repeat(5461) + "xx"; // 16 385 bytes
    f.refused(
        2,
        &["progress", "sci-lab", "--text", &text_over, "--on", "2024-05-01"],
        &["text: is 16385 bytes; the limit is 16384"],
    );
    f.refused(
        2,
        &["status", "sci-lab", "delivered", "--reason", &text_over],
        &["reason: is 16385 bytes; the limit is 16384"],
    );
    let id_65 = "a".repeat(65);
    f.refused(
        2,
        &["record", &id_65, "--lead", "fin", "--area", "finance", "--title", "新"],
        &["id:", "65 bytes long; the limit is 64"],
    );
    f.refused(2, &["actor", "add", &id_65, "--name", "新"], &["id:", "65 bytes"]);
    f.refused(2, &["record", "Fin-2", "--lead", "fin", "--area", "finance", "--title", "新"], &["id:", "a-z"]);
    f.refused(2, &["record", "金融-2", "--lead", "fin", "--area", "finance", "--title", "新"], &["id:", "a-z"]);
    f.refused(2, &["record", "_x", "--lead", "fin", "--area", "finance", "--title", "新"], &["id:"]);
    let unit_65 = "u".repeat(65);
    f.refused(2, &["indicator", "fin-bonds", "--name", "数", "--value", "1", "--unit", &unit_65], &["unit:"]);

    // Exactly at the limits is accepted.
    let text_max = "文".repeat(5461) + "x"; // 16 384 bytes
    f.ok(&["record", &"a".repeat(64), "--lead", "fin", "--area", "finance", "--title", &"x".repeat(512)]);
    f.ok(&["progress", "sci-lab", "--text", &text_max, "--on", "2024-05-01"]);
    let show = f.ok(&["show", "sci-lab"]);
    assert_eq!(show["latest_progress"]["text"].as_str().unwrap().len(), 16_384);
    sound_head(&f.dir);
}

#[test]
fn control_characters_and_bad_numbers_are_refused() {
    let f = Fixture::new();
    f.refused(
        2,
        &["record", "bell", "--lead", "fin", "--area", "finance", "--title", "a\u{7}b"],
        &["title", "control character U+0007"],
    );
    f.refused(2, &["record", "nl", "--lead", "fin", "--area", "finance", "--title", "两\n行"], &["title", "U+000A"]);
    f.refused(2, &["record", "c1", "--lead", "fin", "--area", "finance", "--title", "a\u{85}b"], &["U+0085"]);
    for bad in ["2,300", "4家", "1e9", "", ".5", "--", "12.", "٤"] {
        f.refused(2, &["indicator", "fin-bonds", "--name", "数", "--value", bad], &["value", "not a decimal"]);
    }
    f.refused(2, &["correct", "fin-bonds", "--entry", "1", "--value", "x", "--reason", "更正"], &["value"]);
    // Multi-line text is fine.
    f.ok(&["progress", "sci-lab", "--text", "第一行\n\t第二行", "--on", "2024-05-01"]);
}

#[test]
fn bad_references_are_named() {
    let f = Fixture::new();
    f.refused(2, &["correct", "sci-lab", "--entry", "0", "--text", "改", "--reason", "更正"], &["entry", "amend it"]);
    f.refused(2, &["correct", "sci-lab", "--entry", "99", "--text", "改", "--reason", "更正"], &["entry", "99"]);
    f.refused(
        2,
        &["record", "n1", "--lead", "macao-dsepdr", "--area", "finance", "--title", "新"],
        &["lead", "counterpart and cannot lead"],
    );
    f.refused(
        2,
        &["record", "n1", "--lead", "fin", "--partner", "lijing", "--area", "finance", "--title", "新"],
        &["partner", "deputy and cannot be a partner"],
    );
    f.refused(
        2,
        &["record", "n1", "--lead", "fin", "--partner", "fin", "--area", "finance", "--title", "新"],
        &["partner", "already the lead"],
    );
    f.refused(
        2,
        &[
            "record",
            "n1",
            "--lead",
            "fin",
            "--partner",
            "drc",
            "--partner",
            "drc",
            "--area",
            "finance",
            "--title",
            "新",
        ],
        &["partner", "named twice"],
    );
    f.refused(
        2,
        &["source", "add", "s2", "--title", "来源", "--date", "2024-01-01", "--addressee", "fin"],
        &["addressee", "not a deputy"],
    );
    f.refused(2, &["replay", "--to", "9999"], &["to:", "9999 does not exist"]);
    f.refused(
        2,
        &["source", "add", "s2", "--title", "来源", "--date", "2024-01-01", "--text-file", "/no/such/file"],
        &["text-file"],
    );
}

#[test]
fn acting_outside_ones_authority_is_refused() {
    let f = Fixture::new();
    f.refused(
        2,
        &["progress", "fin-bonds", "--text", "越权", "--on", "2024-05-01", "--actor", "culture"],
        &["culture (department) may not report progress", "items it leads or helps with"],
    );
    f.refused(
        2,
        &["status", "sci-lab", "delivered", "--reason", "完成", "--actor", "macao-dsepdr"],
        &["macao-dsepdr (counterpart) may not change the status"],
    );
    f.refused(2, &["actor", "add", "x", "--name", "某部门", "--actor", "fin"], &["fin (department) may not register"]);
    f.refused(
        2,
        &["reassign", "sci-lab", "--lead", "fin", "--reason", "接手", "--actor", "fin"],
        &["fin (department) may not reassign"],
    );
    f.refused(
        2,
        &["feedback", "reply-0771", "satisfied", "--actor", "fin"],
        &["fin (department) may not record feedback"],
    );
}

#[test]
fn clap_usage_errors_exit_2() {
    let f = Fixture::new();
    f.refused(2, &["record", "n1", "--area", "finance", "--title", "新"], &["--lead"]);
    f.refused(2, &["record", "n1", "--lead", "fin", "--area", "finance", "--title", "新", "--kind", "done"], &["kind"]);
    f.refused(2, &["status", "sci-lab", "delivered"], &["--reason"]);
    f.refused(2, &["correct", "sci-lab", "--entry", "one", "--text", "改", "--reason", "r"], &["entry"]);
    f.refused(2, &["replay", "--to", "3", "--as-of", "2024"], &["cannot be used with"]);
    f.refused(2, &["frobnicate"], &["frobnicate"]);
}

/// A directory or path that is not a ledger, for reads and appends: exit 2, named, and left as found.
#[track_caller]
fn not_a_ledger(path: &Path, needles: &[&str]) {
    let before = snapshot(path);
    for args in [
        &["--json", "verify"][..],
        &["--json", "list"],
        &["--json", "progress", "sci-lab", "--text", "进展"],
        &["--json", "replay", "--rebuild"],
        &["--json", "init", "--title", "覆盖"],
    ] {
        let run = cli(path, args).code(2);
        for needle in needles {
            assert!(run.stderr.contains(needle), "`{}`: {:?} not in {}", run.args, needle, run.stderr);
        }
        assert_eq!(snapshot(path), before, "`{}` touched {}", run.args, path.display());
    }
}

#[test]
fn a_directory_with_other_files_is_not_a_ledger() {
    let tmp = tempdir();
    let dir = tmp.path().join("documents");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("reply-0771.txt"), "关于京澳合作的答复").unwrap();
    std::fs::create_dir(dir.join("drafts")).unwrap();
    not_a_ledger(&dir, &["is not a commitment ledger", "other files", "reply-0771.txt"]);
}

#[test]
fn a_file_is_not_a_ledger() {
    let tmp = tempdir();
    let file = tmp.path().join("ledger.txt");
    std::fs::write(&file, "not a ledger").unwrap();
    not_a_ledger(&file, &["is not a commitment ledger", "is a file"]);
}

#[test]
fn a_missing_ledger_is_named_and_not_created() {
    let tmp = tempdir();
    let missing = tmp.path().join("no-such-ledger");
    for args in [&["verify"][..], &["list"], &["show", "x"], &["progress", "x", "--text", "t"], &["replay"]] {
        let run = cli(&missing, args).code(2);
        assert!(run.stderr.contains("no ledger at"), "{}", run.stderr);
        assert!(run.stderr.contains("commitments init"), "the message says what to do: {}", run.stderr);
        assert!(!missing.exists(), "`{}` created the directory", run.args);
    }
    // An empty directory is not a ledger yet either, and stays empty.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for args in [&["verify"][..], &["actor", "add", "x", "--name", "某部门"]] {
        let run = cli(&empty, args).code(2);
        assert!(run.stderr.contains("no ledger at"), "{}", run.stderr);
        assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "`{}` wrote into the directory", run.args);
    }
}

#[test]
fn a_bad_init_writes_no_ledger() {
    let tmp = tempdir();
    let dir = tmp.path().join("new");
    // Refused before anything is opened: not even the directory appears.
    for (args, needle) in [
        (&["init", "--title", "台账", "--utc-offset", "8"][..], "utc-offset"),
        (&["init", "--title", "台账", "--admin", "Admin"], "admin"),
    ] {
        let run = cli(&dir, args).code(2);
        assert!(run.stderr.contains(needle), "`{}`: {}", run.args, run.stderr);
        assert!(!dir.exists(), "`{}` created {}", run.args, dir.display());
    }
    // Refused by the rules for record 0: no record is written.
    for (args, needle) in [
        (&["init", "--title", ""][..], "title"),
        (&["init", "--title", "台账", "--origin", "has space"], "origin"),
        (&["init", "--title", "台账", "--utc-offset", "+15:00"], "utc-offset"),
        (&["init", "--title", "台账", "--admin-name", "a\u{1b}[31m"], "admin-name"),
    ] {
        let run = cli(&dir, args).code(2);
        assert!(run.stderr.contains(needle), "`{}`: {}", run.args, run.stderr);
        let records = if dir.exists() { cli(&dir, &["--json", "verify"]).json()["records"].as_u64() } else { None };
        assert!(matches!(records, None | Some(0)), "`{}` left records behind", run.args);
    }
    // After all those refusals, a good init works there.
    cli(&dir, &["init", "--title", "台账"]).ok();
    assert_eq!(sound_head(&dir).0, 12);
}

/// Another application's sled database, with its data in the default tree.
fn foreign_sled(dir: &Path) {
    let db = open_sled(dir);
    db.insert("user:1", "someone else's data").unwrap();
    db.flush().unwrap();
}

fn tree_names(dir: &Path) -> Vec<Vec<u8>> {
    let mut names: Vec<Vec<u8>> = open_sled(dir).tree_names().iter().map(|n| n.to_vec()).collect();
    names.sort();
    names
}

#[test]
fn a_sled_database_of_something_else_is_not_a_ledger() {
    let tmp = tempdir();
    let dir = tmp.path().join("other-app");
    foreign_sled(&dir);
    for args in
        [&["--json", "verify"][..], &["--json", "progress", "x", "--text", "t"], &["--json", "init", "--title", "台账"]]
    {
        let run = cli(&dir, args).code(2);
        assert!(run.stderr.contains("is not a commitment ledger"), "{}", run.stderr);
        assert!(run.stderr.contains("sled database of something else"), "{}", run.stderr);
    }
    let db = open_sled(&dir);
    assert_eq!(db.get("user:1").unwrap().as_deref(), Some(&b"someone else's data"[..]));
    assert!(db.open_tree("log").unwrap().is_empty(), "no ledger was written into it");
}

#[test]
fn a_sled_database_of_something_else_is_left_as_found() {
    let tmp = tempdir();
    let dir = tmp.path().join("other-app");
    foreign_sled(&dir);
    let before = tree_names(&dir);
    cli(&dir, &["--json", "verify"]).code(2);
    cli(&dir, &["--json", "init", "--title", "台账"]).code(2);
    assert_eq!(tree_names(&dir), before);
}

#[test]
fn garbage_where_the_sled_files_should_be_is_refused_cleanly() {
    let tmp = tempdir();
    let dir = tmp.path().join("broken");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("db"), vec![0xAB; 4096]).unwrap();
    std::fs::write(dir.join("conf"), "not a sled config\n").unwrap();
    let run = cli(&dir, &["--json", "verify"]);
    assert!(run.code == 2 || run.code == 3, "a clean refusal, not a panic: {run:?}");
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn a_ledger_open_in_another_process_is_refused() {
    let f = Fixture::new();
    let before = sound_head(&f.dir);
    let held = open_ledger(&f.dir);
    for args in [
        &["--json", "progress", "sci-lab", "--text", "进展", "--on", "2024-05-01"][..],
        &["--json", "verify"],
        &["--json", "list"],
        &["--json", "init", "--title", "台账"],
    ] {
        let run = cli_once(&f.dir, args).code(3);
        assert!(run.stderr.contains("open in another process"), "`{}`: {}", run.args, run.stderr);
        assert!(run.stderr.contains(f.dir.to_str().unwrap()), "the message names the ledger: {}", run.stderr);
    }
    drop(held);
    assert_eq!(sound_head(&f.dir), before, "nothing was appended while it was held");
    // Once released, appends work again and continue the log.
    let seq = cli(&f.dir, &["--json", "progress", "sci-lab", "--text", "进展", "--on", "2024-05-01"]).ok().seq();
    assert_eq!(seq, before.0 + 1);
}
