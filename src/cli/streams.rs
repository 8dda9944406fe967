//! The streams a command reads and writes, and what is known of the terminal behind them
//! (as gh's IOStreams): the binary builds the process's own once ([`IoStreams::system`]); a
//! test builds one over in-memory buffers ([`IoStreams::capture`]) with the terminal facts it
//! wants, and runs a command in process. Commands and renderers ask it, never the process:
//! no `std::io::stdout()`, `is_terminal()` or `NO_COLOR` lookup below the binary.

use std::fs::File;
use std::io::{self, BufWriter, IoSlice, IsTerminal, Read, StdoutLock, Write};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::output::SpoolOut;

/// Stdout's buffer: 10,000 key pairs of JSON are tens of writes, not thousands.
pub(crate) const STDOUT_BUFFER: usize = 256 * 1024;

/// A writer shared between the streams and whoever else writes to it (the diagnostics sink).
type Shared = Arc<Mutex<Box<dyn Write + Send>>>;

enum OutStream {
    /// The process's stdout: kept as such (not boxed) so that rows a spool spilled to a file
    /// can still be moved by the kernel (see [`SpoolOut`] for `BufWriter`).
    System,
    Writer(Mutex<Box<dyn Write + Send>>),
}

enum ErrStream {
    System,
    Writer(Shared),
}

enum InStream {
    System,
    Reader(Mutex<Box<dyn Read + Send>>),
}

/// Stdin, stdout and stderr, and the terminal facts a command decides by.
pub struct IoStreams {
    stdin: InStream,
    stdout: OutStream,
    stderr: ErrStream,
    stdin_tty: bool,
    stdout_tty: bool,
    stderr_tty: bool,
    no_color: bool,
    width: Option<u16>,
}

impl IoStreams {
    /// The process's own streams, and the facts about them: which are terminals, `NO_COLOR`
    /// (set and not empty, as no-color.org says), the width of the terminal on stdout.
    pub fn system() -> IoStreams {
        let stdout_tty = io::stdout().is_terminal();
        IoStreams {
            stdin: InStream::System,
            stdout: OutStream::System,
            stderr: ErrStream::System,
            stdin_tty: io::stdin().is_terminal(),
            stdout_tty,
            stderr_tty: io::stderr().is_terminal(),
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            width: stdout_tty
                .then(|| terminal_size::terminal_size_of(io::stdout()))
                .flatten()
                .map(|(w, _)| w.0),
        }
    }

    /// Streams over the given reader and writers; no terminal, `NO_COLOR` unset, no width
    /// (change them with the `with_…` methods).
    pub fn new(
        stdin: Box<dyn Read + Send>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> IoStreams {
        IoStreams {
            stdin: InStream::Reader(Mutex::new(stdin)),
            stdout: OutStream::Writer(Mutex::new(stdout)),
            stderr: ErrStream::Writer(Arc::new(Mutex::new(stderr))),
            stdin_tty: false,
            stdout_tty: false,
            stderr_tty: false,
            no_color: false,
            width: None,
        }
    }

    /// Streams for a test: empty stdin, stdout and stderr each kept in memory (read them from
    /// the two [`Captured`] handles), no terminal.
    pub fn capture() -> (IoStreams, Captured, Captured) {
        let (out, err) = (Captured::default(), Captured::default());
        let io = IoStreams::new(
            Box::new(io::empty()),
            Box::new(out.clone()),
            Box::new(err.clone()),
        );
        (io, out, err)
    }

    /// Stdin reads from `stdin` instead.
    pub fn with_stdin(mut self, stdin: Box<dyn Read + Send>) -> IoStreams {
        self.stdin = InStream::Reader(Mutex::new(stdin));
        self
    }

    /// Whether stdin, stdout and stderr are terminals.
    pub fn with_terminals(mut self, stdin: bool, stdout: bool, stderr: bool) -> IoStreams {
        self.stdin_tty = stdin;
        self.stdout_tty = stdout;
        self.stderr_tty = stderr;
        self
    }

    /// Whether `NO_COLOR` is set (and not empty).
    pub fn with_no_color(mut self, no_color: bool) -> IoStreams {
        self.no_color = no_color;
        self
    }

    /// The terminal's width in columns, if stdout is one.
    pub fn with_width(mut self, width: Option<u16>) -> IoStreams {
        self.width = width;
        self
    }

    pub fn is_stdin_terminal(&self) -> bool {
        self.stdin_tty
    }

    pub fn is_stdout_terminal(&self) -> bool {
        self.stdout_tty
    }

    pub fn is_stderr_terminal(&self) -> bool {
        self.stderr_tty
    }

    /// `NO_COLOR` is set and not empty.
    pub fn no_color(&self) -> bool {
        self.no_color
    }

    /// The terminal's width in columns, when stdout is a terminal that says.
    pub fn terminal_width(&self) -> Option<u16> {
        self.width
    }

    /// Whether stdout is the process's own.
    pub(crate) fn stdout_is_system(&self) -> bool {
        matches!(self.stdout, OutStream::System)
    }

    /// Whether stderr is the process's own (the spinner draws there and nowhere else).
    pub(crate) fn stderr_is_system(&self) -> bool {
        matches!(self.stderr, ErrStream::System)
    }

    /// Stdout, buffered ([`STDOUT_BUFFER`]) and held for as long as the returned writer lives;
    /// flush it before dropping it, or a write error goes unseen.
    pub fn stdout(&self) -> Stdout<'_> {
        match &self.stdout {
            OutStream::System => {
                Stdout::System(BufWriter::with_capacity(STDOUT_BUFFER, io::stdout().lock()))
            }
            OutStream::Writer(w) => {
                Stdout::Writer(BufWriter::with_capacity(STDOUT_BUFFER, Locked(lock(w))))
            }
        }
    }

