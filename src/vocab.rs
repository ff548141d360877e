//! Vocabularies are data: the statuses, reply categories, verdicts and completion levels a ledger uses
//! are written into its opening record, so that a ledger can be read without this crate's defaults.
//!
//! The defaults map onto the vocabularies people already use: a commitment's progress (planned, in
//! progress, delivered, partially delivered, stalled, dropped), the reply categories of people's
//! congress handling (A solved or basically solved, B being solved, C planned for later, D kept for
//! reference), the deputy's verdict on a reply, and the completion levels of the Open Government
//! Partnership's independent reporting mechanism.

use crate::ids::Code;
use serde::{Deserialize, Serialize};

/// How a commitment was stated in its source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// "Next we will…": not started when recorded.
    Planned,
    /// "We are…": under way when recorded.
    Ongoing,
    /// "We signed…", "by end of 2023, 4 enterprises…": done when recorded.
    Achieved,
}

impl Kind {
    /// The word used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Planned => "planned",
            Kind::Ongoing => "ongoing",
            Kind::Achieved => "achieved",
        }
    }

    /// Parses `planned`, `ongoing` or `achieved`.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "planned" => Some(Kind::Planned),
            "ongoing" => Some(Kind::Ongoing),
            "achieved" => Some(Kind::Achieved),
            _ => None,
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    /// [`Kind::parse`], refusing with the words it accepts.
    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::parse(s).ok_or_else(|| format!("{s:?} is not a kind (planned, ongoing or achieved)"))
    }
}

/// What an actor is, which decides what it may append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Opened the ledger; may do everything.
    Admin,
    /// The coordinating office: registers actors, areas and sources, records and reassigns commitments.
    Office,
    /// A department: reports on the items it leads or helps with.
    Department,
    /// An outside counterpart (a Macao bureau, a university): reports on items it helps with.
    Counterpart,
    /// A deputy: records feedback on the replies addressed to her.
    Deputy,
    /// An auditor: reads and verifies; appends nothing but its own registration.
    Auditor,
}

impl Role {
    /// The word used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Office => "office",
            Role::Department => "department",
            Role::Counterpart => "counterpart",
            Role::Deputy => "deputy",
            Role::Auditor => "auditor",
        }
    }

    /// Parses the words [`Role::as_str`] prints.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Admin, Role::Office, Role::Department, Role::Counterpart, Role::Deputy, Role::Auditor]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// Whether the role runs the ledger (registers vocabulary, records sources and commitments).
    pub fn is_coordinator(self) -> bool {
        matches!(self, Role::Admin | Role::Office)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    /// [`Role::parse`], refusing with the words it accepts.
    fn from_str(s: &str) -> Result<Role, String> {
        Role::parse(s)
            .ok_or_else(|| format!("{s:?} is not a role (admin, office, department, counterpart, deputy or auditor)"))
    }
}

/// What kind of document a source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A written reply to a deputy's suggestion or proposal.
    Reply,
    /// A memorandum (备忘录).
    Memorandum,
    /// An agreement between departments or governments.
    Agreement,
    /// The record of a meeting.
    Meeting,
    /// Anything else.
    Other,
}

impl SourceKind {
    /// The word used on the command line and in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Reply => "reply",
            SourceKind::Memorandum => "memorandum",
            SourceKind::Agreement => "agreement",
            SourceKind::Meeting => "meeting",
            SourceKind::Other => "other",
        }
    }

    /// Parses the words [`SourceKind::as_str`] prints.
    pub fn parse(s: &str) -> Option<SourceKind> {
        [SourceKind::Reply, SourceKind::Memorandum, SourceKind::Agreement, SourceKind::Meeting, SourceKind::Other]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

impl std::str::FromStr for SourceKind {
    type Err = String;
    /// [`SourceKind::parse`], refusing with the words it accepts.
    fn from_str(s: &str) -> Result<SourceKind, String> {
        SourceKind::parse(s)
            .ok_or_else(|| format!("{s:?} is not a kind of source (reply, memorandum, agreement, meeting or other)"))
    }
}

/// One term of a vocabulary, with labels in English and Chinese.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The code stored in events.
    pub code: Code,
    /// English label.
    pub label: String,
    /// Chinese label.
    pub label_zh: String,
}

