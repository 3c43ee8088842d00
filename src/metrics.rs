//! Process metrics, rendered as Prometheus text (exposition format 0.0.4) by the admin
//! endpoint of `newsd run`.
//!
//! Owns: the counters and histograms below, and their rendering. Must not: do I/O or know
//! about HTTP, or be called directly by the stages: they report through [`crate::events`],
//! where each notable event both logs and counts, so a call site cannot do one without the
//! other.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `newsd_build_info` | gauge | `version` — always 1 |
//! | `newsd_uptime_seconds`, `process_resident_memory_bytes`, `process_open_fds` | gauge | — sampled when scraped |
//! | `newsd_feeds` | gauge | — feeds in the loaded lists |
//! | `newsd_feed_polls_total` | counter | `result`: `ok`, `not_modified`, `error` |
//! | `newsd_fetch_errors_total` | counter | `target` (`feed`, `page`), `kind` ([`ErrorKind`]) |
//! | `newsd_articles_stored_total` | counter | — |
//! | `newsd_duplicates_total` | counter | — copies recorded under an original |
//! | `newsd_pages_rejected_total` | counter | — pages that failed for good (not retried) |
//! | `newsd_extract_failures_total` | counter | `reason` ([`ExtractFailure`]) |
//! | `newsd_feed_entries_dropped_total` | counter | — entries cut out of otherwise good feeds |
//! | `newsd_ingest_paused` | gauge | — 1 while ingest is paused (store failing or disk below `store.min_free_bytes`) |
//! | `newsd_store_errors_total` | counter | — store operations that failed (each one, logged or not) |
//! | `newsd_notify_dropped_total` | counter | — systemd notifications (STATUS, WATCHDOG, …) its socket did not take |
//! | `newsd_scheduler_wakeups_total` | counter | — turns of `newsd run`'s scheduler loop (a poll ended, a feed came due, a timer); a steep rate with polls in flight means it spins |
//! | `newsd_polls_abandoned_total` | counter | `reason` (`panic`, `timeout`): polls that did not end normally |
//! | `newsd_failing_feeds` | gauge | `kind` ([`ErrorKind`]) — feeds whose last poll failed, by the error's kind |
//! | `newsd_fetch_duration_seconds` | histogram | `target`; includes waiting for the host's turn |
//! | `newsd_extract_duration_seconds` | histogram | — decode, extract and fingerprint one page (wall, from the hand-off to a page thread) |
//! | `newsd_extract_cpu_seconds_total` | counter | — CPU time (user + system) the page threads spent decoding and extracting pages, with the host's site memory and the page URL (`newsd clean --batch` times the same work without them, ~6 % fewer instructions); not the fingerprint, site memory's bookkeeping or the store; a page whose extraction panics adds nothing |
//!
//! Every label value is an enum, so cardinality is fixed at compile time: per-feed health is
//! a gauge per error kind (how many feeds fail, and why), not a series per feed, which would
//! grow with the list (the per-feed view is `newsd feeds --failing`). Every update is one
//! relaxed atomic add: no lock, no allocation.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the fetch latency buckets, in seconds.
const FETCH_BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds of the extraction time buckets, in seconds.
const EXTRACT_BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// A label enum: its values, in output order.
trait LabelValue: Copy + 'static {
    fn all() -> &'static [Self];
    fn value(self) -> &'static str;
}

/// Writes a family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes a family with one series per value of the label `key`.
fn labeled<L: LabelValue>(
    out: &mut String,
    (name, kind, help): (&str, &str, &str),
    key: &str,
    value: impl Fn(L) -> u64,
) {
    family(out, name, kind, help);
    for &l in L::all() {
        let _ = writeln!(out, "{name}{{{key}=\"{}\"}} {}", l.value(), value(l));
    }
}

/// Declares a label enum: its variants, their label values, and `ALL` in output order.
macro_rules! label_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The variant with this label value.
            pub fn from_label(label: &str) -> Option<$name> {
                match label { $($label => Some($name::$variant),)+ _ => None }
            }
        }

        impl LabelValue for $name {
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn value(self) -> &'static str {
                self.label()
            }
        }
    };
}

