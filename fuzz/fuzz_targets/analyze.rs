//! Fuzz target `analyze`: see `rns_fuzz::analyze` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::analyze(data);
});
