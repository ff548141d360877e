//! The actors' signing keys at hand: the `keys/` folder of a ledger directory (one PKCS#8 PEM file per
//! actor, `keys/<actor>.pem`, mode 0600), and a key file named for one run (`--key FILE` or
//! `$COMMITMENTS_KEY`). A ledger signs an actor's records only with a key whose public half is the one
//! the log registered for that actor.

use crate::ids::ActorId;
use crate::keys::{self, KeyError, PublicKey, SigningKey, WriteMode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// The folder of a ledger directory that holds the keys `init` and `actor add` create.
pub const KEYS_DIR: &str = "keys";

/// Why no key can sign for an actor.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// No key for the actor anywhere the keyring looks.
    #[error(
        "no signing key for {actor} is at hand: {} does not exist, and neither --key nor $COMMITMENTS_KEY names \
         one (records are signed by the actor that appends them)",
        path.display()
    )]
    Missing {
        /// The actor.
        actor: ActorId,
        /// Where its key would be.
        path: PathBuf,
    },
    /// A key was found, but it is not the key the log registered for the actor.
    #[error("the key in {} is {} but {actor}'s registered key is {}; it cannot sign for {actor}", from.display(), found.short(), registered.short())]
    Wrong {
        /// The actor.
        actor: ActorId,
        /// The file it came from.
        from: PathBuf,
        /// Its public key.
        found: PublicKey,
        /// The registered key.
        registered: PublicKey,
    },
    /// A key file could not be read or written.
    #[error(transparent)]
    File(#[from] KeyError),
    /// The ledger's own checkpoint key could not be made.
    #[error("the ledger's checkpoint key: {0}")]
    LedgerKey(String),
}

/// Signing keys by actor, shared: what an in-memory store keeps in place of a `keys/` folder (its
/// clones, and every ledger opened over them, see the same keys), and what a keyring has loaded.
#[derive(Clone, Default)]
pub struct SharedKeys(Arc<Mutex<BTreeMap<ActorId, SigningKey>>>);

impl SharedKeys {
    fn get(&self, actor: &ActorId) -> Option<SigningKey> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(actor).cloned()
    }

    fn insert(&self, actor: ActorId, key: SigningKey) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(actor, key);
    }
}

impl std::fmt::Debug for SharedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let keys = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_list().entries(keys.keys()).finish()
    }
}

/// Signing keys by actor: those loaded from a ledger's `keys/` folder (or kept by an in-memory store),
/// and one given for this run.
#[derive(Default)]
pub struct Keyring {
    dir: Option<PathBuf>,
    given: Option<(PathBuf, SigningKey)>,
    loaded: SharedKeys,
    /// Keys made for actors whose registering records are not written yet.
    fresh: Vec<(ActorId, SigningKey)>,
    /// Whether actors registered without a public key get a new key pair (yes, unless turned off).
    no_new_keys: bool,
}

/// A key made for an actor by [`Keyring::provide_key`]: whose, and its public half.
pub type Made = (ActorId, PublicKey);

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("dir", &self.dir)
            .field("given", &self.given.as_ref().map(|(p, _)| p))
            .field("loaded", &self.loaded)
            .finish()
    }
}

impl Keyring {
    /// A keyring that looks in the `keys/` folder of a ledger directory.
    pub fn in_dir(ledger_dir: &Path) -> Keyring {
        Keyring { dir: Some(ledger_dir.join(KEYS_DIR)), ..Keyring::default() }
    }

    /// Stops making key pairs for commands that register actors (or open the ledger) without a public
    /// key: they then register none, as version 1 did. Only for ledgers that must be unsigned (the
    /// benchmark's baseline, tests of ledgers opened by version 1); a signed ledger refuses an actor
    /// without a key.
    pub fn make_no_keys(&mut self) {
        self.no_new_keys = true;
    }

    /// A keyring over keys kept in memory (an in-memory store's).
    pub fn in_memory(keys: SharedKeys) -> Keyring {
        Keyring { loaded: keys, ..Keyring::default() }
    }

    /// Uses the key in `path` for whichever actor it is registered for (it is checked against the
    /// actor's registered key before it signs).
    pub fn give_file(&mut self, path: &Path) -> Result<(), KeyringError> {
        let key = keys::read_private_key(path)?;
        self.given = Some((path.to_path_buf(), key));
        Ok(())
    }

    /// Uses `key` for `actor` (a test, a demo, a service holding keys in memory).
    pub fn insert(&mut self, actor: ActorId, key: SigningKey) {
        self.loaded.insert(actor, key);
    }

    /// The key that signs for `actor`, whose registered key is `registered`: the key given for this
    /// run (which must be that key), else one inserted, else `keys/<actor>.pem`.
    pub fn key_for(&mut self, actor: &ActorId, registered: &PublicKey) -> Result<SigningKey, KeyringError> {
        if let Some((_, key)) = self.fresh.iter().rev().find(|(a, k)| a == actor && PublicKey::of(k) == *registered) {
            return Ok(key.clone());
        }
        if self.given.is_none() {
            self.load(actor, registered)?;
        }
        let (from, key) = match &self.given {
            Some((path, key)) => (path.clone(), key.clone()),
            None => match self.loaded.get(actor) {
                Some(key) => (self.dir.as_ref().map(|d| d.join(file_name(actor))).unwrap_or_default(), key),
                None => {
                    let path = PathBuf::from(KEYS_DIR).join(file_name(actor));
                    return Err(KeyringError::Missing { actor: actor.clone(), path });
                }
            },
        };
        let found = PublicKey::of(&key);
        if found != *registered {
            return Err(KeyringError::Wrong { actor: actor.clone(), from, found, registered: *registered });
        }
        Ok(key)
    }

