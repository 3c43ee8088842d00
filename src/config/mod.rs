//! Config: load, validate and resolve `newsd.toml` and the feed lists it names.
//!
//! Each stage owns its section type (`fetch::FetchConfig`, `dedup::DedupConfig`, …); this
//! module composes them, rejects unknown keys, resolves relative paths against the config
//! file, applies overrides (flags > `NEWSD_*` environment > file > defaults; clap folds the
//! first two together) and reports every problem at once, each naming the file, the key and
//! the reason.

pub mod feedlist;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::cluster::ClusterConfig;
use crate::dedup::DedupConfig;
use crate::extract::ExtractConfig;
use crate::fetch::FetchConfig;
use crate::schedule::ScheduleConfig;
use crate::store::StoreConfig;

/// `[log]`: how the daemon writes its logs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter: `info`, `newsd=debug,reqwest=warn`, …
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Auto,
            level: "info".into(),
        }
    }
}

/// `auto` is pretty on a terminal and JSON lines otherwise (journald, files, pipes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

/// `[daemon]`: pipeline sizing and shutdown.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DaemonConfig {
    /// Page fetch + extract workers (each also bounded by per-host limits).
    pub page_workers: usize,
    /// Feeds polled at once.
    pub max_concurrent_feeds: usize,
    /// Capacity of the bounded queues between stages (backpressure, not buffering).
    pub queue_capacity: usize,
    /// On SIGTERM, in-flight work gets this long to finish before it is abandoned (abandoned
    /// items are retried on the next start: their feed's cursor was not advanced).
    pub drain_timeout_secs: u64,
    /// A feed poll (feed + all its new pages) that runs longer is abandoned and counted as a
    /// failed poll of its feed; items finished so far are kept, the rest retried next poll.
    pub poll_timeout_secs: u64,
    /// The writer holding one article this long (normally milliseconds) means the pipeline is
    /// stuck: `/healthz` turns 503 and the systemd watchdog is no longer fed.
    pub stall_timeout_secs: u64,
    /// Where `newsd run` serves `/metrics`, `/healthz` and `/readyz` (`ip:port`); loopback by
    /// default, empty to turn the endpoint off.
    pub admin_listen: String,
}

impl DaemonConfig {
    /// The admin endpoint's address, `None` when it is turned off.
    pub fn admin_addr(&self) -> Result<Option<std::net::SocketAddr>, String> {
        let v = self.admin_listen.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse().map(Some).map_err(|_| {
            format!("expected ip:port (e.g. 127.0.0.1:9464) or \"\" to turn it off, got {v:?}")
        })
    }
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            page_workers: 8,
            max_concurrent_feeds: 8,
            queue_capacity: 64,
            drain_timeout_secs: 20,
            poll_timeout_secs: 600,
            stall_timeout_secs: 120,
            admin_listen: "127.0.0.1:9464".into(),
        }
    }
}

/// An inline `[[feeds]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct InlineFeed {
    url: String,
    interval_secs: Option<u64>,
    title: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    feed_files: Vec<PathBuf>,
    #[serde(default)]
    store: StoreConfig,
    #[serde(default)]
    fetch: FetchConfig,
    #[serde(default)]
    schedule: ScheduleConfig,
    #[serde(default)]
    dedup: DedupConfig,
    #[serde(default)]
    extract: ExtractConfig,
    #[serde(default)]
    log: LogConfig,
    #[serde(default)]
    daemon: DaemonConfig,
    /// Present only in cluster mode (DESIGN §10).
    #[serde(default)]
    cluster: Option<ClusterConfig>,
    #[serde(default)]
    feeds: Vec<InlineFeed>,
}

/// One feed to poll, wherever it was listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSpec {
    pub url: Url,
    /// Per-feed interval override (inline feeds only).
    pub interval: Option<Duration>,
    pub title: Option<String>,
    /// Where it was listed, for messages: `newsd.toml [[feeds]] #2`, `feeds.txt:14`.
    pub origin: String,
}

/// One configuration problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// Dotted key (`fetch.request_timeout_secs`), `line N` for list files, or empty.
    pub key: String,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.reason)
        }
    }
}

/// All problems found while loading; displayed one per line.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError(pub Vec<Problem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Values given on the command line or in `NEWSD_*` variables; they win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
}

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; None when running on built-in defaults.
    pub path: Option<PathBuf>,
    pub feed_files: Vec<PathBuf>,
    pub store: StoreConfig,
    pub fetch: FetchConfig,
    pub schedule: ScheduleConfig,
    pub dedup: DedupConfig,
    pub extract: ExtractConfig,
    pub log: LogConfig,
    pub daemon: DaemonConfig,
    /// `[cluster]`: this `newsd run` is a worker of a NATS JetStream cluster; None = single
    /// node (the default, no external services).
    pub cluster: Option<ClusterConfig>,
    inline_feeds: Vec<InlineFeed>,
}

