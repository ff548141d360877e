//! Printing: tables for people, one JSON document for scripts.

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use commitment_ledger::date::Day;
use commitment_ledger::ledger::Appended;
use commitment_ledger::state::{ItemState, Registry};
use commitment_ledger::store::HeadMark;
use commitment_ledger::summary::Summary;
use commitment_ledger::view::{ItemView, RecordJson, describe};
use commitment_ledger::vocab::Vocabulary;
use commitment_ledger::{Hash, Record, Report};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    t
}

fn print_json(v: &impl serde::Serialize) {
    println!("{}", serde_json::to_string_pretty(v).expect("views always serialize"));
}

fn pick<'a>(english: bool, original: &'a str, en: Option<&'a str>) -> &'a str {
    if english { en.unwrap_or(original) } else { original }
}

/// The ledger's vocabulary (the default one before record 0).
pub fn vocab(registry: &Registry) -> Vocabulary {
    registry.info().map(|i| i.vocabulary.clone()).unwrap_or_else(Vocabulary::default_v1)
}

fn short(h: &Hash) -> String {
    h.to_hex()[..16].to_string()
}

/// A progress bar on standard error (hidden when it is not a terminal); without a known total, a
/// counter with its rate.
pub fn progress_bar(len: Option<u64>, what: &str) -> ProgressBar {
    let (bar, template) = match len {
        Some(len) => (ProgressBar::new(len), "{msg} {bar:40} {pos}/{len} records ({per_sec}, {eta} left)"),
        None => (ProgressBar::new_spinner(), "{msg} {spinner} {pos} records ({per_sec})"),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("the templates are valid"));
    bar.set_message(what.to_string());
    bar
}

pub fn appended(json: bool, appended: &[Appended], offset: i32) {
    if json {
        let out: Vec<_> = appended
            .iter()
            .map(|a| json!({"seq": a.seq.0, "hash": a.hash.to_hex(), "time": a.time.format(offset)}))
            .collect();
        print_json(&json!({"appended": out}));
        return;
    }
    for a in appended {
        println!("appended record {} at {} (hash {})", a.seq, a.time.format(offset), short(&a.hash));
    }
}

pub fn actors(json: bool, english: bool, registry: &Registry) {
    if json {
        let out: Vec<_> = registry
            .actors
            .values()
            .map(|a| json!({"id": a.id, "name": a.name, "name_en": a.name_en, "role": a.role}))
            .collect();
        print_json(&out);
        return;
    }
    let mut t = table(&["id", "name", "role"]);
    for a in registry.actors.values() {
        t.add_row(vec![
            a.id.to_string(),
            pick(english, &a.name, a.name_en.as_deref()).to_string(),
            a.role.as_str().into(),
        ]);
    }
    println!("{t}");
}

pub fn areas(json: bool, english: bool, registry: &Registry) {
    if json {
        let out: Vec<_> = registry.areas.values().map(|a| &a.area).collect();
        print_json(&out);
        return;
    }
    let mut t = table(&["id", "name"]);
    for a in registry.areas.values() {
        t.add_row(vec![a.area.id.to_string(), pick(english, &a.area.name, a.area.name_en.as_deref()).to_string()]);
    }
    println!("{t}");
}

