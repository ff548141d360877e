//! The generated workload: a deterministic stream of realistic commands.
//!
//! Replies (sources) arrive with about thirty commitments each, across the seed's twelve areas, led
//! by a dozen departments with Macao counterparts as partners; each commitment then receives about
//! twenty events in all (progress reports in Chinese of 100–600 bytes, figures, status changes,
//! corrections, amendments, the odd reassignment), interleaved with the other open commitments the
//! way quarterly reporting interleaves them. Deputies give feedback and the office categorizes each
//! reply. Every command is legal, so that every one of them is appended.

use commitment_ledger::{ActorId, AreaId, Code, Command, Date, ItemId, NewCommitment, SourceId, StreamVersion};
use commitment_ledger::{
    Amend, Categorize, Correct, OpenLedger, RecordFeedback, RecordIndicator, RecordSource, RegisterActor, RegisterArea,
};
use commitment_ledger::{Kind, Role, SEED_AREAS, SourceKind, Vocabulary};
use std::collections::{HashMap, VecDeque};

/// The administrator.
pub const ADMIN: &str = "admin";
/// The coordinating office.
pub const OFFICE: &str = "coordination-office";

/// Departments that lead items: (id, name).
const DEPARTMENTS: [(&str, &str); 12] = [
    ("finance-office", "市委金融办"),
    ("development-reform", "市发展改革委"),
    ("science-commission", "市科委、中关村管委会"),
    ("culture-tourism", "市文化和旅游局"),
    ("heritage-bureau", "市文物局"),
    ("tcm-bureau", "市中医局"),
    ("commerce-bureau", "市商务局"),
    ("education-commission", "市教委"),
    ("sports-bureau", "市体育局"),
    ("transport-commission", "市交通委"),
    ("health-commission", "市卫生健康委"),
    ("hr-social-security", "市人力资源社会保障局"),
];

/// Macao counterparts that help: (id, name).
const COUNTERPARTS: [(&str, &str); 4] = [
    ("macao-policy-bureau", "澳门特区政府政策研究和区域发展局"),
    ("macao-economy-bureau", "澳门经济及科技发展局"),
    ("macao-tourism-office", "澳门旅游局"),
    ("macao-university", "澳门大学"),
];

/// Deputies who receive replies: (id, name).
const DEPUTIES: [(&str, &str); 4] = [
    ("deputy-li-jing", "李静"),
    ("deputy-wang-fang", "王芳"),
    ("deputy-zhang-wei", "张伟"),
    ("deputy-chen-hong", "陈红"),
];

/// Fragments the texts are built from.
const FRAGMENTS: [&str; 24] = [
    "京澳两地在金融领域深化合作，",
    "截至本季度末，已有4家北京市属国企在澳门发行债券，",
    "规模约23亿美元，",
    "双方签署了合作备忘录并建立了定期会商机制，",
    "组织在京高校与澳门大学开展联合科研项目，",
    "推动中医药产品在澳门注册并进入葡语国家市场，",
    "举办京澳文化旅游推介活动，吸引游客约3万人次，",
    "开展青少年交流团组互访，参与学生超过200名，",
    "会展业合作方面，共同举办了两场国际展会，",
    "职业技能培训课程已覆盖澳门青年约500人，",
    "交通部门就航线加密事宜完成了可行性研究，",
    "体育赛事合作协议进入最后审议阶段，",
    "受外部因素影响，部分项目进度有所延后，",
    "下一步将继续加强统筹协调，细化工作方案，",
    "相关部门已完成阶段性评估并形成书面报告，",
    "经核实，上期报告中的数据存在统计口径差异，",
    "科技创新合作平台已入驻企业12家，",
    "文物保护交流展览在澳门开幕，",
    "卫生健康领域开展了远程医疗协作试点，",
    "经贸合作洽谈会签约项目金额约5.6亿元，",
    "按照年度计划，",
    "具体情况如下：",
    "此项工作由牵头单位会同有关部门共同推进。",
    "我办将持续跟踪落实情况并及时报告。",
];

