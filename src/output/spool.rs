//! Rows rendered by a target's own task as its pages arrive, held until the target's turn in
//! the output comes (targets are written in order; they answer in any order).
//!
//! The text is held in memory while the run's [`SpoolBudget`] lasts and in an unlinked
//! temporary file after that, as `sort(1)` does, so a listing of many large accounts needs
//! about the same memory as one. Each row keeps its sort key (the key pair's name): a target
//! whose pages came in name order (KPS and Nova page by name) is written as it was rendered,
//! one that did not (Tencent pages by offset, a server may collate names differently) is
//! written row by row in name order.
//!
//! With `--sort FIELD` every target's spool is kept to the end, each row's value of the field
//! beside its name, and the rows of all of them are written in one merged order
//! ([`Spool::value`], [`Spool::write_rows`]): the key pairs themselves are never held.

use std::fs::File;
use std::io::{self, BufWriter, IoSlice, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{Record, RowFormat, SortValue};
use crate::log;

/// Rendered text that all the spools of one run may hold in memory together (about: each page
/// is counted once it is rendered). The rest goes to temporary files.
pub const SPOOL_MEMORY: usize = 4 << 20;

/// Text is kept in pieces this small (under glibc's mmap threshold), so that it is carved from
/// the heap the rendered key pairs are freed into instead of growing beside it.
const PIECE: usize = 32 * 1024;

/// Bytes read back from a spill file at a time.
const READ_BACK: usize = 64 * 1024;

/// Pieces of text handed to one `write_vectored` (well under the kernel's 1,024 a call).
const PIECES_AT_ONCE: usize = 64;

/// Where a spool's text is written. Text held in memory goes out several pieces to a
/// `write_vectored`, so a buffered output passes it straight to the kernel instead of copying
/// it into its buffer first; text in the spill file goes through [`SpoolOut::copy_spilled`].
/// The spools written after the last target answers (often several, of a megabyte or more
/// each) are on every listing's critical path.
pub trait SpoolOut: Write {
    /// Copies `len` bytes of `file`, from `offset`, to this output.
    fn copy_spilled(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        read_back(self, file, offset, len)
    }
}

/// A buffered file descriptor (keyctl's standard output): `std::io::copy` flushes the buffer and
/// lets the kernel move the spilled text (`copy_file_range` to a file, `sendfile` to
/// `/dev/null` or a socket) without keyctl reading it in and writing it back out. To a pipe or
/// a terminal, and for any other writer, it copies through the buffer.
impl<W: Write> SpoolOut for BufWriter<W> {
    fn copy_spilled(&mut self, mut file: &File, offset: u64, len: u64) -> io::Result<()> {
        file.seek(SeekFrom::Start(offset))?;
        let copied = io::copy(&mut file.take(len), self)?;
        if copied < len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the temporary file holding rendered rows is shorter than what was written to it",
            ));
        }
        Ok(())
    }
}

impl SpoolOut for Vec<u8> {}

impl SpoolOut for super::table::Lines<'_> {}

