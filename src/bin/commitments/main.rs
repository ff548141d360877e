//! `commitments`: the command-line shell over the commitment ledger. Each subcommand makes one
//! library call and prints the result, as a table or (with `--json`) as one JSON document.
//!
//! Exit codes: 0 success; 1 the ledger (or a bundle, or a projection) is unsound; 2 bad usage or bad
//! input; 3 I/O or storage failure.

mod render;

/// sled allocates and frees many small buffers; glibc's allocator fragments under that load and
/// bulk appends slow down as the heap grows. mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};
use commitment_ledger::date::{Timestamp, parse_utc_offset};
use commitment_ledger::event::{
    ActorRegistered, AreaRegistered, CommitmentAmended, EntryCorrected, FeedbackRecorded, IndicatorRecorded,
    LedgerOpened, SourceCategorized, SourceRecorded,
};
use commitment_ledger::ledger::Until;
use commitment_ledger::store::StoreError;
use commitment_ledger::view::ItemFilter;
use commitment_ledger::vocab::{Kind, Role, SourceKind, Vocabulary};
use commitment_ledger::{
    Code, Command, Date, Hash, ItemId, Ledger, LedgerError, NewCommitment, Seq, SourceId, StateRead, StreamVersion,
};
use commitment_ledger::{demo, export, import};
use std::path::PathBuf;
use std::process::ExitCode;

