#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| commitment_ledger_fuzz::harness::signed_log(data));
