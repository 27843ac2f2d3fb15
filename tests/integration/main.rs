//! Integration tests, compiled as one test binary (ripgrep's layout).

mod accuracy;
mod util;
