//! The demo: a fresh ledger holding the real reply No. 0771 (embedded from
//! `schema/examples/reply-0771.toml`) and a simulated year of updates, then verified.
//!
//! The updates are invented for the demonstration (progress reports, status changes, a figure update,
//! one correction with its reason, the deputy's feedback and the reply's category) and are stamped
//! by a simulated clock running from June 2024 to June 2025, so that `--as-of` views have a history
//! to show. Everything appended goes through the same rules as any other append.

use crate::command::{Categorize, Command, Correct, OpenLedger, RecordFeedback, RecordIndicator, RegisterArea};
use crate::date::{Date, ManualClock, SystemClock, Timestamp};
use crate::ids::{ActorId, Code, ItemId, SourceId, StreamVersion};
use crate::import::{self, ImportError, Outcome};
use crate::ledger::{Ledger, LedgerError};
use crate::record::Head;
use crate::sled_store::SledStore;
use crate::store::Store;
use crate::verify::Report;
use crate::vocab::Vocabulary;
use std::path::{Path, PathBuf};

/// The seed reply as an import document.
pub const REPLY_0771: &str = include_str!("../schema/examples/reply-0771.toml");

/// The item whose history the demo shows.
pub const SHOWCASE_ITEM: &str = "0771-s4-performance-exchanges";

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The directory chosen for the demo's new ledger is not empty.
    #[error("ledger: {0} is not empty; the demo needs a new directory")]
    NotEmpty(PathBuf),
    /// The embedded document did not import.
    #[error("the embedded reply did not import: {0}")]
    Import(#[from] ImportError),
}

