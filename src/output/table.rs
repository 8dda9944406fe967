//! Tables for people: left-aligned columns two spaces apart, a header, no borders (as kubectl
//! and gh print them), optionally coloured.
//!
//! Rows are kept as one line of text each (printable cells separated by [`SEP`]) until the
//! column widths are known: `keyctl list` renders them in each target's task and spools them
//! like any other format, so a table needs no more memory than the other formats, where a
//! cell object per field for every key pair held would grow with the listing. Colour codes
//! are added as a line is written and never count towards a column's width, so coloured and
//! plain tables line up alike.
//!
//! Nothing is wrapped to the terminal's width: on a narrow terminal a wrapped cell puts a
//! fingerprint on many lines (one row of `list` became 61 lines at 20 columns under
//! comfy-table's wrapping), which can be neither read nor copied. An overlong line is the
//! terminal's to wrap, as in kubectl.

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use super::escape::printable;

/// Between two cells of a row's line: a tab can never be in a cell, since [`printable`] shows
/// every control character escaped.
pub const SEP: u8 = b'\t';

pub struct TextTable {
    layout: Layout,
    header: Option<Vec<String>>,
    widths: Vec<usize>,
    rows: Vec<Box<str>>,
    color: bool,
}

/// Which field a cell shows, for its colour.
enum Layout {
    /// A row per object, a column per field (named here).
    Columns(Vec<String>),
    /// One object: a row per field, its name (bold) and its value.
    Fields,
}

impl TextTable {
    /// A table of `columns` (the fields each cell comes from, which decide its colour) under
    /// `header`; `color` styles the header bold and some values by what they say.
    pub fn new(columns: Vec<String>, header: Vec<String>, color: bool) -> TextTable {
        let header: Vec<String> = header.iter().map(|h| printable(h).into_owned()).collect();
        let widths = header.iter().map(|h| h.width()).collect();
        TextTable {
            layout: Layout::Columns(columns),
            header: Some(header),
            widths,
            rows: Vec::new(),
            color,
        }
    }

    /// One object shown field by field: rows of a field name and its value, no header.
    pub fn fields(color: bool) -> TextTable {
        TextTable {
            layout: Layout::Fields,
            header: None,
            widths: vec![0, 0],
            rows: Vec::new(),
            color,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// One row, a cell per column; control characters are shown escaped.
    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut line = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                line.push(SEP as char);
            }
            line.push_str(&printable(cell.as_ref()));
        }
        self.push_line(line);
    }

    /// One row given as its line: printable cells separated by [`SEP`].
    pub fn push_line(&mut self, line: String) {
        for (i, cell) in line.split(SEP as char).enumerate() {
            if let Some(w) = self.widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
        self.rows.push(line.into_boxed_str());
    }

    /// The header and every row, each line without trailing blanks.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut line = String::new();
        if let Some(header) = &self.header {
            self.render_line(&mut line, header.iter().map(String::as_str), true);
            out.write_all(line.as_bytes())?;
        }
        for row in &self.rows {
            line.clear();
            self.render_line(&mut line, row.split(SEP as char), false);
            out.write_all(line.as_bytes())?;
        }
        Ok(())
    }

    fn render_line<'a>(
        &self,
        line: &mut String,
        cells: impl Iterator<Item = &'a str>,
        header: bool,
    ) {
        let mut field = "";
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let style = if !self.color {
                None
            } else if header {
                Some(BOLD)
            } else {
                match &self.layout {
                    Layout::Columns(cols) => cols.get(i).and_then(|c| value_style(c, cell)),
                    Layout::Fields if i == 0 => Some(BOLD),
                    Layout::Fields => value_style(field, cell),
                }
            };
            if i == 0 {
                field = cell;
            }
            match style {
                Some(code) => {
                    line.push_str(code);
                    line.push_str(cell);
                    line.push_str(RESET);
                }
                None => line.push_str(cell),
            }
            let width = self.widths.get(i).copied().unwrap_or(0);
            line.extend(std::iter::repeat_n(' ', width.saturating_sub(cell.width())));
        }
        line.truncate(line.trim_end().len());
        line.push('\n');
    }
}

/// Rows written as text, one per line (a spool's rendered rows), into a table.
pub struct Lines<'t> {
    table: &'t mut TextTable,
    partial: Vec<u8>,
}

impl<'t> Lines<'t> {
    pub fn new(table: &'t mut TextTable) -> Lines<'t> {
        Lines {
            table,
            partial: Vec::new(),
        }
    }
}

impl Write for Lines<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            let line = String::from_utf8(std::mem::take(&mut self.partial))
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.table.push_line(line);
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// What a value's colour says at a glance: frozen keys and high findings red, active keys green.
fn value_style(column: &str, text: &str) -> Option<&'static str> {
    Some(match (column, text) {
        ("status", "frozen") => "\x1b[31m",
        ("status", "active") => "\x1b[32m",
        ("severity", "high") => "\x1b[1;31m",
        ("severity", "medium") => "\x1b[33m",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(color: bool, rows: &[&[&str]]) -> String {
        let cols = vec!["name".to_string(), "status".to_string(), "bits".to_string()];
        let header = vec!["NAME".to_string(), "STATUS".to_string(), "BITS".to_string()];
        let mut t = TextTable::new(cols, header, color);
        for r in rows {
            t.push(r.iter());
        }
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_two_spaces_apart() {
        let t = table(
            false,
            &[&["alpha", "active", "256"], &["b", "frozen-long", ""]],
        );
        assert_eq!(
            t,
            "NAME   STATUS       BITS\n\
             alpha  active       256\n\
             b      frozen-long\n"
        );
    }

    #[test]
    fn wide_characters_count_as_two_columns() {
        let t = table(false, &[&["时间", "-", "1"], &["ab", "-", "2"]]);
        assert_eq!(t, "NAME  STATUS  BITS\n时间  -       1\nab    -       2\n");
    }

    #[test]
    fn colour_codes_do_not_move_the_columns() {
        let rows: &[&[&str]] = &[&["k1", "frozen", "256"], &["key-two", "active", "4096"]];
        let plain = table(false, rows);
        let colored = table(true, rows);
        assert!(colored.contains("\x1b[1mNAME\x1b[0m"), "{colored:?}");
        assert!(colored.contains("\x1b[31mfrozen\x1b[0m"), "{colored:?}");
        assert!(colored.contains("\x1b[32mactive\x1b[0m"), "{colored:?}");
        let stripped = colored
            .replace("\x1b[1m", "")
            .replace("\x1b[31m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[0m", "");
        assert_eq!(stripped, plain);
    }

    #[test]
    fn control_characters_are_shown_escaped_and_never_split_a_row() {
        let t = table(false, &[&["a\tb\nc\u{1b}[2J", "x\ry", "1"]]);
        assert_eq!(t.lines().count(), 2, "{t:?}");
        assert!(t.contains("a\\tb\\nc\\u{1b}[2J  x\\ry"), "{t:?}");
        let t = table(false, &[&["abc\u{202e}fed", "\u{2066}x\u{2069}", "日本"]]);
        assert!(
            t.contains("abc\\u{202e}fed  \\u{2066}x\\u{2069}  日本"),
            "{t:?}"
        );
    }
}
