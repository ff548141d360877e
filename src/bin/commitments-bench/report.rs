//! Figures, ratios and targets, printed as Markdown and as one JSON object.

use serde_json::{Map, Value, json};

/// One measured figure.
#[derive(Clone, Debug)]
pub struct Fig {
    pub key: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub value: f64,
    /// Events the figure was measured on (for peers measured on fewer events than the run).
    pub events: u64,
}

/// A target and what was measured against it.
#[derive(Clone, Debug)]
pub struct Target {
    pub what: String,
    pub measured: Option<f64>,
    pub threshold: f64,
    /// Whether it was met (none when the measure was skipped).
    pub met: Option<bool>,
}

/// The figures and ratios of one run at one size.
#[derive(Clone, Debug, Default)]
pub struct Run {
    pub events: u64,
    pub figs: Vec<Fig>,
    pub notes: Vec<String>,
    /// Ratios taken as medians over whole runs (see [`Run::merged`]) instead of from `figs`.
    pub merged_ratios: Option<Vec<(&'static str, Option<f64>)>>,
}

impl Run {
    pub fn add(&mut self, key: &'static str, label: &'static str, unit: &'static str, value: f64, events: u64) {
        self.figs.push(Fig { key, label, unit, value, events });
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.figs.iter().find(|f| f.key == key).map(|f| f.value)
    }

    /// The ratios the issues ask for (the ledger's throughput over the other's); `None` when the
    /// other was skipped. The earlier issues' ratios are taken on the unsigned ledger (their targets
    /// were set for it, and the peers sign nothing); the signed ledger is tied to it by the
    /// `*_signed_vs_unsigned` ratios.
    pub fn ratios(&self) -> Vec<(&'static str, Option<f64>)> {
        if let Some(r) = &self.merged_ratios {
            return r.clone();
        }
        let r = |a: &str, b: &str| Some(self.get(a)? / self.get(b)?);
        vec![
            ("verify_signed_vs_unsigned", r("ledger_verify", "ledger_verify_unsigned")),
            ("verify_signed_vs_signature_limit", r("ledger_verify", "limit_sig_batch_all")),
            ("verify_bundle_signed_vs_unsigned", r("ledger_verify_bundle", "ledger_verify_bundle_unsigned")),
            ("bulk_append_signed_vs_unsigned", r("ledger_bulk_append", "ledger_bulk_append_unsigned")),
            ("append_signed_vs_unsigned", r("ledger_append", "ledger_append_unsigned")),
            ("verify_vs_limit", r("ledger_verify_unsigned", "limit_sled_iter_blake3")),
            ("verify_vs_sqlite", r("ledger_verify_unsigned", "sqlite_verify")),
            ("verify_vs_git", r("ledger_verify_unsigned", "git_fsck")),
            ("bulk_append_vs_sled", r("ledger_bulk_append_unsigned", "limit_sled_batch")),
            ("bulk_append_vs_sled_fsync", r("ledger_bulk_append_unsigned", "limit_sled_batch_fsync")),
            ("bulk_append_vs_sqlite", r("ledger_bulk_append_unsigned", "sqlite_batch_insert")),
            ("bulk_append_vs_eventsourcing", r("ledger_bulk_append_unsigned", "es_batch_append")),
            ("append_vs_sqlite", r("ledger_append_unsigned", "sqlite_single_insert")),
            ("append_vs_git", r("ledger_append_unsigned", "git_append")),
            ("append_vs_eventsourcing", r("ledger_append_unsigned", "es_single_append")),
            ("replay_vs_git", r("ledger_replay", "git_log")),
            ("replay_vs_eventsourcing", r("ledger_replay", "es_replay")),
            ("verify_vs_limit_cpu", r("ledger_verify_unsigned_cpu", "limit_sled_iter_blake3_cpu")),
            ("verify_vs_sqlite_cpu", r("ledger_verify_unsigned_cpu", "sqlite_verify_cpu")),
            ("bulk_append_vs_sled_cpu", r("ledger_bulk_append_unsigned_cpu", "limit_sled_batch_cpu")),
            ("bulk_append_vs_sqlite_cpu", r("ledger_bulk_append_unsigned_cpu", "sqlite_batch_insert_cpu")),
            ("bulk_append_vs_eventsourcing_cpu", r("ledger_bulk_append_unsigned_cpu", "es_batch_append_cpu")),
            ("replay_vs_eventsourcing_cpu", r("ledger_replay_cpu", "es_replay_cpu")),
        ]
    }

    fn ratio(&self, key: &str) -> Option<f64> {
        self.ratios().into_iter().find(|(k, _)| *k == key).and_then(|(_, v)| v)
    }