label_enum!(
    /// What was fetched.
    Target { Feed => "feed", Page => "page" }
);
label_enum!(
    /// How a feed poll ended.
    PollResult { Ok => "ok", NotModified => "not_modified", Error => "error" }
);
label_enum!(
    /// Why a fetch (or a feed's parse) failed; the labels are `FetchError::kind()`'s.
    ErrorKind {
        Dns => "dns", Connect => "connect", Tls => "tls", Timeout => "timeout",
        HttpStatus => "http_status", TooLarge => "too_large", Redirect => "redirect",
        Blocked => "blocked", BadUrl => "bad_url", Body => "body", Parse => "parse",
        Panic => "panic", Other => "other",
    }
);
label_enum!(
    /// Why a page did not become an article.
    ExtractFailure {
        NotHtml => "not-html", NoContent => "no-content",
        InvalidSelector => "invalid-selector", Crashed => "crashed",
    }
);
label_enum!(
    /// Why a poll was abandoned.
    Abandon { Panic => "panic", Timeout => "timeout" }
);

/// Number of error kinds (the width of the per-kind arrays below).
pub const ERROR_KINDS: usize = ErrorKind::ALL.len();

/// A counter or gauge.
#[derive(Debug, Default)]
struct Cell(AtomicU64);

impl Cell {
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
struct Histogram {
    /// Observations at or under each bound (not cumulative; summed when rendered).
    counts: [Cell; 9],
    count: Cell,
    /// Sum in microseconds (an integer, so it can be an atomic).
    sum_micros: Cell,
}

impl Histogram {
    fn observe(&self, bounds: &[f64; 9], d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = bounds.iter().position(|&b| secs <= b) {
            self.counts[i].add(1);
        }
        self.count.add(1);
        self.sum_micros.add(d.as_micros() as u64);
    }
}

/// CPU time consumed by the calling thread (what `newsd clean` times per page, and the page
/// threads time for `newsd_extract_cpu_seconds_total`).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is supported on
    // every platform newsd targets (Linux); on failure the zeroed value is returned.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// The metrics of one process. Shared behind an `Arc`; every method takes `&self`.
#[derive(Debug, Default)]
pub struct Metrics {
    feeds: Cell,
    polls: [Cell; 3],
    fetch_errors: [[Cell; ERROR_KINDS]; 2],
    stored: Cell,
    duplicates: Cell,
    rejected: Cell,
    extract_failures: [Cell; 4],
    entries_dropped: Cell,
    ingest_paused: Cell,
    store_errors: Cell,
    notify_dropped: Cell,
    scheduler_wakeups: Cell,
    polls_abandoned: [Cell; 2],
    failing_feeds: [Cell; ERROR_KINDS],
    fetch_duration: [Histogram; 2],
    extract_duration: Histogram,
    /// Nanoseconds of page-thread CPU in decode + extract: lets the CPU per article be set
    /// against what extraction alone costs (`benches/run.sh e2e --run`).
    extract_cpu_nanos: Cell,
    cluster: ClusterCells,
}

/// Cluster mode's figures (all zero on a single node, and not rendered there).
#[derive(Debug, Default)]
struct ClusterCells {
    enabled: Cell,
    published: Cell,
    errors: Cell,
    leases_gained: Cell,
    leases_lost: Cell,
    partitions: Cell,
    committer: Cell,
    decisions: Cell,
    candidates_lag: Cell,
    replica_lag: Cell,
}

/// Process figures sampled at scrape time by the admin endpoint (which does the I/O).
#[derive(Debug, Default, Clone, Copy)]
pub struct Process {
    pub uptime: Duration,
    pub rss_bytes: Option<u64>,
    pub open_fds: Option<u64>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// The number of feeds in the loaded lists.
    pub fn set_feeds(&self, n: usize) {
        self.feeds.set(n as u64);
    }

    pub(crate) fn feed_poll(&self, r: PollResult) {
        self.polls[r as usize].add(1);
    }

    pub(crate) fn fetch_error(&self, target: Target, kind: ErrorKind) {
        self.fetch_errors[target as usize][kind as usize].add(1);
    }

    /// How long a fetch of a feed or page took.
    pub(crate) fn fetch_duration(&self, target: Target, d: Duration) {
        self.fetch_duration[target as usize].observe(&FETCH_BUCKETS, d);
    }

    /// How long decoding, extracting and fingerprinting one page took.
    pub(crate) fn extract_duration(&self, d: Duration) {
        self.extract_duration.observe(&EXTRACT_BUCKETS, d);
    }

