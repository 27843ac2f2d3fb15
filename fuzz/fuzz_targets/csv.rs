//! Fuzz target `csv`: see `rns_fuzz::csv` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::csv(data);
});
