//! CLI: argument parsing and one function per command. `anyhow` lives here and in `main.rs`
//! only; the library stages return typed errors.

mod check;
pub mod clean;
pub mod dedup;
mod health;
mod import;
mod inspect;
pub(crate) mod output;
mod progress;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigError, LogFormat, Overrides};

/// The config used when neither `--config` nor `NEWSD_CONFIG` names one.
pub const DEFAULT_CONFIG: &str = "config/newsd.toml";

#[derive(Debug, Parser)]
#[command(
    name = "newsd",
    version,
    about = "News-ingestion daemon: feeds → clean article text → near-duplicate check → sled"
)]
pub struct Cli {
    /// Config file [default: config/newsd.toml]
    #[arg(long, global = true, env = "NEWSD_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Store directory (overrides store.data_dir)
    #[arg(long, global = true, env = "NEWSD_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format (overrides log.format)
    #[arg(long, global = true, env = "NEWSD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Log level or tracing filter (overrides log.level)
    #[arg(long, global = true, env = "NEWSD_LOG_LEVEL", value_name = "FILTER")]
    pub log_level: Option<String>,
    /// No progress lines or summaries on stderr (errors and logs still go there)
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGTERM/SIGINT (SIGHUP reloads the feed lists)
    Run,
    /// Poll every feed once, store what is new, print a summary on stderr, exit
    Once {
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
    },
    /// Check the config and feed lists; exit 0, or 2 with every problem
    Validate,
    /// Clean one page (or a directory of pages) to article text
    Clean(clean::CleanArgs),
    /// Run clean-text files through the dedup engine (in memory), one JSON line per file
    Dedup(dedup::DedupArgs),
    /// Write every stored article to `DIR/<name>` plus `DIR/manifest.jsonl`
    Export {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// List stored articles
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one stored article (by name or any URL that led to it) and its recorded copies
    Show {
        name_or_url: String,
        #[arg(long)]
        json: bool,
    },
    /// Every listed feed's health: status, error streak, last success, next poll, stored,
    /// copies, rejected and empty pages, last error and its kind
    Feeds {
        #[arg(long)]
        json: bool,
        /// Only the feeds whose last poll failed (and disabled ones)
        #[arg(long)]
        failing: bool,
    },
    /// Store counts
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Ask the running daemon's admin endpoint: exit 0 when healthy (or ready), 1 otherwise
    Health(health::HealthArgs),
    /// Check a stopped store (or a copy) against its invariants; exit 0, or 1 listing every
    /// violation
    Check {
        #[arg(long)]
        json: bool,
    },
    /// Rebuild a store from an export directory (manifest.jsonl + texts); the store must be
    /// new or empty
    Import {
        /// The export directory (`newsd export --out DIR`)
        dir: PathBuf,
    },
    /// Cluster mode (a `[cluster]` section): the cluster as NATS sees it
    #[command(subcommand)]
    Cluster(ClusterCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Members, partition owners, the committer, and candidates not yet decided
    Status {
        #[arg(long)]
        json: bool,
    },
}

/// Exit status for configuration problems (`validate`, and any command given a bad config).
pub const EXIT_CONFIG: i32 = 2;

/// Exit status for a damaged store: restarting cannot help (systemd's
/// `RestartPreventExitStatus=` lists it), an operator must restore or move it away.
pub const EXIT_DAMAGED: i32 = 3;

/// The exit status for an error: its [`Exit`] code, [`EXIT_DAMAGED`] for a damaged store
/// anywhere in its chain, else 1.
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if let Some(x) = e.downcast_ref::<Exit>() {
        return x.code;
    }
    let damaged = e.chain().any(|c| {
        matches!(
            c.downcast_ref::<crate::store::StoreError>(),
            Some(crate::store::StoreError::Damaged { .. })
        ) || matches!(
            c.downcast_ref::<crate::daemon::DaemonError>(),
            Some(
                crate::daemon::DaemonError::Store(crate::store::StoreError::Damaged { .. })
                    | crate::daemon::DaemonError::StoreDamaged(_)
            )
        )
    });
    if damaged { EXIT_DAMAGED } else { 1 }
}

/// A failure that carries its exit status.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: i32,
    pub message: String,
}

