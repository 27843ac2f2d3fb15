//! Fuzz target `spike2`: see `rns_fuzz::spike2` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::spike2(data);
});
