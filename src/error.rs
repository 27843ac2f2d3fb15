//! The library's error type.
//!
//! Every variant carries enough context (file, channel, row) for a one-line
//! message a technician can act on. [`Error::exit_code`] maps each variant to
//! the documented exit code of the `rns` binary.

use std::path::PathBuf;

/// Exit code for a usage error (bad flag, bad option value, bad criteria file).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for an input that cannot be read or decoded.
pub const EXIT_UNREADABLE: i32 = 3;
/// Exit code for an input that was read but holds nothing to analyse.
pub const EXIT_NOTHING: i32 = 4;

/// Everything that can go wrong in reading or analysing a recording.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: cannot read file: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// An output file could not be written.
    #[error("{path}: cannot write file: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// The file's format is not one the analyzer reads.
    #[error("{path}: unsupported format: {reason}")]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// What was seen.
        reason: String,
    },

    /// The file is of a known format but its content is malformed.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong and where (row, chunk, header field).
        reason: String,
    },

    /// A declared size or count is beyond what the analyzer will allocate.
    #[error("{path}: {what} ({value}) exceeds the limit of {limit}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// What was declared.
        what: String,
        /// The declared value.
        value: u64,
        /// The largest accepted value.
        limit: u64,
    },

    /// A requested channel does not exist.
    #[error("{path}: channel {channel} does not exist (the file has {available} channel(s))")]
    NoSuchChannel {
        /// The file.
        path: PathBuf,
        /// The requested channel, as given.
        channel: String,
        /// How many channels the file has.
        available: usize,
    },

    /// A protocol sidecar or criteria file is invalid.
    #[error("{path}: invalid {kind}: {reason}")]
    Config {
        /// The TOML file.
        path: PathBuf,
        /// "protocol sidecar" or "criteria profile".
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// An option value is invalid (not tied to a file).
    #[error("{0}")]
    Usage(String),

    /// The recording was read but holds nothing the analyzer can measure.
    #[error("{path}: nothing to analyse: {reason}")]
    NothingToAnalyse {
        /// The file.
        path: PathBuf,
        /// Why (no stimuli found, signal flat, ...).
        reason: String,
    },
}

impl Error {
    /// The exit code the `rns` binary returns for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config { .. } | Error::NoSuchChannel { .. } => EXIT_USAGE,
            Error::Io { .. }
            | Error::UnsupportedFormat { .. }
            | Error::Malformed { .. }
            | Error::Limit { .. } => EXIT_UNREADABLE,
            Error::NothingToAnalyse { .. } => EXIT_NOTHING,
            Error::Write { .. } => 1,
        }
    }

    /// Shorthand for a malformed-file error.
    pub fn malformed(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collapse a multi-line message (TOML errors carry a source excerpt) to one line.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` safe to print on a terminal: every control character but newline and
/// tab (an escape sequence in a file name, a CSV header, an EDF label or an
/// annotation could recolour the screen, move the cursor or retitle the
/// window) and every bidirectional-override character (which can make text
/// read other than it is) is written as its Rust escape, `\u{1b}`.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod terminal_tests {
    use super::terminal_safe;

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(terminal_safe("plain\nline\ttab"), "plain\nline\ttab");
        assert_eq!(terminal_safe("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal_safe("\r\u{7}\u{9b}"), "\\u{d}\\u{7}\\u{9b}");
        assert_eq!(terminal_safe("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal_safe("é中"), "é中");
    }
}
