//! Fuzz target `wav`: see `rns_fuzz::wav` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::wav(data);
});