/// A status a commitment can be in, and the moves allowed from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDef {
    /// The term (code and labels).
    pub term: Term,
    /// The statuses it may change to.
    pub next: Vec<Code>,
    /// Whether the item is finished either way: a closed item is never overdue.
    pub closed: bool,
    /// Whether progress, figures and corrections may still be appended.
    pub accepts_updates: bool,
    /// The reply category (A–D) an item in this status counts towards.
    pub category: Code,
    /// The OGP completion level it corresponds to.
    pub completion: Code,
    /// The kind of commitment that starts in this status, if any.
    pub initial_for: Option<Kind>,
}

/// Every vocabulary a ledger defines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocabulary {
    /// Commitment statuses.
    pub statuses: Vec<StatusDef>,
    /// Reply categories of people's congress handling.
    pub categories: Vec<Term>,
    /// The deputy's verdicts on a reply.
    pub verdicts: Vec<Term>,
    /// OGP independent reporting mechanism completion levels.
    pub completion_levels: Vec<Term>,
}

fn code(s: &str) -> Code {
    Code::new(s).expect("built-in codes are valid")
}

fn term(c: &str, label: &str, label_zh: &str) -> Term {
    Term { code: code(c), label: label.to_string(), label_zh: label_zh.to_string() }
}

impl Vocabulary {
    /// The vocabulary `init` writes unless told otherwise.
    pub fn default_v1() -> Vocabulary {
        let status = |c, label, zh, next: &[&str], closed, accepts, cat, ogp, initial| StatusDef {
            term: term(c, label, zh),
            next: next.iter().map(|n| code(n)).collect(),
            closed,
            accepts_updates: accepts,
            category: code(cat),
            completion: code(ogp),
            initial_for: initial,
        };
        Vocabulary {
            statuses: vec![
                status(
                    "planned",
                    "planned",
                    "计划中",
                    &["in_progress", "delivered", "partially_delivered", "stalled", "dropped"],
                    false,
                    true,
                    "c",
                    "not_started",
                    Some(Kind::Planned),
                ),
                status(
                    "in_progress",
                    "in progress",
                    "推进中",
                    &["delivered", "partially_delivered", "stalled", "dropped"],
                    false,
                    true,
                    "b",
                    "limited",
                    Some(Kind::Ongoing),
                ),
                status(
                    "partially_delivered",
                    "partially delivered",
                    "部分完成",
                    &["in_progress", "delivered", "stalled", "dropped"],
                    false,
                    true,
                    "b",
                    "substantial",
                    None,
                ),
                status(
                    "delivered",
                    "delivered",
                    "已完成",
                    &["in_progress", "partially_delivered"],
                    true,
                    true,
                    "a",
                    "complete",
                    Some(Kind::Achieved),
                ),
                status(
                    "stalled",
                    "stalled",
                    "停滞",
                    &["in_progress", "partially_delivered", "delivered", "dropped"],
                    false,
                    true,
                    "b",
                    "limited",
                    None,
                ),
                status("dropped", "dropped", "已放弃", &[], true, false, "d", "not_started", None),
            ],
            categories: vec![
                term("a", "A: solved or basically solved", "A类：已解决或基本解决"),
                term("b", "B: being solved or started", "B类：正在解决或已列入计划"),
                term("c", "C: planned for later", "C类：因条件限制留作以后参考解决"),
                term("d", "D: kept for reference", "D类：留作参考"),
            ],
            verdicts: vec![
                term("satisfied", "satisfied", "满意"),
                term("basically_satisfied", "basically satisfied", "基本满意"),
                term("dissatisfied", "dissatisfied", "不满意"),
            ],
            completion_levels: vec![
                term("not_started", "not started", "未开始"),
                term("limited", "limited", "有限"),
                term("substantial", "substantial", "大部分"),
                term("complete", "complete", "完成"),
            ],
        }
    }

