//! Process metrics, rendered as Prometheus text (exposition format 0.0.4) by the admin
//! endpoint of `newsd run`.
//!
//! Owns: the counters and histograms below, and their rendering. Must not: do I/O or know
//! about HTTP; stages record into a shared [`Metrics`] and the admin server renders it.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `newsd_feeds` | gauge | — feeds in the loaded lists |
//! | `newsd_feed_polls_total` | counter | `result`: `ok`, `not_modified`, `error` |
//! | `newsd_fetch_errors_total` | counter | `target` (`feed`, `page`), `kind` (`dns`, `connect`, `tls`, `timeout`, `http_status`, `too_large`, `redirect`, `blocked`, `bad_url`, `body`, `parse`) |
//! | `newsd_articles_stored_total` | counter | — |
//! | `newsd_duplicates_total` | counter | — copies recorded under an original |
//! | `newsd_pages_rejected_total` | counter | — pages that failed for good (not retried) |
//! | `newsd_extract_failures_total` | counter | `reason` (`not-html`, `no-content`, …) |
//! | `newsd_ingest_paused` | gauge | — 1 while ingest is paused (store failing or disk below `store.min_free_bytes`) |
//! | `newsd_store_errors_total` | counter | — store operations that failed (each one, logged or not) |
//! | `newsd_polls_abandoned_total` | counter | `reason` (`panic`, `timeout`): polls that did not end normally |
//! | `newsd_fetch_duration_seconds` | histogram | `target`; includes waiting for the host's turn |
//! | `newsd_extract_duration_seconds` | histogram | — decode, extract and fingerprint one page |
//!
//! Counters live in one mutex-guarded map: a few updates per article, nothing hot.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the fetch latency buckets, in seconds.
const FETCH_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds of the extraction time buckets, in seconds.
const EXTRACT_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

/// Help text and type of every metric family, in output order.
const FAMILIES: &[(&str, &str, &str)] = &[
    ("newsd_feeds", "gauge", "Feeds in the loaded feed lists."),
    (
        "newsd_feed_polls_total",
        "counter",
        "Feed polls by result (ok, not_modified, error).",
    ),
    (
        "newsd_fetch_errors_total",
        "counter",
        "Failed fetches by target (feed, page) and error kind.",
    ),
    (
        "newsd_articles_stored_total",
        "counter",
        "Distinct articles stored.",
    ),
    (
        "newsd_duplicates_total",
        "counter",
        "Copies recorded under an original instead of being stored.",
    ),
    (
        "newsd_pages_rejected_total",
        "counter",
        "Article pages that failed for good and are not retried.",
    ),
    (
        "newsd_extract_failures_total",
        "counter",
        "Pages the extractor could not turn into an article, by reason.",
    ),
    (
        "newsd_ingest_paused",
        "gauge",
        "1 while ingest is paused: the store is failing or free disk is below store.min_free_bytes.",
    ),
    (
        "newsd_store_errors_total",
        "counter",
        "Store operations that failed.",
    ),
    (
        "newsd_polls_abandoned_total",
        "counter",
        "Feed polls that did not end normally, by reason (panic, timeout).",
    ),
    (
        "newsd_fetch_duration_seconds",
        "histogram",
        "Time to fetch a feed or page, including waiting for the host's turn.",
    ),
    (
        "newsd_extract_duration_seconds",
        "histogram",
        "Time to decode, extract and fingerprint one page.",
    ),
];

