//! What each result looks like: as one JSON document, and as a page of lines and tables for people.
//! Every function takes the one output choice ([`Output`]) and leaves the writing to it.

use crate::ops::{Demo, Imported, Read, Records, Recovered, Replayed, Sources, Verified, Written};
use crate::output::{Output, Page, Table};
use commitment_ledger::export::RecordJson;
use commitment_ledger::import::Outcome;
use commitment_ledger::summary::Summary;
use commitment_ledger::view::ItemView;
use commitment_ledger::{ActorId, AtCheck, Code, Hash, Head, ItemState, Registry, Report, TailDecision};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

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

fn heads_json(heads: &[Head], offset: i32) -> Vec<serde_json::Value> {
    heads.iter().map(|a| json!({"seq": a.seq.0, "hash": a.hash.to_hex(), "time": a.time.format(offset)})).collect()
}

/// Records just appended.
pub fn written(out: &Output, w: &Written) {
    out.print(
        || json!({"appended": heads_json(&w.heads, w.utc_offset)}),
        |page| {
            for a in &w.heads {
                page.line(format!(
                    "appended record {} at {} (hash {})",
                    a.seq,
                    a.time.format(w.utc_offset),
                    short(&a.hash)
                ));
            }
        },
    );
}

/// A new ledger: its first records, and where it is.
pub fn created(out: &Output, w: &Written, dir: &Path) {
    written(out, w);
    out.note(|page| page.line(format!("ledger created at {}", dir.display())));
}

pub fn actors(out: &Output, registry: &Registry) {
    out.print(
        || {
            registry
                .actors
                .values()
                .map(|a| json!({"id": a.id, "name": a.name, "name_en": a.name_en, "role": a.role}))
                .collect::<Vec<_>>()
        },
        |page| {
            let mut t = Table::new(["id", "name", "role"]);
            for a in registry.actors.values() {
                t.row(vec![
                    a.id.to_string(),
                    out.pick(&a.name, a.name_en.as_deref()).to_string(),
                    a.role.as_str().into(),
                ]);
            }
            page.table(t);
        },
    );
}

pub fn areas(out: &Output, registry: &Registry) {
    out.print(
        || registry.areas.values().map(|a| &a.area).collect::<Vec<_>>(),
        |page| {
            let mut t = Table::new(["id", "name"]);
            for a in registry.areas.values() {
                t.row(vec![a.area.id.to_string(), out.pick(&a.area.name, a.area.name_en.as_deref()).to_string()]);
            }
            page.table(t);
        },
    );
}

/// Sources, with their category and feedback (`source list`).
pub fn sources(out: &Output, sources: &Sources) {
    let registry = &sources.registry;
    out.print(
        || {
            registry
                .sources
                .values()
                .map(|s| {
                    json!({
                        "source": s.source,
                        "items": s.items,
                        "category": s.category.as_ref().map(|(c, _)| c),
                        "feedback": sources.feedback.get(&s.source.id).map_or(&[][..], Vec::as_slice),
                    })
                })
                .collect::<Vec<_>>()
        },
        |page| {
            let mut t = Table::new(["id", "kind", "number", "date", "title", "items", "category", "verdict"]);
            for s in registry.sources.values() {
                t.row(vec![
                    s.source.id.to_string(),
                    s.source.kind.as_str().into(),
                    s.source.number.clone().unwrap_or_default(),
                    s.source.date.to_string(),
                    out.pick(&s.source.title, s.source.title_en.as_deref()).to_string(),
                    s.items.to_string(),
                    s.category.as_ref().map(|(c, _)| c.category.to_string()).unwrap_or_default(),
                    s.feedback.last().map(|f| f.verdict.to_string()).unwrap_or_default(),
                ]);
            }
            page.table(t);
        },
    );
}

fn actor_name(out: &Output, registry: &Registry, id: &ActorId) -> String {
    registry.actors.get(id).map_or_else(|| id.to_string(), |a| out.pick(&a.name, a.name_en.as_deref()).to_string())
}