    /// Loads `keys/<actor>.pem` unless the key at hand for `actor` is already the registered one.
    fn load(&mut self, actor: &ActorId, registered: &PublicKey) -> Result<(), KeyringError> {
        if self.loaded.get(actor).is_some_and(|k| PublicKey::of(&k) == *registered) {
            return Ok(());
        }
        let Some(dir) = self.dir.clone() else { return Ok(()) };
        let path = dir.join(file_name(actor));
        let pending = pending_path(&dir, actor);
        // A key made by an append that was interrupted before it moved the key into place.
        if pending.exists() && keys::read_private_key(&pending).is_ok_and(|k| PublicKey::of(&k) == *registered) {
            move_into_place(&dir, actor)?;
        }
        if !path.exists() {
            return Err(KeyringError::Missing { actor: actor.clone(), path });
        }
        let key = keys::read_private_key(&path)?;
        self.loaded.insert(actor.clone(), key);
        Ok(())
    }
}

impl Keyring {
    /// Gives a command that registers an actor (or opens the ledger, or registers a key) without a
    /// public key a new key pair, held until its record is written; `made` collects the keys made.
    pub fn provide_key(&mut self, command: crate::command::Command, made: &mut Vec<Made>) -> crate::command::Command {
        use crate::command::Command;
        if self.no_new_keys {
            return command;
        }
        let mut make = |actor: &ActorId| {
            let key = keys::generate_signing_key();
            let public = PublicKey::of(&key);
            self.fresh.push((actor.clone(), key));
            made.push((actor.clone(), public));
            Some(public)
        };
        match command {
            Command::Open(mut c) if c.admin_key.is_none() => {
                c.admin_key = make(&c.admin);
                Command::Open(c)
            }
            Command::RegisterActor(mut c) if c.public_key.is_none() => {
                c.public_key = make(&c.id);
                Command::RegisterActor(c)
            }
            Command::RegisterKey { actor, public_key: None } => {
                let public_key = make(&actor);
                Command::RegisterKey { actor, public_key }
            }
            other => other,
        }
    }

    /// Drops keys made for records that were refused.
    pub fn forget(&mut self, made: &[Made]) {
        self.fresh.retain(|(a, k)| !made.iter().any(|(ma, mk)| ma == a && *mk == PublicKey::of(k)));
    }

    fn fresh_key(&self, (actor, public): &Made) -> Option<&SigningKey> {
        self.fresh.iter().find(|(a, k)| a == actor && PublicKey::of(k) == *public).map(|(_, k)| k)
    }

    /// Writes the keys made for records about to be written to `keys/<actor>.pem.new` (mode 0600),
    /// when the keyring has a folder: all of them or, on failure, none. [`Keyring::finalize`] moves
    /// them into place once their records are durable; [`Keyring::unpersist`] removes them when the
    /// records are not written.
    pub fn persist(&mut self, made: &[Made]) -> Result<(), KeyringError> {
        let Some(dir) = self.dir.clone() else { return Ok(()) };
        if made.is_empty() {
            return Ok(());
        }
        create_keys_dir(&dir)?;
        for (i, m) in made.iter().enumerate() {
            let Some(key) = self.fresh_key(m) else { continue };
            if let Err(e) = keys::write_private_key(&pending_path(&dir, &m.0), key, WriteMode::Overwrite) {
                self.unpersist(&made[..i]);
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// Once their records are durable: moves the keys made into place (`keys/<actor>.pem`, replacing
    /// a rotated key's file) and among the keys at hand. If a rename fails, the key stays in
    /// `<actor>.pem.new`, where [`Keyring::key_for`] finds it too.
    pub fn finalize(&mut self, made: &[Made]) -> Result<(), KeyringError> {
        for m in made {
            if let Some(key) = self.fresh_key(m) {
                self.loaded.insert(m.0.clone(), key.clone());
            }
        }
        self.forget(made);
        let Some(dir) = self.dir.clone() else { return Ok(()) };
        for (actor, _) in made {
            move_into_place(&dir, actor)?;
        }
        if !made.is_empty() {
            std::fs::File::open(&dir)
                .and_then(|d| d.sync_all())
                .map_err(|source| KeyError::Io { path: dir.clone(), source })?;
        }
        Ok(())
    }

    /// Removes the key files [`Keyring::persist`] wrote (their records were not written) and forgets
    /// the keys.
    pub fn unpersist(&mut self, made: &[Made]) {
        if let Some(dir) = &self.dir {
            for (actor, _) in made {
                let _ = std::fs::remove_file(pending_path(dir, actor));
            }
        }
        self.forget(made);
    }
}

fn move_into_place(dir: &Path, actor: &ActorId) -> Result<(), KeyringError> {
    let to = dir.join(file_name(actor));
    std::fs::rename(pending_path(dir, actor), &to).map_err(|source| KeyError::Io { path: to, source })?;
    Ok(())
}

fn pending_path(dir: &Path, actor: &ActorId) -> PathBuf {
    dir.join(format!("{actor}.pem.new"))
}

fn file_name(actor: &ActorId) -> String {
    format!("{actor}.pem")
}

/// Where `keys/` keeps an actor's key in a ledger directory.
pub fn actor_key_path(ledger_dir: &Path, actor: &ActorId) -> PathBuf {
    ledger_dir.join(KEYS_DIR).join(file_name(actor))
}

/// Creates the `keys/` folder (mode 0700) if it does not exist.
pub fn create_keys_dir(dir: &Path) -> Result<(), KeyringError> {
    let io = |source| KeyError::Io { path: dir.to_path_buf(), source };
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}
