//! loadgen: serves a synthetic news web on loopback for newsd's end-to-end and scale benches.
//!
//! `cargo run --release --example loadgen -- --out DIR [--hosts 50 --feeds 1000 --items 10 …]`
//! binds one listener per host (127.0.1.1, 127.0.1.2, …: distinct addresses, so newsd's
//! per-host limits apply per site), writes `DIR/newsd.toml` + `DIR/feeds.txt` (a newsd config
//! for this web), optionally dumps every page to `--dump DIR` (`newsd clean --batch` input),
//! then writes `DIR/web.json` (what it serves, and the control address whose `GET /stats`
//! counts feed polls and pages) and serves until `--exit-after` seconds, SIGTERM or SIGINT.
//! On exit the final counters go to `DIR/stats.json`.
//!
//! Owns the bench's fake web only; it uses nothing of newsd (the benches measure newsd's
//! binary from outside).

// A command-line tool: it reports on stderr.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod corpus;
mod http;
mod render;
mod web;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;
use tokio::net::TcpListener;

use crate::corpus::Corpus;
use crate::http::{App, Stats};
use crate::render::Renderer;
use crate::web::{FeedMode, Shape, Web};

#[derive(Parser, Debug)]
#[command(about = "Serve a synthetic news web on 127.0.x.y for newsd's benches")]
struct Args {
    /// Where newsd.toml, feeds.txt, web.json and stats.json are written
    #[arg(long)]
    out: PathBuf,
    /// Sites, one loopback address each (127.0.1.1, 127.0.1.2, …)
    #[arg(long, default_value_t = 50)]
    hosts: usize,
    /// Feeds, spread round-robin over the hosts
    #[arg(long, default_value_t = 1000)]
    feeds: usize,
    /// Items (article pages) per feed
    #[arg(long, default_value_t = 10)]
    items: usize,
    /// Share of articles that are republished copies of an article on another site
    #[arg(long, default_value_t = 0.12)]
    copies: f64,
    /// Seed of every random choice: the same seed serves the same web
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Delay before every response (ms)
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// conditional: 200 + validators, then 304; unchanged200: always 200, same body, no validators
    #[arg(long, value_enum, default_value_t = FeedMode::Conditional)]
    feed_mode: FeedMode,
    /// Article pages answer 404 (measures polling without article cost)
    #[arg(long)]
    gone_pages: bool,
    /// `{id: {title, articleBody}}` JSON to draw sentences from (default: a made-up vocabulary)
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Write every page as DIR/<id>.html before serving
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Stop serving after this many seconds
    #[arg(long, default_value_t = 600)]
    exit_after: u64,
    /// Server threads (the machine's cores are shared with newsd)
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// newsd config: schedule.default_interval_secs (min_interval_secs is set to 1)
    #[arg(long, default_value_t = 900)]
    interval_secs: u64,
    /// newsd config: fetch.per_host_concurrency
    #[arg(long, default_value_t = 2)]
    per_host_concurrency: usize,
    /// newsd config: fetch.per_host_delay_ms
    #[arg(long, default_value_t = 0)]
    per_host_delay_ms: u64,
    /// newsd config: daemon.admin_listen ("" = off)
    #[arg(long, default_value = "")]
    admin_listen: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.hosts == 0 || args.hosts > 250 * 254 {
        bail!("--hosts must be between 1 and {}", 250 * 254);
    }
    if !(0.0..=0.9).contains(&args.copies) {
        bail!("--copies must be between 0 and 0.9");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

/// The loopback address of host `h`: 127.0.1.1 upwards, 254 per third octet.
pub fn host_ip(h: usize) -> String {
    format!("127.0.{}.{}", 1 + h / 254, 1 + h % 254)
}

async fn run(args: Args) -> anyhow::Result<()> {
    let corpus = match &args.corpus {
        Some(p) => Corpus::from_bases(p).map_err(anyhow::Error::msg)?,
        None => Corpus::synthetic(20_000),
    };
    let shape = Shape {
        hosts: args.hosts,
        feeds: args.feeds,
        items: args.items,
        copy_share: args.copies,
        seed: args.seed,
        gone_pages: args.gone_pages,
        feed_mode: args.feed_mode,
    };
    let mut listeners = Vec::with_capacity(args.hosts);
    let mut bases = Vec::with_capacity(args.hosts);
    for h in 0..args.hosts {
        let ip = host_ip(h);
        let l = TcpListener::bind((ip.as_str(), 0))
            .await
            .with_context(|| format!("bind {ip}:0"))?;
        bases.push(format!("http://{}", l.local_addr()?));
        listeners.push(l);
    }
    let control = TcpListener::bind("127.0.0.1:0").await?;
    let app = Arc::new(App {
        render: Renderer::new(Web::new(shape), corpus, bases),
        stats: Stats::new(args.feeds),
        latency: Duration::from_millis(args.latency_ms),
    });
    std::fs::create_dir_all(&args.out).with_context(|| args.out.display().to_string())?;
    write_newsd_config(&args, &app.render)?;
    if let Some(dir) = &args.dump {
        dump(&app.render, dir)?;
    }
    for (h, l) in listeners.into_iter().enumerate() {
        tokio::spawn(http::serve_host(l, h, app.clone()));
    }
    let control_addr = control.local_addr()?;
    tokio::spawn(http::serve_control(control, app.clone()));

    let web = &app.render.web;
    let manifest = serde_json::json!({
        "control": control_addr.to_string(),
        "hosts": args.hosts,
        "feeds": args.feeds,
        "items_per_feed": args.items,
        "pages": web.pages(),
        "copies": web.copies(),
        "originals": web.pages() - web.copies(),
        "feed_mode": format!("{:?}", args.feed_mode),
        "gone_pages": args.gone_pages,
        "latency_ms": args.latency_ms,
        "corpus": app.render.corpus_source(),
        "config": args.out.join("newsd.toml"),
        "dump": args.dump,
    });
    // Written last and renamed into place: its presence means "serving".
    let tmp = args.out.join("web.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&manifest)? + "\n")?;
    std::fs::rename(&tmp, args.out.join("web.json"))?;
    eprintln!("loadgen: serving {} on {control_addr}", manifest);

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(args.exit_after)) => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    let stats = app.stats.json();
    std::fs::write(args.out.join("stats.json"), stats.to_string() + "\n")?;
    eprintln!("loadgen: done {stats}");
    Ok(())
}

/// `newsd.toml` and `feeds.txt` for this web, in `args.out`.
fn write_newsd_config(args: &Args, r: &Renderer) -> anyhow::Result<()> {
    let mut list = String::from("# Feeds of the loadgen web.\n");
    for f in 0..r.web.shape.feeds {
        list.push_str(&r.feed_url(f));
        list.push('\n');
    }
    write(&args.out.join("feeds.txt"), &list)?;
    let toml = format!(
        "# newsd config for the loadgen web (written by examples/loadgen).\n\
         feed_files = [\"feeds.txt\"]\n\n\
         [store]\ndata_dir = \"data\"\n\n\
         [fetch]\nallow_private_networks = true\nper_host_concurrency = {phc}\nper_host_delay_ms = {phd}\n\n\
         [schedule]\ndefault_interval_secs = {iv}\nmin_interval_secs = 1\n\n\
         [daemon]\nadmin_listen = \"{admin}\"\n\n\
         [log]\nformat = \"json\"\nlevel = \"info\"\n",
        phc = args.per_host_concurrency,
        phd = args.per_host_delay_ms,
        iv = args.interval_secs,
        admin = args.admin_listen,
    );
    write(&args.out.join("newsd.toml"), &toml)
}

/// Every page, as served, to `dir/<id>.html`.
fn dump(r: &Renderer, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    for p in 0..r.web.pages() {
        write(&dir.join(format!("{}.html", r.web.page_id(p))), r.page(p))?;
    }
    Ok(())
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests;