/// Copies `len` bytes of `file` from `offset` to `out` through a buffer of keyctl's.
fn read_back<W: Write + ?Sized>(
    out: &mut W,
    mut file: &File,
    offset: u64,
    len: u64,
) -> io::Result<()> {
    file.seek(SeekFrom::Start(offset))?;
    let mut left = len;
    let mut buf = vec![0; READ_BACK.min(len as usize)];
    while left > 0 {
        let n = READ_BACK.min(left as usize);
        file.read_exact(&mut buf[..n])?;
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// Text bound for the output, gathered so that pieces in memory go out together.
struct Gathered<'a> {
    slices: Vec<IoSlice<'a>>,
}

impl<'a> Gathered<'a> {
    fn new() -> Self {
        Gathered {
            slices: Vec::with_capacity(PIECES_AT_ONCE),
        }
    }

    fn push(&mut self, out: &mut dyn SpoolOut, text: &'a [u8]) -> io::Result<()> {
        if self.slices.len() == PIECES_AT_ONCE {
            self.flush(out)?;
        }
        self.slices.push(IoSlice::new(text));
        Ok(())
    }

    /// Writes everything gathered (`write_vectored` may take only part of it).
    fn flush(&mut self, out: &mut dyn SpoolOut) -> io::Result<()> {
        let mut slices = &mut self.slices[..];
        while !slices.is_empty() {
            match out.write_vectored(slices) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut slices, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.slices.clear();
        Ok(())
    }
}

/// What the spools of one run hold in memory, against [`SPOOL_MEMORY`] (or a test's limit).
#[derive(Debug)]
pub struct SpoolBudget {
    limit: usize,
    held: AtomicUsize,
}

impl SpoolBudget {
    pub fn new(limit: usize) -> Arc<SpoolBudget> {
        Arc::new(SpoolBudget {
            limit,
            held: AtomicUsize::new(0),
        })
    }

    fn has_room(&self) -> bool {
        self.held.load(Ordering::Acquire) < self.limit
    }
}

/// One target's rendered rows, in the order they were pushed.
#[derive(Debug)]
pub struct Spool {
    format: RowFormat,
    budget: Arc<SpoolBudget>,
    /// Bytes of `pieces` counted against the budget (given back when the spool is dropped).
    counted: usize,
    pieces: Vec<Vec<u8>>,
    /// Created when the budget is spent; `None` also when it could not be created. After it
    /// could not be created or written (`file_failed`) the rest stays in memory.
    file: Option<File>,
    /// Bytes written to `file`.
    file_written: u64,
    /// Text of rows placed in the file after `file_written`, not yet written: rows come one at
    /// a time, and are written a piece at a time (one `write` per 32 KB, not one per row).
    /// Not counted against the budget: it never holds much more than one piece.
    file_tail: Vec<u8>,
    file_failed: bool,
    rows: Vec<Row>,
    /// Every row's name, back to back; a row's name ends at its `name_end`.
    names: String,
    /// Every row's name sorts at or after the one before it.
    in_order: bool,
    /// The field `--sort` orders the output by, if any.
    sort_field: Option<String>,
    /// Each row's value of `sort_field` (`None`: missing or null), when there is one.
    values: Vec<Option<SortValue>>,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    at: Place,
    len: u32,
    name_end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Memory { piece: u32, start: u32 },
    File(u64),
}

impl Place {
    fn after(self, len: u32) -> Place {
        match self {
            Place::Memory { piece, start } => Place::Memory {
                piece,
                start: start + len,
            },
            Place::File(at) => Place::File(at + u64::from(len)),
        }
    }
}

impl Spool {
    pub fn new(format: RowFormat, budget: Arc<SpoolBudget>) -> Spool {
        Spool {
            format,
            budget,
            counted: 0,
            pieces: Vec::new(),
            file: None,
            file_written: 0,
            file_tail: Vec::new(),
            file_failed: false,
            rows: Vec::new(),
            names: String::new(),
            in_order: true,
            sort_field: None,
            values: Vec::new(),
        }
    }

    /// Keeps each row's value of `field` (see [`Spool::value`]) for a `--sort FIELD` merge.
    pub fn sorting_by(mut self, field: &str) -> Spool {
        self.sort_field = Some(field.to_string());
        self
    }

    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Bytes of text placed in the temporary file (some may still wait to be written).
    pub fn spilled(&self) -> u64 {
        self.file_written + self.file_tail.len() as u64
    }

    /// Renders `rows` (one page) after those pushed before; `name` is each row's sort key.
    pub fn push<T: Record>(&mut self, rows: &[T], name: impl Fn(&T) -> &str) -> io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        if self.budget.has_room() || self.file_failed || !self.has_file() {
            return self.push_in_memory(rows, &name);
        }
        for row in rows {
            let start = self.file_tail.len();
            self.format.write_row(&mut self.file_tail, row, false)?;
            let len = self.file_tail.len() - start;
            let at = Place::File(self.file_written + start as u64);
            self.add_row(at, row_len(len)?, name(row), self.sort_value(row));
        }
        if self.file_tail.len() > PIECE - PIECE / 8 {
            self.write_tail();
        }
        Ok(())
    }

    fn push_in_memory<T: Record>(
        &mut self,
        rows: &[T],
        name: &impl Fn(&T) -> &str,
    ) -> io::Result<()> {
        let mut added = 0;
        for row in rows {
            let place = self.room_for(0);
            let piece = self.pieces.last_mut().expect("room_for leaves a piece");
            let before = piece.len();
            self.format.write_row(piece, row, false)?;
            let len = piece.len() - before;
            added += len;
            let value = self.sort_value(row);
            self.add_row(place, row_len(len)?, name(row), value);
        }
        self.count(added);
        Ok(())
    }

    /// Where the next row goes in memory: the last piece, or a fresh one when the last is about
    /// full (closed a little short, so a usual row never grows a piece past its capacity).
    fn room_for(&mut self, len: usize) -> Place {
        let full = |p: &Vec<u8>| p.len() + len.max(1) > PIECE - PIECE / 8;
        if self.pieces.last().is_none_or(full) {
            self.pieces.push(Vec::with_capacity(PIECE.max(len)));
        }
        Place::Memory {
            piece: (self.pieces.len() - 1) as u32,
            start: self.pieces.last().map_or(0, Vec::len) as u32,
        }
    }

    fn count(&mut self, bytes: usize) {
        self.counted += bytes;
        self.budget.held.fetch_add(bytes, Ordering::AcqRel);
    }

    /// A row's value of the `--sort` field, kept only when there is one.
    fn sort_value<T: Record>(&self, row: &T) -> Option<SortValue> {
        let field = self.sort_field.as_deref()?;
        row.field(field).and_then(SortValue::from_value)
    }

    fn add_row(&mut self, at: Place, len: u32, name: &str, value: Option<SortValue>) {
        if let Some(last) = self.rows.len().checked_sub(1) {
            if name < self.name(last) {
                self.in_order = false;
            }
        }
        self.names.push_str(name);
        if self.sort_field.is_some() {
            self.values.push(value);
        }
        self.rows.push(Row {
            at,
            len,
            name_end: self.names.len() as u32,
        });
    }

    /// The name row `row` was pushed with.
    pub fn name(&self, row: usize) -> &str {
        let start = match row.checked_sub(1) {
            Some(before) => self.rows[before].name_end,
            None => 0,
        };
        &self.names[start as usize..self.rows[row].name_end as usize]
    }

    /// Row `row`'s value of the field given to [`Spool::sorting_by`]; `None` when it is missing
    /// or null, or the spool keeps no field.
    pub fn value(&self, row: usize) -> Option<&SortValue> {
        self.values.get(row)?.as_ref()
    }

    /// Whether there is a spill file to place rows in, creating it on first use; `false` when
    /// it cannot be created (from then on).
    fn has_file(&mut self) -> bool {
        if self.file.is_some() {
            return true;
        }
        match tempfile::tempfile() {
            Ok(f) => {
                self.file = Some(f);
                true
            }
            Err(e) => {
                self.give_up_file(&e);
                false
            }
        }
    }

    /// Writes the text waiting in `file_tail` to the file. When that fails (a full disk), the
    /// text stays in memory as a piece and the rows placed in it are moved there.
    fn write_tail(&mut self) {
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let written = file
            .seek(SeekFrom::Start(self.file_written))
            .and_then(|_| file.write_all(&self.file_tail));
        match written {
            Ok(()) => {
                self.file_written += self.file_tail.len() as u64;
                self.file_tail.clear();
            }
            Err(e) => {
                self.give_up_file(&e);
                self.keep_tail_in_memory();
            }
        }
    }

    fn keep_tail_in_memory(&mut self) {
        let tail = std::mem::take(&mut self.file_tail);
        let piece = self.pieces.len() as u32;
        self.count(tail.len());
        self.pieces.push(tail);
        // The rows after `file_written` are the last rows placed in the file; rows placed in
        // memory may lie between them (another spool's drop can give the budget room again).
        for row in self.rows.iter_mut().rev() {
            match row.at {
                Place::File(at) if at >= self.file_written => {
                    let start = (at - self.file_written) as u32;
                    row.at = Place::Memory { piece, start };
                }
                Place::File(_) => break,
                Place::Memory { .. } => {}
            }
        }
    }

    fn give_up_file(&mut self, e: &io::Error) {
        log::debug(&format!(
            "cannot hold rendered rows in a temporary file ({e}); keeping them in memory"
        ));
        self.file_failed = true;
    }

    /// Writes at most `most` rows in name order (the pushed order when that is name order
    /// already), and returns how many. `opens_array`: the first row opens the JSON array, so its
    /// leading `,` is written as `[`.
    pub fn write_to(
        &self,
        out: &mut dyn SpoolOut,
        most: usize,
        opens_array: bool,
    ) -> io::Result<usize> {
        let mut first = opens_array;
        let count = self.rows.len().min(most);
        if self.in_order {
            return self.write_rows(out, 0..count, &mut first);
        }
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        // Stable: rows of one name keep the order the server gave them in.
        order.sort_by(|&a, &b| self.name(a).cmp(self.name(b)));
        self.write_rows(out, order.into_iter().take(count), &mut first)
    }

    /// Writes the rows numbered by `rows` (push order, from 0), in that order, and returns how
    /// many. `first`: the next row written opens the output's JSON array (its leading `,` is
    /// written as `[`); cleared once it is.
    pub fn write_rows(
        &self,
        out: &mut dyn SpoolOut,
        rows: impl IntoIterator<Item = usize>,
        first: &mut bool,
    ) -> io::Result<usize> {
        // Rows that lie back to back are copied in one go.
        let mut run: Option<(Place, u64)> = None;
        let mut gathered = Gathered::new();
        let mut written = 0;
        for row in rows.into_iter().map(|i| &self.rows[i]) {
            match &mut run {
                Some((start, len)) if follows(*start, *len, row.at) => *len += u64::from(row.len),
                _ => {
                    if let Some((start, len)) = run {
                        self.copy(out, &mut gathered, start, len, first)?;
                    }
                    run = Some((row.at, u64::from(row.len)));
                }
            }
            written += 1;
        }
        if let Some((start, len)) = run {
            self.copy(out, &mut gathered, start, len, first)?;
        }
        gathered.flush(out)?;
        Ok(written)
    }

    /// Copies `len` bytes of text from `at` to `out`: text in memory is gathered, text in the
    /// file is copied after what was gathered before it.
    fn copy<'s>(
        &'s self,
        out: &mut dyn SpoolOut,
        gathered: &mut Gathered<'s>,
        at: Place,
        len: u64,
        first: &mut bool,
    ) -> io::Result<()> {
        match at {
            Place::Memory { piece, start } => {
                let piece = &self.pieces[piece as usize];
                let start = start as usize;
                gather_text(out, gathered, &piece[start..start + len as usize], first)
            }
            Place::File(offset) => {
                let end = offset + len;
                if offset < self.file_written {
                    gathered.flush(out)?;
                    self.copy_from_file(out, offset, end.min(self.file_written) - offset, first)?;
                }
                if end > self.file_written {
                    let from = offset.max(self.file_written) - self.file_written;
                    let to = end - self.file_written;
                    gather_text(
                        out,
                        gathered,
                        &self.file_tail[from as usize..to as usize],
                        first,
                    )?;
                }
                Ok(())
            }
        }
    }

    /// Copies `len` bytes written to the spill file at `offset` to `out`.
    fn copy_from_file(
        &self,
        out: &mut dyn SpoolOut,
        offset: u64,
        len: u64,
        first: &mut bool,
    ) -> io::Result<()> {
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| io::Error::other("spilled rows without a spill file"))?;
        let (offset, len) = match len {
            // The output's first row: its leading `,` becomes the array's `[`.
            1.. if *first => {
                *first = false;
                out.write_all(b"[")?;
                (offset + 1, len - 1)
            }
            _ => (offset, len),
        };
        out.copy_spilled(file, offset, len)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.counted, Ordering::AcqRel);
    }
}