/// One item (`show`).
pub fn item(out: &Output, read: &Read<ItemState>) {
    let (registry, today) = (&read.registry, read.day);
    let view = ItemView::new(&read.value, registry, &read.vocab, today);
    out.print(
        || &view,
        |page| {
            let status_label = out.choose(view.status_label_zh.clone(), view.status_label.clone());
            let mut t = Table::new(["field", "value"]);
            let mut row = |k: &str, v: String| {
                if !v.is_empty() {
                    t.row(vec![k.to_string(), v]);
                }
            };
            row("id", view.id.to_string());
            row("title", view.title.clone());
            row("title (en)", view.title_en.clone().unwrap_or_default());
            row("text", view.text.clone());
            row("source", view.source.as_ref().map(|s| s.to_string()).unwrap_or_default());
            row("section", view.section.clone().unwrap_or_default());
            row("area", view.area.to_string());
            row("lead", actor_name(out, registry, &view.lead));
            row("partners", view.partners.iter().map(|p| actor_name(out, registry, p)).collect::<Vec<_>>().join(", "));
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
                    .map(|d| {
                        format!("{d}{}", if view.overdue { format!(" (OVERDUE on {today})") } else { String::new() })
                    })
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
            page.table(t);
        },
    );
}

fn item_views(read: &Read<Vec<ItemState>>) -> Vec<ItemView> {
    read.value.iter().map(|i| ItemView::new(i, &read.registry, &read.vocab, read.day)).collect()
}

/// The items table and its count line.
fn items_page(out: &Output, read: &Read<Vec<ItemState>>, page: &mut Page) {
    let today = read.day;
    let mut t = Table::new(["id", "area", "lead", "status", "due", "title", "latest progress"]);
    for i in &read.value {
        let overdue = commitment_ledger::summary::is_overdue(i, &read.vocab, today);
        t.row(vec![
            i.id.to_string(),
            i.core.area.to_string(),
            i.core.lead.to_string(),
            i.core.status.to_string(),
            format!("{}{}", i.due.map(|d| d.to_string()).unwrap_or_default(), if overdue { " ⚠ overdue" } else { "" }),
            out.pick(&i.title, i.title_en.as_deref()).to_string(),
            i.latest_progress.as_ref().map(|p| format!("{}: {}", p.on, p.text)).unwrap_or_default(),
        ]);
    }
    page.table(t);
    page.line(format!("{} items (as of {today})", read.value.len()));
}

/// Items (`list`).
pub fn items(out: &Output, read: &Read<Vec<ItemState>>) {
    out.print(|| json!({"day": read.day.to_string(), "items": item_views(read)}), |page| items_page(out, read, page));
}

