//! The fuzz harnesses, shared with the stable tests (`tests/fuzz_regressions.rs` and `tests/model.rs`
//! include the same files with `#[path]`), so that every fuzz input replays through the same code.
#[path = "../harness/mod.rs"]
pub mod harness;