pub fn sources(json: bool, english: bool, registry: &Registry) {
    if json {
        let out: Vec<_> = registry
            .sources
            .values()
            .map(|s| {
                json!({
                    "source": s.source,
                    "items": s.items,
                    "category": s.category.as_ref().map(|(c, _)| c),
                    "feedback": s.feedback.iter().map(|(f, _)| f).collect::<Vec<_>>(),
                })
            })
            .collect();
        print_json(&out);
        return;
    }
    let mut t = table(&["id", "kind", "number", "date", "title", "items", "category", "verdict"]);
    for s in registry.sources.values() {
        t.add_row(vec![
            s.source.id.to_string(),
            s.source.kind.as_str().into(),
            s.source.number.clone().unwrap_or_default(),
            s.source.date.to_string(),
            pick(english, &s.source.title, s.source.title_en.as_deref()).to_string(),
            s.items.to_string(),
            s.category.as_ref().map(|(c, _)| c.category.to_string()).unwrap_or_default(),
            s.feedback.last().map(|(f, _)| f.verdict.to_string()).unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

fn actor_name(registry: &Registry, english: bool, id: &commitment_ledger::ActorId) -> String {
    registry.actors.get(id).map_or_else(|| id.to_string(), |a| pick(english, &a.name, a.name_en.as_deref()).to_string())
}

pub fn item(json: bool, english: bool, registry: &Registry, item: &ItemState, today: Day) {
    let vocab = vocab(registry);
    let view = ItemView::new(item, registry, &vocab, today);
    if json {
        print_json(&view);
        return;
    }
    let status_label = if english { view.status_label.clone() } else { view.status_label_zh.clone() };
    let mut t = table(&["field", "value"]);
    let mut row = |k: &str, v: String| {
        if !v.is_empty() {
            t.add_row(vec![k.to_string(), v]);
        }
    };
    row("id", view.id.to_string());
    row("title", view.title.clone());
    row("title (en)", view.title_en.clone().unwrap_or_default());
    row("text", view.text.clone());
    row("source", view.source.as_ref().map(|s| s.to_string()).unwrap_or_default());
    row("section", view.section.clone().unwrap_or_default());
    row("area", view.area.to_string());
    row("lead", actor_name(registry, english, &view.lead));
    row("partners", view.partners.iter().map(|p| actor_name(registry, english, p)).collect::<Vec<_>>().join(", "));
    row("kind", view.kind.to_string());
    row(
        "status",
        format!(
            "{}{}{}",
            view.status,
            status_label.map(|l| format!(" ({l})")).unwrap_or_default(),
            view.status_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ),
    );
    row(
        "category / completion",
        format!(
            "{} / {}",
            view.category.as_ref().map(|c| c.to_string()).unwrap_or_default(),
            view.completion.as_ref().map(|c| c.to_string()).unwrap_or_default()
        ),
    );
    row("on", view.on.map(|d| d.to_string()).unwrap_or_default());
    row(
        "due",
        view.due
            .map(|d| format!("{d}{}", if view.overdue { format!(" (OVERDUE on {today})") } else { String::new() }))
            .unwrap_or_default(),
    );
    if let Some(p) = &view.latest_progress {
        row("latest progress", format!("{} ({}, by {}, entry {})", p.text, p.on, p.actor, p.entry));
    }
    row("progress reports", view.progress_reports.to_string());
    for ind in &view.indicators {
        let values: Vec<String> = ind
            .history
            .iter()
            .map(|h| {
                format!(
                    "{}{}{}",
                    if h.approximate { "≈" } else { "" },
                    h.value,
                    h.as_of.map(|d| format!(" ({d})")).unwrap_or_default()
                )
            })
            .collect();
        row(
            &format!("figure: {}", ind.name),
            format!("{} {}", values.join(" → "), ind.unit.clone().unwrap_or_default()),
        );
    }
    for c in &view.corrections {
        row(
            &format!("correction of entry {}", c.entry),
            format!(
                "{}{}: {}",
                c.text.clone().unwrap_or_default(),
                c.value.as_deref().map(|v| format!(" value {v}")).unwrap_or_default(),
                c.reason
            ),
        );
    }
    row("amendments / reassignments", format!("{} / {}", view.amendments, view.reassignments));
    row("recorded", view.created.clone());
    row("updated", format!("{} (record {})", view.updated, view.last_seq.unwrap_or(0)));
    println!("{t}");
}

pub fn items(json: bool, english: bool, registry: &Registry, items: &[ItemState], today: Day) {
    let vocab = vocab(registry);
    if json {
        let views: Vec<_> = items.iter().map(|i| ItemView::new(i, registry, &vocab, today)).collect();
        print_json(&json!({"day": today.to_string(), "items": views}));
        return;
    }
    let mut t = table(&["id", "area", "lead", "status", "due", "title", "latest progress"]);
    for i in items {
        let overdue = commitment_ledger::summary::is_overdue(i, &vocab, today);
        t.add_row(vec![
            i.id.to_string(),
            i.core.area.to_string(),
            i.core.lead.to_string(),
            i.core.status.to_string(),
            format!("{}{}", i.due.map(|d| d.to_string()).unwrap_or_default(), if overdue { " ⚠ overdue" } else { "" }),
            pick(english, &i.title, i.title_en.as_deref()).to_string(),
            i.latest_progress.as_ref().map(|p| format!("{}: {}", p.on, p.text)).unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{} items (as of {today})", items.len());
}

pub fn summary(json: bool, english: bool, registry: &Registry, s: &Summary) {
    if json {
        print_json(s);
        return;
    }
    let vocab = vocab(registry);
    let codes: Vec<_> = vocab.statuses.iter().map(|s| s.term.code.clone()).collect();
    let count =
        |m: &std::collections::BTreeMap<commitment_ledger::Code, u64>, c| m.get(c).copied().unwrap_or(0).to_string();
    let mut header = vec!["area", "items"];
    header.extend(codes.iter().map(|c| c.as_str()));
    header.push("overdue");
    let mut t = table(&header);
    for a in s.areas.iter().filter(|a| a.items > 0) {
        let mut row = vec![pick(english, &a.name, a.name_en.as_deref()).to_string(), a.items.to_string()];
        row.extend(codes.iter().map(|c| count(&a.by_status, c)));
        row.push(a.overdue.to_string());
        t.add_row(row);
    }
    println!("By area (as of {}):\n{t}", s.day);
    let mut header = vec!["department", "led", "helps"];
    header.extend(codes.iter().map(|c| c.as_str()));
    header.extend(["overdue", "last update", "days since"]);
    let mut t = table(&header);
    for d in &s.departments {
        let mut row =
            vec![pick(english, &d.name, d.name_en.as_deref()).to_string(), d.led.to_string(), d.partnered.to_string()];
        row.extend(codes.iter().map(|c| count(&d.by_status, c)));
        row.push(d.overdue.to_string());
        row.push(d.last_update.clone().unwrap_or_default());
        row.push(d.days_since_update.map(|n| n.to_string()).unwrap_or_default());
        t.add_row(row);
    }
    println!("By department:\n{t}");
    if !s.sources.is_empty() {
        let mut t = table(&["source", "items", "A", "B", "C", "D", "category", "verdict", "overdue"]);
        for src in &s.sources {
            let cat =
                |c: &str| src.by_category.iter().find(|(k, _)| k.as_str() == c).map_or(0, |(_, n)| *n).to_string();
            t.add_row(vec![
                src.source.as_ref().map(|s| s.to_string()).unwrap_or_default(),
                src.items.to_string(),
                cat("a"),
                cat("b"),
                cat("c"),
                cat("d"),
                src.category.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                src.verdict.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                src.overdue.to_string(),
            ]);
        }
        println!("By source:\n{t}");
    }
    println!("{} items, {} overdue", s.items, s.overdue);
}

pub fn records(json: bool, offset: i32, records: &[(Record, Hash)], numbered: bool) {
    if json {
        let out: Vec<_> = records.iter().map(|(r, h)| RecordJson::new(r, *h, offset, None)).collect();
        print_json(&out);
        return;
    }
    let mut t = table(&[if numbered { "entry" } else { "seq" }, "seq", "time", "actor", "what", "hash"]);
    for (r, h) in records {
        let first = if numbered { r.stream_version.to_string() } else { r.stream.to_text() };
        t.add_row(vec![
            first,
            r.seq.to_string(),
            r.time.format(offset),
            r.actor.to_string(),
            describe(&r.event),
            short(h),
        ]);
    }
    if !numbered {
        t.set_header(vec!["stream", "seq", "time", "actor", "what", "hash"]);
    }
    println!("{t}");
}

pub fn report(json: bool, r: &Report) {
    if json {
        print_json(r);
        return;
    }
    if r.ok {
        println!(
            "OK: {} records verified; head {} at record {}",
            r.records,
            r.head.as_deref().unwrap_or("(empty)"),
            r.head_seq.map_or("-".into(), |s| s.to_string())
        );
        if r.unacknowledged > 0 {
            println!(
                "note: {} records after the last acknowledged head (an append that did not finish)",
                r.unacknowledged
            );
        }
    } else {
        println!(
            "UNSOUND: {}record {} — {}\n{} records before it verified",
            r.first_bad_line.map(|l| format!("line {l}, ")).unwrap_or_default(),
            r.first_bad_seq.unwrap_or(0),
            r.problem.as_deref().unwrap_or("unknown problem"),
            r.records
        );
    }
}

pub fn projection_check(json: bool, head: Option<u64>, differences: &[String]) {
    if json {
        print_json(&json!({"ok": differences.is_empty(), "head_seq": head, "differences": differences}));
        return;
    }
    if differences.is_empty() {
        println!(
            "OK: replaying the log through record {} gives exactly the stored projection",
            head.map_or("-".into(), |s| s.to_string())
        );
    } else {
        println!("MISMATCH: the stored projection differs from the replay of the log:");
        for d in differences {
            println!("- {d}");
        }
        println!("(rebuild it with `commitments replay --rebuild`)");
    }
}

pub fn rebuilt(json: bool, head: Option<u64>) {
    if json {
        print_json(&json!({"rebuilt": true, "head_seq": head}));
    } else {
        println!("projection rebuilt from the log through record {}", head.map_or("-".into(), |s| s.to_string()));
    }
}

pub fn replayed(
    json: bool,
    english: bool,
    registry: &Registry,
    mark: Option<HeadMark>,
    list: &[ItemState],
    today: Day,
) {
    if json {
        let vocab = vocab(registry);
        let views: Vec<_> = list.iter().map(|i| ItemView::new(i, registry, &vocab, today)).collect();
        print_json(&json!({
            "seq": mark.map(|m| m.seq.0),
            "hash": mark.map(|m| m.hash.to_hex()),
            "day": today.to_string(),
            "items": views,
        }));
        return;
    }
    match mark {
        Some(m) => println!("State as of record {} (hash {}):", m.seq, short(&m.hash)),
        None => println!("State before the first record:"),
    }
    items(false, english, registry, list, today);
}

pub fn imported(json: bool, source: &str, outcome: &commitment_ledger::import::Outcome, offset: i32) {
    use commitment_ledger::import::Outcome;
    match outcome {
        Outcome::Unchanged => {
            if json {
                print_json(&json!({"source": source, "unchanged": true, "appended": []}));
            } else {
                println!("{source} is already imported exactly as in this document: nothing to append");
            }
        }
        Outcome::Appended { records, counts } => {
            if json {
                let out: Vec<_> = records
                    .iter()
                    .map(|a| json!({"seq": a.seq.0, "hash": a.hash.to_hex(), "time": a.time.format(offset)}))
                    .collect();
                print_json(&json!({"source": source, "unchanged": false, "counts": counts, "appended": out}));
            } else {
                let what: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let (first, last) = (records.first().map_or(0, |a| a.seq.0), records.last().map_or(0, |a| a.seq.0));
                println!("imported {source}: {} (records {first}–{last}, one durable write)", what.join(", "));
            }
        }
    }
}

pub fn demo(
    json: bool,
    english: bool,
    dir: &std::path::Path,
    run: &commitment_ledger::demo::DemoRun,
    registry: &Registry,
    s: &Summary,
    history: &[(Record, Hash)],
) {
    let offset = registry.utc_offset();
    if json {
        let updates: Vec<_> = run
            .updates
            .iter()
            .map(|(time, actor, what, a)| json!({"time": time, "actor": actor, "what": what, "seq": a.seq.0, "hash": a.hash.to_hex()}))
            .collect();
        print_json(&json!({
            "ledger": dir,
            "opened": run.opened,
            "imported": run.imported.iter().map(|(k, n)| (k.to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "updates": updates,
            "verify": run.report,
            "projection_matches_replay": run.projection_differences.is_empty(),
            "summary": s,
        }));
        return;
    }
    println!(
        "1. Opened the ledger: {} records (record 0 with the vocabularies, and the twelve cooperation areas).",
        run.opened
    );
    let what: Vec<String> = run.imported.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "2. Imported reply No. 0771 (embedded schema/examples/reply-0771.toml) in one durable write: {}.",
        what.join(", ")
    );
    println!("3. A simulated year of updates (invented for the demo, stamped by a simulated clock):");
    let mut t = table(&["accepted", "actor", "what", "record"]);
    for (time, actor, what, a) in &run.updates {
        t.add_row(vec![time[..10].to_string(), actor.to_string(), what.clone(), a.seq.to_string()]);
    }
    println!("{t}");
    print!("4. Verified: ");
    report(false, &run.report);
    if run.projection_differences.is_empty() {
        println!("   Replaying the log from record 0 gives exactly the stored projection.");
    } else {
        println!("   The stored projection differs from a replay: {:?}", run.projection_differences);
    }
    println!("\n5. Summaries:");
    summary(false, english, registry, s);
    println!("\n6. History of item {}:", commitment_ledger::demo::SHOWCASE_ITEM);
    records(false, offset, history, true);
    let d = dir.display();
    println!(
        "\nTry next:
  commitments --ledger {d} list --area finance
  commitments --ledger {d} show 0771-s2-bonds-listed
  commitments --ledger {d} history 0771-s3-beyond-expo
  commitments --ledger {d} list --as-of 2024-10-31        # the state as it was then
  commitments --ledger {d} summary --english
  commitments --ledger {d} progress 0771-s3-joint-rd --text \"...\" --actor bj-stc-zgc
  commitments --ledger {d} verify
  commitments --ledger {d} export --out reply-0771.jsonl && commitments verify --bundle reply-0771.jsonl"
    );
}
