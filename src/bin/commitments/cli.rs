//! The command line: every subcommand and flag, with its help text (the doc comments), and the library
//! command each writing subcommand stands for. Values are typed here ([`crate::value`]), so a bad id or
//! date is refused by clap, naming the argument, before any command runs.

use crate::value::{UtcOffset, field};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use commitment_ledger::At;
use commitment_ledger::{
    ActorId, Amend, AreaId, Categorize, Code, Command, Correct, Date, Hash, ItemId, Kind, NewCommitment, OpenLedger,
    RecordFeedback, RecordIndicator, RecordSource, RegisterActor, RegisterArea, Role, SourceId, SourceKind,
    StreamVersion, Vocabulary,
};
use std::path::PathBuf;

/// A tamper-evident, event-sourced ledger of public commitments and every update to them.
#[derive(Parser, Debug)]
#[command(name = "commitments", version, about, long_about = None)]
pub struct Cli {
    /// The ledger directory [default: ./ledger; for `demo`, a new directory in the temp dir].
    #[arg(long, global = true, env = "COMMITMENTS_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Print one JSON document instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// Prefer English titles and names where the ledger has them.
    #[arg(long, global = true)]
    pub english: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

impl Cli {
    /// The ledger directory: `--ledger`, `$COMMITMENTS_LEDGER`, or `./ledger`.
    pub fn dir(&self) -> PathBuf {
        self.ledger.clone().unwrap_or_else(|| PathBuf::from("./ledger"))
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// The main job on the embedded seed: create a fresh ledger, import the real reply No. 0771
    /// (Beijing–Macao cooperation), append a simulated year of updates, verify, and print summaries.
    Demo,
    /// Create a ledger: record 0 (title, origin, time zone, administrator, vocabularies) and the
    /// twelve cooperation areas of the seed reply.
    Init(InitArgs),
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
    #[command(flatten)]
    Update(UpdateCmd),
    /// Show one item: its state, figures and latest progress.
    Show {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
        #[command(flatten)]
        at: AsOfArg,
    },
    /// List items.
    List {
        #[command(flatten)]
        filter: ListFilter,
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
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
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
    ///
    /// With --at SEQ:HASH (repeatable), also check that records kept from earlier (from a `verify`, a
    /// table or a published checkpoint) still lie on the chain: the record at SEQ exists and hashes
    /// to HASH. This catches a log rewritten or cut back since, and stays true while it grows.
    Verify {
        /// Verify an export bundle (JSON lines) instead of the ledger; needs no ledger directory.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// A record kept from earlier that must still be on the chain: its seq, a colon and its hash
        /// (64 hex digits, or the 16 that tables print), e.g. `--at 22:6c2f3d0e9a1b4c57`. Repeatable.
        #[arg(long = "at", value_name = "SEQ:HASH", allow_hyphen_values = true, value_parser = field::<At>())]
        at: Vec<At>,
        /// Replaced by --at: with --bundle, the hash the bundle's last record must have.
        #[arg(long, requires = "bundle", hide = true, value_parser = field::<Hash>())]
        head: Option<Hash>,
        #[command(flatten)]
        held: HeldTo,
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
        #[arg(long, value_parser = field::<Date>())]
        as_of: Option<Date>,
        /// Throw the stored projection away and rebuild it.
        #[arg(long, conflicts_with_all = ["to", "as_of"])]
        rebuild: bool,
    },
    /// Resolve an unacknowledged tail: records that an append wrote but never acknowledged, because it
    /// was interrupted (a crash, a kill, a full disk) between writing them and acknowledging them.
    /// Appends are refused until an operator decides; `verify` reports them as `unacknowledged`.
    ///
    /// First look at them: `commitments verify` (the log must verify) and `commitments log --from
    /// FIRST`. Use --accept when they are what was meant to be appended (the interrupted command was
    /// one you ran and it would be wrong to run it again): they are kept as if the append had
    /// finished. Use --discard when you do not recognise them, or the command that wrote them reported
    /// a failure and will be run again: they are removed and the log ends at its acknowledged head
    /// again. Nothing acknowledged is ever removed. With no tail there is nothing to do (exit 0).
    #[command(group(clap::ArgGroup::new("decision").required(true).args(["accept", "discard"])))]
    Recover {
        /// Keep the unacknowledged records (the whole log is verified first) and acknowledge them.
        #[arg(long)]
        accept: bool,
        /// Remove the unacknowledged records: the log ends at the acknowledged head again.
        #[arg(long)]
        discard: bool,
    },
    /// Rebuild a ledger from an export bundle into a new directory (--ledger NEW_DIR, which must not
    /// exist or be empty): every line is verified as `verify --bundle` does and the records are written
    /// byte for byte, with the same hashes. A bundle that does not verify restores nothing (exit 1).
    Restore {
        /// The bundle (from `commitments export --out FILE`).
        bundle: PathBuf,
    },
    Checkpoint(crate::audit::CheckpointArgs),
    /// Print the ledger's checkpoint verifier key (name+keyid+base64), to publish with its checkpoints.
    LedgerKey,
    Prove(crate::audit::ProveArgs),
    CheckProof(crate::audit::CheckProofArgs),
    Cosign(crate::audit::CosignArgs),
    Key(crate::audit::KeyArgs),
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The ledger's title.
    #[arg(long)]
    title: String,
    /// The log's unique name, used in checkpoints (default: derived from the title and time).
    #[arg(long)]
    origin: Option<String>,
    /// The jurisdiction's UTC offset, for dates and "today".
    #[arg(long, default_value = "+08:00", value_parser = field::<UtcOffset>())]
    utc_offset: UtcOffset,
    /// The administrator's actor id.
    #[arg(long, default_value = "admin", value_parser = field::<ActorId>())]
    admin: ActorId,
    /// The administrator's name.
    #[arg(long, default_value = "Ledger administrator")]
    admin_name: String,
    /// Do not register the twelve seed areas.
    #[arg(long)]
    no_default_areas: bool,
}

impl InitArgs {
    /// Record 0, with the default vocabulary.
    pub fn opening(&self) -> OpenLedger {
        OpenLedger {
            title: self.title.clone(),
            origin: self.origin.clone().unwrap_or_else(|| OpenLedger::default_origin(&self.title)),
            utc_offset_minutes: self.utc_offset.0,
            admin: self.admin.clone(),
            admin_name: self.admin_name.clone(),
            vocabulary: Vocabulary::default_v1(),
            admin_key: None,
        }
    }

    /// The areas registered with record 0.
    pub fn areas(&self) -> Vec<RegisterArea> {
        if self.no_default_areas { Vec::new() } else { RegisterArea::seed() }
    }
}

#[derive(Subcommand, Debug)]
pub enum ActorCmd {
    /// Register an actor, with a new key pair kept in the ledger's keys/ folder, or with the public
    /// key of a key pair it keeps itself (--public-key, from `commitments key generate`).
    Add(ActorAdd),
    /// List actors.
    List,
    /// Register a new signing key for an actor (rotation, or a first key in a ledger made by version
    /// 1): from --public-key, or a new key pair kept in the ledger's keys/ folder. From then on only
    /// the new key signs for it.
    Key(ActorKey),
    /// Retire an actor's key (lost, stolen, the person left): nothing it signs is accepted any more,
    /// and the actor cannot append until a new key is registered.
    RetireKey(ActorRetireKey),
}

#[derive(Args, Debug)]
pub struct ActorKey {
    /// The actor.
    #[arg(value_parser = field::<ActorId>())]
    id: ActorId,
    /// Its new public key (an SPKI PEM file, as `commitments key generate` writes).
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    #[command(flatten)]
    actor: ActorArg,
}

impl ActorKey {
    /// The library command (reading the public key file), and the actor named to append it.
    pub fn command(self) -> Result<(ActorArg, Command), String> {
        let public_key = self.public_key.as_deref().map(read_public_key).transpose()?;
        Ok((self.actor, Command::RegisterKey { actor: self.id, public_key }))
    }
}

#[derive(Args, Debug)]
pub struct ActorRetireKey {
    /// The actor.
    #[arg(value_parser = field::<ActorId>())]
    id: ActorId,
    /// Why.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    actor: ActorArg,
}

impl ActorRetireKey {
    /// The library command, and the actor named to append it.
    pub fn command(self) -> (ActorArg, Command) {
        (self.actor, Command::RetireKey { actor: self.id, reason: self.reason })
    }
}

/// Reads a public key file for `--public-key`.
fn read_public_key(path: &std::path::Path) -> Result<commitment_ledger::keys::PublicKey, String> {
    commitment_ledger::keys::read_public_key(path).map(Into::into).map_err(|e| format!("public-key: {e}"))
}

#[derive(Args, Debug)]
pub struct ActorAdd {
    /// Its id.
    #[arg(value_parser = field::<ActorId>())]
    id: ActorId,
    /// Its name (as it writes it).
    #[arg(long)]
    name: String,
    /// Its English name.
    #[arg(long)]
    name_en: Option<String>,
    /// What it may do.
    #[arg(
        long,
        default_value = "department",
        value_parser = PossibleValuesParser::new(["office", "department", "counterpart", "deputy", "auditor"])
            .try_map(|s| s.parse::<Role>())
    )]
    role: Role,
    /// Its public key, when it keeps its own key pair (an SPKI PEM file, as `commitments key
    /// generate` writes) [default: a new key pair, the private key kept in keys/ID.pem].
    #[arg(long, value_name = "FILE")]
    public_key: Option<PathBuf>,
    #[command(flatten)]
    actor: ActorArg,
}

impl ActorAdd {
    /// The library command (reading the public key file), and the actor named to append it.
    pub fn command(self) -> Result<(ActorArg, Command), String> {
        let ActorAdd { id, name, name_en, role, public_key, actor } = self;
        let public_key = public_key.as_deref().map(read_public_key).transpose()?;
        Ok((actor, Command::RegisterActor(RegisterActor { id, name, name_en, role, public_key })))
    }
}

#[derive(Subcommand, Debug)]
pub enum AreaCmd {
    /// Register an area.
    Add(AreaAdd),
    /// List areas.
    List,
}

#[derive(Args, Debug)]
pub struct AreaAdd {
    /// Its id.
    #[arg(value_parser = field::<AreaId>())]
    id: AreaId,
    /// Its name.
    #[arg(long)]
    name: String,
    /// Its English name.
    #[arg(long)]
    name_en: Option<String>,
    #[command(flatten)]
    actor: ActorArg,
}

impl AreaAdd {
    /// The library command, and the actor named to append it.
    pub fn command(self) -> (ActorArg, Command) {
        let AreaAdd { id, name, name_en, actor } = self;
        (actor, Command::RegisterArea(RegisterArea { id, name, name_en }))
    }
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum SourceCmd {
    /// Record a source document.
    Add(SourceArgs),
    /// List sources with their category and feedback.
    List,
}

#[derive(Args, Debug)]
pub struct SourceArgs {
    /// Its id.
    #[arg(value_parser = field::<SourceId>())]
    id: SourceId,
    /// Its title.
    #[arg(long)]
    title: String,
    /// Its English title.
    #[arg(long)]
    title_en: Option<String>,
    /// When it was issued.
    #[arg(long, value_parser = field::<Date>())]
    date: Date,
    /// What kind of document it is.
    #[arg(
        long,
        default_value = "reply",
        value_parser = PossibleValuesParser::new(["reply", "memorandum", "agreement", "meeting", "other"])
            .try_map(|s| s.parse::<SourceKind>())
    )]
    kind: SourceKind,
    /// Its number as printed.
    #[arg(long)]
    number: Option<String>,
    /// The session or occasion.
    #[arg(long)]
    session: Option<String>,
    /// Who issued it (default: the acting actor).
    #[arg(long, value_parser = field::<ActorId>())]
    issuer: Option<ActorId>,
    /// The deputy it is addressed to.
    #[arg(long, value_parser = field::<ActorId>())]
    addressee: Option<ActorId>,
    /// A department that drafted it with the issuer (repeatable).
    #[arg(long = "contributor", value_parser = field::<ActorId>())]
    contributors: Vec<ActorId>,
    /// A file holding the signed text; its BLAKE3 digest is recorded.
    #[arg(long)]
    pub text_file: Option<PathBuf>,
    #[command(flatten)]
    pub actor: ActorArg,
}