/// What the demo did.
#[derive(Debug)]
pub struct DemoRun {
    /// Records written by `init`.
    pub opened: usize,
    /// What the import appended, by kind.
    pub imported: Vec<(&'static str, usize)>,
    /// Each simulated update: when, who, what, and the record.
    pub updates: Vec<(String, ActorId, String, Head)>,
    /// The verification of the finished ledger.
    pub report: Report,
    /// Differences between the stored projection and a replay (empty when they match).
    pub projection_differences: Vec<String>,
}

fn a(s: &str) -> ActorId {
    ActorId::new(s).expect("demo actor ids are valid")
}

fn item(s: &str) -> ItemId {
    ItemId::new(s).expect("demo item ids are valid")
}

fn code(s: &str) -> Code {
    Code::new(s).expect("demo codes are valid")
}

fn date(s: &str) -> Option<Date> {
    Some(Date::parse(s).expect("demo dates are valid"))
}

/// The simulated year: (time, actor, description, command).
fn updates() -> Vec<(&'static str, ActorId, &'static str, Command)> {
    let reply = SourceId::new("reply-0771").expect("valid");
    vec![
        (
            "2024-07-12T10:00:00+08:00",
            a("li-jing"),
            "deputy 李静 answers the reply",
            Command::RecordFeedback(RecordFeedback {
                source: reply.clone(),
                verdict: code("basically_satisfied"),
                text: Some("对答复基本满意，希望进一步明确金融、科技合作项目的时间表。".into()),
                on: date("2024-07-12"),
            }),
        ),
        (
            "2024-07-20T09:30:00+08:00",
            a("bj-hkmo-office"),
            "the office files the reply in category B",
            Command::Categorize(Categorize {
                source: reply,
                category: code("b"),
                reason: Some("部分事项已办结，部分正在推进或列入计划。".into()),
            }),
        ),
        (
            "2024-09-18T15:00:00+08:00",
            a("bj-ndrc"),
            "progress on the business missions",
            Command::ReportProgress {
                item: item("0771-s2-business-missions"),
                text: "组织12家北京企业赴葡语国家开展数字经贸考察对接，签署合作意向3项。".into(),
                on: date("2024-09"),
                evidence: Some("市发展改革委工作简报2024年第9期".into()),
            },
        ),
        (
            "2024-10-10T11:00:00+08:00",
            a("bj-finance-office"),
            "a new figure: one more enterprise lists bonds in Macao",
            Command::RecordIndicator(RecordIndicator {
                item: item("0771-s2-bonds-listed"),
                name: "北京市属国企在澳门挂牌债券数量 / municipal SOEs with bonds listed in Macao".into(),
                value: "5".into(),
                unit: Some("家 (enterprises)".into()),
                approximate: false,
                as_of: date("2024-09"),
            }),
        ),
        (
            "2024-10-10T11:05:00+08:00",
            a("bj-finance-office"),
            "progress on bond financing",
            Command::ReportProgress {
                item: item("0771-s2-bond-financing"),
                text: "又有1家市属国企在澳门发行境外债券，累计5家。".into(),
                on: date("2024-09"),
                evidence: None,
            },
        ),
        (
            "2024-11-05T16:20:00+08:00",
            a("bj-stc-zgc"),
            "BEYOND expo support starts",
            Command::ChangeStatus {
                item: item("0771-s3-beyond-expo"),
                to: code("in_progress"),
                reason: "启动2025年BEYOND国际科技创新博览会北京展团招募。".into(),
                on: date("2024-11"),
            },
        ),
        (
            "2024-12-20T10:00:00+08:00",
            a("bj-culture-tourism"),
            "2024 performance exchanges reported",
            Command::ReportProgress {
                item: item(SHOWCASE_ITEM),
                text: "2024年两地互访演出项目11批次，150人次。".into(),
                on: date("2024-12"),
                evidence: Some("市文化和旅游局年度统计".into()),
            },
        ),
        (
            "2024-12-20T10:05:00+08:00",
            a("bj-culture-tourism"),
            "2024 performance batches as a figure",
            Command::RecordIndicator(RecordIndicator {
                item: item(SHOWCASE_ITEM),
                name: "两地互访演出项目批次 / reciprocal performance projects".into(),
                value: "11".into(),
                unit: Some("批次 (batches)".into()),
                approximate: false,
                as_of: date("2024"),
            }),
        ),
        (
            "2025-01-08T09:00:00+08:00",
            a("bj-culture-tourism"),
            "a correction: the 2024 count of person-visits was wrong",
            Command::Correct(Correct {
                item: item(SHOWCASE_ITEM),
                entry: StreamVersion(3),
                text: Some("2024年两地互访演出项目11批次，105人次。".into()),
                value: None,
                reason: "年度统计复核：人次误录为150，应为105。".into(),
            }),
        ),
        (
            "2025-01-15T14:00:00+08:00",
            a("bj-heritage"),
            "progress on Great Wall conservation",
            Command::ReportProgress {
                item: item("0771-s4-great-wall-aem"),
                text: "与澳门工程师学会联合开展长城保护修复技术交流，完成箭扣段现场考察。".into(),
                on: date("2024-12"),
                evidence: None,
            },
        ),
        (
            "2025-03-03T10:30:00+08:00",
            a("bj-ndrc"),
            "Lusophone bridge stalls",
            Command::ChangeStatus {
                item: item("0771-s2-lusophone-bridge"),
                to: code("stalled"),
                reason: "葡语国家合作方调整，待重新对接。".into(),
                on: date("2025-02"),
            },
        ),
        (
            "2025-04-02T09:00:00+08:00",
            a("bj-hkmo-office"),
            "joint R&D gets a deadline",
            Command::Amend(crate::command::Amend {
                item: item("0771-s3-joint-rd"),
                title: None,
                title_en: None,
                text: None,
                due: date("2026"),
                area: None,
                reason: "京澳合作会议第二次会议商定：联合研发项目于2026年底前形成首批成果。".into(),
            }),
        ),
        (
            "2025-05-30T17:00:00+08:00",
            a("bj-stc-zgc"),
            "BEYOND expo delivered",
            Command::ChangeStatus {
                item: item("0771-s3-beyond-expo"),
                to: code("delivered"),
                reason: "北京展团23家企业参加2025年BEYOND博览会。".into(),
                on: date("2025-05"),
            },
        ),
        (
            "2025-06-16T10:00:00+08:00",
            a("bj-hkmo-office"),
            "the office reports on implementing the meeting's outcomes",
            Command::ReportProgress {
                item: item("0771-s1-implement-outcomes"),
                text: "梳理形成京澳重点领域合作项目清单，召开两地部门对接会4次。".into(),
                on: date("2025-06"),
                evidence: None,
            },
        ),
    ]
}

/// The demo ledger's opening record.
fn opening() -> OpenLedger {
    OpenLedger {
        title: "京澳合作承诺台账 Beijing–Macao cooperation commitments".into(),
        origin: "commitment-ledger.local/demo/beijing-macao".into(),
        utc_offset_minutes: 480,
        admin: a("admin"),
        admin_name: "台账管理员 Ledger administrator".into(),
        vocabulary: Vocabulary::default_v1(),
        admin_key: None,
    }
}

fn time(rfc3339: &str) -> Timestamp {
    Timestamp::parse(rfc3339).expect("demo times are valid RFC 3339")
}

/// Runs the demo on an empty ledger: init, import the reply, a simulated year of updates, verify.
pub fn run<S: Store>(ledger: &mut Ledger<S>) -> Result<DemoRun, DemoError> {
    let clock = ManualClock::at(time("2024-06-20T09:00:00+08:00"));
    ledger.set_clock(Box::new(clock.clone()));
    let opened = ledger.init(opening(), RegisterArea::seed())?;
    populate(ledger, &clock, opened.len())
}

/// Where the demo puts its ledger when no directory is named: a new directory in the temp dir.
pub fn default_dir() -> PathBuf {
    std::env::temp_dir().join(format!("commitments-demo-{}", Timestamp::now().0))
}

/// Runs the demo in a new ledger directory (`dir` must not exist or be empty). A refused start leaves
/// the directory as it was.
pub fn create(dir: &Path) -> Result<(Ledger<SledStore>, DemoRun), DemoError> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(DemoError::NotEmpty(dir.to_path_buf()));
    }
    let clock = ManualClock::at(time("2024-06-20T09:00:00+08:00"));
    let (mut ledger, opened) =
        Ledger::create_with_clock(dir, opening(), RegisterArea::seed(), Box::new(clock.clone()))?;
    let run = populate(&mut ledger, &clock, opened.len())?;
    Ok((ledger, run))
}