const TITLES: [&str; 12] = [
    "推动北京市属国企赴澳门发行债券",
    "共建京澳科技创新合作平台",
    "推进中医药国际化合作",
    "联合举办文化旅游推介活动",
    "深化会展业合作",
    "扩大经贸往来",
    "开展文物保护交流",
    "加强教育合作与学生交流",
    "举办青少年交流活动",
    "开展体育赛事合作",
    "开展职业技能培训合作",
    "加密京澳航线",
];

const INDICATORS: [(&str, Option<&str>); 6] = [
    ("enterprises with bonds listed in Macao", Some("enterprises")),
    ("bonds listed", Some("USD")),
    ("visitors", Some("person-times")),
    ("students exchanged", Some("persons")),
    ("projects signed", Some("CNY")),
    ("trainees", Some("persons")),
];

/// A small, fast, deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` percent.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("generated ids are valid")
}

/// A Chinese text of `lo` to `hi` bytes, cut at a character boundary.
pub fn text(rng: &mut Rng, lo: usize, hi: usize) -> String {
    let target = rng.range(lo as u64, hi as u64) as usize;
    let mut s = String::with_capacity(target + 64);
    while s.len() < target {
        s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len() as u64) as usize]);
    }
    let mut cut = s.len().min(hi);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// Where a commitment stands in the generator's model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Planned,
    InProgress,
    Partial,
    Delivered,
    Stalled,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::InProgress => "in_progress",
            Status::Partial => "partially_delivered",
            Status::Delivered => "delivered",
            Status::Stalled => "stalled",
        }
    }

    /// A legal next status (never `dropped`, so the item keeps taking updates).
    fn next(self, rng: &mut Rng) -> Status {
        let options: &[Status] = match self {
            Status::Planned => &[Status::InProgress, Status::InProgress, Status::Stalled],
            Status::InProgress => &[Status::Partial, Status::Delivered, Status::Stalled],
            Status::Partial => &[Status::Delivered, Status::InProgress],
            Status::Delivered => &[Status::Partial, Status::InProgress],
            Status::Stalled => &[Status::InProgress, Status::Partial],
        };
        options[rng.below(options.len() as u64) as usize]
    }
}

#[derive(Clone, Debug)]
struct Open {
    id: ItemId,
    source: u32,
    lead: usize,
    partners: Vec<ActorId>,
    status: Status,
    /// The item's next stream version.
    next_entry: u64,
    /// Events still to come.
    remaining: u32,
}

/// A deterministic, endless stream of legal commands.
pub struct Workload {
    rng: Rng,
    ns: String,
    queue: VecDeque<(ActorId, Command)>,
    open: Vec<Open>,
    /// Open items per source, and whether its feedback was recorded.
    sources: HashMap<u32, (u32, bool)>,
    next_source: u32,
    /// How many items are kept open at once (how much the streams interleave).
    window: usize,
    departments: Vec<ActorId>,
    counterparts: Vec<ActorId>,
    office: ActorId,
}

impl Workload {
    /// A workload whose ids start with `ns` (empty for the main import). With `preamble`, it begins by
    /// opening the ledger, registering the twelve seed areas and the actors.
    pub fn new(seed: u64, ns: &str, preamble: bool) -> Workload {
        let mut w = Workload {
            rng: Rng::new(seed),
            ns: ns.to_string(),
            queue: VecDeque::new(),
            open: Vec::new(),
            sources: HashMap::new(),
            next_source: 0,
            window: 600,
            departments: DEPARTMENTS.iter().map(|(i, _)| id(i)).collect(),
            counterparts: COUNTERPARTS.iter().map(|(i, _)| id(i)).collect(),
            office: id(OFFICE),
        };
        if preamble {
            w.preamble();
        }
        w
    }

