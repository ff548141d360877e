//! The audit commands: the ledger's checkpoints and key, proofs for people without the ledger and
//! their check, witness cosigning, and key pairs. Each makes one library call
//! ([`commitment_ledger::publish`], [`commitment_ledger::proof`], [`commitment_ledger::witness`],
//! [`commitment_ledger::keys`]) and prints.
//!
//! A document meant to be kept or passed on (a checkpoint note, a proof) goes to standard output alone,
//! so that `> FILE` keeps exactly it; what people should know about it goes to standard error.

use crate::failure::Failure;
use crate::output::Output;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use clap::{ArgGroup, Args, Subcommand};
use commitment_ledger::Seq;
use commitment_ledger::keys::{self, KeyError, WriteMode};
use commitment_ledger::note::Verifier;
use commitment_ledger::proof::{self, Checked, Input, ProofError};
use commitment_ledger::publish::{self, Fault};
use commitment_ledger::witness::{self, WitnessError};
use serde_json::json;
use std::path::{Path, PathBuf};

/// Sign a checkpoint of the whole ledger (C2SP tlog-checkpoint: origin, number of records, Merkle
/// root) with the ledger's key, keep it in the ledger's checkpoints/ folder and print it. Publish it
/// with the ledger's verifier key (`commitments ledger-key`): whoever keeps it can later prove that the
/// ledger still holds everything it covered, unchanged. A ledger made before checkpoints gets its key
/// here, on first use.
#[derive(Args, Debug)]
pub struct CheckpointArgs {
    /// Also write the checkpoint to this file (it is always kept in the ledger directory).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Print a proof as JSON for people without the ledger: that record SEQ is in the ledger a checkpoint
/// covers (`prove SEQ --checkpoint FILE`), or that checkpoint NEW extends checkpoint OLD
/// (`prove --consistency OLD NEW`). `commitments check-proof` checks it with no ledger.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["seq", "consistency"])))]
pub struct ProveArgs {
    /// The record to prove (its seq).
    #[arg(requires = "checkpoint")]
    seq: Option<u64>,
    /// The checkpoint the inclusion proof is against (from `commitments checkpoint`).
    #[arg(long, value_name = "FILE", conflicts_with = "consistency")]
    checkpoint: Option<PathBuf>,
    /// Prove that checkpoint NEW extends checkpoint OLD: every record OLD covered is unchanged.
    #[arg(long, num_args = 2, value_names = ["OLD", "NEW"])]
    consistency: Option<Vec<PathBuf>>,
    /// Write the proof to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Check a proof from `commitments prove` with nothing but the proof, a checkpoint you trust and the
/// ledger's verifier key: no ledger is needed. Prints what was proved. Exit code 1 when the proof does
/// not hold, 2 when an input is malformed or the inputs do not belong together.
#[derive(Args, Debug)]
pub struct CheckProofArgs {
    /// The proof (JSON, from `commitments prove`).
    proof: PathBuf,
    /// The checkpoint you trust (kept from when it was published).
    #[arg(long, value_name = "FILE")]
    checkpoint: PathBuf,
    /// The ledger's verifier key (as `commitments ledger-key` prints it), or a file holding it.
    #[arg(long, value_name = "VKEY")]
    key: String,
}

/// Cosign a checkpoint as a witness (the congress office, an auditor) that keeps the last checkpoint it
/// cosigned in DIR: the new one is cosigned (C2SP tlog-cosignature, with the time) only if it is
/// signed by the log key and a consistency proof shows it extends the one in DIR. One that is older,
/// or a different history of the same size, is refused. On first use give --log-key: the checkpoint
/// is then trusted as it is.
#[derive(Args, Debug)]
pub struct CosignArgs {
    /// The new checkpoint.
    #[arg(long, value_name = "NEW")]
    checkpoint: PathBuf,
    /// The witness's state directory (created on first use).
    #[arg(long, value_name = "DIR")]
    state: PathBuf,
    /// The witness's private key (PKCS#8 PEM, mode 0600; from `commitments key generate`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The consistency proof from the checkpoint in DIR to NEW (`commitments prove --consistency`).
    #[arg(long, value_name = "FILE")]
    proof: Option<PathBuf>,
    /// The log's verifier key (or a file holding it): required on first use, checked afterwards.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// The witness's name in its cosignature lines [default: the key file's name without extension].
    #[arg(long)]
    name: Option<String>,
    /// Write the cosigned checkpoint to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Make key pairs for departments and witnesses that keep their own keys.
#[derive(Args, Debug)]
pub struct KeyArgs {
    #[command(subcommand)]
    command: KeyCmd,
}

#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Make an Ed25519 key pair: the private key at FILE (PKCS#8 PEM, mode 0600: keep it secret) and
    /// the public key at FILE.pub (give it to the ledger's administrator: `commitments actor add ID
    /// --public-key FILE.pub`). Refuses to overwrite either.
    Generate {
        /// Where to write the private key.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Exit code and message of a failure whose kind the library said.
fn failure(fault: Fault, message: String) -> Failure {
    Failure::of(fault, message)
}

/// A proof error, naming the file (or argument) of the input at fault.
fn proof_failure(e: ProofError, name: impl Fn(Input) -> Option<String>) -> Failure {
    match e.input().and_then(name) {
        Some(name) => failure(e.fault(), format!("{name}: {e}")),
        None => Failure::from(e),
    }
}

/// A key file error: the messages name the file already.
fn key_failure(e: KeyError) -> Failure {
    match &e {
        KeyError::Io { source, .. } if source.kind() != std::io::ErrorKind::NotFound => Failure::io(e.to_string()),
        _ => Failure::input(e.to_string()),
    }
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

/// A signed note is never written over a file that exists: it may be a checkpoint someone kept.
fn refuse_existing(out: Option<&Path>) -> Result<(), Failure> {
    match out {
        Some(path) if path.exists() => Err(Failure::input(format!(
            "out: {} exists; a checkpoint is never written over a file (it may be one someone kept): choose \
             another name",
            show(path)
        ))),
        _ => Ok(()),
    }
}

/// `checkpoint [--out FILE]`.
pub fn checkpoint(out: &Output, dir: &Path, args: CheckpointArgs) -> Result<(), Failure> {
    refuse_existing(args.out.as_deref())?;
    // As the ledger's writer: no append can run meanwhile, and a stored tree that was missing is kept.
    let ledger = crate::ops::open(dir)?;
    let published = publish::checkpoint(&ledger, dir)?;
    ledger.close()?;
    if let Some(path) = &args.out {
        publish::write_atomically(path, published.text.as_bytes())
            .map_err(|e| failure(e.fault(), format!("out: {e}")))?;
    }
    if published.key_created && out.for_people() {
        eprintln!(
            "created the ledger's checkpoint key in {} (the ledger had none yet); its verifier key, to publish \
             with the checkpoints:\n  {}",
            show(&dir.join(publish::KEY_FILE)),
            published.vkey
        );
    }
    let c = &published.checkpoint;
    out.print(
        || {
            json!({
                "origin": c.origin,
                "size": c.size,
                "root": BASE64.encode(c.root),
                "checkpoint": published.text,
                "kept": show(&published.path),
                "out": args.out.as_deref().map(show),
                "vkey": published.vkey,
                "key_created": published.key_created,
            })
        },
        |page| match &args.out {
            None => page.line(published.text.trim_end_matches('\n')),
            Some(path) => page.line(format!(
                "checkpoint of {} records (root {}) written to {}; kept in {}",
                c.size,
                BASE64.encode(c.root),
                show(path),
                show(&published.path)
            )),
        },
    );
    Ok(())
}

/// `ledger-key`: the ledger's verifier key, alone on a line.
pub fn ledger_key(out: &Output, dir: &Path) -> Result<(), Failure> {
    let origin = publish::origin(&crate::ops::read(dir)?)?;
    let verifier = publish::ledger_verifier(dir, &origin)?;
    let vkey = verifier.to_vkey();
    out.print(
        || {
            json!({
                "origin": origin,
                "vkey": vkey,
                "key_id": format!("{:08x}", verifier.key_id()),
                "public_key": BASE64.encode(verifier.public_key().as_bytes()),
            })
        },
        |page| page.line(&vkey),
    );
    Ok(())
}

/// `prove SEQ --checkpoint FILE` and `prove --consistency OLD NEW`.
pub fn prove(out: &Output, dir: &Path, args: ProveArgs) -> Result<(), Failure> {
    let ledger = crate::ops::read(dir)?;
    let origin = publish::origin(&ledger)?;
    let verifier = publish::ledger_verifier(dir, &origin)?;
    let (document, what) = match (args.seq, &args.checkpoint, args.consistency.as_deref()) {
        (Some(seq), Some(file), None) => {
            let msg = publish::read_checkpoint(file)?;
            let proof = proof::prove_inclusion(&ledger, Seq(seq), &msg, &verifier)
                .map_err(|e| proof_failure(e, |_| Some(show(file))))?;
            (proof.to_json(), format!("inclusion proof of record {seq} in the first {} records", proof.tree_size))
        }
        (None, None, Some([old, new])) => {
            let (old_msg, new_msg) = (publish::read_checkpoint(old)?, publish::read_checkpoint(new)?);
            let proof = proof::prove_consistency(&ledger, &old_msg, &new_msg, &verifier).map_err(|e| {
                proof_failure(e, |input| match input {
                    Input::OldCheckpoint => Some(show(old)),
                    Input::NewCheckpoint => Some(show(new)),
                    _ => None,
                })
            })?;
            (proof.to_json(), format!("consistency proof from {} to {} records", proof.old_size, proof.new_size))
        }
        _ => return Err(Failure::input("give SEQ --checkpoint FILE, or --consistency OLD NEW")),
    };
    drop(ledger);
    let Some(path) = &args.out else {
        println!("{document}");
        return Ok(());
    };
    publish::write_atomically(path, format!("{document}\n").as_bytes())
        .map_err(|e| failure(e.fault(), format!("out: {e}")))?;
    out.print(
        || json!({"out": show(path), "proof": what}),
        |page| page.line(format!("{what} written to {}", show(path))),
    );
    Ok(())
}

/// A verifier key given on the command line, or the file holding it: the key, and how to name it.
fn vkey_arg(flag: &str, arg: &str) -> Result<(String, String), Failure> {
    if Verifier::from_vkey(arg.trim()).is_ok() {
        return Ok((arg.trim().to_owned(), flag.to_owned()));
    }
    let path = Path::new(arg);
    if path.is_file() {
        let bytes = publish::read_small_file(path, 4096, "a verifier key")?;
        return Ok((String::from_utf8_lossy(&bytes).trim().to_owned(), show(path)));
    }
    let why = Verifier::from_vkey(arg.trim()).err().map(|e| e.to_string()).unwrap_or_default();
    Err(Failure::input(format!(
        "{flag}: {arg:?} is neither a verifier key (name+keyid+base64, as `commitments ledger-key` prints it) nor a \
         file holding one: {why}"
    )))
}

/// `check-proof PROOF --checkpoint FILE --key VKEY`.
pub fn check_proof(out: &Output, args: CheckProofArgs) -> Result<(), Failure> {
    let document = publish::read_small_file(&args.proof, proof::MAX_PROOF_SIZE as u64, "a proof")?;
    let trusted = publish::read_checkpoint(&args.checkpoint)?;
    let (vkey, key_name) = vkey_arg("key", &args.key)?;
    let checked = proof::check_proof(&document, &trusted, &vkey).map_err(|e| {
        proof_failure(e, |input| match input {
            Input::Proof => Some(show(&args.proof)),
            Input::Key => Some(key_name.clone()),
            _ => Some(show(&args.checkpoint)),
        })
    })?;
    match checked {
        Checked::Inclusion(c) => {
            let cp = &c.checkpoint;
            let r = &c.record_json;
            out.print(
                || {
                    json!({
                        "ok": true,
                        "type": "inclusion",
                        "origin": cp.origin,
                        "tree_size": cp.size,
                        "root": BASE64.encode(cp.root),
                        "leaf_index": c.record.seq.0,
                        "record": r,
                    })
                },
                |page| {
                    page.line(format!(
                        "OK: record {} is in the ledger {} as its checkpoint of {} records says (root {})",
                        c.record.seq.0,
                        cp.origin,
                        cp.size,
                        BASE64.encode(cp.root)
                    ));
                    page.line(format!(
                        "record {}: {} by {} at {} (hash {})",
                        c.record.seq.0,
                        r["type"].as_str().unwrap_or(""),
                        r["actor"].as_str().unwrap_or(""),
                        r["time"].as_str().unwrap_or(""),
                        c.record_hash.to_hex()
                    ));
                    page.line(format!("  stream {}: {}", r["stream"].as_str().unwrap_or(""), r["event"]));
                },
            );
        }
        Checked::Consistency(c) => {
            let (old, new) = (&c.old, &c.new);
            out.print(
                || {
                    json!({
                        "ok": true,
                        "type": "consistency",
                        "origin": old.origin,
                        "old_size": old.size,
                        "old_root": BASE64.encode(old.root),
                        "new_size": new.size,
                        "new_root": BASE64.encode(new.root),
                        "trusted": if c.trusted_is_new { "new" } else { "old" },
                    })
                },
                |page| {
                    page.line(format!(
                        "OK: the checkpoint of {} records extends the checkpoint of {} records (ledger {}): every \
                         record the older one covered is unchanged",
                        new.size, old.size, old.origin
                    ));
                    page.line(format!(
                        "the trusted checkpoint is the {} one; the other is signed by the same key",
                        if c.trusted_is_new { "newer" } else { "older" }
                    ));
                },
            );
        }
    }
    Ok(())
}

/// The witness name by default: the key file's name without its extension.
fn default_name(key: &Path) -> Result<String, Failure> {
    key.file_stem().and_then(|s| s.to_str()).map(str::to_owned).ok_or_else(|| {
        Failure::input(format!("key: cannot derive a witness name from {}; give one with --name", show(key)))
    })
}

/// `cosign --checkpoint NEW --state DIR --key FILE [--proof FILE] [--log-key VKEY] [--name] [--out]`.
pub fn cosign(out: &Output, args: CosignArgs) -> Result<(), Failure> {
    refuse_existing(args.out.as_deref())?;
    let key = keys::read_private_key(&args.key).map_err(key_failure)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => default_name(&args.key)?,
    };
    let msg = publish::read_checkpoint(&args.checkpoint)?;
    let proof = match &args.proof {
        Some(path) => Some(publish::read_small_file(path, proof::MAX_PROOF_SIZE as u64, "a proof")?),
        None => None,
    };
    let log_key = args.log_key.as_deref().map(|k| vkey_arg("log-key", k)).transpose()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| Failure::io("the system clock is before 1970"))?
        .as_secs();
    let cosigned =
        witness::cosign(&args.state, &msg, proof.as_deref(), log_key.as_ref().map(|k| k.0.as_str()), &key, &name, now)
            .map_err(|e| witness_failure(e, &args, log_key.as_ref().map(|k| k.1.as_str())))?;
    if let Some(path) = &args.out {
        publish::write_atomically(path, cosigned.note.as_bytes())
            .map_err(|e| failure(e.fault(), format!("out: {e}")))?;
    }
    let c = &cosigned.checkpoint;
    let how = match &cosigned.previous {
        None => format!(
            "first use: the log key {} and this checkpoint of {} records are trusted as they are (trust on first \
             use); {} now holds them",
            cosigned.log_vkey,
            c.size,
            show(&args.state)
        ),
        Some(p) if p.size == c.size => format!("the same checkpoint as the one cosigned before ({} records)", c.size),
        Some(p) => {
            format!("consistent with the checkpoint of {} records cosigned before: the consistency proof holds", p.size)
        }
    };
    if out.for_people() {
        eprintln!("{how}");
        eprintln!("cosigned as {} (cosigner key {})", name, cosigned.cosigner_vkey);
    }
    out.print(
        || {
            json!({
                "origin": c.origin,
                "size": c.size,
                "root": BASE64.encode(c.root),
                "first_use": cosigned.first_use(),
                "previous_size": cosigned.previous.as_ref().map(|p| p.size),
                "timestamp": cosigned.timestamp,
                "cosigner": name,
                "cosigner_vkey": cosigned.cosigner_vkey,
                "log_vkey": cosigned.log_vkey,
                "checkpoint": cosigned.note,
                "out": args.out.as_deref().map(show),
            })
        },
        |page| match &args.out {
            None => page.line(cosigned.note.trim_end_matches('\n')),
            Some(path) => page.line(format!("cosigned checkpoint of {} records written to {}", c.size, show(path))),
        },
    );
    Ok(())
}

fn witness_failure(e: WitnessError, args: &CosignArgs, log_key: Option<&str>) -> Failure {
    let name = match e.input() {
        Some(Input::Checkpoint) => Some(show(&args.checkpoint)),
        Some(Input::Proof) => args.proof.as_deref().map(show),
        Some(Input::Key) => Some(log_key.unwrap_or("log-key").to_owned()),
        _ => None,
    };
    match name {
        Some(name) => failure(e.fault(), format!("{name}: {e}")),
        None => Failure::from(e),
    }
}

/// `key generate --out FILE`.
pub fn key(out: &Output, args: KeyArgs) -> Result<(), Failure> {
    let KeyCmd::Generate { out: private } = args.command;
    let mut public = private.clone().into_os_string();
    public.push(".pub");
    let public = PathBuf::from(public);
    for path in [&private, &public] {
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(Failure::input(format!("{} already exists; refusing to overwrite it", show(path))));
        }
    }
    let key = keys::generate_signing_key();
    keys::write_private_key(&private, &key, WriteMode::CreateNew).map_err(key_failure)?;
    let verifying = key.verifying_key();
    keys::write_public_key(&public, &verifying, WriteMode::CreateNew).map_err(key_failure)?;
    let pem = keys::public_key_to_pem(&verifying).map_err(key_failure)?;
    out.print(
        || {
            json!({
                "private_key": show(&private),
                "public_key_file": show(&public),
                "public_key_pem": pem,
                "public_key": BASE64.encode(verifying.as_bytes()),
            })
        },
        |page| {
            page.line(format!("private key written to {} (mode 0600: keep it secret)", show(&private)));
            page.line(format!("public key written to {}:", show(&public)));
            page.line(pem.trim_end_matches('\n'));
        },
    );
    Ok(())
}