impl Cli {
    fn overrides(&self) -> Overrides {
        Overrides {
            data_dir: self.data_dir.clone(),
            log_format: self.log_format,
            log_level: self.log_level.clone(),
        }
    }

    /// Loads the config. Without `--config`, `config/newsd.toml` is used when it exists;
    /// commands that can work without one (`clean`, `dedup`, read-only views) fall back to
    /// built-in defaults, the others say which file is missing.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        let (path, explicit) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_CONFIG), false),
        };
        if !explicit && !path.exists() {
            let needs_file = matches!(
                self.command,
                Command::Run | Command::Once { .. } | Command::Validate
            );
            if needs_file {
                return Err(config_exit(ConfigError(vec![crate::config::Problem {
                    file: path,
                    key: String::new(),
                    reason: "no such file (run from the repository root, or pass --config PATH / NEWSD_CONFIG)".into(),
                }])));
            }
            let mut cfg = Config::defaults();
            cfg.apply(&self.overrides());
            return Ok(cfg);
        }
        Config::load(&path, &self.overrides()).map_err(config_exit)
    }
}

fn config_exit(e: ConfigError) -> anyhow::Error {
    Exit {
        code: EXIT_CONFIG,
        message: e.to_string(),
    }
    .into()
}

/// Sets up `tracing`: JSON lines unless on a terminal (or as configured), to stderr.
pub fn init_logging(format: LogFormat, level: &str) {
    // html5ever reports every parse quirk of real-world HTML ("foster parenting not
    // implemented") at warn level: noise for operators unless they ask for it by name.
    // sled's own error lines repeat a store failure every half second ("failed to flush
    // from periodic flush thread"); newsd reports store failures itself, once, with what to
    // do (the ingest gate), so sled is quiet unless named too.
    let mut level = level.to_string();
    for (target, floor) in [("html5ever", "error"), ("sled", "off")] {
        if !level.contains(target) {
            level = format!("{level},{target}={floor}");
        }
    }
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,html5ever=error,sled=off"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    // A log line that cannot be written is dropped. By default tracing-subscriber reports it
    // with `eprintln!`, which panics when stderr is the closed pipe: a daemon whose log reader
    // went away would lose the task that logged, its signal handler included.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.compact().init();
    }
}

/// Runs the parsed command.
pub fn dispatch(cli: &Cli) -> anyhow::Result<()> {
    progress::set_quiet(cli.quiet);
    let cfg = cli.load_config()?;
    // One-shot tools keep quiet unless asked; the daemon logs at the configured level.
    let quiet =
        matches!(cli.command, Command::Clean(_) | Command::Dedup(_)) && cli.log_level.is_none();
    init_logging(cfg.log.format, if quiet { "warn" } else { &cfg.log.level });
    let result = match &cli.command {
        Command::Run => runtime()?.block_on(run(cfg)),
        Command::Once { json } => runtime()?.block_on(once(cfg, *json)),
        Command::Validate => validate(&cfg),
        Command::Clean(args) => {
            let extractor = crate::extract::Extractor::new(&cfg.extract)?;
            clean::run(args, &extractor, &cfg.fetch)
        }
        Command::Dedup(args) => dedup::run(args, &cfg.dedup),
        Command::Export { out } => inspect::export(&cfg, out),
        Command::List { json } => inspect::list(&cfg, *json),
        Command::Show { name_or_url, json } => inspect::show(&cfg, name_or_url, *json),
        Command::Feeds { json, failing } => inspect::feeds(&cfg, *json, *failing),
        Command::Stats { json } => inspect::stats(&cfg, *json),
        Command::Health(args) => health::run(&cfg, args),
        Command::Check { json } => check::run(&cfg, *json),
        Command::Import { dir } => import::run(&cfg, dir),
        Command::Cluster(ClusterCommand::Status { json }) => cluster_status(&cfg, *json),
    };
    match result {
        // The reader of the output went away (`newsd list | head -1`): it has what it wanted.
        Err(_) if output::reader_gone() => Ok(()),
        r => r,
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn run(cfg: Config) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let reload = Arc::new(tokio::sync::Notify::new());
    crate::daemon::spawn_signal_handlers(shutdown.clone(), reload.clone())
        .context("cannot install signal handlers")?;
    crate::daemon::run(cfg, shutdown, reload).await?;
    Ok(())
}

async fn once(cfg: Config, json: bool) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    crate::daemon::spawn_signal_handlers(shutdown.clone(), Arc::new(tokio::sync::Notify::new()))
        .context("cannot install signal handlers")?;
    let (feeds, _) = cfg.load_feeds();
    let mut bar = progress::Progress::start("newsd once", "feeds", Some(feeds.len() as u64));
    let report = crate::daemon::once(cfg, shutdown, |_| bar.add(1)).await;
    bar.finish();
    let report = report?;
    if progress::quiet() {
        return Ok(());
    }
    if json {
        output::status(format_args!("{}\n", serde_json::to_string(&report)?));
    } else {
        output::status(format_args!(
            "newsd once: {} feeds polled ({} not modified, {} failed), {} items: {} stored, {} duplicates, {} already known, {} rejected, {} to retry\n",
            report.feeds_polled,
            report.feeds_not_modified,
            report.feed_errors,
            report.items,
            report.stored,
            report.duplicates,
            report.known,
            report.rejected,
            report.failed
        ));
    }
    Ok(())
}

