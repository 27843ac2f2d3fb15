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
    escape_unsafe(s, |c| c == '\n' || c == '\t')
}

/// [`terminal_safe`] for a one-line message: a newline (from a file name)
/// is escaped too, so a name cannot forge a line of its own.
pub fn terminal_safe_line(s: &str) -> std::borrow::Cow<'_, str> {
    escape_unsafe(s, |c| c == '\t')
}

fn escape_unsafe(s: &str, keep: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !keep(c))
            || matches!(
                c,
                '\u{200b}'..='\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{2069}'
                    | '\u{feff}'
            )
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
    use super::{terminal_safe, terminal_safe_line};

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        assert_eq!(terminal_safe("plain\nline\ttab"), "plain\nline\ttab");
        assert_eq!(terminal_safe("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(terminal_safe("\r\u{7}\u{9b}"), "\\u{d}\\u{7}\\u{9b}");
        assert_eq!(terminal_safe("x\u{202e}y"), "x\\u{202e}y");
        assert_eq!(terminal_safe("é中"), "é中");
        assert_eq!(terminal_safe("a\u{200f}b\u{feff}"), "a\\u{200f}b\\u{feff}");
        assert_eq!(terminal_safe_line("a\nrns: forged"), "a\\u{a}rns: forged");
    }
}

/// The most characters of a file's content a message quotes (see [`excerpt`]).
pub const EXCERPT_CHARS: usize = 40;

/// File content (a cell, a column name, a header field, a label) as a
/// message quotes it: in double quotes, at most [`EXCERPT_CHARS`]
/// characters, then `…` after the closing quote when there was more.
/// Whatever could break a one-line message or fool a terminal is escaped:
/// `"` and `\` with a backslash, control characters as `\n`, `\t`, `\0`,
/// `\u{1b}`, line and paragraph separators, bidirectional and zero-width
/// formatting characters as `\u{…}`, and bytes that are not UTF-8 as `\xNN`
/// (each counts as one character). Every reader message that quotes what a
/// file holds goes through here, so a 100 MB cell cannot make a 100 MB
/// message.
pub fn excerpt(bytes: &[u8]) -> String {
    excerpt_of(bytes, EXCERPT_CHARS)
}

/// [`excerpt`] with room for `max_chars` characters instead of
/// [`EXCERPT_CHARS`] (a settings file's line, whose place in the file is
/// what the reader needs to see).
pub fn excerpt_of(bytes: &[u8], max_chars: usize) -> String {
    let mut out = String::with_capacity(max_chars + 8);
    out.push('"');
    let mut left = max_chars;
    let mut cut = false;
    'chunks: for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if left == 0 {
                cut = true;
                break 'chunks;
            }
            push_escaped(&mut out, c);
            left -= 1;
        }
        for b in chunk.invalid() {
            if left == 0 {
                cut = true;
                break 'chunks;
            }
            out.push_str(&format!("\\x{b:02X}"));
            left -= 1;
        }
    }
    out.push('"');
    if cut {
        out.push('…');
    }
    out
}

/// [`excerpt`] of text.
pub fn excerpt_str(text: &str) -> String {
    excerpt(text.as_bytes())
}

/// One character of an [`excerpt`], escaped when it must be.
fn push_escaped(out: &mut String, c: char) {
    let invisible = matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}'
    );
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        c if c.is_control() || invisible || (c.is_whitespace() && c != ' ') => {
            out.extend(c.escape_debug());
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_short_quoted_and_escaped() {
        assert_eq!(excerpt(b"n/a"), "\"n/a\"");
        assert_eq!(excerpt_str("EMG (\u{b5}V)"), "\"EMG (\u{b5}V)\"");
        // Quotes, backslashes, controls, separators and bidi overrides.
        assert_eq!(
            excerpt(b"a\"b\\c\nd\te\0f\x1b"),
            "\"a\\\"b\\\\c\\nd\\te\\0f\\u{1b}\""
        );
        assert_eq!(
            excerpt_str("x\u{2028}y\u{202e}z\u{feff}"),
            "\"x\\u{2028}y\\u{202e}z\\u{feff}\""
        );
        // Bytes that are not UTF-8.
        assert_eq!(excerpt(b"1\xff2\xb5"), "\"1\\xFF2\\xB5\"");
        // At most 40 characters, then an ellipsis.
        let long = "7".repeat(100_000_000);
        let e = excerpt_str(&long);
        assert_eq!(e, format!("\"{}\"…", "7".repeat(EXCERPT_CHARS)));
        assert_eq!(
            excerpt_str(&"é".repeat(40)),
            format!("\"{}\"", "é".repeat(40))
        );
        assert!(excerpt(&[0u8; 1000]).len() < 100);
        assert_eq!(excerpt(b""), "\"\"");
    }
}
