//! Fuzz target `cfs`: see `rns_fuzz::cfs` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::cfs(data);
});
