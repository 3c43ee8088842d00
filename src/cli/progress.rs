//! Progress of the long one-shot commands (`once`, `export`, `import`, `clean --batch`,
//! `dedup`) on standard error.
//!
//! On a terminal: one line redrawn in place at most ten times a second — items done (of the
//! total when known), rate, and the time left. Not on a terminal (a log file, a pipe): a plain
//! line every [`PLAIN_EVERY`], so a long run still shows it is alive without a wall of lines.
//! With `--quiet`: nothing. The line is cleared (terminal) or a final one written (plain) when
//! the work ends. Hand-written rather than a progress-bar crate: one line of text is all it
//! draws, and it must never fail or panic (writes go through [`super::output::status`]).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Between two plain progress lines.
pub const PLAIN_EVERY: Duration = Duration::from_secs(10);
/// Between two redraws on a terminal.
const TTY_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Terminal,
    Plain,
    Quiet,
}

/// `--quiet`, set once by [`super::dispatch`].
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

impl Mode {
    /// Terminal when standard error is one, plain otherwise, quiet when asked (`--quiet`).
    pub fn detect() -> Mode {
        if quiet() {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Plain
        }
    }
}

pub struct Progress {
    mode: Mode,
    /// What is counted: "feeds", "articles", "pages", "files".
    what: &'static str,
    /// The command, as the line's prefix.
    label: &'static str,
    total: Option<u64>,
    done: u64,
    started: Instant,
    last_drawn: Instant,
}

impl Progress {
    pub fn new(
        mode: Mode,
        label: &'static str,
        what: &'static str,
        total: Option<u64>,
    ) -> Progress {
        let now = Instant::now();
        Progress {
            mode,
            what,
            label,
            total,
            done: 0,
            started: now,
            // On a terminal the first item draws at once, so even a short run shows its
            // line; plain lines start after a period (a short run writes only its last line).
            last_drawn: match mode {
                Mode::Terminal => now.checked_sub(PLAIN_EVERY).unwrap_or(now),
                _ => now,
            },
        }
    }

    /// [`Progress::new`] in the mode of this process ([`Mode::detect`]).
    pub fn start(label: &'static str, what: &'static str, total: Option<u64>) -> Progress {
        Progress::new(Mode::detect(), label, what, total)
    }

    /// `n` more items done.
    pub fn add(&mut self, n: u64) {
        self.done += n;
        let every = match self.mode {
            Mode::Quiet => return,
            Mode::Terminal => TTY_EVERY,
            Mode::Plain => PLAIN_EVERY,
        };
        if self.last_drawn.elapsed() >= every {
            self.last_drawn = Instant::now();
            self.draw();
        }
    }

    fn line(&self) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let rate = self.done as f64 / secs;
        let mut line = match self.total {
            Some(t) => format!("{}: {}/{} {}", self.label, self.done, t, self.what),
            None => format!("{}: {} {}", self.label, self.done, self.what),
        };
        line.push_str(&format!(", {rate:.1}/s"));
        if let Some(t) = self.total
            && rate > 0.0
            && self.done < t
        {
            let left = (t - self.done) as f64 / rate;
            line.push_str(&format!(", ETA {}", eta(left)));
        }
        line
    }

    fn draw(&self) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Terminal => super::output::status(format_args!("\r\x1b[K{}", self.line())),
            Mode::Plain => super::output::status(format_args!("{}\n", self.line())),
        }
    }

    /// The work ended: clears the terminal line, or writes a last plain line.
    pub fn finish(self) {
        match self.mode {
            Mode::Quiet => {}
            Mode::Terminal => super::output::status(format_args!("\r\x1b[K")),
            Mode::Plain => {
                let secs = self.started.elapsed().as_secs_f64();
                super::output::status(format_args!(
                    "{}: {} {} in {secs:.1} s\n",
                    self.label, self.done, self.what
                ));
            }
        }
    }
}

fn eta(secs: f64) -> String {
    let s = secs.round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_done_total_rate_and_time_left() {
        let mut p = Progress::new(Mode::Quiet, "once", "feeds", Some(100));
        p.started = Instant::now() - Duration::from_secs(10);
        p.add(25);
        let line = p.line();
        assert!(
            line.starts_with("once: 25/100 feeds, 2.5/s, ETA 30s"),
            "{line}"
        );
        let mut q = Progress::new(Mode::Quiet, "export", "articles", None);
        q.add(3);
        assert!(!q.line().contains("ETA"));
        assert_eq!(eta(4000.0), "1h06m");
        assert_eq!(eta(75.0), "1m15s");
    }
}