    /// Runs `f` on buffered stdout and flushes it.
    pub fn write_stdout(&self, f: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        let mut out = self.stdout();
        f(&mut out).and_then(|()| out.flush())
    }

    /// Reads the whole of stdin.
    pub fn read_stdin_to_string(&self) -> io::Result<String> {
        let mut s = String::new();
        match &self.stdin {
            InStream::System => io::stdin().lock().read_to_string(&mut s)?,
            InStream::Reader(r) => lock(r).read_to_string(&mut s)?,
        };
        Ok(s)
    }

    /// Stderr as a writer the diagnostics (`crate::log`) can be pointed at; `None` for the
    /// process's own, which they write to already.
    pub(crate) fn stderr_sink(&self) -> Option<Box<dyn Write + Send>> {
        match &self.stderr {
            ErrStream::System => None,
            ErrStream::Writer(w) => Some(Box::new(SharedWriter(w.clone()))),
        }
    }

    /// Writes `text` to stderr, ignoring a failure (there is nobody left to tell).
    pub(crate) fn write_stderr(&self, text: &str) {
        let _ = match &self.stderr {
            ErrStream::System => io::stderr().lock().write_all(text.as_bytes()),
            ErrStream::Writer(w) => lock(w).write_all(text.as_bytes()),
        };
    }
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A command's stdout: the process's, or the writer a test gave.
pub enum Stdout<'a> {
    System(BufWriter<StdoutLock<'static>>),
    Writer(BufWriter<Locked<'a>>),
}

/// An injected stdout, held for one command's writes.
pub struct Locked<'a>(MutexGuard<'a, Box<dyn Write + Send>>);

impl Write for Locked<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.0.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Write for Stdout<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stdout::System(w) => w.write(buf),
            Stdout::Writer(w) => w.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stdout::System(w) => w.write_vectored(bufs),
            Stdout::Writer(w) => w.write_vectored(bufs),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stdout::System(w) => w.write_all(buf),
            Stdout::Writer(w) => w.write_all(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stdout::System(w) => w.flush(),
            Stdout::Writer(w) => w.flush(),
        }
    }
}

impl SpoolOut for Stdout<'_> {
    fn copy_spilled(&mut self, file: &File, offset: u64, len: u64) -> io::Result<()> {
        match self {
            Stdout::System(w) => w.copy_spilled(file, offset, len),
            Stdout::Writer(w) => w.copy_spilled(file, offset, len),
        }
    }
}

/// Stderr shared with the diagnostics sink.
struct SharedWriter(Shared);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        lock(&self.0).write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        lock(&self.0).flush()
    }
}

/// What a test's stream received.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn bytes(&self) -> Vec<u8> {
        lock(&self.0).clone()
    }

    /// The bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.0)).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        lock(&self.0).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_streams_keep_what_was_written_and_stdin_reads_what_was_given() {
        let (io, out, err) = IoStreams::capture();
        let io = io.with_stdin(Box::new(io::Cursor::new(b"ssh-ed25519 AAAA".to_vec())));
        io.write_stdout(|w| w.write_all(b"rows\n")).unwrap();
        io.write_stderr("a line\n");
        assert_eq!(out.text(), "rows\n");
        assert_eq!(err.text(), "a line\n");
        assert_eq!(io.read_stdin_to_string().unwrap(), "ssh-ed25519 AAAA");
        assert!(!io.is_stdout_terminal() && !io.no_color() && io.terminal_width().is_none());
    }
}
