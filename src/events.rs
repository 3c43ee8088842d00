//! Notable events. Each function logs the event with its stable fields (`event`, `error`,
//! `error_kind`, `article`, …; the `feed` and `url` come from the enclosing span) AND counts
//! its metric, so a call site cannot do one without the other. The stages report through
//! these functions only; [`Metrics`] has no public counters of its own.
//!
//! Each counts before it logs, so whoever reacts to a log line finds the count already
//! there. Must not: decide anything. Rate limiting of repeated errors is the caller's (the ingest
//! gate's): a suppressed repeat is still counted here.

use std::time::Duration;

use tracing::{debug, error, info, warn};

use crate::metrics::{Abandon, ErrorKind, ExtractFailure, Metrics, PollResult, Target};
use crate::pipeline::Report;

fn kind_of(label: &str) -> ErrorKind {
    ErrorKind::from_label(label).unwrap_or(ErrorKind::Other)
}

/// A feed answered 304: nothing new.
pub fn feed_not_modified(m: &Metrics) {
    m.feed_poll(PollResult::NotModified);
    debug!(event = "feed_not_modified");
}

/// A feed was fetched and every item handled (stored, known, copy, rejected or to retry).
pub fn feed_polled(m: &Metrics, r: &Report) {
    m.feed_poll(PollResult::Ok);
    info!(
        event = "feed_polled",
        items = r.items,
        stored = r.stored,
        duplicates = r.duplicates,
        known = r.known,
        rejected = r.rejected,
        failed = r.failed,
    );
}

/// A feed's poll failed (`kind`: a fetch error kind or `parse`) and is retried after
/// `retry_in`.
pub fn feed_error(m: &Metrics, kind: &str, error: &str, streak: u32, retry_in: Duration) {
    m.feed_poll(PollResult::Error);
    m.fetch_error(Target::Feed, kind_of(kind));
    warn!(
        event = "feed_error",
        error_kind = kind,
        error = error,
        streak = streak,
        retry_in_secs = retry_in.as_secs(),
    );
}

/// A poll panicked or ran out of time; its feed is retried after `retry_in`.
pub fn poll_abandoned(m: &Metrics, why: Abandon, error: &str, streak: u32, retry_in: Duration) {
    m.feed_poll(PollResult::Error);
    m.poll_abandoned(why);
    warn!(
        event = "feed_error",
        error_kind = why.label(),
        error = error,
        streak = streak,
        retry_in_secs = retry_in.as_secs(),
    );
}

/// A poll task vanished without reporting (aborted); its feed is released all the same.
pub fn poll_lost(m: &Metrics, error: &str) {
    m.feed_poll(PollResult::Error);
    m.poll_abandoned(Abandon::Panic);
    error!(event = "poll_crashed", error = error);
}

/// The feed server said 410 Gone: the feed is disabled.
pub fn feed_gone(error: &str) {
    warn!(
        event = "feed_gone",
        error = error,
        "feed disabled: the server says it is gone for good"
    );
}

/// Entries of an otherwise good feed that could not be parsed were cut out.
pub fn feed_entries_dropped(m: &Metrics, n: usize) {
    m.entries_dropped(n as u64);
    warn!(
        event = "feed_entries_dropped",
        dropped = n,
        "entries the parser refused were left out; the rest of the feed was kept"
    );
}

/// How long fetching a feed or page took (a measurement, not logged).
pub fn fetched(m: &Metrics, target: Target, took: Duration) {
    m.fetch_duration(target, took);
}

/// How long decoding, extracting and fingerprinting a page took (wall, from the hand-off to a
/// page thread), and the page thread's CPU time in decoding and extracting it (measurements).
pub fn extracted(m: &Metrics, took: Duration, extract_cpu: Duration) {
    m.extract_duration(took);
    m.extract_cpu(extract_cpu);
}

/// A page fetch failed; a transient failure is retried on a later poll (a permanent one is
/// reported again as [`article_rejected`]).
pub fn page_fetch_failed(m: &Metrics, kind: &str, error: &str, permanent: bool) {
    m.fetch_error(Target::Page, kind_of(kind));
    if !permanent {
        warn!(
            event = "article_fetch_error",
            error_kind = kind,
            error = error
        );
    }
}