impl Config {
    /// Built-in defaults, no feeds (for commands that can work without a config file).
    pub fn defaults() -> Config {
        Config::from_raw(RawConfig::default(), None, Path::new("."))
    }

    /// Loads and validates `path` (everything but the feed lists' contents).
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let problem = |key: &str, reason: String| Problem {
            file: path.to_path_buf(),
            key: key.to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(vec![problem("", format!("cannot read: {e}"))]))?;
        let raw =
            parse_toml(&text).map_err(|(key, reason)| ConfigError(vec![problem(&key, reason)]))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut cfg = Config::from_raw(raw, Some(path.to_path_buf()), base);
        cfg.apply(overrides);
        let problems = cfg.validate();
        if problems.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigError(problems))
        }
    }

    fn from_raw(raw: RawConfig, path: Option<PathBuf>, base: &Path) -> Config {
        let resolve = |p: PathBuf| {
            if p.is_absolute() {
                p
            } else {
                normalize(&base.join(p))
            }
        };
        let mut store = raw.store;
        store.data_dir = resolve(store.data_dir);
        Config {
            path,
            feed_files: raw.feed_files.into_iter().map(resolve).collect(),
            store,
            fetch: raw.fetch,
            schedule: raw.schedule,
            dedup: raw.dedup,
            extract: raw.extract,
            log: raw.log,
            daemon: raw.daemon,
            cluster: raw.cluster,
            inline_feeds: raw.feeds,
        }
    }

    /// Applies command-line / environment overrides.
    pub fn apply(&mut self, o: &Overrides) {
        if let Some(d) = &o.data_dir {
            self.store.data_dir = d.clone();
        }
        if let Some(f) = o.log_format {
            self.log.format = f;
        }
        if let Some(l) = &o.log_level {
            self.log.level = l.clone();
        }
    }

    /// The file name used in messages.
    pub fn file(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<defaults>"))
    }

    fn validate(&self) -> Vec<Problem> {
        let file = self.file();
        let mut out = Vec::new();
        let mut push = |key: &str, reason: String| {
            out.push(Problem {
                file: file.clone(),
                key: key.into(),
                reason,
            })
        };
        let f = &self.fetch;
        if f.request_timeout_secs == 0 {
            push("fetch.request_timeout_secs", "must be > 0".into());
        }
        if f.connect_timeout_secs == 0 {
            push("fetch.connect_timeout_secs", "must be > 0".into());
        }
        if f.max_page_bytes < 1024 {
            push("fetch.max_page_bytes", "must be at least 1024".into());
        }
        if f.max_feed_bytes < 1024 {
            push("fetch.max_feed_bytes", "must be at least 1024".into());
        }
        for (key, v) in [
            ("fetch.per_host_concurrency", f.per_host_concurrency),
            ("fetch.max_concurrency", f.max_concurrency),
            ("fetch.max_feed_items", f.max_feed_items),
            ("daemon.page_workers", self.daemon.page_workers),
            (
                "daemon.max_concurrent_feeds",
                self.daemon.max_concurrent_feeds,
            ),
            ("daemon.queue_capacity", self.daemon.queue_capacity),
            (
                "daemon.poll_timeout_secs",
                self.daemon.poll_timeout_secs as usize,
            ),
            (
                "daemon.stall_timeout_secs",
                self.daemon.stall_timeout_secs as usize,
            ),
        ] {
            if v == 0 {
                push(key, "must be > 0".into());
            }
        }
        if f.user_agent.trim().is_empty() {
            push("fetch.user_agent", "must not be empty".into());
        }
        if self.store.data_dir.as_os_str().is_empty() {
            push("store.data_dir", "must not be empty".into());
        }
        if let Err(e) = self.daemon.admin_addr() {
            push("daemon.admin_listen", e);
        }
        for (key, reason) in self.schedule.problems() {
            push(key, reason);
        }
        if let Err(e) = crate::dedup::Engine::new(&self.dedup) {
            push("dedup", e.to_string());
        }
        if let Err(e) = crate::extract::Extractor::new(&self.extract) {
            push("extract.site", e.to_string());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            push(
                "log.level",
                format!("{:?} is not a valid level or filter", self.log.level),
            );
        }
        if let Some(c) = &self.cluster {
            for (key, reason) in c.problems() {
                push(key, reason);
            }
        }
        for (i, feed) in self.inline_feeds.iter().enumerate() {
            if let Err(reason) = feed_url(&feed.url) {
                push(&format!("feeds[{i}].url"), reason);
            }
            if feed.interval_secs == Some(0) {
                push(&format!("feeds[{i}].interval_secs"), "must be > 0".into());
            }
        }
        for path in &self.feed_files {
            if !path.is_file() {
                push("feed_files", format!("{}: no such file", path.display()));
            }
        }
        out
    }

    /// Reads the inline feeds and every feed list; returns the feeds (first listing wins on
    /// duplicates) and the problems found. Called at start and on every reload.
    pub fn load_feeds(&self) -> (Vec<FeedSpec>, Vec<Problem>) {
        let file = self.file();
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut feeds: Vec<FeedSpec> = Vec::new();
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, feed) in self.inline_feeds.iter().enumerate() {
            match feed_url(&feed.url) {
                Ok(url) if seen.insert(url.clone()) => feeds.push(FeedSpec {
                    url,
                    interval: feed.interval_secs.map(Duration::from_secs),
                    title: feed.title.clone(),
                    origin: format!("{file_name} [[feeds]] #{}", i + 1),
                }),
                Ok(_) => {}
                Err(reason) => problems.push(Problem {
                    file: file.clone(),
                    key: format!("feeds[{i}].url"),
                    reason,
                }),
            }
        }
        for path in &self.feed_files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem {
                        file: path.clone(),
                        key: String::new(),
                        reason: format!("cannot read feed list: {e}"),
                    });
                    continue;
                }
            };
            let (listed, errors) = feedlist::parse_feed_list(&text, path);
            problems.extend(errors.into_iter().map(|e| Problem {
                file: e.path,
                key: format!("line {}", e.line),
                reason: e.reason,
            }));
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for l in listed {
                if seen.insert(l.url.clone()) {
                    feeds.push(FeedSpec {
                        url: l.url,
                        interval: None,
                        title: l.title,
                        origin: format!("{name}:{}", l.line),
                    });
                }
            }
        }
        (feeds, problems)
    }
}

