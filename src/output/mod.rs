//! Renderers. Data goes to stdout only, in one of five formats: `table` for people (the
//! default on a terminal), `tsv` (the default when piped, as gh does), `json` (one array or
//! object), `jsonl` (one object per line) and `name`.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::{KeyPair, FIELDS};

pub(crate) use crate::escape;
mod keypair_row;
mod sort_value;
pub mod spool;
mod table;
pub use escape::printable;
use escape::{name_line, tsv_field};
pub use sort_value::SortValue;
pub use spool::{Spool, SpoolBudget, SpoolOut, SPOOL_MEMORY};
use table::TextTable;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Tsv,
    Name,
}

/// How a run renders: the format, the columns for table/tsv, and colour.
#[derive(Debug, Clone)]
pub struct Style {
    pub format: Format,
    pub columns: Option<Vec<String>>,
    pub color: bool,
}

/// Columns shown by default in `list` tables and TSV.
pub const DEFAULT_LIST_COLUMNS: &[&str] = &[
    "profile",
    "provider",
    "region",
    "name",
    "algorithm",
    "bits",
    "fingerprint_sha256",
    "created_at",
];

/// Checks `--columns` against `valid`; an unknown name lists the valid ones (as gh does).
pub fn parse_columns(spec: &str, valid: &[&str]) -> Result<Vec<String>> {
    let cols: Vec<String> = spec
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if cols.is_empty() {
        return Err(Error::usage("--columns needs at least one column name"));
    }
    for c in &cols {
        if !valid.contains(&c.as_str()) {
            return Err(Error::usage(format!("unknown column `{c}`"))
                .with_hint(format!("valid columns: {}", valid.join(", "))));
        }
    }
    Ok(cols)
}

/// Validates `--columns` for key pair output.
pub fn key_columns(spec: &str) -> Result<Vec<String>> {
    parse_columns(spec, &FIELDS)
}

/// Header text for a column: `fingerprint_sha256` → `FINGERPRINT_SHA256`, with a few shortened.
fn header(col: &str) -> String {
    match col {
        "fingerprint_sha256" => "FINGERPRINT".into(),
        "created_at" => "CREATED".into(),
        other => other.to_uppercase(),
    }
}

/// A JSON value as one cell of text: strings bare, lists joined by commas, null as `none`.
pub fn cell_text(v: Option<&Value>, null: &str) -> String {
    match v {
        None | Some(Value::Null) => null.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell_text(Some(i), ""))
            .collect::<Vec<_>>()
            .join(","),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell_text(Some(v), "")))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// What a renderer needs of one row: its JSON (serialized as is, so the text is the same as
/// serializing the row's `serde_json::Value`), and one field's value by its JSON name for the
/// table, TSV and name formats.
pub trait Record: Serialize {
    fn field(&self, name: &str) -> Option<Value>;

    /// The row's JSON object: pretty, as an element of the top-level array, or compact.
    fn write_json<W: Write + ?Sized>(&self, out: &mut W, pretty: bool) -> io::Result<()> {
        if pretty {
            let mut ser = serde_json::Serializer::with_formatter(out, InArray::default());
            self.serialize(&mut ser).map_err(io::Error::from)
        } else {
            write_json_compact(out, self)
        }
    }

    /// One field as a cell of text ([`cell_text`] of its JSON value).
    fn cell<'a>(&'a self, name: &str, null: &'a str) -> Cow<'a, str> {
        Cow::Owned(cell_text(self.field(name).as_ref(), null))
    }
}

impl Record for Value {
    fn field(&self, name: &str) -> Option<Value> {
        self.get(name).cloned()
    }
}

/// Key pairs are most of what keyctl writes: their cells are read field by field
/// ([`keypair_row`]); their JSON is the derive's, as for any record.
impl Record for KeyPair {
    fn field(&self, name: &str) -> Option<Value> {
        KeyPair::field(self, name)
    }