    /// Each target with what was measured against it.
    pub fn targets(&self) -> Vec<Target> {
        let ratio = |k: &str, min: f64| (format!("ratio {k} ≥ {min}"), self.ratio(k), min, true);
        let scale = if self.events >= 1_000_000 { "" } else { " (target set for 1,000,000 events)" };
        let mut t = vec![
            ratio("bulk_append_signed_vs_unsigned", 0.6),
            ratio("append_signed_vs_unsigned", 0.9),
            ratio("verify_vs_limit", 0.5),
            ratio("verify_vs_sqlite", 1.5),
            ratio("bulk_append_vs_sled", 0.7),
            ratio("bulk_append_vs_sqlite", 1.2),
            ratio("append_vs_sqlite", 1.0),
            ratio("append_vs_git", 10.0),
            ratio("replay_vs_git", 10.0),
            ratio("append_vs_eventsourcing", 3.0),
            ratio("replay_vs_eventsourcing", 3.0),
        ];
        t.push((
            format!("verify of signed records ≥ 120,000 records/s, both cores{scale}"),
            self.get("ledger_verify"),
            120_000.0,
            true,
        ));
        t.push((format!("inclusion proof < 10 ms{scale}"), self.get("ledger_inclusion_proof_ms"), 10.0, false));
        t.push((format!("checkpoint < 50 ms{scale}"), self.get("ledger_checkpoint_ms"), 50.0, false));
        t.push((
            format!("verify ≥ 1,000,000 events/s, unsigned{scale}"),
            self.get("ledger_verify_unsigned"),
            1e6,
            true,
        ));
        t.push((
            format!("verify ≥ 1,000,000 events per CPU-second, unsigned{scale}"),
            self.get("ledger_verify_unsigned_cpu"),
            1e6,
            true,
        ));
        t.push((
            format!("bulk append ≥ 150,000 events/s, unsigned{scale}"),
            self.get("ledger_bulk_append_unsigned"),
            150_000.0,
            true,
        ));
        t.push((
            format!("bulk append ≥ 150,000 events per CPU-second, unsigned{scale}"),
            self.get("ledger_bulk_append_unsigned_cpu"),
            150_000.0,
            true,
        ));
        t.push((
            format!("durable single append ≥ 4,000/s, unsigned{scale}"),
            self.get("ledger_append_unsigned"),
            4000.0,
            true,
        ));
        t.push((format!("open + show < 100 ms{scale}"), self.get("ledger_open_show_ms"), 100.0, false));
        t.push((
            "import of a 10,000-commitment document < 1,000 ms".to_string(),
            self.get("ledger_import_document_ms"),
            1000.0,
            false,
        ));
        t.push((format!("export ≥ 200,000 records/s{scale}"), self.get("ledger_export"), 200_000.0, true));
        t.push((
            format!("verify --bundle ≥ 200,000 records/s, unsigned{scale}"),
            self.get("ledger_verify_bundle_unsigned"),
            200_000.0,
            true,
        ));
        t.push((
            format!("restore ≥ 100,000 records/s, unsigned{scale}"),
            self.get("ledger_restore_unsigned"),
            100_000.0,
            true,
        ));
        t.into_iter()
            .map(|(what, measured, threshold, higher)| {
                let met = measured.map(|v| if higher { v >= threshold } else { v < threshold });
                Target { what, measured, threshold, met }
            })
            .collect()
    }