/// A tamper-evident, event-sourced ledger of public commitments and every update to them.
#[derive(Parser, Debug)]
#[command(name = "commitments", version, about, long_about = None)]
struct Cli {
    /// The ledger directory [default: ./ledger; for `demo`, a new directory in the temp dir].
    #[arg(long, global = true, env = "COMMITMENTS_LEDGER")]
    ledger: Option<PathBuf>,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    json: bool,
    /// Prefer English titles and names where the ledger has them.
    #[arg(long, global = true)]
    english: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
enum Cmd {
    /// The main job on the embedded seed: create a fresh ledger, import the real reply No. 0771
    /// (Beijing–Macao cooperation), append a simulated year of updates, verify, and print summaries.
    Demo,
    /// Create a ledger: record 0 (title, origin, time zone, administrator, vocabularies) and the
    /// twelve cooperation areas of the seed reply.
    Init {
        /// The ledger's title.
        #[arg(long)]
        title: String,
        /// The log's unique name, used in checkpoints (default: derived from the title and time).
        #[arg(long)]
        origin: Option<String>,
        /// The jurisdiction's UTC offset, for dates and "today".
        #[arg(long, default_value = "+08:00")]
        utc_offset: String,
        /// The administrator's actor id.
        #[arg(long, default_value = "admin")]
        admin: String,
        /// The administrator's name.
        #[arg(long, default_value = "Ledger administrator")]
        admin_name: String,
        /// Do not register the twelve seed areas.
        #[arg(long)]
        no_default_areas: bool,
    },
    /// Register or list actors (the office, departments, counterparts, deputies, auditors).
    Actor {
        #[command(subcommand)]
        command: ActorCmd,
    },
    /// Register or list cooperation areas.
    Area {
        #[command(subcommand)]
        command: AreaCmd,
    },
    /// Record or list source documents (replies, memoranda, agreements, meetings).
    Source {
        #[command(subcommand)]
        command: SourceCmd,
    },
    /// Record a commitment.
    Record {
        /// The item's id (a-z, 0-9, '.', '_', '-').
        id: String,
        /// The lead department.
        #[arg(long)]
        lead: String,
        /// The cooperation area.
        #[arg(long)]
        area: String,
        /// A short title, in the source's language.
        #[arg(long)]
        title: String,
        /// A short English title.
        #[arg(long)]
        title_en: Option<String>,
        /// The wording, exactly as in the source (default: the title).
        #[arg(long)]
        text: Option<String>,
        /// How the source states it.
        #[arg(long, default_value = "planned", value_parser = ["planned", "ongoing", "achieved"])]
        kind: String,
        /// When it is due (2024, 2024-06, 2024-06-30, 2024年6月).
        #[arg(long)]
        due: Option<String>,
        /// When it was done or started, as the source says.
        #[arg(long)]
        on: Option<String>,
        /// A department or counterpart that helps (repeatable).
        #[arg(long = "partner")]
        partners: Vec<String>,
        /// The source document it comes from.
        #[arg(long)]
        source: Option<String>,
        /// The section of the source.
        #[arg(long)]
        section: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Report progress on an item.
    Progress {
        /// The item.
        id: String,
        /// What happened.
        #[arg(long)]
        text: String,
        /// When it happened (default: today).
        #[arg(long)]
        on: Option<String>,
        /// A reference to the evidence (document number, URL).
        #[arg(long)]
        evidence: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Change an item's status (planned, in_progress, delivered, partially_delivered, stalled, dropped).
    Status {
        /// The item.
        id: String,
        /// The new status.
        status: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// When the change took effect.
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Record a figure for an item (a count, an amount).
    Indicator {
        /// The item.
        id: String,
        /// What is counted.
        #[arg(long)]
        name: String,
        /// The value, a decimal number (4, 2300000000, 2.3).
        #[arg(long, allow_hyphen_values = true)]
        value: String,
        /// The unit.
        #[arg(long)]
        unit: Option<String>,
        /// The date the value holds for.
        #[arg(long)]
        as_of: Option<String>,
        /// The value is approximate (约).
        #[arg(long)]
        approx: bool,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Amend an item's title, wording, due date or area, with a reason.
    Amend {
        /// The item.
        id: String,
        /// New title.
        #[arg(long)]
        title: Option<String>,
        /// New English title.
        #[arg(long)]
        title_en: Option<String>,
        /// New wording.
        #[arg(long)]
        text: Option<String>,
        /// New due date.
        #[arg(long)]
        due: Option<String>,
        /// New area.
        #[arg(long)]
        area: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Give an item a new lead (and, with --partner, new partners), with a reason.
    Reassign {
        /// The item.
        id: String,
        /// The new lead.
        #[arg(long)]
        lead: String,
        /// The new partners (repeatable; replaces the old list).
        #[arg(long = "partner")]
        partners: Vec<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Correct an earlier entry of an item (named by its number in `history`), with a reason.
    Correct {
        /// The item.
        id: String,
        /// The entry's number (its stream version, shown by `history`).
        #[arg(long)]
        entry: u64,
        /// The corrected text.
        #[arg(long)]
        text: Option<String>,
        /// The corrected value.
        #[arg(long, allow_hyphen_values = true)]
        value: Option<String>,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Record the addressee's verdict on a reply (satisfied, basically_satisfied, dissatisfied).
    Feedback {
        /// The reply.
        source: String,
        /// The verdict.
        verdict: String,
        /// What the deputy said.
        #[arg(long)]
        text: Option<String>,
        /// When.
        #[arg(long)]
        on: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Put a reply in a handling category (a, b, c, d).
    Category {
        /// The reply.
        source: String,
        /// The category.
        category: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Show one item: its state, figures and latest progress.
    Show {
        /// The item.
        id: String,
        #[command(flatten)]
        at: AsOfArg,
    },
    /// List items.
    List {
        /// Only this area.
        #[arg(long)]
        area: Option<String>,
        /// Only items this actor leads.
        #[arg(long)]
        lead: Option<String>,
        /// Only items this actor leads or helps with.
        #[arg(long)]
        involving: Option<String>,
        /// Only this status.
        #[arg(long)]
        status: Option<String>,
        /// Only items from this source.
        #[arg(long)]
        source: Option<String>,
        /// Only overdue items.
        #[arg(long)]
        overdue: bool,
        #[command(flatten)]
        at: AsOfArg,
    },
    /// Summaries by area, by department and by source.
    Summary {
        #[command(flatten)]
        at: AsOfArg,
    },
    /// Every record of one item, oldest first.
    History {
        /// The item.
        id: String,
    },
    /// Records of the log, in order.
    Log {
        /// The first seq.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Import a document (TOML or JSON, see schema/import.schema.json): its source, actors, areas,
    /// commitments and figures, in one durable all-or-nothing batch. Importing the same document again
    /// appends nothing; a changed version appends amendments with its [revision] reason.
    Import {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Verify the whole log: links, hashes, sequence, times, streams, the acknowledged head, and that
    /// every event was allowed when appended. Exit code 1 when unsound.
    Verify {
        /// Verify an export bundle (JSON lines) instead of the ledger; needs no ledger directory.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// With --bundle: the hash the last record must have (from a checkpoint or an earlier
        /// `verify`), which catches a bundle whose newest lines were removed.
        #[arg(long, requires = "bundle")]
        head: Option<String>,
    },
    /// Export the whole log as JSON lines (one record a line, with its hash, link and stored bytes)
    /// for offline verification with `verify --bundle`.
    Export {
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rebuild every projection from the log and compare it with the stored one (exit code 1 if they
    /// differ); or show the state as of a record or a date.
    Replay {
        /// Show the state as of this record.
        #[arg(long, conflicts_with = "as_of")]
        to: Option<u64>,
        /// Show the state as of the end of this day (in the ledger's time zone).
        #[arg(long)]
        as_of: Option<String>,
        /// Throw the stored projection away and rebuild it.
        #[arg(long, conflicts_with_all = ["to", "as_of"])]
        rebuild: bool,
    },
}

#[derive(Subcommand, Debug)]
enum ActorCmd {
    /// Register an actor.
    Add {
        /// Its id.
        id: String,
        /// Its name (as it writes it).
        #[arg(long)]
        name: String,
        /// Its English name.
        #[arg(long)]
        name_en: Option<String>,
        /// What it may do.
        #[arg(long, default_value = "department", value_parser = ["office", "department", "counterpart", "deputy", "auditor"])]
        role: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// List actors.
    List,
}

#[derive(Subcommand, Debug)]
enum AreaCmd {
    /// Register an area.
    Add {
        /// Its id.
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
        /// Its English name.
        #[arg(long)]
        name_en: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// List areas.
    List,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
enum SourceCmd {
    /// Record a source document.
    Add {
        /// Its id.
        id: String,
        /// Its title.
        #[arg(long)]
        title: String,
        /// Its English title.
        #[arg(long)]
        title_en: Option<String>,
        /// When it was issued.
        #[arg(long)]
        date: String,
        /// What kind of document it is.
        #[arg(long, default_value = "reply", value_parser = ["reply", "memorandum", "agreement", "meeting", "other"])]
        kind: String,
        /// Its number as printed.
        #[arg(long)]
        number: Option<String>,
        /// The session or occasion.
        #[arg(long)]
        session: Option<String>,
        /// Who issued it (default: the acting actor).
        #[arg(long)]
        issuer: Option<String>,
        /// The deputy it is addressed to.
        #[arg(long)]
        addressee: Option<String>,
        /// A department that drafted it with the issuer (repeatable).
        #[arg(long = "contributor")]
        contributors: Vec<String>,
        /// A file holding the signed text; its BLAKE3 digest is recorded.
        #[arg(long)]
        text_file: Option<PathBuf>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// List sources with their category and feedback.
    List,
}

#[derive(Args, Debug)]
struct ActorArg {
    /// Who appends (default: the item's lead for progress, status, figures and corrections; the
    /// administrator otherwise).
    #[arg(long, env = "COMMITMENTS_ACTOR")]
    actor: Option<String>,
}

#[derive(Args, Debug)]
struct AsOfArg {
    /// Show the state as of the end of this day (in the ledger's time zone) instead of now.
    #[arg(long)]
    as_of: Option<String>,
}

/// A failure with its exit code.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn input(message: impl Into<String>) -> Failure {
        Failure { code: 2, message: message.into() }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Failure {
        let code = match &e {
            LedgerError::Rejected { .. } => 2,
            // An unreadable record is evidence that the ledger is unsound, as `verify` would say.
            LedgerError::Corrupt { .. } => 1,
            LedgerError::Store(StoreError::Missing(_) | StoreError::NotALedger { .. }) => 2,
            _ => 3,
        };
        Failure { code, message: e.to_string() }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::from(LedgerError::Store(e))
    }
}

type Outcome = Result<ExitCode, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn id<T: std::str::FromStr<Err = commitment_ledger::ids::IdError>>(field: &str, s: &str) -> Result<T, Failure> {
    s.parse().map_err(|e| Failure::input(format!("{field}: {s:?} {e}")))
}

fn ids<T: std::str::FromStr<Err = commitment_ledger::ids::IdError>>(
    field: &str,
    v: &[String],
) -> Result<Vec<T>, Failure> {
    v.iter().map(|s| id(field, s)).collect()
}

fn date(field: &str, s: &Option<String>) -> Result<Option<Date>, Failure> {
    s.as_deref().map(|s| Date::parse(s).map_err(|e| Failure::input(format!("{field}: {e}")))).transpose()
}

impl Cli {
    /// The ledger directory: `--ledger`, `$COMMITMENTS_LEDGER`, or `./ledger`.
    fn dir(&self) -> PathBuf {
        self.ledger.clone().unwrap_or_else(|| PathBuf::from("./ledger"))
    }
}

fn open(cli: &Cli) -> Result<Ledger, Failure> {
    Ok(Ledger::open(&cli.dir())?)
}

/// Appends one command as `actor` (or the default actor) and prints what was written.
fn append(cli: &Cli, actor: &ActorArg, command: Command) -> Outcome {
    let mut ledger = open(cli)?;
    let actor = match &actor.actor {
        Some(a) => id("actor", a)?,
        None => ledger.default_actor(&command)?.ok_or_else(|| Failure::input("the ledger is not initialized"))?,
    };
    let appended = ledger.append(&actor, command)?;
    let offset = ledger.registry().utc_offset();
    render::appended(cli.json, &[appended], offset);
    ledger.close()?;
    Ok(ExitCode::SUCCESS)
}

fn run(cli: Cli) -> Outcome {
    match &cli.command {
        Cmd::Demo => {
            let dir = match &cli.ledger {
                Some(dir) => {
                    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
                        return Err(Failure::input(format!(
                            "ledger: {} is not empty; the demo needs a new directory",
                            dir.display()
                        )));
                    }
                    dir.clone()
                }
                None => std::env::temp_dir().join(format!("commitments-demo-{}", Timestamp::now().0)),
            };
            if !cli.json {
                println!("Creating a fresh ledger at {}\n", dir.display());
            }
            let mut ledger = Ledger::create(&dir)?;
            let run = demo::run(&mut ledger).map_err(|e| match e {
                demo::DemoError::Ledger(e) => Failure::from(e),
                e => Failure { code: 3, message: e.to_string() },
            })?;
            let today = Timestamp::now().day(ledger.registry().utc_offset());
            let registry = ledger.registry().clone();
            let vocab = render::vocab(&registry);
            let mut b = commitment_ledger::summary::SummaryBuilder::new(&registry, &vocab, today);
            ledger.for_each_item(&mut |i| b.add(i))?;
            let showcase = ItemId::new(demo::SHOWCASE_ITEM).expect("valid");
            let history = ledger.history(&showcase)?.unwrap_or_default();
            render::demo(cli.json, cli.english, &dir, &run, &registry, &b.finish(), &history);
            ledger.close()?;
            Ok(if run.report.ok && run.projection_differences.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Cmd::Init { title, origin, utc_offset, admin, admin_name, no_default_areas } => {
            let utc_offset_minutes = parse_utc_offset(utc_offset)
                .ok_or_else(|| Failure::input(format!("utc-offset: {utc_offset:?} is not like +08:00")))?;
            let origin = origin.clone().unwrap_or_else(|| default_origin(title));
            let opened = LedgerOpened {
                title: title.clone(),
                origin,
                utc_offset_minutes,
                admin: id("admin", admin)?,
                admin_name: admin_name.clone(),
                vocabulary: Vocabulary::default_v1(),
            };
            let areas = if *no_default_areas { Vec::new() } else { RegisterArea::seed() };
            let dir = cli.dir();
            let existed = dir.exists();
            let fresh = std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_none());
            let mut ledger = Ledger::create(&dir)?;
            let appended = match ledger.init(opened, areas) {
                Ok(appended) => appended,
                Err(e) => {
                    // A refused init into a new directory leaves no empty store behind.
                    if fresh && ledger.head().is_none() {
                        drop(ledger);
                        remove_new_store(&dir, existed);
                    }
                    return Err(e.into());
                }
            };
            render::appended(cli.json, &appended, utc_offset_minutes);
            if !cli.json {
                println!("ledger created at {}", cli.dir().display());
            }
            ledger.close()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Actor { command: ActorCmd::Add { id: actor_id, name, name_en, role, actor } } => {
            let role = Role::parse(role).ok_or_else(|| Failure::input(format!("role: {role:?} is unknown")))?;
            let e = ActorRegistered { id: id("id", actor_id)?, name: name.clone(), name_en: name_en.clone(), role };
            append(&cli, actor, Command::RegisterActor(e))
        }
        Cmd::Actor { command: ActorCmd::List } => {
            let ledger = open(&cli)?;
            render::actors(cli.json, cli.english, ledger.registry());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Area { command: AreaCmd::Add { id: area_id, name, name_en, actor } } => {
            let e = AreaRegistered { id: id("id", area_id)?, name: name.clone(), name_en: name_en.clone() };
            append(&cli, actor, Command::RegisterArea(e))
        }
        Cmd::Area { command: AreaCmd::List } => {
            let ledger = open(&cli)?;
            render::areas(cli.json, cli.english, ledger.registry());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Source {
            command:
                SourceCmd::Add {
                    id: source_id,
                    title,
                    title_en,
                    date: issued,
                    kind,
                    number,
                    session,
                    issuer,
                    addressee,
                    contributors,
                    text_file,
                    actor,
                },
        } => {
            let digest = match text_file {
                Some(path) => {
                    let bytes = std::fs::read(path)
                        .map_err(|e| Failure::input(format!("text-file: cannot read {}: {e}", path.display())))?;
                    Some(format!("blake3:{}", blake3::hash(&bytes).to_hex()))
                }
                None => None,
            };
            let issuer = match (issuer, &actor.actor) {
                (Some(i), _) | (None, Some(i)) => id("issuer", i)?,
                (None, None) => {
                    let ledger = open(&cli)?;
                    let admin = ledger.registry().info().map(|i| i.admin.clone());
                    admin.ok_or_else(|| Failure::input("the ledger is not initialized"))?
                }
            };
            let e = SourceRecorded {
                id: id("id", source_id)?,
                kind: SourceKind::parse(kind).ok_or_else(|| Failure::input(format!("kind: {kind:?} is unknown")))?,
                number: number.clone(),
                title: title.clone(),
                title_en: title_en.clone(),
                session: session.clone(),
                date: date("date", &Some(issued.clone()))?.expect("given"),
                issuer,
                addressee: addressee.as_deref().map(|a| id("addressee", a)).transpose()?,
                contributors: ids("contributor", contributors)?,
                digest,
            };
            append(&cli, actor, Command::RecordSource(e))
        }
        Cmd::Source { command: SourceCmd::List } => {
            let ledger = open(&cli)?;
            render::sources(cli.json, cli.english, ledger.registry());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Record {
            id: item_id,
            lead,
            area,
            title,
            title_en,
            text,
            kind,
            due,
            on,
            partners,
            source,
            section,
            actor,
        } => {
            let c = NewCommitment {
                id: id("id", item_id)?,
                source: source.as_deref().map(|s| id("source", s)).transpose()?,
                section: section.clone(),
                area: id("area", area)?,
                lead: id("lead", lead)?,
                partners: ids("partner", partners)?,
                title: title.clone(),
                title_en: title_en.clone(),
                text: text.clone().unwrap_or_else(|| title.clone()),
                kind: Kind::parse(kind).expect("clap checked the kind"),
                on: date("on", on)?,
                due: date("due", due)?,
            };
            append(&cli, actor, Command::RecordCommitment(c))
        }
        Cmd::Progress { id: item_id, text, on, evidence, actor } => {
            let c = Command::ReportProgress {
                item: id("id", item_id)?,
                text: text.clone(),
                on: date("on", on)?,
                evidence: evidence.clone(),
            };
            append(&cli, actor, c)
        }
        Cmd::Status { id: item_id, status, reason, on, actor } => {
            let c = Command::ChangeStatus {
                item: id("id", item_id)?,
                to: id::<Code>("status", status)?,
                reason: reason.clone(),
                on: date("on", on)?,
            };
            append(&cli, actor, c)
        }
        Cmd::Indicator { id: item_id, name, value, unit, as_of, approx, actor } => {
            let e = IndicatorRecorded {
                item: id("id", item_id)?,
                name: name.clone(),
                value: value.clone(),
                unit: unit.clone(),
                approximate: *approx,
                as_of: date("as-of", as_of)?,
            };
            append(&cli, actor, Command::RecordIndicator(e))
        }
        Cmd::Amend { id: item_id, title, title_en, text, due, area, reason, actor } => {
            let e = CommitmentAmended {
                item: id("id", item_id)?,
                title: title.clone(),
                title_en: title_en.clone(),
                text: text.clone(),
                due: date("due", due)?,
                area: area.as_deref().map(|a| id("area", a)).transpose()?,
                reason: reason.clone(),
            };
            append(&cli, actor, Command::Amend(e))
        }
        Cmd::Reassign { id: item_id, lead, partners, reason, actor } => {
            let c = Command::Reassign {
                item: id("id", item_id)?,
                lead: id("lead", lead)?,
                partners: if partners.is_empty() { None } else { Some(ids("partner", partners)?) },
                reason: reason.clone(),
            };
            append(&cli, actor, c)
        }
        Cmd::Correct { id: item_id, entry, text, value, reason, actor } => {
            let e = EntryCorrected {
                item: id("id", item_id)?,
                entry: StreamVersion(*entry),
                text: text.clone(),
                value: value.clone(),
                reason: reason.clone(),
            };
            append(&cli, actor, Command::Correct(e))
        }
        Cmd::Feedback { source, verdict, text, on, actor } => {
            let e = FeedbackRecorded {
                source: id::<SourceId>("source", source)?,
                verdict: id("verdict", verdict)?,
                text: text.clone(),
                on: date("on", on)?,
            };
            append(&cli, actor, Command::RecordFeedback(e))
        }
        Cmd::Category { source, category, reason, actor } => {
            let e = SourceCategorized {
                source: id("source", source)?,
                category: id("category", category)?,
                reason: reason.clone(),
            };
            append(&cli, actor, Command::Categorize(e))
        }
        Cmd::Show { id: item_id, at } => {
            let item_id: ItemId = id("id", item_id)?;
            with_state(&cli, at, &mut |state, today| {
                let item = state.item(&item_id)?.ok_or_else(|| Failure::input(format!("unknown item {item_id:?}")))?;
                render::item(cli.json, cli.english, state.registry(), &item, today);
                Ok(())
            })
        }
        Cmd::List { area, lead, involving, status, source, overdue, at } => {
            let filter = ItemFilter {
                area: area.as_deref().map(|a| id("area", a)).transpose()?,
                lead: lead.as_deref().map(|a| id("lead", a)).transpose()?,
                involving: involving.as_deref().map(|a| id("involving", a)).transpose()?,
                status: status.as_deref().map(|a| id("status", a)).transpose()?,
                source: source.as_deref().map(|a| id("source", a)).transpose()?,
                overdue: *overdue,
            };
            with_state(&cli, at, &mut |state, today| {
                let vocab = render::vocab(state.registry());
                let mut items = Vec::new();
                state.for_each_item(&mut |i| {
                    if filter.matches(i, &vocab, today) {
                        items.push(i.clone());
                    }
                })?;
                render::items(cli.json, cli.english, state.registry(), &items, today);
                Ok(())
            })
        }
        Cmd::Summary { at } => with_state(&cli, at, &mut |state, today| {
            let registry = state.registry().clone();
            let vocab = render::vocab(&registry);
            let mut b = commitment_ledger::summary::SummaryBuilder::new(&registry, &vocab, today);
            state.for_each_item(&mut |i| b.add(i))?;
            render::summary(cli.json, cli.english, &registry, &b.finish());
            Ok(())
        }),
        Cmd::History { id: item_id } => {
            let item_id: ItemId = id("id", item_id)?;
            let mut ledger = open(&cli)?;
            let history =
                ledger.history(&item_id)?.ok_or_else(|| Failure::input(format!("unknown item {item_id:?}")))?;
            render::records(cli.json, ledger.registry().utc_offset(), &history, true);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Log { from, limit } => {
            let ledger = open(&cli)?;
            let mut out = Vec::new();
            ledger.for_each_record(Seq(*from), &mut |rec, hash| {
                if out.len() as u64 >= *limit {
                    return std::ops::ControlFlow::Break(());
                }
                out.push((rec.clone(), hash));
                std::ops::ControlFlow::Continue(())
            })?;
            render::records(cli.json, ledger.registry().utc_offset(), &out, false);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Import { file, actor } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure::input(format!("{}: cannot read: {e}", file.display())))?;
            let doc = import::parse(&text).map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
            let mut ledger = open(&cli)?;
            let actor = match &actor.actor {
                Some(a) => id("actor", a)?,
                None => ledger
                    .registry()
                    .info()
                    .map(|i| i.admin.clone())
                    .ok_or_else(|| Failure::input("the ledger is not initialized"))?,
            };
            let outcome = import::import(&mut ledger, &actor, &doc).map_err(|e| match e {
                import::ImportError::Ledger(e) => Failure::from(*e),
                e => Failure::input(format!("{}: {e}", file.display())),
            })?;
            render::imported(cli.json, &doc.source.id, &outcome, ledger.registry().utc_offset());
            ledger.close()?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { bundle: Some(path), head } => {
            let expected = head
                .as_deref()
                .map(|h| Hash::from_hex(h).ok_or_else(|| Failure::input(format!("head: {h:?} is not 64 hex digits"))))
                .transpose()?;
            let file = std::fs::File::open(path)
                .map_err(|e| Failure::input(format!("bundle: cannot read {}: {e}", path.display())))?;
            let bar = render::progress_bar(None, "verifying bundle");
            let mut input = std::io::BufReader::with_capacity(1 << 20, file);
            let report = export::verify_bundle(&mut input, expected, &mut |n| bar.set_position(n))
                .map_err(|e| Failure { code: 3, message: format!("bundle: {}: {e}", path.display()) })?;
            bar.finish_and_clear();
            render::report(cli.json, &report);
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Cmd::Export { out } => {
            let ledger = open(&cli)?;
            let total = ledger.head().map_or(0, |h| h.seq.0 + 1);
            match out {
                Some(path) => {
                    let file = std::fs::File::create(path).map_err(|e| Failure {
                        code: 3,
                        message: format!("out: cannot create {}: {e}", path.display()),
                    })?;
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                    let bar = render::progress_bar(Some(total), "exporting");
                    let n = export::export(&ledger, &mut w, &mut |n| bar.set_position(n)).map_err(export_failure)?;
                    bar.finish_and_clear();
                    eprintln!("exported {n} records to {}", path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
                    export::export(&ledger, &mut w, &mut |_| {}).map_err(export_failure)?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify { bundle: None, .. } => {
            let ledger = open(&cli)?;
            let bar = render::progress_bar(Some(ledger.head().map_or(0, |h| h.seq.0 + 1)), "verifying");
            let report = ledger.verify(&mut |n| bar.set_position(n))?;
            bar.finish_and_clear();
            render::report(cli.json, &report);
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Cmd::Replay { to, as_of, rebuild } => {
            let mut ledger = open(&cli)?;
            if *rebuild {
                let reached = ledger.rebuild_projection().map_err(|e| match e {
                    LedgerError::Corrupt { .. } => {
                        Failure { code: 1, message: format!("{e}; the projection reflects the records before it") }
                    }
                    e => Failure::from(e),
                })?;
                render::rebuilt(cli.json, reached.map(|s| s.0));
                return Ok(ExitCode::SUCCESS);
            }
            if to.is_some() || as_of.is_some() {
                let offset = ledger.registry().utc_offset();
                let (until, today) = match (to, date("as-of", as_of)?) {
                    (Some(seq), _) => {
                        let time = ledger
                            .record(Seq(*seq))?
                            .ok_or_else(|| Failure::input(format!("to: record {seq} does not exist")))?
                            .0
                            .time;
                        (Until::Seq(Seq(*seq)), time.day(offset))
                    }
                    (None, Some(d)) => (Until::Time(Timestamp::end_of_day(d.last_day(), offset)), d.last_day()),
                    (None, None) => unreachable!("one of them is given"),
                };
                let mut state = ledger.replay(until)?;
                let mut items = Vec::new();
                state.for_each_item(&mut |i| items.push(i.clone()))?;
                let (mark, registry) = (state.mark(), state.registry().clone());
                drop(state);
                render::replayed(cli.json, cli.english, &registry, mark, &items, today);
                return Ok(ExitCode::SUCCESS);
            }
            let differences = ledger.check_projection()?;
            render::projection_check(cli.json, ledger.head().map(|h| h.seq.0), &differences);
            Ok(if differences.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Removes the sled files of a store that `init` created in an empty or new directory and then could
/// not initialize (never called for a directory that held anything before).
fn remove_new_store(dir: &std::path::Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    for name in ["conf", "db", "blobs", "lock"] {
        let path = dir.join(name);
        let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with("snap.") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn export_failure(e: export::ExportError) -> Failure {
    match e {
        export::ExportError::Ledger(e) => Failure::from(e),
        e => Failure { code: 3, message: e.to_string() },
    }
}

/// Runs `f` over the live state (today) or a replay as of the end of a day.
fn with_state(
    cli: &Cli,
    at: &AsOfArg,
    f: &mut dyn FnMut(&mut dyn StateRead, commitment_ledger::date::Day) -> Result<(), Failure>,
) -> Outcome {
    let mut ledger = open(cli)?;
    let offset = ledger.registry().utc_offset();
    match date("as-of", &at.as_of)? {
        None => {
            let today = Timestamp::now().day(offset);
            f(&mut ledger, today)?;
        }
        Some(d) => {
            let day = d.last_day();
            let mut state = ledger.replay(Until::Time(Timestamp::end_of_day(day, offset)))?;
            f(&mut state, day)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An origin for a new ledger: a readable slug of the title (ASCII part) and a unique suffix.
fn default_origin(title: &str) -> String {
    let seed = format!("{title}\n{}", Timestamp::now().0);
    let suffix = &blake3::hash(seed.as_bytes()).to_hex()[..12];
    format!("commitment-ledger.local/{suffix}")
}