/// Everything after `init`: the import, the simulated year, the checks.
fn populate<S: Store>(ledger: &mut Ledger<S>, clock: &ManualClock, opened: usize) -> Result<DemoRun, DemoError> {
    let admin = a("admin");
    clock.set(time("2024-06-20T10:00:00+08:00"));
    let doc = import::parse(REPLY_0771)?;
    let imported = match import::import(ledger, &admin, &doc)? {
        Outcome::Appended { counts, .. } => counts.into_iter().collect(),
        Outcome::Unchanged => Vec::new(),
    };
    let mut done = Vec::new();
    for (when, actor, what, command) in updates() {
        clock.set(time(when));
        let appended = ledger.append(&actor, command)?;
        done.push((when.to_string(), actor, what.to_string(), appended));
    }
    ledger.set_clock(Box::new(SystemClock));
    let report = ledger.verify(&mut |_| {})?;
    let projection_differences = ledger.check_projection()?;
    Ok(DemoRun { opened, imported, updates: done, report, projection_differences })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;

    #[test]
    fn the_demo_builds_a_sound_ledger_with_a_history() {
        let mut ledger = Ledger::with_store(MemStore::new(), Box::new(SystemClock)).unwrap();
        let run = run(&mut ledger).unwrap();
        assert!(run.report.ok, "{:?}", run.report);
        assert!(run.projection_differences.is_empty(), "{:?}", run.projection_differences);
        assert!(run.imported.iter().any(|(k, n)| *k == "commitments" && *n >= 30), "{:?}", run.imported);
        let item = ledger.item(&item(SHOWCASE_ITEM)).unwrap().unwrap();
        let progress = item.latest_progress.unwrap();
        assert_eq!(progress.text, "2024年两地互访演出项目11批次，105人次。");
        assert_eq!(item.corrections.len(), 1);
        let beyond = ledger.item(&super::item("0771-s3-beyond-expo")).unwrap().unwrap();
        assert_eq!(beyond.core.status.as_str(), "delivered");
        let source = &ledger.registry().sources[&SourceId::new("reply-0771").unwrap()];
        assert_eq!(source.feedback.last().unwrap().verdict.as_str(), "basically_satisfied");
    }
}