    fn preamble(&mut self) {
        let admin: ActorId = id(ADMIN);
        let opened = OpenLedger {
            title: "京澳合作承诺台账（基准测试）".into(),
            origin: "bench.example/commitments".into(),
            utc_offset_minutes: 480,
            admin: admin.clone(),
            admin_name: "台账管理员".into(),
            vocabulary: Vocabulary::default_v1(),
            admin_key: None,
        };
        self.queue.push_back((admin.clone(), Command::Open(opened)));
        for e in RegisterArea::seed() {
            self.queue.push_back((admin.clone(), Command::RegisterArea(e)));
        }
        let mut actors = vec![(OFFICE, "北京市人民政府港澳事务办公室", Role::Office)];
        actors.extend(DEPARTMENTS.iter().map(|(i, n)| (*i, *n, Role::Department)));
        actors.extend(COUNTERPARTS.iter().map(|(i, n)| (*i, *n, Role::Counterpart)));
        actors.extend(DEPUTIES.iter().map(|(i, n)| (*i, *n, Role::Deputy)));
        for (i, name, role) in actors {
            let e = RegisterActor { id: id(i), name: name.into(), name_en: None, role, public_key: None };
            self.queue.push_back((admin.clone(), Command::RegisterActor(e)));
        }
    }

    /// Queues a new reply and its commitments.
    fn new_source(&mut self) {
        let n = self.next_source;
        self.next_source += 1;
        let source: SourceId = id(&format!("{}reply-{n:05}", self.ns));
        let deputy = DEPUTIES[self.rng.below(DEPUTIES.len() as u64) as usize].0;
        let e = RecordSource {
            id: source.clone(),
            kind: SourceKind::Reply,
            number: Some(format!("{n:04}")),
            title: format!("关于第{n:04}号建议的答复"),
            title_en: None,
            session: Some("北京市第十六届人民代表大会第二次会议".into()),
            date: Date::Year(2023),
            issuer: self.office.clone(),
            addressee: Some(id(deputy)),
            contributors: self.departments[..3].to_vec(),
            digest: Some(format!("blake3:{}", commitment_ledger::Hash([n as u8; 32]))),
        };
        self.queue.push_back((self.office.clone(), Command::RecordSource(e)));
        let items = self.rng.range(20, 40) as u32;
        for k in 0..items {
            let lead = self.rng.below(self.departments.len() as u64) as usize;
            let mut partners = Vec::new();
            for _ in 0..self.rng.below(3) {
                let p = if self.rng.chance(50) {
                    self.counterparts[self.rng.below(self.counterparts.len() as u64) as usize].clone()
                } else {
                    self.departments[self.rng.below(self.departments.len() as u64) as usize].clone()
                };
                if p != self.departments[lead] && !partners.contains(&p) {
                    partners.push(p);
                }
            }
            let kind = match self.rng.below(10) {
                0 => Kind::Achieved,
                1..=4 => Kind::Ongoing,
                _ => Kind::Planned,
            };
            let status = match kind {
                Kind::Achieved => Status::Delivered,
                Kind::Ongoing => Status::InProgress,
                Kind::Planned => Status::Planned,
            };
            let area = SEED_AREAS[self.rng.below(SEED_AREAS.len() as u64) as usize].0;
            let item: ItemId = id(&format!("{}{n:05}-{k:02}", self.ns));
            let title = TITLES[self.rng.below(TITLES.len() as u64) as usize];
            let c = NewCommitment {
                id: item.clone(),
                source: Some(source.clone()),
                section: Some(format!("{}、", k + 1)),
                area: AreaId::new(area).expect("seed area"),
                lead: self.departments[lead].clone(),
                partners: partners.clone(),
                title: title.into(),
                title_en: None,
                text: text(&mut self.rng, 100, 600),
                kind,
                on: (kind != Kind::Planned).then_some(Date::Year(2023)),
                due: Some(Date::Month(2024 + self.rng.below(4) as u16, 1 + self.rng.below(12) as u8)),
            };
            self.queue.push_back((self.office.clone(), Command::RecordCommitment(c)));
            // About twenty events per item in all: this one and 10 to 28 more.
            let remaining = self.rng.range(10, 28) as u32;
            self.open.push(Open { id: item, source: n, lead, partners, status, next_entry: 1, remaining });
        }
        self.sources.insert(n, (items, false));
    }