/// Gathers rendered text; the output's first JSON row opens the array instead of following a
/// row.
fn gather_text<'a>(
    out: &mut dyn SpoolOut,
    gathered: &mut Gathered<'a>,
    text: &'a [u8],
    first: &mut bool,
) -> io::Result<()> {
    match text.split_first() {
        Some((_, rest)) if *first => {
            *first = false;
            gathered.push(out, b"[")?;
            gathered.push(out, rest)
        }
        _ => gathered.push(out, text),
    }
}

/// Whether text at `next` starts where the `len` bytes at `start` end.
fn follows(start: Place, len: u64, next: Place) -> bool {
    u32::try_from(len).is_ok_and(|len| start.after(len) == next)
}

fn row_len(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| io::Error::other("a rendered row of more than 4 GiB"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyPair, ProviderKind};
    use crate::output::{Format, Rows, Style, DEFAULT_LIST_COLUMNS};

    fn rows(format: Format) -> Rows {
        let style = Style {
            format,
            columns: None,
            color: false,
        };
        Rows::new(&style, DEFAULT_LIST_COLUMNS, "name")
    }

    fn key(name: &str, i: usize) -> KeyPair {
        let mut k = KeyPair::new("hw", ProviderKind::new("huawei"), Some("r"), name);
        k.public_key = Some(format!("ssh-ed25519 {}", "A".repeat(i % 700)));
        k.description = Some(format!("key {i}"));
        k
    }

    /// What `Rows::write` makes of `parts` (each one target's key pairs, in output order).
    fn written_directly(format: Format, parts: &[Vec<KeyPair>], most: usize) -> String {
        let mut out = Vec::new();
        let mut direct = rows(format);
        let mut left = most;
        for part in parts {
            let part = &part[..left.min(part.len())];
            left -= part.len();
            direct.write(&mut out, part).unwrap();
        }
        direct.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// What the spools make of the same targets, each pushed in `pages`-sized pages.
    fn written_spooled(
        format: Format,
        parts: &[Vec<KeyPair>],
        pages: usize,
        budget: usize,
        most: usize,
    ) -> String {
        let mut out = Vec::new();
        spool_into(&mut out, format, parts, pages, budget, most);
        String::from_utf8(out).unwrap()
    }

    /// [`written_spooled`], written to `out`.
    fn spool_into(
        out: &mut dyn SpoolOut,
        format: Format,
        parts: &[Vec<KeyPair>],
        pages: usize,
        budget: usize,
        most: usize,
    ) {
        let budget = SpoolBudget::new(budget);
        let mut output = rows(format);
        let mut left = most;
        for part in parts {
            let mut spool = Spool::new(output.row_format(), budget.clone());
            spool.push::<KeyPair>(&[], |k| &k.name).unwrap();
            for page in part.chunks(pages) {
                spool.push(page, |k| &k.name).unwrap();
            }
            assert_eq!(spool.rows(), part.len());
            left -= output.write_spooled(out, &spool, left).unwrap();
        }
        output.finish(out).unwrap();
        out.flush().unwrap();
        assert_eq!(
            budget.held.load(Ordering::Acquire),
            0,
            "dropped spools give their memory back"
        );
    }

    #[test]
    fn a_buffered_file_gets_the_same_text_with_spilled_rows_copied_by_the_kernel() {
        // keyctl's stdout is a `BufWriter` over a file descriptor: pieces in memory reach it
        // through `write_vectored` and spilled rows through `std::io::copy` (copy_file_range
        // between two files, as to a `> out.json` redirect). Buffers smaller and larger than a
        // piece; a spool in memory, one in a file, one that starts in memory.
        let parts = three_targets(150, 7);
        for format in FORMATS {
            for budget in [usize::MAX, 0, 30_000] {
                let expected = written_spooled(format, &parts, 7, budget, usize::MAX);
                for capacity in [16, 1 << 20] {
                    let mut file =
                        BufWriter::with_capacity(capacity, tempfile::tempfile().unwrap());
                    spool_into(&mut file, format, &parts, 7, budget, usize::MAX);
                    let mut file = file.into_inner().unwrap();
                    file.seek(SeekFrom::Start(0)).unwrap();
                    let mut got = String::new();
                    file.read_to_string(&mut got).unwrap();
                    assert_eq!(
                        got, expected,
                        "{format:?}, budget {budget}, buffer {capacity}"
                    );
                    let mut vec = BufWriter::with_capacity(capacity, Vec::new());
                    spool_into(&mut vec, format, &parts, 7, budget, usize::MAX);
                    let got = String::from_utf8(vec.into_inner().unwrap()).unwrap();
                    assert_eq!(
                        got, expected,
                        "{format:?}, budget {budget}, buffer {capacity}"
                    );
                }
            }
        }
    }

    /// Three targets' key pairs, `n` each, named in push order (`p{target}k{i:03}`), each with
    /// a description (and key length) from `i * step + target`.
    fn three_targets(n: usize, step: usize) -> Vec<Vec<KeyPair>> {
        (0..3)
            .map(|p| {
                (0..n)
                    .map(|i| key(&format!("p{p}k{i:03}"), i * step + p))
                    .collect()
            })
            .collect()
    }

    const FORMATS: [Format; 5] = [
        Format::Json,
        Format::Jsonl,
        Format::Tsv,
        Format::Name,
        Format::Table,
    ];

    #[test]
    fn spooled_rows_in_name_order_are_the_text_rows_written_directly_would_be() {
        // Enough rows for several memory pieces; budgets for all in memory, all in a file, and a
        // spool that starts in memory and goes on in a file.
        let first: Vec<KeyPair> = (0..300).map(|i| key(&format!("k{i:04}"), i)).collect();
        let parts = vec![Vec::new(), first, vec![key("only", 1)], Vec::new()];
        for format in FORMATS {
            let expected = written_directly(format, &parts, usize::MAX);
            for budget in [usize::MAX, 0, 40_000] {
                for pages in [1, 7, 1000] {
                    let got = written_spooled(format, &parts, pages, budget, usize::MAX);
                    assert_eq!(
                        got, expected,
                        "{format:?}, budget {budget}, pages of {pages}"
                    );
                }
            }
            for most in [0, 1, 150, 301] {
                let expected = written_directly(format, &parts, most);
                assert_eq!(written_spooled(format, &parts, 13, 40_000, most), expected);
            }
        }
    }

    #[test]
    fn rows_pushed_out_of_name_order_are_written_in_it_stably() {
        // Pages by offset, as Tencent gives them; one name twice (kept in arrival order).
        let names = ["m", "b", "z", "a", "b", "y", "c"];
        let arrived: Vec<KeyPair> = names
            .iter()
            .enumerate()
            .map(|(i, n)| key(n, i * 97))
            .collect();
        let mut sorted = arrived.clone();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(sorted[1].description.as_deref(), Some("key 97"));
        for format in FORMATS {
            let expected = written_directly(format, std::slice::from_ref(&sorted), usize::MAX);
            for budget in [usize::MAX, 0, 1_000] {
                for pages in [1, 3] {
                    let got = written_spooled(
                        format,
                        std::slice::from_ref(&arrived),
                        pages,
                        budget,
                        usize::MAX,
                    );
                    assert_eq!(
                        got, expected,
                        "{format:?}, budget {budget}, pages of {pages}"
                    );
                }
            }
            let expected = written_directly(format, std::slice::from_ref(&sorted), 4);
            assert_eq!(
                written_spooled(format, std::slice::from_ref(&arrived), 2, 0, 4),
                expected
            );
        }
    }

    #[test]
    fn rows_picked_from_several_spools_are_the_text_of_those_rows_written_directly() {
        // `--sort`: rows interleaved from three spools (in memory, in a file, both), with runs
        // of neighbours from one spool, and the order's first row not the first pushed.
        let parts = three_targets(40, 53);
        let mut order: Vec<(u32, u32)> = (0..40)
            .flat_map(|i| [(2, 39 - i), (0, i), (0, (i + 1) % 40), (1, i)])
            .collect();
        order.dedup();
        for format in FORMATS {
            let expected: Vec<KeyPair> = order
                .iter()
                .map(|&(s, r)| parts[s as usize][r as usize].clone())
                .collect();
            let expected = written_directly(format, &[expected], usize::MAX);
            for budget in [usize::MAX, 0, 9_000] {
                let budget = SpoolBudget::new(budget);
                let mut output = rows(format);
                let spools: Vec<Spool> = parts
                    .iter()
                    .map(|part| {
                        let mut spool = Spool::new(output.row_format(), budget.clone());
                        for page in part.chunks(9) {
                            spool.push(page, |k| &k.name).unwrap();
                        }
                        spool
                    })
                    .collect();
                let mut out = Vec::new();
                output.write_picked(&mut out, &spools, &order).unwrap();
                output.finish(&mut out).unwrap();
                assert_eq!(String::from_utf8(out).unwrap(), expected, "{format:?}");
            }
            let mut out = Vec::new();
            let mut output = rows(format);
            output.write_picked(&mut out, &[], &[]).unwrap();
            output.finish(&mut out).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                written_directly(format, &[], usize::MAX)
            );
        }
    }

    #[test]
    fn a_sorting_spool_keeps_each_rows_value_of_the_field() {
        let mut keys: Vec<KeyPair> = (0..5).map(|i| key(&format!("k{i}"), i)).collect();
        keys[1].bits = Some(2048);
        keys[3].bits = Some(256);
        let format = rows(Format::Jsonl).row_format();
        let mut spool = Spool::new(format.clone(), SpoolBudget::new(0)).sorting_by("bits");
        spool.push(&keys[..2], |k| &k.name).unwrap();
        spool.push(&keys[2..], |k| &k.name).unwrap();
        let bits: Vec<Option<u64>> = (0..5)
            .map(|r| match spool.value(r) {
                Some(SortValue::Number(n)) => n.as_u64(),
                _ => None,
            })
            .collect();
        assert_eq!(bits, [None, Some(2048), None, Some(256), None]);
        assert_eq!(spool.name(3), "k3");
        let mut plain = Spool::new(format, SpoolBudget::new(usize::MAX));
        plain.push(&keys, |k| &k.name).unwrap();
        assert_eq!(plain.value(1), None, "no field, no values kept");
    }

    #[test]
    fn the_budget_sends_later_pages_to_a_file() {
        let budget = SpoolBudget::new(10_000);
        let format = rows(Format::Jsonl).row_format();
        let mut spool = Spool::new(format.clone(), budget.clone());
        let page: Vec<KeyPair> = (0..20).map(|i| key(&format!("k{i:02}"), 400)).collect();
        spool.push(&page, |k| &k.name).unwrap();
        assert_eq!(spool.spilled(), 0, "the first page fits the budget");
        let held = budget.held.load(Ordering::Acquire);
        assert!(held > 10_000, "{held}");
        let mut other = Spool::new(format, budget.clone());
        other.push(&page, |k| &k.name).unwrap();
        assert!(other.spilled() > 0, "the budget is shared");
        drop(spool);
        assert_eq!(budget.held.load(Ordering::Acquire), 0);
    }

    #[test]
    fn a_spill_file_that_cannot_be_written_leaves_the_rows_in_memory() {
        let keys: Vec<KeyPair> = (0..120).map(|i| key(&format!("k{i:03}"), i * 31)).collect();
        let expected = written_directly(Format::Jsonl, std::slice::from_ref(&keys), usize::MAX);
        let mut output = rows(Format::Jsonl);
        let mut spool = Spool::new(output.row_format(), SpoolBudget::new(0));
        // A handle open for reading only: the first write fails, as on a full disk, and the
        // rows placed in the file's unwritten tail move to memory, as does everything after.
        let path = tempfile::NamedTempFile::new().unwrap();
        spool.file = Some(File::open(path.path()).unwrap());
        let mut pages = keys.chunks(10);
        for page in pages.by_ref() {
            spool.push(page, |k| &k.name).unwrap();
            if spool.file_failed {
                break;
            }
        }
        assert!(spool.file_failed, "the rows outgrew one write");
        for page in pages {
            spool.push(page, |k| &k.name).unwrap();
        }
        assert_eq!(spool.spilled(), 0);
        let mut out = Vec::new();
        assert_eq!(
            output.write_spooled(&mut out, &spool, usize::MAX).unwrap(),
            120
        );
        output.finish(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn a_failed_write_moves_only_the_rows_waiting_for_it() {
        // File rows, memory rows (another spool's drop gave the budget room), file rows again;
        // then the write fails. The rows in memory all along stay where they are.
        let keys: Vec<KeyPair> = (0..120).map(|i| key(&format!("k{i:03}"), i * 31)).collect();
        let expected = written_directly(Format::Jsonl, std::slice::from_ref(&keys), usize::MAX);
        let mut output = rows(Format::Jsonl);
        let budget = SpoolBudget::new(5_000);
        let mut other = Spool::new(output.row_format(), budget.clone());
        other.push(&keys, |k| &k.name).unwrap();
        let mut spool = Spool::new(output.row_format(), budget.clone());
        let path = tempfile::NamedTempFile::new().unwrap();
        spool.file = Some(File::open(path.path()).unwrap());
        spool.push(&keys[..5], |k| &k.name).unwrap();
        assert!(spool.spilled() > 0 && !spool.file_failed);
        drop(other);
        spool.push(&keys[5..15], |k| &k.name).unwrap();
        assert!(!budget.has_room(), "the memory rows spent the budget again");
        spool.push(&keys[15..], |k| &k.name).unwrap();
        assert!(spool.file_failed);
        assert!(spool
            .rows
            .iter()
            .all(|r| matches!(r.at, Place::Memory { .. })));
        let mut out = Vec::new();
        output.write_spooled(&mut out, &spool, usize::MAX).unwrap();
        output.finish(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn rows_placed_in_a_file_are_written_a_piece_at_a_time() {
        let keys: Vec<KeyPair> = (0..200).map(|i| key(&format!("k{i:03}"), 600)).collect();
        let mut spool = Spool::new(rows(Format::Jsonl).row_format(), SpoolBudget::new(0));
        for key in &keys {
            spool.push(std::slice::from_ref(key), |k| &k.name).unwrap();
        }
        let on_disk = spool.file.as_ref().unwrap().metadata().unwrap().len();
        assert_eq!(on_disk, spool.file_written);
        assert!(on_disk > 0, "full pieces are written");
        assert!(!spool.file_tail.is_empty(), "the last part waits in memory");
        assert!(spool.file_tail.len() <= PIECE, "{}", spool.file_tail.len());
    }
}
