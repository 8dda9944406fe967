//! Tables for people, rendered by comfy-table: left-aligned columns two spaces apart, a header,
//! no borders (as kubectl and gh print them), optionally coloured.
//!
//! A table is for people to read, so it is drawn by the table library the project names and
//! not by code of its own: comfy-table holds every row as cells until the last one sets the
//! column widths. That costs memory in proportion to the rows (a cell object per field, then
//! the formatted lines), far more than the formats for programs, which is accepted because a
//! person does not read tens of thousands of rows: `-o json`, `jsonl`, `tsv` and `name` still
//! stream (the README's Output section gives both peaks). `keyctl list` renders a table row's
//! cells in each target's task and spools them as one line like any other format
//! ([`RowFormat`](super::RowFormat)); [`Lines`] turns each spooled line back into a row.
//!
//! Colour styles the text of a cell only (comfy-table's `style_text_only`), never its padding,
//! so coloured and plain tables line up alike and a line's trailing blanks can be trimmed.
//!
//! Nothing is wrapped to the terminal's width (`ContentArrangement::Disabled`): on a narrow
//! terminal a wrapped cell puts a fingerprint on many lines (one row of `list` became 61 lines
//! at 20 columns under comfy-table's wrapping), which can be neither read nor copied. An
//! overlong line is the terminal's to wrap, as in kubectl.

use std::io::{self, Write};

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use super::escape::printable;

/// Between two cells of a spooled row's line: a tab can never be in a cell, since
/// [`printable`] shows every control character escaped.
pub const SEP: u8 = b'\t';

/// Blanks between two columns, as kubectl and gh print them.
const GAP: u16 = 2;