    /// Queues the next event of a random open item.
    fn update(&mut self) {
        let i = self.rng.below(self.open.len() as u64) as usize;
        let lead = self.departments[self.open[i].lead].clone();
        let roll = self.rng.below(1000);
        let it = &self.open[i];
        let item = it.id.clone();
        let (actor, command) = match roll {
            0..=649 => {
                // Progress, by the lead or a partner.
                let actor = if !it.partners.is_empty() && self.rng.chance(25) {
                    it.partners[self.rng.below(it.partners.len() as u64) as usize].clone()
                } else {
                    lead
                };
                let evidence = self.rng.chance(30).then(|| format!("京澳办函〔2024〕{}号", self.rng.below(500)));
                (actor, Command::ReportProgress { item, text: text(&mut self.rng, 100, 600), on: None, evidence })
            }
            650..=799 => {
                let (name, unit) = INDICATORS[self.rng.below(INDICATORS.len() as u64) as usize];
                let value = if self.rng.chance(50) {
                    self.rng.range(1, 5000).to_string()
                } else {
                    format!("{}.{}", self.rng.range(1, 90), self.rng.below(10))
                };
                let e = RecordIndicator {
                    item,
                    name: name.into(),
                    value,
                    unit: unit.map(str::to_string),
                    approximate: self.rng.chance(30),
                    as_of: None,
                };
                (lead, Command::RecordIndicator(e))
            }
            800..=929 => {
                let to = it.status.next(&mut self.rng);
                self.open[i].status = to;
                let command = Command::ChangeStatus {
                    item,
                    to: Code::new(to.code()).expect("status code"),
                    reason: text(&mut self.rng, 100, 300),
                    on: None,
                };
                (lead, command)
            }
            930..=969 if it.next_entry > 1 => {
                let entry = StreamVersion(self.rng.range(1, it.next_entry - 1));
                let e = Correct {
                    item,
                    entry,
                    text: Some(text(&mut self.rng, 100, 400)),
                    value: None,
                    reason: "经核实，原报告数据统计口径有误，予以更正。".into(),
                };
                (lead, Command::Correct(e))
            }
            930..=989 => {
                let e = Amend {
                    item,
                    title: None,
                    title_en: None,
                    text: None,
                    due: Some(Date::Month(2025 + self.rng.below(3) as u16, 1 + self.rng.below(12) as u8)),
                    area: None,
                    reason: "根据工作进展调整完成时限。".into(),
                };
                (lead, Command::Amend(e))
            }
            _ => {
                let old = it.lead;
                let mut new = self.rng.below(self.departments.len() as u64) as usize;
                while new == old || it.partners.contains(&self.departments[new]) {
                    new = (new + 1) % self.departments.len();
                }
                self.open[i].lead = new;
                let command = Command::Reassign {
                    item,
                    lead: self.departments[new].clone(),
                    partners: None,
                    reason: "因机构职能调整，牵头单位变更。".into(),
                };
                (self.office.clone(), command)
            }
        };
        self.queue.push_back((actor, command));
        let it = &mut self.open[i];
        it.next_entry += 1;
        it.remaining -= 1;
        if it.remaining == 0 {
            let source = it.source;
            self.open.swap_remove(i);
            self.item_closed(source);
        }
    }