/// Label pairs of one series, in output order.
type Labels = Vec<(&'static str, String)>;

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    /// Observations at or under each bound (not cumulative; summed when rendered).
    counts: Vec<u64>,
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Registry {
    values: BTreeMap<(&'static str, Labels), f64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

/// The metrics of one process. Shared behind an `Arc`; every method takes `&self`.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Registry>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics::default();
        // Series a dashboard expects from the start, at zero.
        for result in ["ok", "not_modified", "error"] {
            m.add("newsd_feed_polls_total", &[("result", result)], 0.0);
        }
        m.set_ingest_paused(false);
        for name in [
            "newsd_store_errors_total",
            "newsd_articles_stored_total",
            "newsd_duplicates_total",
            "newsd_pages_rejected_total",
        ] {
            m.add(name, &[], 0.0);
        }
        m
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves plain numbers behind: keep using them.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(name: &'static str, labels: &[(&'static str, &str)]) -> (&'static str, Labels) {
        (
            name,
            labels.iter().map(|&(k, v)| (k, v.to_string())).collect(),
        )
    }

    fn add(&self, name: &'static str, labels: &[(&'static str, &str)], v: f64) {
        *self
            .registry()
            .values
            .entry(Self::key(name, labels))
            .or_default() += v;
    }

    fn observe(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
        bounds: &'static [f64],
        d: Duration,
    ) {
        let secs = d.as_secs_f64();
        let mut r = self.registry();
        let h = r
            .histograms
            .entry(Self::key(name, labels))
            .or_insert_with(|| Histogram {
                bounds,
                counts: vec![0; bounds.len()],
                count: 0,
                sum: 0.0,
            });
        if let Some(i) = bounds.iter().position(|&b| secs <= b) {
            h.counts[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The number of feeds in the loaded lists.
    pub fn set_feeds(&self, n: usize) {
        self.registry()
            .values
            .insert(Self::key("newsd_feeds", &[]), n as f64);
    }

    /// One feed poll ended: `ok`, `not_modified` or `error`.
    pub fn feed_poll(&self, result: &'static str) {
        self.add("newsd_feed_polls_total", &[("result", result)], 1.0);
    }

    /// A fetch of a `feed` or `page` failed with this error kind.
    pub fn fetch_error(&self, target: &'static str, kind: &'static str) {
        self.add(
            "newsd_fetch_errors_total",
            &[("target", target), ("kind", kind)],
            1.0,
        );
    }

    /// How long a fetch of a `feed` or `page` took.
    pub fn fetch_duration(&self, target: &'static str, d: Duration) {
        self.observe(
            "newsd_fetch_duration_seconds",
            &[("target", target)],
            FETCH_BUCKETS,
            d,
        );
    }

    /// How long decoding, extracting and fingerprinting one page took.
    pub fn extract_duration(&self, d: Duration) {
        self.observe("newsd_extract_duration_seconds", &[], EXTRACT_BUCKETS, d);
    }

    pub fn extract_failure(&self, reason: &'static str) {
        self.add("newsd_extract_failures_total", &[("reason", reason)], 1.0);
    }

    /// Ingest was paused (true) or resumed (false).
    pub fn set_ingest_paused(&self, paused: bool) {
        self.registry().values.insert(
            Self::key("newsd_ingest_paused", &[]),
            if paused { 1.0 } else { 0.0 },
        );
    }

    pub fn store_error(&self) {
        self.add("newsd_store_errors_total", &[], 1.0);
    }

    /// A poll ended by `panic` or `timeout` instead of returning.
    pub fn poll_abandoned(&self, reason: &'static str) {
        self.add("newsd_polls_abandoned_total", &[("reason", reason)], 1.0);
    }

    pub fn stored(&self) {
        self.add("newsd_articles_stored_total", &[], 1.0);
    }

    pub fn duplicate(&self) {
        self.add("newsd_duplicates_total", &[], 1.0);
    }

    pub fn rejected(&self) {
        self.add("newsd_pages_rejected_total", &[], 1.0);
    }

    /// Prometheus text exposition of every series, families in a fixed order.
    pub fn render(&self) -> String {
        let r = self.registry();
        let mut out = String::new();
        let labels = |l: &Labels, extra: Option<(&str, String)>| -> String {
            let mut parts: Vec<String> = l
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            if let Some((k, v)) = extra {
                parts.push(format!("{k}=\"{v}\""));
            }
            if parts.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", parts.join(","))
            }
        };
        for &(family, kind, help) in FAMILIES {
            let _ = writeln!(out, "# HELP {family} {help}\n# TYPE {family} {kind}");
            for ((name, l), v) in r.values.iter().filter(|((n, _), _)| *n == family) {
                let _ = writeln!(out, "{name}{} {v}", labels(l, None));
            }
            for ((name, l), h) in r.histograms.iter().filter(|((n, _), _)| *n == family) {
                let mut cumulative = 0;
                for (bound, n) in h.bounds.iter().zip(&h.counts) {
                    cumulative += n;
                    let le = Some(("le", bound.to_string()));
                    let _ = writeln!(out, "{name}_bucket{} {cumulative}", labels(l, le));
                }
                let inf = Some(("le", "+Inf".to_string()));
                let _ = writeln!(out, "{name}_bucket{} {}", labels(l, inf), h.count);
                let _ = writeln!(out, "{name}_sum{} {}", labels(l, None), h.sum);
                let _ = writeln!(out, "{name}_count{} {}", labels(l, None), h.count);
            }
        }
        out
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms_in_prometheus_text() {
        let m = Metrics::new();
        m.set_feeds(3);
        m.feed_poll("ok");
        m.feed_poll("ok");
        m.feed_poll("error");
        m.fetch_error("page", "timeout");
        m.stored();
        m.duplicate();
        m.extract_failure("no-content");
        m.fetch_duration("feed", Duration::from_millis(70));
        m.fetch_duration("feed", Duration::from_secs(60));
        let text = m.render();
        for line in [
            "# TYPE newsd_feeds gauge",
            "newsd_feeds 3",
            "# TYPE newsd_feed_polls_total counter",
            "newsd_feed_polls_total{result=\"ok\"} 2",
            "newsd_feed_polls_total{result=\"error\"} 1",
            "newsd_feed_polls_total{result=\"not_modified\"} 0",
            "newsd_fetch_errors_total{target=\"page\",kind=\"timeout\"} 1",
            "newsd_articles_stored_total 1",
            "newsd_duplicates_total 1",
            "newsd_pages_rejected_total 0",
            "newsd_extract_failures_total{reason=\"no-content\"} 1",
            "# TYPE newsd_fetch_duration_seconds histogram",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"0.05\"} 0",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"0.1\"} 1",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"30\"} 1",
            "newsd_fetch_duration_seconds_bucket{target=\"feed\",le=\"+Inf\"} 2",
            "newsd_fetch_duration_seconds_count{target=\"feed\"} 2",
            "newsd_fetch_duration_seconds_sum{target=\"feed\"} 60.07",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in:\n{text}");
        }
        // Every sample line belongs to a family announced before it.
        let mut announced = Vec::new();
        for l in text.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                announced.push(rest.split(' ').next().unwrap().to_string());
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
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
