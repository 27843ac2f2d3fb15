//! Fuzz target `edf`: see `rns_fuzz::edf` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::edf(data);
});