    pub fn json(&self) -> Value {
        let mut figures = Map::new();
        let mut units = Map::new();
        let mut measured_on = Map::new();
        let mut labels = Map::new();
        for f in &self.figs {
            figures.insert(f.key.into(), json!(f.value));
            units.insert(f.key.into(), json!(f.unit));
            measured_on.insert(f.key.into(), json!(f.events));
            labels.insert(f.key.into(), json!(f.label));
        }
        let order: Vec<&str> = self.figs.iter().map(|f| f.key).collect();
        let ratios: Map<String, Value> = self.ratios().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let targets: Vec<Value> = self
            .targets()
            .into_iter()
            .map(|t| json!({ "target": t.what, "measured": t.measured, "threshold": t.threshold, "met": t.met }))
            .collect();
        json!({
            "events": self.events,
            "figures": figures,
            "units": units,
            "measured_on_events": measured_on,
            "labels": labels,
            "order": order,
            "ratios": ratios,
            "targets": targets,
            "notes": self.notes,
        })
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

impl Run {
    /// The medians of several whole runs of one size (each as [`Run::json`] wrote it): every figure
    /// and every ratio is the median of the runs that have it.
    pub fn merged(runs: &[Value]) -> Run {
        let first = &runs[0];
        let mut out = Run { events: first["events"].as_u64().unwrap_or(0), ..Run::default() };
        for key in first["order"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let xs: Vec<f64> = runs.iter().filter_map(|r| r["figures"][key].as_f64()).collect();
            let Some(value) = median(xs) else { continue };
            out.figs.push(Fig {
                key: leak(key),
                label: leak(first["labels"][key].as_str().unwrap_or(key)),
                unit: leak(first["units"][key].as_str().unwrap_or("")),
                value,
                events: first["measured_on_events"][key].as_u64().unwrap_or(0),
            });
        }
        let ratios = first["ratios"].as_object().cloned().unwrap_or_default();
        let keys: Vec<&'static str> = out.ratios().into_iter().map(|(k, _)| k).collect();
        out.merged_ratios = Some(
            keys.into_iter()
                .filter(|k| ratios.contains_key(*k))
                .map(|k| (k, median(runs.iter().filter_map(|r| r["ratios"][k].as_f64()).collect())))
                .collect(),
        );
        for r in runs {
            for n in r["notes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !out.notes.iter().any(|m| m == n) {
                    out.notes.push(n.to_string());
                }
            }
        }
        out
    }
}

fn fmt(v: f64, unit: &str) -> String {
    if unit == "ratio" || unit == "×" {
        return format!("{v:.2}×");
    }
    if v >= 100.0 {
        let n = v.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The Markdown tables for one or more sizes.
pub fn markdown(runs: &[Run], machine: &str, reps: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "commitments-bench — {machine}; ledger and limit figures are medians of {reps} runs (each in its own \
         process), peers are single runs; \"events/cpu-s\" divides by the CPU time the process used.\n\n"
    ));
    let head: Vec<String> = runs.iter().map(|r| format!("{} events", fmt(r.events as f64, ""))).collect();
    s.push_str(&format!("| measure | unit | {} |\n", head.join(" | ")));
    s.push_str(&format!("|---|---|{}\n", "---:|".repeat(runs.len())));
    let mut keys: Vec<(&'static str, &'static str, &'static str)> = Vec::new();
    for r in runs {
        for f in &r.figs {
            if !keys.iter().any(|k| k.0 == f.key) {
                keys.push((f.key, f.label, f.unit));
            }
        }
    }
    for (key, label, unit) in &keys {
        let cells: Vec<String> = runs
            .iter()
            .map(|r| match r.figs.iter().find(|f| f.key == *key) {
                Some(f) if f.events != r.events && f.events > 0 => {
                    format!("{} (n={})", fmt(f.value, unit), fmt(f.events as f64, ""))
                }
                Some(f) => fmt(f.value, unit),
                None => "skipped".into(),
            })
            .collect();
        s.push_str(&format!("| {label} | {unit} | {} |\n", cells.join(" | ")));
    }
    s.push_str(&format!("\n| ratio (ledger ÷ other) | {} |\n", head.join(" | ")));
    s.push_str(&format!("|---|{}\n", "---:|".repeat(runs.len())));
    if let Some(first) = runs.first() {
        for (i, (k, _)) in first.ratios().iter().enumerate() {
            let cells: Vec<String> =
                runs.iter().map(|r| r.ratios()[i].1.map_or("skipped".into(), |v| format!("{v:.2}×"))).collect();
            s.push_str(&format!("| {k} | {} |\n", cells.join(" | ")));
        }
        s.push_str(&format!("\n| target | {} |\n", head.join(" | ")));
        s.push_str(&format!("|---|{}\n", "---|".repeat(runs.len())));
        for (i, t) in first.targets().iter().enumerate() {
            let what = t.what.replace(" (target set for 1,000,000 events)", "");
            let cells: Vec<String> = runs
                .iter()
                .map(|r| {
                    let t = &r.targets()[i];
                    match (t.measured, t.met) {
                        (Some(v), Some(true)) => format!("met ({})", short(v)),
                        (Some(v), Some(false)) => format!("**missed** ({})", short(v)),
                        _ => "skipped".into(),
                    }
                })
                .collect();
            s.push_str(&format!("| {what} | {} |\n", cells.join(" | ")));
        }
    }
    for r in runs {
        for n in &r.notes {
            s.push_str(&format!("\n- {} events: {n}", fmt(r.events as f64, "")));
        }
    }
    s.push('\n');
    s
}

fn short(v: f64) -> String {
    if v >= 1000.0 { fmt(v, "") } else { format!("{v:.3}") }
}