    /// The definition of a status.
    pub fn status(&self, code: &Code) -> Option<&StatusDef> {
        self.statuses.iter().find(|s| &s.term.code == code)
    }

    /// The status a commitment of a kind starts in.
    pub fn initial_status(&self, kind: Kind) -> Option<&StatusDef> {
        self.statuses.iter().find(|s| s.initial_for == Some(kind))
    }

    /// A reply category by code.
    pub fn category(&self, code: &Code) -> Option<&Term> {
        self.categories.iter().find(|t| &t.code == code)
    }

    /// A verdict by code.
    pub fn verdict(&self, code: &Code) -> Option<&Term> {
        self.verdicts.iter().find(|t| &t.code == code)
    }

    /// Checks that the vocabulary is self-consistent: unique codes, every reference resolves, each
    /// kind has exactly one starting status. Returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        fn unique<'a>(what: &str, codes: impl Iterator<Item = &'a Code>) -> Result<(), String> {
            let mut seen = std::collections::HashSet::new();
            for c in codes {
                if !seen.insert(c) {
                    return Err(format!("{what} code {c:?} is defined twice"));
                }
            }
            Ok(())
        }
        unique("status", self.statuses.iter().map(|s| &s.term.code))?;
        unique("category", self.categories.iter().map(|t| &t.code))?;
        unique("verdict", self.verdicts.iter().map(|t| &t.code))?;
        unique("completion level", self.completion_levels.iter().map(|t| &t.code))?;
        if self.statuses.is_empty() {
            return Err("no statuses are defined".into());
        }
        for s in &self.statuses {
            for n in &s.next {
                if self.status(n).is_none() {
                    return Err(format!("status {} moves to undefined status {n}", s.term.code));
                }
            }
            if self.category(&s.category).is_none() {
                return Err(format!("status {} maps to undefined category {}", s.term.code, s.category));
            }
            if !self.completion_levels.iter().any(|t| t.code == s.completion) {
                return Err(format!("status {} maps to undefined completion level {}", s.term.code, s.completion));
            }
        }
        for kind in [Kind::Planned, Kind::Ongoing, Kind::Achieved] {
            let n = self.statuses.iter().filter(|s| s.initial_for == Some(kind)).count();
            if n != 1 {
                return Err(format!("{n} statuses start commitments of kind {}; exactly one must", kind.as_str()));
            }
        }
        Ok(())
    }
}

/// The twelve cooperation areas of the first Beijing–Macao cooperation meeting (the seed reply):
/// (id, Chinese name, English name). `init` registers them unless told not to.
pub const SEED_AREAS: [(&str, &str, &str); 12] = [
    ("health", "卫生健康", "health"),
    ("tcm", "中医药", "traditional Chinese medicine"),
    ("science-tech", "科技创新", "science and technology innovation"),
    ("finance", "金融", "finance"),
    ("exhibitions", "会展", "conventions and exhibitions"),
    ("trade", "经贸", "economy and trade"),
    ("culture-tourism", "文化旅游", "culture and tourism"),
    ("education", "教育", "education"),
    ("youth", "青少年交流", "youth exchange"),
    ("sports", "体育", "sports"),
    ("vocational-training", "职业培训", "vocational training"),
    ("transport", "交通", "transport"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_vocabulary_is_consistent() {
        let v = Vocabulary::default_v1();
        assert_eq!(v.check(), Ok(()));
        assert_eq!(v.statuses.len(), 6);
        assert_eq!(v.initial_status(Kind::Achieved).unwrap().term.code.as_str(), "delivered");
        assert!(v.status(&code("dropped")).unwrap().next.is_empty());
    }

    #[test]
    fn an_inconsistent_vocabulary_is_named() {
        let mut v = Vocabulary::default_v1();
        v.statuses[0].next.push(code("nowhere"));
        assert!(v.check().unwrap_err().contains("nowhere"));
        let mut v = Vocabulary::default_v1();
        v.statuses[1].initial_for = Some(Kind::Planned);
        assert!(v.check().unwrap_err().contains("planned"));
    }
}
