//! Everything the user says about a file and its interpretation, in two
//! stages (as in ripgrep): the [`protocol`] sidecar and the [`criteria`]
//! profile are parsed here, merged with the command-line flags and validated
//! into one typed [`config::Settings`] (how to read, how to analyse).

pub mod config;
pub mod criteria;
pub mod protocol;

/// Longest excerpt of a settings file that an error message quotes, in
/// characters: a file given as a sidecar may be any file (a link to a
/// secret), so a message names the place and the problem, never more of
/// the content than this.
pub const MAX_EXCERPT_CHARS: usize = 60;

/// The parser's message on one line, cut to [`MAX_EXCERPT_CHARS`] (with
/// `…`), its control characters escaped. (File content, the offending
/// line, is quoted by [`crate::error::excerpt_of`].)
fn short_message(s: &str) -> String {
    let one = crate::error::one_line(s);
    let mut short: String = one.chars().take(MAX_EXCERPT_CHARS).collect();
    if short.len() < one.len() {
        short.push('…');
    }
    crate::error::terminal_safe(&short).into_owned()
}

/// A TOML error as one short line: where (line and column, and an excerpt
/// of that line) and what; the parser's source snippet is left out, and
/// both parts are cut to [`MAX_EXCERPT_CHARS`].
pub(crate) fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let place = e.span().map(|s| {
        let mut at = s.start.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &text[..at];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = before.matches('\n').count() + 1;
        let col = before[line_start..].chars().count() + 1;
        format!(
            "line {line}, column {col} ({}): ",
            crate::error::excerpt_of(&text.as_bytes()[line_start..line_end], MAX_EXCERPT_CHARS)
        )
    });
    format!(
        "{}{}",
        place.unwrap_or_default(),
        short_message(e.message())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_quote_no_more_than_an_excerpt() {
        let secret = format!("root:{}:0:0", "x".repeat(200));
        let text = format!("muscle = \"ADM\"\n{secret}\n");
        let e = toml::from_str::<toml::Table>(&text).unwrap_err();
        let m = toml_error(&text, &e);
        assert!(m.starts_with("line 2, column"), "{m}");
        assert!(!m.contains(&"x".repeat(MAX_EXCERPT_CHARS)), "{m}");
        assert!(m.len() < 3 * MAX_EXCERPT_CHARS + 40, "{m}");
        assert!(!m.contains('\n'), "{m}");
        let text = "rate_hz = \"\u{1b}[31m\"\n";
        let e = toml::from_str::<protocol::Protocol>(text).unwrap_err();
        assert!(!toml_error(text, &e).contains('\u{1b}'));
    }
}
