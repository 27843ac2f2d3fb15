//! Integration tests, compiled as one test binary (ripgrep's layout).

mod accuracy;
mod classify;
mod cli;
mod formats;
mod properties;
mod quality;
mod samples;
mod util;
