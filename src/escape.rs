//! Text from a server made safe for where it is written. A reply can hold anything: an ESC
//! that starts a terminal sequence, a newline that splits a row or an error line, a
//! bidirectional override that shows the rest of a line reordered. Each output has its own
//! rule; JSON needs none (it escapes control characters itself).
//!
//! Every rule writes a backslash escape (`\n`, `\r`, `\t`) or `\u{…}`, as Rust would, and
//! borrows text that needs nothing, which is nearly all of it.

use std::borrow::Cow;

/// Tables and every line on stderr: control characters and bidirectional overrides or
/// isolates (U+202A–E, U+2066–9), a tab included (a table's columns are aligned by keyctl).
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, |c| c.is_control() || is_bidi_control(c))
}

/// One TSV field: a backslash (so a reader can undo the escapes), every control character and
/// the bidirectional controls (a field shown later by `cut` or `column` must not reorder the
/// line around it).
pub(crate) fn tsv_field(s: &str) -> Cow<'_, str> {
    escape(s, |c| c == '\\' || c.is_control() || is_bidi_control(c))
}

/// A name for `-o name`, one a line, kept verbatim for `while read -r` (a tab or a backslash
/// too) but for control characters that would end the line or act on a terminal, and the
/// bidirectional controls that would show it reordered. Real names never hold one.
pub(crate) fn name_line(s: &str) -> Cow<'_, str> {
    escape(s, |c| (c.is_control() && c != '\t') || is_bidi_control(c))
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character `needs` picks written as its escape.
fn escape(s: &str, needs: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !needs(c) => out.push(c),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.extend(c.escape_unicode()),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_output_escapes_what_would_break_it_and_borrows_the_rest() {
        let evil = "a\tb\\c\n\u{1b}[2J\u{0}\u{202e}x";
        assert_eq!(printable(evil), "a\\tb\\c\\n\\u{1b}[2J\\u{0}\\u{202e}x");
        assert_eq!(tsv_field(evil), "a\\tb\\\\c\\n\\u{1b}[2J\\u{0}\\u{202e}x");
        assert_eq!(name_line(evil), "a\tb\\c\\n\\u{1b}[2J\\u{0}\\u{202e}x");
        // C1 controls (U+009B is a one-character CSI on some terminals) in every output.
        for f in [printable, tsv_field, name_line] {
            assert_eq!(f("a\u{9b}2J"), "a\\u{9b}2J");
        }
        for f in [printable, tsv_field, name_line] {
            assert!(matches!(f("hw-00001 日本"), Cow::Borrowed(_)));
        }
    }
}
