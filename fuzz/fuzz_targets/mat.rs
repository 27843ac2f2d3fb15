//! Fuzz target `mat`: see `rns_fuzz::mat` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::mat(data);
});
