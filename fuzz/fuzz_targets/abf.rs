//! Fuzz target `abf`: see `rns_fuzz::abf` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::abf(data);
});
