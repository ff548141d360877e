//! Guards import documents (schema checks, all-or-nothing, re-import, revisions) and export bundles
//! (canonical lines, `verify --bundle` naming the bad line, the record schema).

use std::path::Path;
use std::process::{Command, Output};

/// A small reply: a source, four actors, two commitments and their figures.
const DOC: &str = include_str!("fixtures/reply-9001.toml");

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_commitments"))
}

fn run(ledger: &Path, args: &[&str]) -> Output {
    bin().arg("--ledger").arg(ledger).args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// A fresh initialized ledger in a temp dir.
fn ledger() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let o = run(&path, &["init", "--title", "test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, path)
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn head(ledger: &Path) -> (u64, String) {
    let v = json(&run(ledger, &["verify", "--json"]));
    assert_eq!(v["ok"], true, "{v}");
    (v["records"].as_u64().unwrap(), v["head"].as_str().unwrap().to_string())
}

/// Imports `text` and expects a refusal (exit 2) whose message contains every fragment; the ledger is
/// unchanged and still verifies.
fn refused(text: &str, fragments: &[&str]) {
    let (dir, path) = ledger();
    let before = head(&path);
    let doc = write(dir.path(), "doc.toml", text);
    let o = run(&path, &["import", doc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "stdout: {}", String::from_utf8_lossy(&o.stdout));
    let err = stderr(&o);
    for f in fragments {
        assert!(err.contains(f), "{f:?} missing from: {err}");
    }
    assert_eq!(head(&path), before, "a refused import wrote something");
}

#[test]
fn a_document_is_imported_whole_then_reimporting_it_is_a_no_op() {
    let (dir, path) = ledger();
    let doc = write(dir.path(), "doc.toml", DOC);
    let o = run(&path, &["--json", "import", doc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["unchanged"], false);
    assert_eq!(v["counts"]["commitments"], 2);
    assert_eq!(v["counts"]["figures"], 2);
    assert_eq!(v["counts"]["actors"], 4);
    assert_eq!(v["counts"]["sources"], 1);
    let appended = v["appended"].as_array().unwrap().len();
    assert_eq!(appended, 9);
    let before = head(&path);

    let again = run(&path, &["--json", "import", doc.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(json(&again)["unchanged"], true);
    assert_eq!(head(&path), before);
    let text = run(&path, &["import", doc.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("nothing to append"));

    let item = json(&run(&path, &["--json", "show", "c-bonds"]));
    assert_eq!(item["status"], "delivered");
    assert_eq!(item["on"], "2023");
    assert_eq!(item["source"], "reply-9001");
    assert_eq!(item["partners"][0], "mox");
    assert_eq!(item["text"], "截至2023年底，4家北京市属国企约23亿美元债券已在澳门挂牌上市。");
    assert_eq!(item["indicators"][1]["history"][0]["value"], "2300000000");
    assert_eq!(item["indicators"][1]["history"][0]["approximate"], true);
    let planned = json(&run(&path, &["--json", "show", "c-forum"]));
    assert_eq!(planned["status"], "planned");
    assert_eq!(planned["due"], "2025");
}

#[test]
fn json_documents_import_like_toml() {
    let (dir, path) = ledger();
    let value: toml::Value = toml::from_str(DOC).unwrap();
    let doc = write(dir.path(), "doc.json", &serde_json::to_string_pretty(&value).unwrap());
    let o = run(&path, &["--json", "import", doc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)["counts"]["commitments"], 2);
    // The TOML version of the same document is then already imported.
    let toml_doc = write(dir.path(), "doc.toml", DOC);
    assert_eq!(json(&run(&path, &["--json", "import", toml_doc.to_str().unwrap()]))["unchanged"], true);
}

#[test]
fn schema_violations_name_the_field_and_the_rule() {
    refused(&DOC.replace("kind = \"planned\"", "kind = \"someday\""), &["commitments[1] (c-forum).kind", "someday"]);
    refused(&DOC.replace("due = \"2025\"", "due = 2025"), &["commitments[1] (c-forum).due", "not of type \"string\""]);
    refused(&DOC.replace("id = \"c-forum\"", "id = \"C Forum\""), &["commitments[1]", ".id"]);
    refused(&DOC.replace("format = \"commitment-ledger import v1\"", "format = \"v0\""), &["format"]);
    refused(
        &DOC.replace(
            "title = \"推动两地金融机构洽谈对接\"\n",
            "title = \"推动两地金融机构洽谈对接\"\ncolour = \"red\"\n",
        ),
        &["commitments[1] (c-forum)", "colour"],
    );
    refused(&DOC.replace("value = \"4\"", "value = \"four\""), &["commitments[0] (c-bonds).figures[0].value"]);
    refused("format = \"commitment-ledger import v1\"\n[source\n", &["TOML syntax error", "line"]);
    refused("{\"format\": ", &["JSON syntax error"]);
}

#[test]
fn impossible_dates_unknown_references_and_repeated_ids_refuse_the_whole_document() {
    refused(&DOC.replace("due = \"2025\"", "due = \"2025-02-30\""), &["commitments[1] (c-forum).due", "no such day"]);
    refused(
        &DOC.replace(
            "area = \"finance\"\nlead = \"fin\"\nkind = \"planned\"",
            "area = \"space\"\nlead = \"fin\"\nkind = \"planned\"",
        ),
        &["commitments[1] (c-forum).area", "unknown area"],
    );
    refused(
        &DOC.replace("partners = [\"mox\"]", "partners = [\"nobody\"]"),
        &["commitments[0] (c-bonds).partners[0]", "unknown actor"],
    );
    refused(&DOC.replace("id = \"c-forum\"", "id = \"c-bonds\""), &["commitments[1] (c-bonds)", "earlier commitment"]);
    // A rule of the ledger (a deputy cannot lead) refuses the batch and names the entry.
    refused(
        &DOC.replace("lead = \"fin\"\nkind = \"planned\"", "lead = \"deputy\"\nkind = \"planned\""),
        &["commitments[1] (c-forum)", "cannot lead"],
    );
}

#[test]
fn a_changed_document_needs_a_reason_and_then_appends_amendments() {
    let (dir, path) = ledger();
    let doc = write(dir.path(), "doc.toml", DOC);
    assert!(run(&path, &["import", doc.to_str().unwrap()]).status.success());
    let before = head(&path);

    let changed = DOC.replace("due = \"2025\"", "due = \"2026\"").replace("value = \"4\"", "value = \"5\"");
    let changed_doc = write(dir.path(), "changed.toml", &changed);
    let o = run(&path, &["import", changed_doc.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[revision]"), "{}", stderr(&o));
    assert_eq!(head(&path), before);

    let revised = format!("{changed}\n[revision]\nreason = \"2024 figures and a new deadline\"\n");
    let revised_doc = write(dir.path(), "revised.toml", &revised);
    let o = run(&path, &["--json", "import", revised_doc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["counts"]["amendments"], 1);
    assert_eq!(v["counts"]["figures"], 1);
    let forum = json(&run(&path, &["--json", "show", "c-forum"]));
    assert_eq!(forum["due"], "2026");
    assert_eq!(forum["amendments"], 1);
    let history = json(&run(&path, &["--json", "history", "c-forum"]));
    assert_eq!(history[1]["event"]["reason"], "2024 figures and a new deadline");
    let bonds = json(&run(&path, &["--json", "show", "c-bonds"]));
    let values: Vec<_> =
        bonds["indicators"][0]["history"].as_array().unwrap().iter().map(|h| h["value"].clone()).collect();
    assert_eq!(values, vec!["4", "5"]);
    // The revised document is now what the ledger holds.
    assert_eq!(json(&run(&path, &["--json", "import", revised_doc.to_str().unwrap()]))["unchanged"], true);
}

#[test]
fn a_document_may_not_drop_an_item_or_change_what_cannot_be_amended() {
    let (dir, path) = ledger();
    let doc = write(dir.path(), "doc.toml", DOC);
    assert!(run(&path, &["import", doc.to_str().unwrap()]).status.success());
    let before = head(&path);
    let cut =
        DOC.split("[[commitments]]\nid = \"c-forum\"").next().unwrap().to_string() + "[revision]\nreason = \"x\"\n";
    let o = run(&path, &["import", write(dir.path(), "cut.toml", &cut).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("c-forum") && stderr(&o).contains("dropped"), "{}", stderr(&o));
    let kind = DOC.replace("kind = \"planned\"", "kind = \"ongoing\"") + "[revision]\nreason = \"x\"\n";
    let o = run(&path, &["import", write(dir.path(), "kind.toml", &kind).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("commitments[1] (c-forum).kind"), "{}", stderr(&o));
    assert_eq!(head(&path), before);
}

/// Exports a small ledger with every kind of update and returns (dir, ledger, bundle lines).
fn exported() -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
    let (dir, path) = ledger();
    let doc = write(dir.path(), "doc.toml", DOC);
    assert!(run(&path, &["import", doc.to_str().unwrap()]).status.success());
    for args in [
        &["progress", "c-forum", "--text", "首次对接会举办", "--on", "2024-06"][..],
        &["status", "c-forum", "in_progress", "--reason", "对接会已启动"],
        &["correct", "c-forum", "--entry", "1", "--text", "首次对接会于6月举办", "--reason", "日期表述不准确"],
        &["feedback", "reply-9001", "basically_satisfied", "--text", "希望加快进度"],
        &["category", "reply-9001", "b"],
    ] {
        let o = run(&path, args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    let bundle = dir.path().join("bundle.jsonl");
    let o = run(&path, &["export", "--out", bundle.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = std::fs::read_to_string(&bundle).unwrap().lines().map(str::to_string).collect();
    (dir, path, lines)
}

fn verify_lines(dir: &Path, lines: &[String], extra: &[&str]) -> (Option<i32>, serde_json::Value) {
    let file = write(dir, "tampered.jsonl", &(lines.join("\n") + "\n"));
    let mut args = vec!["--json", "verify", "--bundle", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = bin().args(&args).output().unwrap();
    (o.status.code(), json(&o))
}

#[test]
fn an_export_verifies_offline_and_matches_the_ledger() {
    let (dir, path, lines) = exported();
    let (records, head_hash) = head(&path);
    assert_eq!(lines.len() as u64, records);
    let (code, v) = verify_lines(dir.path(), &lines, &["--head", &head_hash]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["records"], records);
    assert_eq!(v["head"], head_hash.as_str());
    for (i, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["seq"], i as u64);
        assert!(v["bytes"].is_string());
    }
    // The export is stdout by default and identical to the file.
    let o = run(&path, &["export"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().collect::<Vec<_>>(), lines);
}

#[test]
fn a_changed_missing_or_reordered_line_is_named() {
    let (dir, _path, lines) = exported();
    // A changed field in the JSON view (bytes untouched).
    let mut changed = lines.clone();
    let at = lines.iter().position(|l| l.contains("市属国企赴澳门发行债券")).unwrap();
    changed[at] = changed[at].replace("市属国企", "市属民企");
    let (code, v) = verify_lines(dir.path(), &changed, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], at as u64 + 1, "{v}");
    assert!(v["problem"].as_str().unwrap().contains("`event.text` says \"截至2023年底，4家北京市属民企"), "{v}");
    // Changed stored bytes: the next record's link breaks.
    let mut rebytes = lines.clone();
    let mut rec: serde_json::Value = serde_json::from_str(&rebytes[5]).unwrap();
    let b = rec["bytes"].as_str().unwrap().to_string();
    // Change one base64 digit inside the stored bytes (in the prev-hash field).
    let mut chars: Vec<char> = b.chars().collect();
    chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    rec["bytes"] = serde_json::Value::String(flipped);
    rebytes[5] = rec.to_string();
    let (code, v) = verify_lines(dir.path(), &rebytes, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], 6, "{v}");
    // A missing line.
    let mut missing = lines.clone();
    missing.remove(10);
    let (code, v) = verify_lines(dir.path(), &missing, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], 11);
    assert_eq!(v["problem_kind"], "gap");
    // Two lines swapped.
    let mut swapped = lines.clone();
    swapped.swap(3, 4);
    let (code, v) = verify_lines(dir.path(), &swapped, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], 4);
    // The newest lines removed: only the expected head shows it.
    let (_, full) = verify_lines(dir.path(), &lines, &[]);
    let head_hash = full["head"].as_str().unwrap().to_string();
    let cut = &lines[..lines.len() - 2];
    assert_eq!(verify_lines(dir.path(), cut, &[]).0, Some(0));
    let (code, v) = verify_lines(dir.path(), cut, &["--head", &head_hash]);
    assert_eq!(code, Some(1));
    assert!(v["problem"].as_str().unwrap().contains("expected head"), "{v}");
    // A reformatted line is refused even when its fields are faithful: a line must be exactly the
    // canonical rendering of its bytes, so that what a reader's eye sees is what was verified.
    let mut reformatted = lines.clone();
    let v: serde_json::Value = serde_json::from_str(&reformatted[2]).unwrap();
    reformatted[2] = serde_json::to_string(&v).unwrap().replace(",\"", ", \"");
    let (code, v) = verify_lines(dir.path(), &reformatted, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], 3);
    assert!(v["problem"].as_str().unwrap().contains("canonical"), "{v}");
    // Not a record at all.
    let mut garbage = lines.clone();
    garbage[1] = "hello".into();
    let (code, v) = verify_lines(dir.path(), &garbage, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["first_bad_line"], 2);
}

#[test]
fn exports_and_examples_match_their_schemas() {
    let (_dir, _path, lines) = exported();
    let record_schema: serde_json::Value = serde_json::from_str(include_str!("../schema/record.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&record_schema).unwrap();
    let mut types = std::collections::BTreeSet::new();
    for line in &lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{line}\n{errors:?}");
        types.insert(v["type"].as_str().unwrap().to_string());
    }
    assert!(types.len() >= 10, "{types:?}");
    let import_schema: serde_json::Value = serde_json::from_str(include_str!("../schema/import.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&import_schema).unwrap();
    let mut examples = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/schema/examples")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => serde_json::to_value(toml::from_str::<toml::Value>(&text).unwrap()).unwrap(),
            Some("json") => serde_json::from_str(&text).unwrap(),
            _ => continue,
        };
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        examples += 1;
    }
    assert!(examples >= 1);
}
