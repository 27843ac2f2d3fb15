//! Fuzz target `brainvision`: see `rns_fuzz::brainvision` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::brainvision(data);
});