impl SourceArgs {
    /// The command: issued by `--issuer`, else by `acting` (who appends it), with the digest of the
    /// signed text if there is one.
    pub fn command(self, acting: &ActorId, digest: Option<String>) -> Command {
        Command::RecordSource(RecordSource {
            id: self.id,
            kind: self.kind,
            number: self.number,
            title: self.title,
            title_en: self.title_en,
            session: self.session,
            date: self.date,
            issuer: self.issuer.unwrap_or_else(|| acting.clone()),
            addressee: self.addressee,
            contributors: self.contributors,
            digest,
        })
    }
}

/// The subcommands that append one update to an item or a source.
#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum UpdateCmd {
    /// Record a commitment.
    Record {
        /// The item's id (a-z, 0-9, '.', '_', '-').
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
        /// The lead department.
        #[arg(long, value_parser = field::<ActorId>())]
        lead: ActorId,
        /// The cooperation area.
        #[arg(long, value_parser = field::<AreaId>())]
        area: AreaId,
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
        #[arg(
            long,
            default_value = "planned",
            value_parser = PossibleValuesParser::new(["planned", "ongoing", "achieved"]).try_map(|s| s.parse::<Kind>())
        )]
        kind: Kind,
        /// When it is due (2024, 2024-06, 2024-06-30, 2024年6月).
        #[arg(long, value_parser = field::<Date>())]
        due: Option<Date>,
        /// When it was done or started, as the source says.
        #[arg(long, value_parser = field::<Date>())]
        on: Option<Date>,
        /// A department or counterpart that helps (repeatable).
        #[arg(long = "partner", value_parser = field::<ActorId>())]
        partners: Vec<ActorId>,
        /// The source document it comes from.
        #[arg(long, value_parser = field::<SourceId>())]
        source: Option<SourceId>,
        /// The section of the source.
        #[arg(long)]
        section: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Report progress on an item.
    Progress {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
        /// What happened.
        #[arg(long)]
        text: String,
        /// When it happened (default: today).
        #[arg(long, value_parser = field::<Date>())]
        on: Option<Date>,
        /// A reference to the evidence (document number, URL).
        #[arg(long)]
        evidence: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Change an item's status (planned, in_progress, delivered, partially_delivered, stalled, dropped).
    Status {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
        /// The new status.
        #[arg(value_parser = field::<Code>())]
        status: Code,
        /// Why.
        #[arg(long)]
        reason: String,
        /// When the change took effect.
        #[arg(long, value_parser = field::<Date>())]
        on: Option<Date>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Record a figure for an item (a count, an amount).
    Indicator {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
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
        #[arg(long, value_parser = field::<Date>())]
        as_of: Option<Date>,
        /// The value is approximate (约).
        #[arg(long)]
        approx: bool,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Amend an item's title, wording, due date or area, with a reason.
    Amend {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
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
        #[arg(long, value_parser = field::<Date>())]
        due: Option<Date>,
        /// New area.
        #[arg(long, value_parser = field::<AreaId>())]
        area: Option<AreaId>,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Give an item a new lead (and, with --partner, new partners), with a reason.
    Reassign {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
        /// The new lead.
        #[arg(long, value_parser = field::<ActorId>())]
        lead: ActorId,
        /// The new partners (repeatable; replaces the old list).
        #[arg(long = "partner", value_parser = field::<ActorId>())]
        partners: Vec<ActorId>,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Correct an earlier entry of an item (named by its number in `history`), with a reason.
    Correct {
        /// The item.
        #[arg(value_parser = field::<ItemId>())]
        id: ItemId,
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
        #[arg(value_parser = field::<SourceId>())]
        source: SourceId,
        /// The verdict.
        #[arg(value_parser = field::<Code>())]
        verdict: Code,
        /// What the deputy said.
        #[arg(long)]
        text: Option<String>,
        /// When.
        #[arg(long, value_parser = field::<Date>())]
        on: Option<Date>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Put a reply in a handling category (a, b, c, d).
    Category {
        /// The reply.
        #[arg(value_parser = field::<SourceId>())]
        source: SourceId,
        /// The category.
        #[arg(value_parser = field::<Code>())]
        category: Code,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
}

impl UpdateCmd {
    /// The library command, and the actor named to append it (`--actor`, `$COMMITMENTS_ACTOR`).
    pub fn command(self) -> (ActorArg, Command) {
        match self {
            UpdateCmd::Record {
                id,
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
            } => (
                actor,
                Command::RecordCommitment(NewCommitment {
                    id,
                    source,
                    section,
                    area,
                    lead,
                    partners,
                    text: text.unwrap_or_else(|| title.clone()),
                    title,
                    title_en,
                    kind,
                    on,
                    due,
                }),
            ),
            UpdateCmd::Progress { id, text, on, evidence, actor } => {
                (actor, Command::ReportProgress { item: id, text, on, evidence })
            }
            UpdateCmd::Status { id, status, reason, on, actor } => {
                (actor, Command::ChangeStatus { item: id, to: status, reason, on })
            }
            UpdateCmd::Indicator { id, name, value, unit, as_of, approx, actor } => (
                actor,
                Command::RecordIndicator(RecordIndicator { item: id, name, value, unit, approximate: approx, as_of }),
            ),
            UpdateCmd::Amend { id, title, title_en, text, due, area, reason, actor } => {
                (actor, Command::Amend(Amend { item: id, title, title_en, text, due, area, reason }))
            }
            UpdateCmd::Reassign { id, lead, partners, reason, actor } => {
                let partners = if partners.is_empty() { None } else { Some(partners) };
                (actor, Command::Reassign { item: id, lead, partners, reason })
            }
            UpdateCmd::Correct { id, entry, text, value, reason, actor } => {
                (actor, Command::Correct(Correct { item: id, entry: StreamVersion(entry), text, value, reason }))
            }
            UpdateCmd::Feedback { source, verdict, text, on, actor } => {
                (actor, Command::RecordFeedback(RecordFeedback { source, verdict, text, on }))
            }
            UpdateCmd::Category { source, category, reason, actor } => {
                (actor, Command::Categorize(Categorize { source, category, reason }))
            }
        }
    }
}

#[derive(Args, Debug)]
pub struct ListFilter {
    /// Only this area.
    #[arg(long, value_parser = field::<AreaId>())]
    area: Option<AreaId>,
    /// Only items this actor leads.
    #[arg(long, value_parser = field::<ActorId>())]
    lead: Option<ActorId>,
    /// Only items this actor leads or helps with.
    #[arg(long, value_parser = field::<ActorId>())]
    involving: Option<ActorId>,
    /// Only this status.
    #[arg(long, value_parser = field::<Code>())]
    status: Option<Code>,
    /// Only items from this source.
    #[arg(long, value_parser = field::<SourceId>())]
    source: Option<SourceId>,
    /// Only overdue items.
    #[arg(long)]
    overdue: bool,
}

impl From<ListFilter> for commitment_ledger::view::ItemFilter {
    fn from(f: ListFilter) -> Self {
        commitment_ledger::view::ItemFilter {
            area: f.area,
            lead: f.lead,
            involving: f.involving,
            status: f.status,
            source: f.source,
            overdue: f.overdue,
        }
    }
}

/// The checkpoints and witnesses `verify` holds a log to.
#[derive(Args, Debug, Default)]
pub struct HeldTo {
    /// A checkpoint (a signed note from `commitments checkpoint`, kept from earlier) the log must be
    /// consistent with: every record it covers still there, unchanged. Repeatable.
    #[arg(long = "checkpoint", value_name = "FILE")]
    pub checkpoints: Vec<PathBuf>,
    /// The ledger's verifier key, as `commitments ledger-key` prints it (the key itself or a file
    /// holding it) [default: the key in the ledger directory; needed with --bundle].
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,
    /// A witness's verifier key (the key or a file holding it): its cosignatures on the checkpoints are
    /// checked, and bound the times of the records they cover. Repeatable.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witnesses: Vec<String>,
    /// How many of the witnesses must have cosigned each checkpoint [default: all of them].
    #[arg(long, requires = "witnesses")]
    pub quorum: Option<usize>,
    /// Your own file (keep it outside the ledger directory) where verify records where a sound
    /// verification ended, with its state: the next `verify --resume FILE` reads only the records after
    /// that point (it checks that the log still holds the record it ended at, and that every checkpoint
    /// it covered is consistent with the tree it verified). Not with --bundle.
    #[arg(long, value_name = "FILE", conflicts_with = "bundle")]
    pub resume: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ActorArg {
    /// Who appends (default: the item's lead for progress, status, figures and corrections; the
    /// administrator otherwise).
    #[arg(long, env = "COMMITMENTS_ACTOR", value_parser = field::<ActorId>())]
    pub actor: Option<ActorId>,
    /// The appending actor's private key (PKCS#8 PEM, mode 0600) [default: keys/ACTOR.pem in the
    /// ledger directory]. Records are signed by the actor that appends them.
    #[arg(long, env = "COMMITMENTS_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AsOfArg {
    /// Show the state as of the end of this day (in the ledger's time zone) instead of now.
    #[arg(long, value_parser = field::<Date>())]
    pub as_of: Option<Date>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("commitments").chain(args.iter().copied()))
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bad_value_is_refused_by_clap_naming_its_argument() {
        for (args, message) in [
            (&["progress", "Bad", "--text", "t"][..], r#"id: "Bad" "Bad" may only hold"#),
            (&["record", "y", "--lead", "f", "--area", "a", "--title", "t", "--partner", "X"], "partner: \"X\""),
            (&["list", "--as-of", "2024-00"], r#"as-of: "2024-00" is not a date"#),
            (&["init", "--title", "t", "--utc-offset", "08:00"], r#"utc-offset: "08:00" is not like +08:00"#),
            (&["verify", "--bundle", "b", "--head", "abc"], r#"head: "abc" is not 64 hex digits"#),
            (&["verify", "--at", "22"], r#"at: "22" is not SEQ:HASH"#),
            (&["verify", "--at", "-1:0123456789abcdef"], r#"at: "-1:0123456789abcdef": the seq "-1" is not"#),
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!((e.kind(), e.exit_code()), (ErrorKind::ValueValidation, 2), "{args:?}");
            assert!(e.to_string().starts_with(&format!("error: {message}")), "{args:?}: {e}");
        }
    }

    #[test]
    fn verify_takes_points_and_recover_one_decision() {
        let Cmd::Verify { at, head, .. } =
            parse(&["verify", "--at", "5:0123456789ABCDEF", "--at", "6:0123456789abcdef"]).unwrap().command
        else {
            panic!("verify")
        };
        assert_eq!((at.len(), at[0].to_string(), head), (2, "5:0123456789abcdef".to_string(), None));
        let Cmd::Recover { accept, discard } = parse(&["recover", "--discard"]).unwrap().command else {
            panic!("recover")
        };
        assert_eq!((accept, discard), (false, true));
        for args in [&["recover"][..], &["recover", "--accept", "--discard"]] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }

    #[test]
    fn flags_become_the_library_command() {
        let args = ["record", "y", "--lead", "fin", "--area", "finance", "--title", "T", "--kind", "achieved"];
        let Cmd::Update(u) = parse(&args).unwrap().command else { panic!("an update") };
        let (_, Command::RecordCommitment(c)) = u.command() else { panic!("a new commitment") };
        assert_eq!((c.text.as_str(), c.kind, c.partners.len()), ("T", Kind::Achieved, 0));
        let args = ["reassign", "y", "--lead", "fin", "--reason", "r", "--actor", "office"];
        let Cmd::Update(u) = parse(&args).unwrap().command else { panic!("an update") };
        let (actor, Command::Reassign { partners, .. }) = u.command() else { panic!("a reassignment") };
        assert_eq!((actor.actor.unwrap().as_str(), partners), ("office", None), "no --partner keeps the partners");
    }
}
