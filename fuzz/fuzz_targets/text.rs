//! Fuzz target `text`: see `rns_fuzz::text` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::text(data);
});
