//! `commitments`: the command-line shell over the commitment ledger. Each subcommand makes one
//! library call and prints the result, as a table or (with `--json`) as one JSON document.
//!
//! - `cli`: the subcommands and flags (clap), typed by `value`, and the library command each stands for;
//! - `ops`: the library calls, where a command needs more than one (open, read, close);
//! - `render`: each result as JSON and as a page for people; `output`: the output choice and its writers;
//! - `failure`: errors and their exit codes.
//!
//! Reads open the ledger read-only ([`commitment_ledger::Ledger::open_read`]: nothing written, other
//! readers welcome); writing commands open it as its one writer ([`commitment_ledger::Ledger::open`]).
//!
//! Exit codes: 0 success; 1 the ledger (or a bundle, or a projection) is unsound, or needs an operator
//! (damaged, or an unacknowledged tail to `recover`); 2 bad usage or bad input; 3 I/O or storage
//! failure (or a writer has the ledger open).

mod audit;
mod cli;
mod failure;
mod ops;
mod output;
mod render;
mod value;

/// sled allocates and frees many small buffers; glibc's allocator fragments under that load and
/// bulk appends slow down as the heap grows. mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use cli::{ActorCmd, AreaCmd, Cli, Cmd, SourceCmd};
use commitment_ledger::TailDecision;
use failure::{Failure, UNSOUND};
use output::Output;
use std::process::ExitCode;

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

/// Exit code 0 when sound, 1 when not.
fn sound(ok: bool) -> ExitCode {
    if ok { ExitCode::SUCCESS } else { ExitCode::from(UNSOUND) }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let out = &Output::new(cli.json, cli.english);
    let dir = &cli.dir();
    match cli.command {
        Cmd::Demo => {
            let dir = cli.ledger.unwrap_or_else(commitment_ledger::demo::default_dir);
            return ops::demo(&dir, |d| render::demo(out, d)).map(sound);
        }
        Cmd::Init(a) => ops::init(dir, a.opening(), a.areas(), |w| render::created(out, w, dir))?,
        Cmd::Actor { command: ActorCmd::Add(a) } => {
            ops::append(dir, a.command().map_err(Failure::input)?, |w| render::written(out, w))?
        }
        Cmd::Actor { command: ActorCmd::Key(a) } => {
            ops::append(dir, a.command().map_err(Failure::input)?, |w| render::written(out, w))?
        }
        Cmd::Actor { command: ActorCmd::RetireKey(a) } => ops::append(dir, a.command(), |w| render::written(out, w))?,
        Cmd::Actor { command: ActorCmd::List } => render::actors(out, ops::read(dir)?.registry()),
        Cmd::Area { command: AreaCmd::Add(a) } => ops::append(dir, a.command(), |w| render::written(out, w))?,
        Cmd::Area { command: AreaCmd::List } => render::areas(out, ops::read(dir)?.registry()),
        Cmd::Source { command: SourceCmd::Add(a) } => ops::record_source(dir, a, |w| render::written(out, w))?,
        Cmd::Source { command: SourceCmd::List } => render::sources(out, &ops::sources(dir)?),
        Cmd::Update(u) => ops::append(dir, u.command(), |w| render::written(out, w))?,
        Cmd::Show { id, at } => render::item(out, &ops::item(dir, &id, at.as_of)?),
        Cmd::List { filter, at } => render::items(out, &ops::items(dir, &filter.into(), at.as_of)?),
        Cmd::Summary { at } => render::summary(out, &ops::summary(dir, at.as_of)?),
        Cmd::History { id } => render::history(out, &ops::history(dir, &id)?),
        Cmd::Log { from, limit } => render::log(out, &ops::log(dir, from, limit)?),
        Cmd::Import { file, actor } => ops::import(dir, &file, actor, |i| render::imported(out, i))?,
        Cmd::Verify { bundle: Some(path), at, head, held } => {
            let verified = ops::verify_bundle(&path, head, &at, &held)?;
            render::verified(out, &verified);
            return Ok(sound(verified.report.ok));
        }
        Cmd::Verify { bundle: None, at, held, .. } => {
            let verified = ops::verify(dir, &at, &held)?;
            render::verified(out, &verified);
            return Ok(sound(verified.report.ok));
        }
        Cmd::Export { out: path } => render::exported(ops::export(dir, path.as_deref())?, path.as_deref()),
        Cmd::Recover { accept, .. } => {
            let decision = if accept { TailDecision::Accept } else { TailDecision::Discard };
            ops::recover(dir, decision, |r| render::recovered(out, r))?
        }
        Cmd::Restore { bundle } => render::restored(out, &ops::restore(dir, &bundle)?, dir),
        Cmd::Checkpoint(a) => audit::checkpoint(out, dir, a)?,
        Cmd::LedgerKey => audit::ledger_key(out, dir)?,
        Cmd::Prove(a) => audit::prove(out, dir, a)?,
        Cmd::CheckProof(a) => audit::check_proof(out, a)?,
        Cmd::Cosign(a) => audit::cosign(out, a)?,
        Cmd::Key(a) => audit::key(out, a)?,
        Cmd::Replay { rebuild: true, .. } => render::rebuilt(out, ops::rebuild(dir)?),
        Cmd::Replay { to: Some(seq), .. } => render::replayed(out, &ops::replay_to(dir, seq)?),
        Cmd::Replay { as_of: Some(day), .. } => render::replayed(out, &ops::replay_as_of(dir, day)?),
        Cmd::Replay { .. } => {
            let (head, differences) = ops::check_projection(dir)?;
            render::projection_check(out, head, &differences);
            return Ok(sound(differences.is_empty()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