    fn cell<'a>(&'a self, name: &str, null: &'a str) -> Cow<'a, str> {
        keypair_row::cell(self, name, null)
    }
}

/// Rows of JSON objects rendered in any format (see [`Rows`]).
pub fn render_objects<T: Record>(
    out: &mut dyn Write,
    objects: &[T],
    style: &Style,
    default_columns: &[&str],
    name_field: &str,
) -> io::Result<()> {
    let mut rows = Rows::new(style, default_columns, name_field);
    rows.write(out, objects)?;
    rows.finish(out)
}

/// `serde_json`'s pretty layout (two spaces a level) one level deep, as an element of the
/// top-level array: each row is written straight in place, instead of pretty-printed and then
/// re-indented line by line (which doubled the cost of `-o json`).
#[derive(Default)]
struct InArray {
    /// Levels below the array: the row's own object is level 1.
    depth: usize,
    has_value: bool,
}

impl InArray {
    fn newline<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        self.indent(w, self.depth + 1)
    }

    fn indent<W: ?Sized + Write>(&self, w: &mut W, levels: usize) -> io::Result<()> {
        for _ in 0..levels {
            w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            self.indent(w, self.depth + 1)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for InArray {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        write_safe_fragment(w, s)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// A JSON string's text with the characters JSON allows raw but a terminal or a reader may act
/// on escaped as `\uXXXX`: C1 controls (U+0080–U+009F; U+009B starts a terminal sequence on
/// some terminals) and bidirectional overrides and isolates (a name shown later by `jq -r`
/// must not reorder the line around it). The JSON stays valid and decodes to the same string.
fn write_safe_fragment<W: ?Sized + Write>(w: &mut W, s: &str) -> io::Result<()> {
    // Nearly every string (names, fingerprints, public keys) is ASCII: one quick pass over its
    // bytes, and none over its characters.
    if s.is_ascii() {
        return w.write_all(s.as_bytes());
    }
    let risky = |c: char| matches!(c, '\u{80}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if risky(c) {
            w.write_all(&s.as_bytes()[start..i])?;
            write!(w, "\\u{:04x}", c as u32)?;
            start = i + c.len_utf8();
        }
    }
    w.write_all(&s.as_bytes()[start..])
}

/// serde_json's compact layout, strings written by [`write_safe_fragment`].
struct Compact;

impl serde_json::ser::Formatter for Compact {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        write_safe_fragment(w, s)
    }
}

/// serde_json's pretty layout, strings written by [`write_safe_fragment`].
struct Pretty(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for Pretty {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, w: &mut W, s: &str) -> io::Result<()> {
        write_safe_fragment(w, s)
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as compact JSON (one JSONL line), with [`write_safe_fragment`]'s escapes.
pub fn write_json_compact<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Compact);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// `value` as pretty JSON, as `serde_json::to_writer_pretty` writes it, with
/// [`write_safe_fragment`]'s escapes.
pub fn write_json_pretty<W: Write + ?Sized, T: Serialize + ?Sized>(
    out: &mut W,
    value: &T,
) -> io::Result<()> {
    let formatter = Pretty(serde_json::ser::PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Rows written as they come, in chunks, so a listing never holds more than it must: JSON (one
/// array; the same text as `serde_json::to_writer_pretty` of all the rows), JSONL, TSV and
/// names go out chunk by chunk; a table needs every row for its column widths, so its cells are
/// kept and written by [`Rows::finish`].
pub struct Rows {
    /// How each row is written (and, for a table, which columns its cells are).
    row: RowFormat,
    /// Rows written so far (JSON needs it for its separators and its empty `[]`).
    written: usize,
    table: Option<TextTable>,
    /// One JSON row, serialized before it is written out.
    scratch: Vec<u8>,
}

/// How one row is written in the formats that write rows one by one (JSON, JSONL, TSV, names):
/// what a target's task needs to render its own rows into a [`Spool`] while another task writes
/// the output. Tables have none: their column widths depend on every row.
#[derive(Debug, Clone)]
pub struct RowFormat {
    format: Format,
    cols: Vec<String>,
    name_field: String,
}

impl RowFormat {
    /// One row; `first` is the output's first row (JSON opens its array with it).
    fn write_row<T: Record, W: Write + ?Sized>(
        &self,
        out: &mut W,
        row: &T,
        first: bool,
    ) -> io::Result<()> {
        match self.format {
            Format::Json => {
                out.write_all(if first { b"[\n  " } else { b",\n  " })?;
                row.write_json(out, true)
            }
            Format::Jsonl => {
                row.write_json(out, false)?;
                out.write_all(b"\n")
            }
            Format::Name => {
                out.write_all(name_line(&row.cell(&self.name_field, "")).as_bytes())?;
                out.write_all(b"\n")
            }
            Format::Tsv => {
                for (i, c) in self.cols.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b"\t")?;
                    }
                    out.write_all(tsv_field(&row.cell(c, "")).as_bytes())?;
                }
                out.write_all(b"\n")
            }
            // A table row's cells, as a table line before its columns are padded
            // ([`TextTable::push_line`]): the widths are known once every row is in.
            Format::Table => {
                for (i, c) in self.cols.iter().enumerate() {
                    if i > 0 {
                        out.write_all(&[table::SEP])?;
                    }
                    let text = table_cell(c, row.cell(c, "-"));
                    out.write_all(printable(&text).as_bytes())?;
                }
                out.write_all(b"\n")
            }
        }
    }
}

impl Rows {
    pub fn new(style: &Style, default_columns: &[&str], name_field: &str) -> Rows {
        let cols: Vec<String> = style
            .columns
            .clone()
            .unwrap_or_else(|| default_columns.iter().map(|c| c.to_string()).collect());
        let table = (style.format == Format::Table).then(|| {
            let headers = cols.iter().map(|c| header(c)).collect();
            TextTable::new(cols.clone(), headers, style.color)
        });
        Rows {
            row: RowFormat {
                format: style.format,
                cols,
                name_field: name_field.to_string(),
            },
            written: 0,
            table,
            scratch: Vec::new(),
        }
    }

    /// The format for rendering rows elsewhere (a target's task renders its own rows).
    pub fn row_format(&self) -> RowFormat {
        self.row.clone()
    }

    pub fn write<T: Record>(&mut self, out: &mut dyn Write, rows: &[T]) -> io::Result<()> {
        for row in rows {
            self.write_one(out, row)?;
            self.written += 1;
        }
        Ok(())
    }

    /// Writes at most `most` of a spool's rows (rendered by this output's [`RowFormat`]) as if
    /// they had been given to [`Rows::write`], and returns how many.
    pub fn write_spooled(
        &mut self,
        out: &mut dyn SpoolOut,
        spool: &Spool,
        most: usize,
    ) -> io::Result<usize> {
        let opens_array = self.row.format == Format::Json && self.written == 0;
        let n = match &mut self.table {
            Some(table) => spool.write_to(&mut table::Lines::new(table), most, false)?,
            None => spool.write_to(out, most, opens_array)?,
        };
        self.written += n;
        Ok(n)
    }

    /// Writes rows picked from several spools (each rendered by this output's [`RowFormat`]) in
    /// the order `order` gives as (spool, row) pairs, as if they had been given to
    /// [`Rows::write`] in that order: `--sort FIELD` merging every target's rows.
    pub fn write_picked(
        &mut self,
        out: &mut dyn SpoolOut,
        spools: &[Spool],
        order: &[(u32, u32)],
    ) -> io::Result<()> {
        let mut first = self.row.format == Format::Json && self.written == 0;
        let mut lines;
        let out: &mut dyn SpoolOut = match &mut self.table {
            Some(table) => {
                lines = table::Lines::new(table);
                &mut lines
            }
            None => out,
        };
        // Neighbours from one spool are handed over together: rows that lie back to back in
        // it are then copied in one go.
        for group in order.chunk_by(|a, b| a.0 == b.0) {
            let rows = group.iter().map(|&(_, row)| row as usize);
            spools[group[0].0 as usize].write_rows(out, rows, &mut first)?;
        }
        self.written += order.len();
        Ok(())
    }

    fn write_one<T: Record>(&mut self, out: &mut dyn Write, row: &T) -> io::Result<()> {
        // Rendered into a buffer first: writing through `dyn Write` pays a virtual call for
        // every piece. A table takes the row as its line of cells.
        self.scratch.clear();
        self.row
            .write_row(&mut self.scratch, row, self.written == 0)?;
        match &mut self.table {
            Some(table) => table::Lines::new(table).write_all(&self.scratch),
            None => out.write_all(&self.scratch),
        }
    }

    /// Closes the output: the JSON array's bracket, or the whole table (nothing for no rows).
    pub fn finish(self, out: &mut dyn Write) -> io::Result<()> {
        match self.row.format {
            Format::Json if self.written == 0 => writeln!(out, "[]"),
            Format::Json => writeln!(out, "\n]"),
            Format::Table => match self.table {
                Some(mut table) if !table.is_empty() => table.write(out),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// One object shown in full: a two-column `FIELD  value` table, or the object in other formats.
pub fn render_object(
    out: &mut dyn Write,
    object: &Value,
    style: &Style,
    name_field: &str,
) -> io::Result<()> {
    match style.format {
        Format::Json => {
            write_json_pretty(&mut *out, object)?;
            writeln!(out)
        }
        Format::Table => {
            let mut table = TextTable::fields(style.color);
            if let Value::Object(map) = object {
                let keys: Vec<&String> = match &style.columns {
                    Some(cols) => cols.iter().collect(),
                    None => map.keys().collect(),
                };
                for k in keys {
                    let text = match map.get(k.as_str()) {
                        Some(Value::Object(m)) if m.is_empty() => continue,
                        other => cell_text(other, "-"),
                    };
                    table.push([k.as_str(), &text]);
                }
            }
            table.write(out)
        }
        _ => render_objects(
            out,
            std::slice::from_ref(object),
            style,
            DEFAULT_LIST_COLUMNS,
            name_field,
        ),
    }
}

/// Key pairs as JSON objects (the documented schema).
pub fn key_objects(keys: &[KeyPair]) -> Vec<Value> {
    keys.iter().map(to_value).collect()
}

pub fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A table cell: a table is for people, so the minute of `created_at` is enough (JSON and TSV
/// keep full RFC 3339). `get` and not `[..16]`: a string that is not RFC 3339 (non-ASCII) must
/// not panic.
fn table_cell<'a>(col: &str, text: Cow<'a, str>) -> Cow<'a, str> {
    match text.get(..16) {
        Some(minute) if col == "created_at" => Cow::Owned(minute.replace('T', " ")),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    fn style(format: Format) -> Style {
        Style {
            format,
            columns: None,
            color: false,
        }
    }

    fn keys() -> Vec<Value> {
        let mut a = KeyPair::new(
            "hw",
            ProviderKind::new("huawei"),
            Some("cn-north-4"),
            "alpha",
        );
        a.instance_ids = Some(vec!["i-1".into(), "i-2".into()]);
        key_objects(&[
            a,
            KeyPair::new("tc", ProviderKind::new("tencent"), None, "be\tta"),
        ])
    }

    fn render(format: Format, cols: &[&str]) -> String {
        let mut out = Vec::new();
        render_objects(&mut out, &keys(), &style(format), cols, "name").unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_written_in_chunks_is_serde_json_pretty_text_of_the_whole_list() {
        let mut a = KeyPair::new(
            "hw",
            ProviderKind::new("huawei"),
            Some("cn-north-4"),
            "a\nb",
        );
        a.tags = Some([("k".to_string(), "v".to_string())].into());
        a.extra
            .insert("nested".into(), serde_json::json!({"x": [1, {"y": null}]}));
        a.extra.insert(
            "empty".into(),
            serde_json::json!({"a": [], "o": {}, "deep": [[[]], [{}], {"z": [[1]]}]}),
        );
        let all = vec![
            a,
            KeyPair::new("tc", ProviderKind::new("tencent"), None, "c"),
            KeyPair::new("x", ProviderKind::new("openstack"), None, "d"),
        ];
        for split in 0..=all.len() {
            let mut out = Vec::new();
            let mut rows = Rows::new(&style(Format::Json), DEFAULT_LIST_COLUMNS, "name");
            rows.write(&mut out, &all[..split]).unwrap();
            rows.write(&mut out, &all[split..]).unwrap();
            rows.finish(&mut out).unwrap();
            let mut expected = serde_json::to_vec_pretty(&all).unwrap();
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8(out).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
        let mut out = Vec::new();
        render_objects::<KeyPair>(&mut out, &[], &style(Format::Json), &[], "name").unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn tsv_has_no_header_and_escapes_tabs() {
        assert_eq!(
            render(Format::Tsv, &["profile", "name", "instance_ids"]),
            "hw\talpha\ti-1,i-2\ntc\tbe\\tta\t\n"
        );
    }

    #[test]
    fn table_has_header_and_dash_for_null() {
        let t = render(Format::Table, &["profile", "region", "name"]);
        let first = t.lines().next().unwrap();
        assert!(
            first.starts_with("PROFILE") && first.contains("REGION"),
            "{t}"
        );
        assert!(t.lines().nth(2).unwrap().contains('-'));
    }

    #[test]
    fn json_is_an_array_and_jsonl_one_per_line() {
        let j: Value = serde_json::from_str(&render(Format::Json, &[])).unwrap();
        assert_eq!(j.as_array().unwrap().len(), 2);
        assert_eq!(render(Format::Jsonl, &[]).lines().count(), 2);
        assert_eq!(render(Format::Name, &[]), "alpha\nbe\tta\n");
    }

    #[test]
    fn created_at_cell_never_slices_inside_a_character() {
        let text = |s: &str| table_cell("created_at", Cow::Borrowed(s)).into_owned();
        assert_eq!(text("2024-01-02T03:04:05Z"), "2024-01-02 03:04");
        // 15 ASCII bytes then a 3-byte character: byte 16 is inside it.
        assert_eq!(text("2024-01-02T03:0时间"), "2024-01-02T03:0时间");
        assert_eq!(text("short"), "short");
    }

    #[test]
    fn control_characters_are_escaped_in_tables_and_tsv() {
        let mut k = KeyPair::new(
            "hw",
            ProviderKind::new("huawei"),
            None,
            "evil\u{1b}[2J\r\nname",
        );
        k.description = Some("a\rb".into());
        let objects = key_objects(&[k]);
        let mut out = Vec::new();
        render_objects(&mut out, &objects, &style(Format::Table), &["name"], "name").unwrap();
        let table = String::from_utf8(out).unwrap();
        assert!(
            !table.contains('\u{1b}') && !table.contains('\r'),
            "{table:?}"
        );
        assert!(table.contains("evil\\u{1b}[2J\\r\\nname"), "{table:?}");
        let mut out = Vec::new();
        render_objects(
            &mut out,
            &objects,
            &style(Format::Tsv),
            &["description"],
            "name",
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\\rb\n");
        for (format, expected) in [
            (Format::Tsv, "evil\\u{1b}[2J\\r\\nname\ta\\\\b\\u{0}\n"),
            (Format::Name, "evil\\u{1b}[2J\\r\\nname\n"),
        ] {
            let mut k = KeyPair::new(
                "hw",
                ProviderKind::new("huawei"),
                None,
                "evil\u{1b}[2J\r\nname",
            );
            k.description = Some("a\\b\u{0}".into());
            let mut out = Vec::new();
            let s = style(format);
            render_objects(
                &mut out,
                &key_objects(&[k]),
                &s,
                &["name", "description"],
                "name",
            )
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{format:?}");
        }
    }

    #[test]
    fn json_escapes_c1_controls_and_bidi_overrides_and_keeps_the_data() {
        let name = "a\u{9b}2J\u{202e}b\u{1b}c";
        for format in [Format::Json, Format::Jsonl] {
            let k = KeyPair::new("hw", ProviderKind::new("huawei"), None, name);
            let mut out = Vec::new();
            render_objects(
                &mut out,
                &key_objects(&[k]),
                &style(format),
                &["name"],
                "name",
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(
                !text.contains('\u{9b}') && !text.contains('\u{202e}') && !text.contains('\u{1b}'),
                "{format:?}: {text:?}"
            );
            assert!(
                text.contains("\\u009b") && text.contains("\\u202e"),
                "{text}"
            );
            let first = text.lines().find(|l| l.contains("a\\u009b")).unwrap();
            let v: Value = if format == Format::Json {
                serde_json::from_str(&text).unwrap()
            } else {
                serde_json::from_str(first).unwrap()
            };
            let got = if format == Format::Json {
                &v[0]["name"]
            } else {
                &v["name"]
            };
            assert_eq!(got, name, "the data is the same");
        }
        let mut out = Vec::new();
        write_json_pretty(&mut out, &serde_json::json!({"n": name})).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"n\": \"a\\u009b2J\\u202eb\\u001bc\"\n}"
        );
    }

    #[test]
    fn a_key_pair_table_is_the_table_of_its_json() {
        let mut a = KeyPair::new(
            "hw",
            ProviderKind::new("huawei"),
            Some("cn-north-4"),
            "alpha",
        );
        a.created_at = chrono::DateTime::from_timestamp(1_700_000_000, 0);
        a.bits = Some(256);
        a.status = Some(crate::model::Status::Frozen);
        let keys = vec![
            a,
            KeyPair::new("tc", ProviderKind::new("tencent"), None, "b"),
        ];
        let cols = [
            "profile",
            "name",
            "bits",
            "status",
            "created_at",
            "instance_ids",
        ];
        for color in [false, true] {
            let style = Style {
                color,
                ..style(Format::Table)
            };
            let (mut typed, mut values) = (Vec::new(), Vec::new());
            render_objects(&mut typed, &keys, &style, &cols, "name").unwrap();
            render_objects(&mut values, &key_objects(&keys), &style, &cols, "name").unwrap();
            assert_eq!(typed, values);
            let text = String::from_utf8(typed).unwrap();
            assert!(text.contains("2023-11-14 22:13"), "{text}");
        }
    }

    #[test]
    fn one_object_is_a_table_of_its_fields_without_empty_objects() {
        let object =
            serde_json::json!({"name": "k", "status": "frozen", "extra": {}, "bits": null});
        let mut out = Vec::new();
        render_object(&mut out, &object, &style(Format::Table), "name").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "name    k\nstatus  frozen\nbits    -\n"
        );
        let mut out = Vec::new();
        let colored = Style {
            color: true,
            ..style(Format::Table)
        };
        render_object(&mut out, &object, &colored, "name").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("\x1b[1mstatus\x1b[0m  \x1b[38;5;1mfrozen\x1b[39m"),
            "{text:?}"
        );
    }

    #[test]
    fn unknown_column_lists_valid_ones() {
        let e = key_columns("name,nope").unwrap_err();
        assert!(e.message.contains("nope") && e.hint.unwrap().contains("fingerprint_sha256"));
        assert_eq!(key_columns(" name , id ").unwrap(), vec!["name", "id"]);
    }
}
