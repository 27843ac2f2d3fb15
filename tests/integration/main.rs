//! Integration tests, compiled as one test binary (ripgrep's layout).

mod accuracy;
mod accuracy_cases;
mod batch;
mod classify;
mod cli;
mod edf;
mod formats;
mod fuzz_replay;
mod hostile_cli;
mod layers;
mod malformed;
mod mat;
mod meaningless;
mod properties;
mod quality;
mod real;
mod report;
mod samples;
mod simulate;
mod stimuli;
mod study;
mod util;