/// A page failed for good and is remembered so it is not fetched again.
pub fn article_rejected(m: &Metrics, reason: &str, failure: Option<ExtractFailure>) {
    m.rejected();
    if let Some(f) = failure {
        m.extract_failure(f);
    }
    warn!(
        event = "article_rejected",
        error = reason,
        error_kind = failure.map(ExtractFailure::label)
    );
}

/// A new article was stored.
pub fn article_stored(m: &Metrics, name: &str, words: usize) {
    m.stored();
    info!(event = "article_stored", article = %name, words);
}

/// A copy was recorded under its stored original.
pub fn article_duplicate(m: &Metrics, of: &str, similarity: f64) {
    m.duplicate();
    info!(event = "article_duplicate", article = %of, similarity);
}

/// A store operation failed. Counted always; logged when `log` is `Some(suppressed)` (the
/// gate's rate limit), with how many identical errors were not logged since the last line.
pub fn store_error(m: &Metrics, error: &str, during: &str, log: Option<u64>) {
    m.store_error();
    if let Some(suppressed) = log {
        warn!(
            event = "store_error",
            error = error,
            during = during,
            suppressed,
            "store operation failed"
        );
    }
}

/// systemd's notification socket did not take a message (`what`: READY, STATUS, WATCHDOG or
/// STOPPING): its queue was full or the socket is gone; newsd does not wait for it. Counted
/// always; logged when `log` (the first of a run of failures: the caller logs again only once
/// a notification has got through in between).
pub fn notify_dropped(m: &Metrics, what: &str, log: bool) {
    m.notify_dropped();
    if log {
        warn!(
            event = "notify_dropped",
            what = what,
            "systemd did not take a notification; not waiting for it (newsd_notify_dropped_total counts them)"
        );
    }
}

/// Ingest paused: the one error line an operator needs (`hint` says what to do).
pub fn ingest_paused(m: &Metrics, error: &str, data_dir: &str, hint: &str) {
    m.set_ingest_paused(true);
    error!(
        event = "ingest_paused",
        error = error,
        data_dir = data_dir,
        "{hint}"
    );
}

/// Ingest resumed after `paused_secs`.
pub fn ingest_resumed(m: &Metrics, paused_secs: u64, cause: &str) {
    m.set_ingest_paused(false);
    info!(
        event = "ingest_resumed",
        paused_secs,
        cause = cause,
        "ingest resumed"
    );
}

/// Cluster mode: a NATS call failed. Counted always; logged when `log` is
/// `Some(suppressed)` (the cluster link's rate limit), with how many were not logged since.
pub fn cluster_error(m: &Metrics, error: &str, during: &str, log: Option<u64>) {
    m.cluster_error();
    if let Some(suppressed) = log {
        warn!(
            event = "cluster_error",
            error = error,
            during = during,
            suppressed,
            "NATS call failed; retried with backoff, nothing is lost"
        );
    }
}

/// Cluster mode: a candidate is durably in the candidates stream.
pub fn candidate_published(m: &Metrics) {
    m.cluster_published();
    debug!(event = "candidate_published");
}

/// Cluster mode: this worker gained or lost `count` leases in one turn (`what`:
/// `partitions 0,7,9` or `committer`; `why`: claimed, released, lost, given up).
pub fn lease_changed(m: &Metrics, what: &str, count: usize, gained: bool, why: &str) {
    m.cluster_lease(gained, count as u64);
    info!(
        event = if gained { "lease_gained" } else { "lease_lost" },
        lease = what,
        why = why
    );
}

/// Cluster mode: the committer decided one candidate (`what`: stored, copy, known, reject,
/// unreadable); `lag` candidates remain.
pub fn candidate_decided(m: &Metrics, cand: u64, what: &str, article: Option<&str>, lag: u64) {
    m.cluster_decided(lag);
    if let Some(name) = article {
        match what {
            "stored" => m.stored(),
            "copy" => m.duplicate(),
            _ => {}
        }
        info!(event = "candidate_decided", cand, decision = what, article = %name);
    } else {
        debug!(event = "candidate_decided", cand, decision = what);
    }
}