fn summary_page(out: &Output, read: &Read<Summary>, page: &mut Page) {
    let s = &read.value;
    let codes: Vec<_> = read.vocab.statuses.iter().map(|s| s.term.code.clone()).collect();
    let count = |m: &BTreeMap<Code, u64>, c| m.get(c).copied().unwrap_or(0).to_string();
    let mut header = vec!["area", "items"];
    header.extend(codes.iter().map(|c| c.as_str()));
    header.push("overdue");
    let mut t = Table::new(header);
    for a in s.areas.iter().filter(|a| a.items > 0) {
        let mut row = vec![out.pick(&a.name, a.name_en.as_deref()).to_string(), a.items.to_string()];
        row.extend(codes.iter().map(|c| count(&a.by_status, c)));
        row.push(a.overdue.to_string());
        t.row(row);
    }
    page.line(format!("By area (as of {}):", s.day));
    page.table(t);
    let mut header = vec!["department", "led", "helps"];
    header.extend(codes.iter().map(|c| c.as_str()));
    header.extend(["overdue", "last update", "days since"]);
    let mut t = Table::new(header);
    for d in &s.departments {
        let mut row =
            vec![out.pick(&d.name, d.name_en.as_deref()).to_string(), d.led.to_string(), d.partnered.to_string()];
        row.extend(codes.iter().map(|c| count(&d.by_status, c)));
        row.push(d.overdue.to_string());
        row.push(d.last_update.clone().unwrap_or_default());
        row.push(d.days_since_update.map(|n| n.to_string()).unwrap_or_default());
        t.row(row);
    }
    page.line("By department:");
    page.table(t);
    if !s.sources.is_empty() {
        let mut t = Table::new(["source", "items", "A", "B", "C", "D", "category", "verdict", "overdue"]);
        for src in &s.sources {
            let cat =
                |c: &str| src.by_category.iter().find(|(k, _)| k.as_str() == c).map_or(0, |(_, n)| *n).to_string();
            t.row(vec![
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
        page.line("By source:");
        page.table(t);
    }
    page.line(format!("{} items, {} overdue", s.items, s.overdue));
}

/// Summaries by area, department and source (`summary`).
pub fn summary(out: &Output, read: &Read<Summary>) {
    out.print(|| &read.value, |page| summary_page(out, read, page));
}

/// Records as a table: numbered by entry (an item's history) or by stream (the log).
fn records_page(r: &Records, numbered: bool, page: &mut Page) {
    let first = if numbered { "entry" } else { "stream" };
    let mut t = Table::new([first, "seq", "time", "actor", "what", "hash"]);
    for (rec, h) in &r.records {
        t.row(vec![
            if numbered { rec.stream_version.to_string() } else { rec.stream.to_text() },
            rec.seq.to_string(),
            rec.time.format(r.utc_offset),
            rec.actor.to_string(),
            rec.event.describe(),
            short(h),
        ]);
    }
    page.table(t);
}

fn records_json(r: &Records) -> Vec<RecordJson<'_>> {
    r.records.iter().map(|(rec, h)| RecordJson::new(rec, *h, r.utc_offset, None)).collect()
}

/// An item's records, with their entry numbers (`history`).
pub fn history(out: &Output, r: &Records) {
    out.print(|| records_json(r), |page| records_page(r, true, page));
}

/// Records of the log (`log`).
pub fn log(out: &Output, r: &Records) {
    out.print(|| records_json(r), |page| records_page(r, false, page));
}

/// The verdict of `verify`, as lines.
fn report_lines(r: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    if r.ok {
        lines.push(format!(
            "OK: {} records verified; head {} at record {}",
            r.records,
            r.head.as_deref().unwrap_or("(empty)"),
            r.head_seq.map_or("-".into(), |s| s.to_string())
        ));
        if r.unacknowledged > 0 {
            lines.push(format!(
                "note: {} records after the last acknowledged head (an append that did not finish)",
                r.unacknowledged
            ));
        }
    } else if let Some(seq) = r.first_bad_seq {
        lines.push(format!(
            "UNSOUND: {}record {} — {}\n{} records before it verified",
            r.first_bad_line.map(|l| format!("line {l}, ")).unwrap_or_default(),
            seq,
            r.problem.as_deref().unwrap_or("unknown problem"),
            r.records
        ));
    } else {
        // Not a record's fault (the acknowledged head, derived data): every record verified.
        lines.push(format!(
            "UNSOUND: {}\nevery record verified ({} records; head {} at record {})",
            r.problem.as_deref().unwrap_or("unknown problem"),
            r.records,
            r.head.as_deref().unwrap_or("(empty)"),
            r.head_seq.map_or("-".into(), |s| s.to_string())
        ));
    }
    if let Some(n) = r.resumed_from {
        lines.push(format!(
            "resumed: records 0 to {} were verified by an earlier run and not read again",
            n.saturating_sub(1)
        ));
    }
    if r.signed > 0 {
        lines
            .push(format!("signatures: {} records signed by their actors' registered keys, every one valid", r.signed));
    }
    if r.unsigned > 0 {
        lines.push(format!(
            "unsigned: {} records carry no signature (written by version 1, or by actors without a key); \
             nothing proves who wrote them",
            r.unsigned
        ));
    }
    for c in &r.checkpoints {
        let witnessed =
            if c.witnesses.is_empty() { String::new() } else { format!(", cosigned by {}", c.witnesses.join(", ")) };
        let policy = if c.meets_policy { "" } else { "; does NOT meet the witness policy" };
        let found = match (c.consistent, r.resumed_from) {
            (None, _) => "not compared: a record before the log's end is bad",
            (Some(false), _) => "NOT consistent",
            (Some(true), Some(n)) if c.size <= n => {
                "consistent: the log verified earlier extends it (by a consistency proof; its records were not read again)"
            }
            (Some(true), _) => "consistent: every record it covers is here, unchanged",
        };
        lines.push(format!("checkpoint {}: {} records — {found}{witnessed}{policy}", c.checkpoint, c.size));
    }
    lines
}

/// One kept point (`--at`) as JSON: as given, the form given, what was found there and whether it is
/// on the chain.
fn at_json(c: &AtCheck) -> serde_json::Value {
    json!({
        "seq": c.point.seq.0,
        "hash": c.point.hash.to_string(),
        "form": c.form().name(),
        "found": c.found.map(|h| h.to_hex()),
        "ok": c.ok(),
    })
}

/// One kept point (`--at`), for people. `verified` is how many records the walk vouched for.
fn at_line(c: &AtCheck, sound: bool, verified: u64) -> String {
    let at = format!("--at {}", c.point);
    match c.found {
        _ if c.ok() => format!(
            "{at}: on the chain (record {} hashes to {}; matched {})",
            c.point.seq,
            c.found.map(|h| h.to_hex()).unwrap_or_default(),
            c.form().describe()
        ),
        Some(found) => {
            format!("{at}: NOT on the chain: record {} hashes to {found} ({} given)", c.point.seq, c.form().describe())
        }
        None if sound => format!("{at}: NOT on the chain: the log ends before record {}", c.point.seq),
        None => format!("{at}: not checked: only records 0 to {} verified", verified.saturating_sub(1)),
    }
}

/// The verdict of `verify` (on the ledger or a bundle), with the kept points it checked (`--at`).
pub fn verified(out: &Output, v: &Verified) {
    let r = &v.report;
    out.print(
        || {
            let mut doc = serde_json::to_value(r).expect("reports serialize");
            doc["at"] = v.at.iter().map(at_json).collect();
            doc
        },
        |page| {
            // A chain that verified but does not hold a kept point: the report's counts are the chain's.
            let off_chain = r.problem_kind.is_some_and(|k| k.starts_with("at_"));
            if off_chain {
                page.line(format!(
                    "UNSOUND: record {} — {}",
                    r.first_bad_seq.unwrap_or(0),
                    r.problem.as_deref().unwrap_or("a kept record is not on the chain")
                ));
                page.line(format!(
                    "the chain itself verified: {} records; head {} at record {}",
                    r.records,
                    r.head.as_deref().unwrap_or("(empty)"),
                    r.head_seq.map_or("-".into(), |s| s.to_string())
                ));
            } else {
                for line in report_lines(r) {
                    page.line(line);
                }
            }
            let chain_sound = r.ok || off_chain;
            for c in &v.at {
                page.line(at_line(c, chain_sound, r.records));
            }
        },
    );
}

/// `recover`: which records were kept or removed, and the head now.
pub fn recovered(out: &Output, r: &Recovered) {
    let (decision, done) = match r.decision {
        TailDecision::Accept => ("accept", "kept"),
        TailDecision::Discard => ("discard", "removed"),
    };
    let head = || r.head.map(|h| json!({"seq": h.seq.0, "hash": h.hash.to_hex()}));
    out.print(
        || {
            json!({
                "decision": decision,
                "nothing_to_recover": r.records.is_empty(),
                done: r.records.iter().map(|(rec, h)| json!({
                    "seq": rec.seq.0,
                    "hash": h.to_hex(),
                    "time": rec.time.format(r.utc_offset),
                    "actor": rec.actor,
                    "what": rec.event.describe(),
                })).collect::<Vec<_>>(),
                "head": head(),
            })
        },
        |page| {
            let (Some((first, _)), Some((last, _))) = (r.records.first(), r.records.last()) else {
                page.line("nothing to recover: every record in the log is acknowledged");
                return;
            };
            let range = if first.seq == last.seq {
                format!("record {}", first.seq)
            } else {
                format!("records {} to {}", first.seq, last.seq)
            };
            page.line(match r.decision {
                TailDecision::Accept => format!("{done} and acknowledged {range}, which an interrupted append wrote:"),
                TailDecision::Discard => format!("{done} {range}, which an interrupted append wrote:"),
            });
            let mut t = Table::new(["seq", "time", "actor", "what", "hash"]);
            for (rec, h) in &r.records {
                t.row(vec![
                    rec.seq.to_string(),
                    rec.time.format(r.utc_offset),
                    rec.actor.to_string(),
                    rec.event.describe(),
                    short(h),
                ]);
            }
            page.table(t);
            page.line(match r.head {
                Some(h) => format!("the log now ends at record {} (hash {}); appends work again", h.seq, h.hash),
                None => "the log is now empty (run `commitments init`)".to_string(),
            });
        },
    );
}

/// `restore`: the records restored and the new ledger's head.
pub fn restored(out: &Output, r: &Report, dir: &Path) {
    out.print(
        || json!({"ledger": dir, "restored": r.records, "head": {"seq": r.head_seq, "hash": r.head}}),
        |page| {
            page.line(format!(
                "restored {} records into {}; head: record {}, hash {}",
                r.records,
                dir.display(),
                r.head_seq.map_or("-".into(), |s| s.to_string()),
                r.head.as_deref().unwrap_or("(none)")
            ));
        },
    );
}

/// `replay`: whether the stored projection is exactly the replay of the log.
pub fn projection_check(out: &Output, head: Option<u64>, differences: &[String]) {
    out.print(
        || json!({"ok": differences.is_empty(), "head_seq": head, "differences": differences}),
        |page| {
            if differences.is_empty() {
                page.line(format!(
                    "OK: replaying the log through record {} gives exactly the stored projection",
                    head.map_or("-".into(), |s| s.to_string())
                ));
            } else {
                page.line("MISMATCH: the stored projection differs from the replay of the log:");
                for d in differences {
                    page.line(format!("- {d}"));
                }
                page.line("(rebuild it with `commitments replay --rebuild`)");
            }
        },
    );
}

/// `replay --rebuild`.
pub fn rebuilt(out: &Output, head: Option<u64>) {
    out.print(
        || json!({"rebuilt": true, "head_seq": head}),
        |page| {
            page.line(format!(
                "projection rebuilt from the log through record {}",
                head.map_or("-".into(), |s| s.to_string())
            ))
        },
    );
}

/// `replay --to`, `replay --as-of`: the state as of a record or a day.
pub fn replayed(out: &Output, r: &Replayed) {
    out.print(
        || {
            json!({
                "seq": r.head.map(|m| m.seq.0),
                "hash": r.head.map(|m| m.hash.to_hex()),
                "day": r.items.day.to_string(),
                "items": item_views(&r.items),
            })
        },
        |page| {
            match r.head {
                Some(m) => page.line(format!("State as of record {} (hash {}):", m.seq, short(&m.hash))),
                None => page.line("State before the first record:"),
            }
            items_page(out, &r.items, page);
        },
    );
}

/// `import`.
pub fn imported(out: &Output, i: &Imported) {
    let source = i.source;
    match &i.outcome {
        Outcome::Unchanged => out.print(
            || json!({"source": source, "unchanged": true, "appended": []}),
            |page| page.line(format!("{source} is already imported exactly as in this document: nothing to append")),
        ),
        Outcome::Appended { records, counts } => out.print(
            || {
                json!({"source": source, "unchanged": false, "counts": counts, "appended": heads_json(records, i.utc_offset)})
            },
            |page| {
                let what: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
                let (first, last) = (records.first().map_or(0, |a| a.seq.0), records.last().map_or(0, |a| a.seq.0));
                page.line(format!("imported {source}: {} (records {first}–{last}, one durable write)", what.join(", ")));
            },
        ),
    }
}

/// `export --out FILE`: a note on standard error (standard output may be the bundle).
pub fn exported(records: u64, path: Option<&Path>) {
    if let Some(path) = path {
        eprintln!("exported {records} records to {}", path.display());
    }
}

/// `demo`: what it did, the summaries, one item's history, and what to try next.
pub fn demo(out: &Output, d: &Demo) {
    let run = &d.run;
    out.print(
        || {
            let updates: Vec<_> = run
                .updates
                .iter()
                .map(|(time, actor, what, a)| json!({"time": time, "actor": actor, "what": what, "seq": a.seq.0, "hash": a.hash.to_hex()}))
                .collect();
            json!({
                "ledger": d.dir,
                "opened": run.opened,
                "imported": run.imported.iter().map(|(k, n)| (k.to_string(), *n)).collect::<BTreeMap<_, _>>(),
                "updates": updates,
                "verify": run.report,
                "projection_matches_replay": run.projection_differences.is_empty(),
                "summary": d.summary.value,
            })
        },
        |page| {
            page.line(format!("Creating a fresh ledger at {}\n", d.dir.display()));
            page.line(format!(
                "1. Opened the ledger: {} records (record 0 with the vocabularies, and the twelve cooperation areas).",
                run.opened
            ));
            let what: Vec<String> = run.imported.iter().map(|(k, n)| format!("{n} {k}")).collect();
            page.line(format!(
                "2. Imported reply No. 0771 (embedded schema/examples/reply-0771.toml) in one durable write: {}.",
                what.join(", ")
            ));
            page.line("3. A simulated year of updates (invented for the demo, stamped by a simulated clock):");
            let mut t = Table::new(["accepted", "actor", "what", "record"]);
            for (time, actor, what, a) in &run.updates {
                t.row(vec![time[..10].to_string(), actor.to_string(), what.clone(), a.seq.to_string()]);
            }
            page.table(t);
            for (i, line) in report_lines(&run.report).into_iter().enumerate() {
                page.line(if i == 0 { format!("4. Verified: {line}") } else { line });
            }
            if run.projection_differences.is_empty() {
                page.line("   Replaying the log from record 0 gives exactly the stored projection.");
            } else {
                page.line(format!("   The stored projection differs from a replay: {:?}", run.projection_differences));
            }
            page.line("\n5. Summaries:");
            summary_page(out, &d.summary, page);
            page.line(format!("\n6. History of item {}:", commitment_ledger::demo::SHOWCASE_ITEM));
            records_page(&d.history, true, page);
            let dir = d.dir.display();
            page.line(format!(
                "\nTry next:
  commitments --ledger {dir} list --area finance
  commitments --ledger {dir} show 0771-s2-bonds-listed
  commitments --ledger {dir} history 0771-s3-beyond-expo
  commitments --ledger {dir} list --as-of 2024-10-31        # the state as it was then
  commitments --ledger {dir} summary --english
  commitments --ledger {dir} progress 0771-s3-joint-rd --text \"...\" --actor bj-stc-zgc
  commitments --ledger {dir} verify
  commitments --ledger {dir} export --out reply-0771.jsonl && commitments verify --bundle reply-0771.jsonl"
            ));
        },
    );
}