pub struct TextTable {
    layout: Layout,
    table: Table,
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
        let mut table = new_table(color);
        table.set_header(header.iter().map(|h| {
            let cell = Cell::new(printable(h));
            if color {
                cell.add_attribute(Attribute::Bold)
            } else {
                cell
            }
        }));
        TextTable {
            layout: Layout::Columns(columns),
            table,
            color,
        }
    }

    /// One object shown field by field: rows of a field name and its value, no header.
    pub fn fields(color: bool) -> TextTable {
        TextTable {
            layout: Layout::Fields,
            table: new_table(color),
            color,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// One row, a cell per column; control characters are shown escaped.
    pub fn push<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let row: Vec<Cell> = {
            let mut field = String::new();
            cells
                .into_iter()
                .enumerate()
                .map(|(i, cell)| {
                    let text = printable(cell.as_ref());
                    if i == 0 {
                        field = text.to_string();
                    }
                    self.cell(i, &field, &text)
                })
                .collect()
        };
        self.table.add_row(row);
    }

    /// One row given as its line: printable cells separated by [`SEP`].
    pub fn push_line(&mut self, line: &str) {
        let mut field = "";
        let row: Vec<Cell> = line
            .split(SEP as char)
            .enumerate()
            .map(|(i, text)| {
                if i == 0 {
                    field = text;
                }
                self.cell(i, field, text)
            })
            .collect();
        self.table.add_row(row);
    }

    /// Cell `i` of a row whose first cell is `first`, coloured by its field and what it says.
    fn cell(&self, i: usize, first: &str, text: &str) -> Cell {
        let cell = Cell::new(text);
        if !self.color {
            return cell;
        }
        let style = match &self.layout {
            Layout::Columns(cols) => cols.get(i).and_then(|c| value_style(c, text)),
            Layout::Fields if i == 0 => return cell.add_attribute(Attribute::Bold),
            Layout::Fields => value_style(first, text),
        };
        match style {
            Some((color, bold)) => {
                let cell = cell.fg(color);
                if bold {
                    cell.add_attribute(Attribute::Bold)
                } else {
                    cell
                }
            }
            None => cell,
        }
    }

    /// The header and every row, each line without trailing blanks.
    pub fn write(&mut self, out: &mut dyn Write) -> io::Result<()> {
        if self.table.is_empty() && self.table.header().is_none() {
            return Ok(());
        }
        // Columns exist once a header or a row is in: each is followed by the gap but the last.
        let last = self.table.column_iter().count().saturating_sub(1);
        for (i, column) in self.table.column_iter_mut().enumerate() {
            column.set_padding((0, if i < last { GAP } else { 0 }));
        }
        for line in self.table.lines() {
            out.write_all(line.trim_end().as_bytes())?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// A borderless table that never wraps; styled only when keyctl's `--color` says so.
fn new_table(color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if color {
        table.enforce_styling();
        table.style_text_only();
        // Colour is keyctl's decision (`--color`; `auto` already honoured NO_COLOR), and
        // crossterm, which writes comfy-table's colour codes, would drop them on its own
        // reading of NO_COLOR under `--color always`.
        crossterm::style::Colored::set_ansi_color_disabled(false);
    } else {
        // Without this comfy-table styles whenever stdout is a terminal, whatever `--color`.
        table.force_no_tty();
    }
    table
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
            let line = if self.partial.is_empty() {
                &rest[..end]
            } else {
                self.partial.extend_from_slice(&rest[..end]);
                &self.partial[..]
            };
            let line = std::str::from_utf8(line)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.table.push_line(line);
            self.partial.clear();
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a value's colour says at a glance: frozen keys and high findings red, active keys
/// green. The first eight colours (comfy-table's `Dark…`), as the SGR 31–33 codes before.
fn value_style(column: &str, text: &str) -> Option<(Color, bool)> {
    Some(match (column, text) {
        ("status", "frozen") => (Color::DarkRed, false),
        ("status", "active") => (Color::DarkGreen, false),
        ("severity", "high") => (Color::DarkRed, true),
        ("severity", "medium") => (Color::DarkYellow, false),
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

    /// A coloured table without its colour codes (SGR sequences).
    fn strip_sgr(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('\x1b') {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('m').expect("an SGR sequence ends in m");
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        out
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
        // CJK names of several widths, mixed with ASCII and full-width forms: every column
        // starts at the same display column on every line.
        let rows: &[&[&str]] = &[
            &["密钥", "active", "256"],
            &["生产环境密钥", "frozen", "4096"],
            &["key-東京", "active", "2048"],
            &["ｆｕｌｌ", "-", "1"],
        ];
        let t = table(false, rows);
        assert_eq!(
            t,
            "NAME          STATUS  BITS\n\
             密钥          active  256\n\
             生产环境密钥  frozen  4096\n\
             key-東京      active  2048\n\
             ｆｕｌｌ      -       1\n"
        );
        assert_eq!(strip_sgr(&table(true, rows)), t);
    }

    #[test]
    fn colour_codes_do_not_move_the_columns() {
        let rows: &[&[&str]] = &[&["k1", "frozen", "256"], &["key-two", "active", "4096"]];
        let plain = table(false, rows);
        let colored = table(true, rows);
        assert!(colored.contains("\x1b[1mNAME\x1b[0m"), "{colored:?}");
        assert!(
            colored.contains("\x1b[38;5;1mfrozen\x1b[39m"),
            "{colored:?}"
        );
        assert!(
            colored.contains("\x1b[38;5;2mactive\x1b[39m"),
            "{colored:?}"
        );
        // The header's blanks follow its reset: styled text only, never the padding.
        assert!(
            colored.starts_with("\x1b[1mNAME\x1b[0m     "),
            "{colored:?}"
        );
        assert_eq!(strip_sgr(&colored), plain);
    }

    #[test]
    fn plain_tables_carry_no_colour_codes() {
        let t = table(false, &[&["k1", "frozen", "256"]]);
        assert!(!t.contains('\x1b'), "{t:?}");
    }

    #[test]
    fn fields_are_a_bold_name_and_a_value_coloured_by_the_field() {
        let mut t = TextTable::fields(true);
        t.push(["severity", "high"]);
        t.push(["name", "k"]);
        let mut out = Vec::new();
        t.write(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\x1b[1mseverity\x1b[0m  \x1b[38;5;1m\x1b[1mhigh\x1b[0m"),
            "{text:?}"
        );
        assert_eq!(strip_sgr(&text), "severity  high\nname      k\n");
        let mut out = Vec::new();
        TextTable::fields(false).write(&mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn spooled_lines_are_the_rows_they_were_rendered_from() {
        let rows: &[&[&str]] = &[&["a", "active", "1"], &["bb", "frozen", "22"]];
        let mut direct = TextTable::new(vec!["name".into()], vec!["NAME".into()], false);
        let mut spooled = TextTable::new(vec!["name".into()], vec!["NAME".into()], false);
        let mut text = String::new();
        for r in rows {
            direct.push(r.iter());
            text.push_str(&r.join("\t"));
            text.push('\n');
        }
        // Written in pieces that split lines and characters anywhere.
        let mut lines = Lines::new(&mut spooled);
        for piece in text.as_bytes().chunks(3) {
            lines.write_all(piece).unwrap();
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        direct.write(&mut a).unwrap();
        spooled.write(&mut b).unwrap();
        assert_eq!(a, b);
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
