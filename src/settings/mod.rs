//! Everything the user says about a file and its interpretation, in two
//! stages (as in ripgrep): the [`protocol`] sidecar and the [`criteria`]
//! profile are parsed here, merged with the command-line flags and validated
//! into one typed [`config::Settings`] (how to read, how to analyse).

pub mod config;
pub mod criteria;
pub mod protocol;
