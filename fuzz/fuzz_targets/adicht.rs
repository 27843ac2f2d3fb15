//! Fuzz target `adicht`: see `rns_fuzz::adicht` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::adicht(data);
});
