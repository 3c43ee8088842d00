//! `newsd dedup`: runs clean-text files through the dedup engine in memory, in the given order.
//!
//! One JSON line per file on stdout, `{"id": <stem>, "dup_of": <stem or null>, "similarity": x}`;
//! a summary with throughput (per CPU-second, file reading and normalisation included) and
//! memory on stderr. This is both an operator's tool (what would newsd merge?) and the
//! benchmark driver for `bench/dedup`.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::dedup::{DedupConfig, Engine, MemoryIndex};
use crate::model::split_text;

#[derive(Debug, clap::Args)]
pub struct DedupArgs {
    /// File listing the articles to read, one path per line, in ingestion order (relative
    /// paths are relative to the list's folder); read before PATHS.
    #[arg(long, value_name = "FILE")]
    list: Option<PathBuf>,
    /// Clean-text article files (title line, blank line, body blocks), in ingestion order.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    dup_of: Option<&'a str>,
    similarity: f64,
}

pub fn run(args: &DedupArgs, cfg: &DedupConfig) -> anyhow::Result<()> {
    let engine = Engine::new(cfg)?;
    let mut paths = match &args.list {
        Some(list) => read_list(list)?,
        None => Vec::new(),
    };
    paths.extend(args.paths.iter().cloned());
    if paths.is_empty() {
        bail!("no input: give article files or --list FILE");
    }
    let ids: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_stem()
                .unwrap_or(p.as_os_str())
                .to_string_lossy()
                .into_owned()
        })
        .collect();

    let cpu_start = cpu_seconds();
    let mut index = MemoryIndex::new(engine.clone());
    let mut out = super::output::stdout();
    let (mut buf, mut old_buf) = (Vec::new(), Vec::new());
    let (mut duplicates, mut checked, mut templates) = (0usize, 0usize, 0usize);
    let mut bar =
        super::progress::Progress::start("newsd dedup", "articles", Some(paths.len() as u64));
    for (path, id) in paths.iter().zip(&ids) {
        bar.add(1);
        let (title, body) = read_article(path, &mut buf)?;
        let fp = engine.fingerprint(title, body);
        // The template check reads the original's file again, for the few pairs whose
        // fingerprints say "same wording, other names or figures".
        let mut failed = None;
        let found = index.check_and_insert_with(fp, |original| {
            checked += 1;
            match read_article(&paths[original], &mut old_buf) {
                Ok((_, old)) => {
                    let copy = engine.template_swaps(body, old).is_none();
                    templates += usize::from(!copy);
                    copy
                }
                Err(e) => {
                    failed = Some(e);
                    true
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let (dup_of, similarity) = match found {
            Some((original, similarity)) => {
                duplicates += 1;
                (Some(ids[original].as_str()), similarity)
            }
            None => (None, 0.0),
        };
        serde_json::to_writer(
            &mut out,
            &Line {
                id,
                dup_of,
                similarity,
            },
        )?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    bar.finish();
    let cpu = cpu_seconds() - cpu_start;

    let n = paths.len();
    let stored = index.len().max(1);
    super::output::status(format_args!(
        "dedup: {n} articles, {duplicates} duplicates, {} stored; {checked} pairs text-checked, \
         {templates} of them templates; {:.3} CPU-s, {:.0} articles/CPU-s; \
         peak RSS {:.1} MiB; index {:.1} MiB = {:.0} B per stored article ({:.0} B per article read)\n",
        index.len(),
        cpu,
        n as f64 / cpu.max(1e-9),
        peak_rss_bytes() as f64 / (1024.0 * 1024.0),
        index.heap_bytes() as f64 / (1024.0 * 1024.0),
        index.heap_bytes() as f64 / stored as f64,
        index.heap_bytes() as f64 / n as f64,
    ));
    Ok(())
}

/// Paths from a list file: one per line, blank lines and `#` comments skipped.
fn read_list(list: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(list)
        .with_context(|| format!("cannot read article list {}", list.display()))?;
    let base = list.parent().unwrap_or(Path::new(""));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect())
}

/// Reads one article into `buf` (reused, so the loop does not allocate per file) and returns
/// its title (the first line) and body (everything after it).
fn read_article<'a>(path: &Path, buf: &'a mut Vec<u8>) -> anyhow::Result<(&'a str, &'a str)> {
    buf.clear();
    File::open(path)
        .and_then(|mut f| f.read_to_end(buf))
        .with_context(|| format!("cannot read article {}", path.display()))?;
    let text = std::str::from_utf8(buf)
        .with_context(|| format!("article {} is not UTF-8", path.display()))?;
    Ok(split_text(text))
}

/// CPU time of the whole process (all threads), in seconds.
fn cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant Linux supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0.0;
    }
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// Peak resident set size of the process, in bytes.
fn peak_rss_bytes() -> u64 {
    // SAFETY: getrusage only writes into the zero-initialised struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return 0;
    }
    // Linux reports ru_maxrss in KiB.
    u64::try_from(ru.ru_maxrss).unwrap_or(0) * 1024
}
