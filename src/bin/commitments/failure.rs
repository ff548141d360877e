//! A failed command: its message (printed after `error: `) and its exit code. Every library error maps
//! here once.

use commitment_ledger::demo::DemoError;
use commitment_ledger::export::{ExportError, RestoreError};
use commitment_ledger::keyring::KeyringError;
use commitment_ledger::keys::KeyError;
use commitment_ledger::proof::ProofError;
use commitment_ledger::publish::{Fault, PublishError};
use commitment_ledger::witness::WitnessError;
use commitment_ledger::{LedgerError, StoreError};

/// The ledger, a bundle or a projection is unsound, or the ledger needs an operator (damaged, or an
/// unacknowledged tail to accept or discard).
pub const UNSOUND: u8 = 1;
/// Bad usage or bad input; nothing was written.
pub const BAD_INPUT: u8 = 2;
/// I/O or storage failure; nothing acknowledged is lost.
pub const IO: u8 = 3;

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input (exit code 2).
    pub fn input(message: impl Into<String>) -> Failure {
        Failure { code: BAD_INPUT, message: message.into() }
    }

    /// An I/O failure (exit code 3).
    pub fn io(message: impl Into<String>) -> Failure {
        Failure { code: IO, message: message.into() }
    }

    /// The ledger (or a bundle) is unsound (exit code 1).
    pub fn unsound(message: impl Into<String>) -> Failure {
        Failure { code: UNSOUND, message: message.into() }
    }

    /// The ledger has no record 0 yet.
    pub fn not_initialized() -> Failure {
        Failure::input("the ledger is not initialized")
    }

    /// A failure of the kind the library says (bad input, unsound, I/O).
    pub fn of(fault: Fault, message: impl Into<String>) -> Failure {
        let code = match fault {
            Fault::BadInput => BAD_INPUT,
            Fault::Unsound => UNSOUND,
            Fault::Io => IO,
        };
        Failure { code, message: message.into() }
    }
}

impl From<LedgerError> for Failure {
    fn from(e: LedgerError) -> Failure {
        let code = match &e {
            LedgerError::Rejected { .. } => BAD_INPUT,
            // An unreadable record is evidence that the ledger is unsound, as `verify` would say; a
            // damaged ledger, or one with an unacknowledged tail, needs an operator, not a retry.
            LedgerError::Corrupt { .. }
            | LedgerError::Damaged(_)
            | LedgerError::UnacknowledgedTail { .. }
            | LedgerError::HeadAhead { .. } => UNSOUND,
            // The engine refusing its own files is damage to the store, which `verify` reports as unsound.
            LedgerError::Store(StoreError::Damaged(_) | StoreError::HeadUnreadable(_)) => UNSOUND,
            LedgerError::Store(StoreError::Missing(_) | StoreError::NotALedger { .. }) => BAD_INPUT,
            // A key file that cannot be read (missing, loose permissions, not a key) is bad input.
            LedgerError::Keys(KeyringError::File(KeyError::Io { .. })) => IO,
            LedgerError::Keys(_) => BAD_INPUT,
            // The stored Merkle tree is derived data that does not add up: `verify` says what.
            LedgerError::Tree(_) => UNSOUND,
            _ => IO,
        };
        let hint = match &e {
            LedgerError::Store(StoreError::Damaged(_)) => {
                " (the store is damaged: `commitments verify` says what can be read; `commitments restore` \
                 rebuilds a ledger from a verified export bundle)"
            }
            _ => "",
        };
        Failure { code, message: format!("{e}{hint}") }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::from(LedgerError::Store(e))
    }
}

impl From<DemoError> for Failure {
    fn from(e: DemoError) -> Failure {
        match e {
            DemoError::Ledger(e) => Failure::from(e),
            e @ DemoError::NotEmpty(_) => Failure::input(e.to_string()),
            e => Failure::io(e.to_string()),
        }
    }
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Failure {
        match e {
            ExportError::Ledger(e) => Failure::from(e),
            e => Failure::io(e.to_string()),
        }
    }
}

impl From<RestoreError> for Failure {
    fn from(e: RestoreError) -> Failure {
        match e {
            RestoreError::Ledger(e) => Failure::from(e),
            e @ RestoreError::NotEmpty(_) => Failure::input(e.to_string()),
            e @ RestoreError::Unsound(_) => Failure::unsound(e.to_string()),
            e => Failure::io(e.to_string()),
        }
    }
}

impl From<PublishError> for Failure {
    fn from(e: PublishError) -> Failure {
        match e {
            PublishError::Ledger(e) => Failure::from(e),
            e => Failure::of(e.fault(), e.to_string()),
        }
    }
}

impl From<ProofError> for Failure {
    fn from(e: ProofError) -> Failure {
        match e {
            ProofError::Ledger(e) => Failure::from(e),
            ProofError::Publish(e) => Failure::from(e),
            e => Failure::of(e.fault(), e.to_string()),
        }
    }
}

impl From<WitnessError> for Failure {
    fn from(e: WitnessError) -> Failure {
        Failure::of(e.fault(), e.to_string())
    }
}