fn cluster_status(cfg: &Config, json: bool) -> anyhow::Result<()> {
    let Some(c) = &cfg.cluster else {
        bail!(
            "{}: no [cluster] section: this is a single-node newsd",
            cfg.file().display()
        );
    };
    let s = with_nats(c, async |nats| crate::cluster::status::status(nats).await)?;
    let mut w = output::stdout();
    if json {
        serde_json::to_writer(&mut w, &s)?;
        writeln!(w)?;
    } else {
        writeln!(w, "cluster:     {} at {}", s.name, s.nats_url)?;
        writeln!(
            w,
            "members:     {} ({})",
            s.members.len(),
            s.members.join(", ")
        )?;
        writeln!(
            w,
            "committer:   {}",
            s.committer
                .as_deref()
                .unwrap_or("none (claimed within a lease period)")
        )?;
        writeln!(
            w,
            "partitions:  {} ({} unowned)",
            s.partitions, s.partitions_unowned
        )?;
        for (owner, n) in &s.partitions_by_owner {
            writeln!(w, "  {owner}: {n}")?;
        }
        writeln!(
            w,
            "candidates:  {} published, {} held, {} not yet decided",
            s.candidates_last_seq, s.candidates_held, s.lag
        )?;
        writeln!(
            w,
            "articles:    {} decisions in the store of record",
            s.articles_last_seq
        )?;
    }
    w.flush()?;
    Ok(())
}

fn validate(cfg: &Config) -> anyhow::Result<()> {
    let (feeds, problems) = cfg.load_feeds();
    if !problems.is_empty() {
        let message = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        return Err(Exit {
            code: EXIT_CONFIG,
            message,
        }
        .into());
    }
    let mut out = output::stdout();
    writeln!(
        out,
        "{}: ok ({} feeds, store at {})",
        cfg.file().display(),
        feeds.len(),
        cfg.store.data_dir.display()
    )?;
    out.flush()?;
    Ok(())
}

/// Fetches one page for `newsd clean URL`, through the same client, limits and egress guard
/// as the daemon.
pub fn fetch_url(
    url: &url::Url,
    cfg: &crate::fetch::FetchConfig,
) -> anyhow::Result<(Vec<u8>, Option<String>)> {
    let fetcher = crate::fetch::Fetcher::new(cfg)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match rt.block_on(fetcher.get(url, crate::fetch::Kind::Page, None))? {
        crate::fetch::Outcome::Fetched(f) => Ok((f.body, f.content_type)),
        crate::fetch::Outcome::NotModified(_) => bail!("{url}: unexpected 304"),
    }
}

/// Cluster-mode commands: connects to the cluster's NATS (failing at once when it cannot be
/// reached) and runs `f` on a one-thread runtime.
pub(crate) fn with_nats<T>(
    c: &crate::cluster::ClusterConfig,
    f: impl AsyncFnOnce(&crate::cluster::Nats) -> Result<T, crate::cluster::ClusterError>,
) -> anyhow::Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(async {
        let nats = crate::cluster::Nats::connect_now(c).await?;
        f(&nats).await
    })?)
}

/// Creates `dir` (and parents) with a clear error.
pub(crate) fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}