    /// When a reply's first item is done, its deputy gives feedback; when its last one is, the office
    /// categorizes the reply.
    fn item_closed(&mut self, n: u32) {
        let source: SourceId = id(&format!("{}reply-{n:05}", self.ns));
        let Some(entry) = self.sources.get_mut(&n) else { return };
        entry.0 -= 1;
        if !entry.1 {
            entry.1 = true;
            let verdict = ["satisfied", "basically_satisfied", "dissatisfied"][self.rng.below(3) as usize];
            let deputy = DEPUTIES[(n as usize) % DEPUTIES.len()].0;
            let e = RecordFeedback {
                source: source.clone(),
                verdict: Code::new(verdict).expect("verdict code"),
                text: Some(text(&mut self.rng, 100, 300)),
                on: None,
            };
            // The office records it for the deputy (the deputy may not be the addressee).
            let _ = deputy;
            self.queue.push_back((self.office.clone(), Command::RecordFeedback(e)));
        }
        if entry.0 == 0 {
            self.sources.remove(&n);
            let category = ["a", "b", "c"][self.rng.below(3) as usize];
            let e = Categorize {
                source,
                category: Code::new(category).expect("category code"),
                reason: Some("根据承诺事项办理情况确定。".into()),
            };
            self.queue.push_back((self.office.clone(), Command::Categorize(e)));
        }
    }
}

impl Iterator for Workload {
    type Item = (ActorId, Command);

    fn next(&mut self) -> Option<(ActorId, Command)> {
        while self.queue.is_empty() {
            if self.open.len() < self.window {
                self.new_source();
            } else {
                self.update();
            }
        }
        self.queue.pop_front()
    }
}

/// An import document (TOML, `schema/import.schema.json`) of one reply holding `n` commitments spread
/// over the seed's areas and the departments, a third of them with a figure.
pub fn document(seed: u64, n: usize) -> String {
    use std::fmt::Write as _;
    let mut rng = Rng::new(seed);
    let mut doc = String::from("format = \"commitment-ledger import v1\"\n\n[source]\n");
    doc.push_str(
        "id = \"bench-reply\"\nkind = \"reply\"\nnumber = \"9999\"\ntitle = \"关于深化京澳合作的建议的答复\"\n",
    );
    doc.push_str(&format!("date = \"2024-05\"\nissuer = \"{OFFICE}\"\naddressee = \"{}\"\n", DEPUTIES[0].0));
    let actors = std::iter::once((OFFICE, "北京市人民政府港澳事务办公室", "office"))
        .chain(DEPARTMENTS.iter().map(|(i, name)| (*i, *name, "department")))
        .chain(COUNTERPARTS.iter().map(|(i, name)| (*i, *name, "counterpart")))
        .chain(std::iter::once((DEPUTIES[0].0, DEPUTIES[0].1, "deputy")));
    for (id, name, role) in actors {
        let _ = write!(doc, "\n[[actors]]\nid = \"{id}\"\nname = \"{name}\"\nrole = \"{role}\"\n");
    }
    for k in 0..n {
        let area = SEED_AREAS[rng.below(SEED_AREAS.len() as u64) as usize].0;
        let lead = DEPARTMENTS[rng.below(DEPARTMENTS.len() as u64) as usize].0;
        let partner = COUNTERPARTS[rng.below(COUNTERPARTS.len() as u64) as usize].0;
        let title = TITLES[rng.below(TITLES.len() as u64) as usize];
        let (kind, date) = match rng.below(3) {
            0 => ("achieved", "on = \"2023年底\""),
            1 => ("ongoing", "due = \"2025-06\""),
            _ => ("planned", "due = \"2026\""),
        };
        let text = text(&mut rng, 100, 600);
        let _ = write!(
            doc,
            "\n[[commitments]]\nid = \"c-{k:05}\"\nsection = \"{}、\"\narea = \"{area}\"\nlead = \"{lead}\"\n\
             partners = [\"{partner}\"]\nkind = \"{kind}\"\n{date}\ntitle = \"{title}\"\ntext = \"{text}\"\n",
            k % 9 + 1
        );
        if k % 3 == 0 {
            let _ = write!(doc, "\n[[commitments.figures]]\nname = \"bonds\"\nvalue = {}\nunit = \"USD\"\n", 1000 + k);
        }
    }
    doc
}