/// Removes `.` and resolvable `..` components without touching the file system, so
/// messages say `data`, not `config/../data`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// A feed URL must be absolute http(s).
fn feed_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "{s:?}: scheme {:?} is not http or https",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{s:?}: no host"));
    }
    Ok(url)
}

/// Parses TOML into the typed config; on error returns (dotted key, reason with line).
fn parse_toml(text: &str) -> Result<RawConfig, (String, String)> {
    let de = toml::Deserializer::parse(text).map_err(|e| (String::new(), toml_reason(text, &e)))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        (key, toml_reason(text, e.inner()))
    })
}

fn toml_reason(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_string();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("{msg} (line {line})")
        }
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_shipped_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/newsd.toml");
        let cfg = Config::load(&path, &Overrides::default()).unwrap();
        let (feeds, problems) = cfg.load_feeds();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(feeds.len() >= 12, "starter list has {} feeds", feeds.len());
        assert!(!cfg.fetch.allow_private_networks);
        // The admin endpoint is on, on loopback only.
        let admin = cfg.daemon.admin_addr().unwrap().unwrap();
        assert!(admin.ip().is_loopback(), "{admin}");
        assert_eq!(
            cfg.store.data_dir,
            Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
        );
    }

    #[test]
    fn unknown_keys_and_bad_types_name_file_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "a.toml",
            "[fetch]\nrequest_timeout_secs = 30\nbogus = 1\n",
        );
        let err = Config::load(&p, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.toml"), "{err}");
        assert!(
            err.contains("fetch.bogus") || err.contains("bogus"),
            "{err}"
        );
        assert!(err.contains("unknown field"), "{err}");
        assert!(err.contains("line 3"), "{err}");

        let p = write(
            dir.path(),
            "b.toml",
            "[fetch]\nrequest_timeout_secs = \"thirty\"\n",
        );
        let err = Config::load(&p, &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("fetch.request_timeout_secs"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "c.toml",
            "feed_files = [\"missing.txt\"]\n[fetch]\nper_host_concurrency = 0\n\
             [daemon]\nadmin_listen = \"localhost:9464\"\n[[feeds]]\nurl = \"not a url\"\n",
        );
        let err = Config::load(&p, &Overrides::default()).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"fetch.per_host_concurrency"), "{err}");
        assert!(keys.contains(&"daemon.admin_listen"), "{err}");
        assert!(keys.contains(&"feeds[0].url"), "{err}");
        assert!(keys.contains(&"feed_files"), "{err}");
    }

    #[test]
    fn paths_are_relative_to_the_config_file_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "list.txt",
            "https://example.org/rss\n# comment\nhttps://example.org/rss\n",
        );
        let p = write(
            dir.path(),
            "d.toml",
            "feed_files = [\"list.txt\"]\n[store]\ndata_dir = \"state\"\n[[feeds]]\nurl = \"https://example.net/atom\"\ninterval_secs = 120\n",
        );
        let cfg = Config::load(&p, &Overrides::default()).unwrap();
        assert_eq!(cfg.store.data_dir, dir.path().join("state"));
        let (feeds, problems) = cfg.load_feeds();
        assert!(problems.is_empty());
        let urls: Vec<&str> = feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://example.net/atom", "https://example.org/rss"]
        );
        assert_eq!(feeds[0].interval, Some(Duration::from_secs(120)));
        let o = Overrides {
            data_dir: Some(PathBuf::from("/elsewhere")),
            ..Overrides::default()
        };
        assert_eq!(
            Config::load(&p, &o).unwrap().store.data_dir,
            PathBuf::from("/elsewhere")
        );
    }
}
