//! Fuzz target `csv_lines`: see `rns_fuzz::csv_lines` (fuzz/src/lib.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rns_fuzz::csv_lines(data);
});