    /// CPU time a page thread spent decoding and extracting one page.
    pub(crate) fn extract_cpu(&self, d: Duration) {
        self.extract_cpu_nanos
            .add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub(crate) fn extract_failure(&self, f: ExtractFailure) {
        self.extract_failures[f as usize].add(1);
    }

    pub(crate) fn cluster_enabled(&self) {
        self.cluster.enabled.set(1);
    }
    pub(crate) fn cluster_published(&self) {
        self.cluster.published.add(1);
    }
    pub(crate) fn cluster_error(&self) {
        self.cluster.errors.add(1);
    }
    pub(crate) fn cluster_lease(&self, gained: bool, n: u64) {
        if gained {
            self.cluster.leases_gained.add(n);
        } else {
            self.cluster.leases_lost.add(n);
        }
    }
    pub(crate) fn cluster_roles(&self, partitions: usize, committer: bool) {
        self.cluster.partitions.set(partitions as u64);
        self.cluster.committer.set(u64::from(committer));
    }
    pub(crate) fn cluster_decided(&self, candidates_lag: u64) {
        self.cluster.decisions.add(1);
        self.cluster.candidates_lag.set(candidates_lag);
    }
    pub(crate) fn cluster_replica_lag(&self, lag: u64) {
        self.cluster.replica_lag.set(lag);
    }

    pub(crate) fn stored(&self) {
        self.stored.add(1);
    }

    pub(crate) fn duplicate(&self) {
        self.duplicates.add(1);
    }

    pub(crate) fn rejected(&self) {
        self.rejected.add(1);
    }

    pub(crate) fn entries_dropped(&self, n: u64) {
        self.entries_dropped.add(n);
    }

    pub(crate) fn notify_dropped(&self) {
        self.notify_dropped.add(1);
    }

    /// The scheduler loop woke for one turn.
    pub(crate) fn scheduler_woke(&self) {
        self.scheduler_wakeups.add(1);
    }

    /// Ingest was paused (true) or resumed (false).
    pub(crate) fn set_ingest_paused(&self, paused: bool) {
        self.ingest_paused.set(u64::from(paused));
    }

    pub(crate) fn store_error(&self) {
        self.store_errors.add(1);
    }

    pub(crate) fn poll_abandoned(&self, why: Abandon) {
        self.polls_abandoned[why as usize].add(1);
    }

    /// Feeds whose last poll failed, by kind (set by the scheduler, which knows them all).
    pub fn set_failing_feeds(&self, by_kind: &[u64; ERROR_KINDS]) {
        for (cell, n) in self.failing_feeds.iter().zip(by_kind) {
            cell.set(*n);
        }
    }

    /// Prometheus text exposition of every series, families in a fixed order.
    pub fn render(&self, process: &Process) -> String {
        let mut out = String::with_capacity(8 * 1024);
        family(
            &mut out,
            "newsd_build_info",
            "gauge",
            "Build of this process.",
        );
        let _ = writeln!(
            out,
            "newsd_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let simple = |out: &mut String, name: &str, kind: &str, help: &str, v: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        simple(
            &mut out,
            "newsd_uptime_seconds",
            "gauge",
            "Seconds since the process started.",
            process.uptime.as_secs().to_string(),
        );
        if let Some(rss) = process.rss_bytes {
            simple(
                &mut out,
                "process_resident_memory_bytes",
                "gauge",
                "Resident memory of the process.",
                rss.to_string(),
            );
        }
        if let Some(fds) = process.open_fds {
            simple(
                &mut out,
                "process_open_fds",
                "gauge",
                "Open file descriptors of the process.",
                fds.to_string(),
            );
        }
        simple(
            &mut out,
            "newsd_feeds",
            "gauge",
            "Feeds in the loaded feed lists.",
            self.feeds.get().to_string(),
        );
        labeled(
            &mut out,
            (
                "newsd_feed_polls_total",
                "counter",
                "Feed polls by result (ok, not_modified, error).",
            ),
            "result",
            |r: PollResult| self.polls[r as usize].get(),
        );
        family(
            &mut out,
            "newsd_fetch_errors_total",
            "counter",
            "Failed fetches by target (feed, page) and error kind.",
        );
        for t in Target::ALL {
            for k in ErrorKind::ALL {
                let _ = writeln!(
                    out,
                    "newsd_fetch_errors_total{{target=\"{}\",kind=\"{}\"}} {}",
                    t.label(),
                    k.label(),
                    self.fetch_errors[*t as usize][*k as usize].get()
                );
            }
        }
        for (name, help, cell) in [
            (
                "newsd_articles_stored_total",
                "Distinct articles stored.",
                &self.stored,
            ),
            (
                "newsd_duplicates_total",
                "Copies recorded under an original instead of being stored.",
                &self.duplicates,
            ),
            (
                "newsd_pages_rejected_total",
                "Article pages that failed for good and are not retried.",
                &self.rejected,
            ),
            (
                "newsd_feed_entries_dropped_total",
                "Entries cut out of otherwise good feeds because they could not be parsed.",
                &self.entries_dropped,
            ),
            (
                "newsd_store_errors_total",
                "Store operations that failed.",
                &self.store_errors,
            ),
            (
                "newsd_notify_dropped_total",
                "systemd notifications its socket did not take (queue full or socket gone).",
                &self.notify_dropped,
            ),
            (
                "newsd_scheduler_wakeups_total",
                "Turns of the scheduler loop (a poll ended, a feed came due, a timer fired).",
                &self.scheduler_wakeups,
            ),
        ] {
            simple(&mut out, name, "counter", help, cell.get().to_string());
        }
        labeled(
            &mut out,
            (
                "newsd_extract_failures_total",
                "counter",
                "Pages the extractor could not turn into an article, by reason.",
            ),
            "reason",
            |f: ExtractFailure| self.extract_failures[f as usize].get(),
        );
        simple(
            &mut out,
            "newsd_ingest_paused",
            "gauge",
            "1 while ingest is paused: the store is failing or free disk is below store.min_free_bytes.",
            self.ingest_paused.get().to_string(),
        );
        labeled(
            &mut out,
            (
                "newsd_polls_abandoned_total",
                "counter",
                "Feed polls that did not end normally, by reason (panic, timeout).",
            ),
            "reason",
            |a: Abandon| self.polls_abandoned[a as usize].get(),
        );
        labeled(
            &mut out,
            (
                "newsd_failing_feeds",
                "gauge",
                "Feeds whose last poll failed, by error kind.",
            ),
            "kind",
            |k: ErrorKind| self.failing_feeds[k as usize].get(),
        );
        family(
            &mut out,
            "newsd_fetch_duration_seconds",
            "histogram",
            "Time to fetch a feed or page, including waiting for the host's turn.",
        );
        for t in Target::ALL {
            let label = format!("target=\"{}\",", t.label());
            render_histogram(
                &mut out,
                "newsd_fetch_duration_seconds",
                &label,
                &FETCH_BUCKETS,
                &self.fetch_duration[*t as usize],
            );
        }
        family(
            &mut out,
            "newsd_extract_duration_seconds",
            "histogram",
            "Time to decode, extract and fingerprint one page.",
        );
        render_histogram(
            &mut out,
            "newsd_extract_duration_seconds",
            "",
            &EXTRACT_BUCKETS,
            &self.extract_duration,
        );
        simple(
            &mut out,
            "newsd_extract_cpu_seconds_total",
            "counter",
            "CPU time the page threads spent decoding and extracting pages (without fingerprint and store).",
            format!("{:.6}", self.extract_cpu_nanos.get() as f64 / 1e9),
        );
        if self.cluster.enabled.get() == 1 {
            self.render_cluster(&mut out);
        }
        out
    }

    fn render_cluster(&self, out: &mut String) {
        let c = &self.cluster;
        for (name, kind, help, v) in [
            (
                "newsd_cluster_candidates_published_total",
                "counter",
                "Pages and rejects this worker put in the candidates stream.",
                c.published.get(),
            ),
            (
                "newsd_cluster_errors_total",
                "counter",
                "NATS calls that failed (unreachable, timeout, refused).",
                c.errors.get(),
            ),
            (
                "newsd_cluster_partitions_owned",
                "gauge",
                "Feed partitions whose lease this worker holds.",
                c.partitions.get(),
            ),
            (
                "newsd_cluster_committer",
                "gauge",
                "1 while this worker holds the committer lease.",
                c.committer.get(),
            ),
            (
                "newsd_cluster_decisions_total",
                "counter",
                "Candidates this worker decided as committer (stored, copy, known, reject).",
                c.decisions.get(),
            ),
            (
                "newsd_cluster_candidates_lag",
                "gauge",
                "Candidates in the stream not yet decided (as seen by the committer).",
                c.candidates_lag.get(),
            ),
            (
                "newsd_cluster_replica_lag",
                "gauge",
                "Records of the articles stream not yet applied to this node's replica.",
                c.replica_lag.get(),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        family(
            out,
            "newsd_cluster_lease_changes_total",
            "counter",
            "Leases (partitions, committer) this worker gained or lost.",
        );
        let _ = writeln!(
            out,
            "newsd_cluster_lease_changes_total{{change=\"gained\"}} {}",
            c.leases_gained.get()
        );
        let _ = writeln!(
            out,
            "newsd_cluster_lease_changes_total{{change=\"lost\"}} {}",
            c.leases_lost.get()
        );
    }
}

/// `label` is empty or `k="v",` (with the trailing comma), put before `le`.
fn render_histogram(out: &mut String, name: &str, label: &str, bounds: &[f64; 9], h: &Histogram) {
    let mut cumulative = 0;
    for (bound, n) in bounds.iter().zip(&h.counts) {
        cumulative += n.get();
        let _ = writeln!(out, "{name}_bucket{{{label}le=\"{bound}\"}} {cumulative}");
    }
    let count = h.count.get();
    let _ = writeln!(out, "{name}_bucket{{{label}le=\"+Inf\"}} {count}");
    let plain = label.trim_end_matches(',');
    let braces = |s: &str| {
        if s.is_empty() {
            String::new()
        } else {
            format!("{{{s}}}")
        }
    };
    let sum = h.sum_micros.get() as f64 / 1e6;
    let _ = writeln!(out, "{name}_sum{} {sum}", braces(plain));
    let _ = writeln!(out, "{name}_count{} {count}", braces(plain));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms_in_prometheus_text() {
        let m = Metrics::new();
        m.set_feeds(3);
        m.feed_poll(PollResult::Ok);
        m.feed_poll(PollResult::Ok);
        m.feed_poll(PollResult::Error);
        m.fetch_error(Target::Page, ErrorKind::Timeout);
        m.stored();
        m.duplicate();
        m.extract_failure(ExtractFailure::NoContent);
        m.fetch_duration(Target::Feed, Duration::from_millis(70));
        m.fetch_duration(Target::Feed, Duration::from_secs(60));
        m.extract_cpu(Duration::from_micros(1_500));
        m.extract_cpu(Duration::from_micros(250));
        let mut failing = [0u64; ERROR_KINDS];
        failing[ErrorKind::Dns as usize] = 4;
        m.set_failing_feeds(&failing);
        let text = m.render(&Process {
            uptime: Duration::from_secs(12),
            rss_bytes: Some(1 << 20),
            open_fds: Some(9),
        });
        for line in [
            "newsd_build_info{version=\"0.1.0\"} 1",
            "newsd_uptime_seconds 12",
            "process_resident_memory_bytes 1048576",
            "process_open_fds 9",
            "# TYPE newsd_feeds gauge",
            "newsd_feeds 3",
            "# TYPE newsd_feed_polls_total counter",
            "newsd_feed_polls_total{result=\"ok\"} 2",
            "newsd_feed_polls_total{result=\"error\"} 1",
            "newsd_feed_polls_total{result=\"not_modified\"} 0",
            "newsd_fetch_errors_total{target=\"page\",kind=\"timeout\"} 1",
            "newsd_fetch_errors_total{target=\"feed\",kind=\"timeout\"} 0",
            "newsd_articles_stored_total 1",
            "newsd_duplicates_total 1",
            "newsd_pages_rejected_total 0",
            "newsd_extract_failures_total{reason=\"no-content\"} 1",
            "newsd_failing_feeds{kind=\"dns\"} 4",
            "newsd_ingest_paused 0",
            "# TYPE newsd_fetch_duration_seconds histogram",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"0.05\"} 0",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"0.1\"} 1",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"30\"} 1",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"+Inf\"} 2",
            "newsd_fetch_duration_seconds_count{target=\"feed\"} 2",
            "newsd_fetch_duration_seconds_sum{target=\"feed\"} 60.07",
            "newsd_extract_duration_seconds_count 0",
            "# TYPE newsd_extract_cpu_seconds_total counter",
            "newsd_extract_cpu_seconds_total 0.001750",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
        }
        // Every sample line belongs to a family announced before it, each family once.
        let mut announced: Vec<String> = Vec::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                let name = rest.split(' ').next().unwrap().to_string();
                assert!(!announced.contains(&name), "{name} announced twice");
                announced.push(name);
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                assert!(
                    announced.iter().any(|f| name.starts_with(f.as_str())),
                    "{l}"
                );
            }
        }
    }

    #[test]
    fn every_fetch_error_kind_has_a_label() {
        for kind in [
            "dns",
            "connect",
            "tls",
            "timeout",
            "http_status",
            "too_large",
            "redirect",
            "blocked",
            "bad_url",
            "body",
            "parse",
        ] {
            assert_eq!(
                ErrorKind::from_label(kind).map(ErrorKind::label),
                Some(kind)
            );
        }
        assert_eq!(ExtractFailure::ALL.len(), 4);
    }
}
