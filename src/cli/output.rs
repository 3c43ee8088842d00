//! Where commands write their results: standard output (and `clean --explain`'s report on
//! standard error), through writers that notice when the reader went away.
//!
//! `newsd list | head -1` closes the pipe early; the next write fails with `EPIPE` (Rust
//! ignores SIGPIPE). Like ripgrep and coreutils, newsd then stops quietly with status 0: the
//! reader got what it asked for. Only a broken pipe on these writers counts — a `BrokenPipe`
//! from anything else (a socket, a file system) stays an error — so the writers record it, and
//! [`reader_gone`] tells [`super::dispatch`] to turn the error it caused into success.
//!
//! No `println!` where the output may close: it panics on a write error.

use std::io::{BufWriter, ErrorKind, StderrLock, StdoutLock, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to a command's output failed because its reader closed the pipe. A
/// process-wide flag, not a marker inside the error: serde_json and `anyhow` contexts wrap io
/// errors in ways that hide a marker from the chain.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// True when a write to a command's output hit a closed pipe.
pub fn reader_gone() -> bool {
    READER_GONE.load(Ordering::Relaxed)
}

/// A writer that records a broken pipe before passing the error on.
pub struct Output<W: Write> {
    /// The stream written to.
    inner: W,
}

fn note<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r
        && e.kind() == ErrorKind::BrokenPipe
    {
        READER_GONE.store(true, Ordering::Relaxed);
    }
    r
}

impl<W: Write> Write for Output<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        note(self.inner.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        note(self.inner.write_all(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        note(self.inner.flush())
    }
}

/// Buffered, locked standard output. Flush it before returning: a write error on drop is lost.
pub fn stdout() -> Output<BufWriter<StdoutLock<'static>>> {
    Output {
        inner: BufWriter::new(std::io::stdout().lock()),
    }
}

/// Locked standard error, for reports that are a command's output (`clean --explain`).
pub fn stderr() -> Output<StderrLock<'static>> {
    Output {
        inner: std::io::stderr().lock(),
    }
}

/// A status line on standard error (summaries, progress): written if it can be, never an
/// error, never a panic.
pub fn status(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that went away after `room` bytes.
    struct Pipe {
        room: usize,
    }

    impl Write for Pipe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_a_broken_pipe_on_the_output_counts() {
        // Another error kind on the output is not the reader going away.
        let mut full = Output {
            inner: std::io::Cursor::new([0u8; 2]),
        };
        assert!(full.write_all(b"abc").is_err());
        assert!(!reader_gone());
        let mut out = Output {
            inner: Pipe { room: 4 },
        };
        out.write_all(b"abcd").unwrap();
        assert!(!reader_gone());
        let err = serde_json::to_writer(&mut out, &"more").unwrap_err();
        assert_eq!(err.io_error_kind(), Some(ErrorKind::BrokenPipe));
        assert!(reader_gone());
    }
}
