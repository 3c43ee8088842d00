//! `newsd clean`: run the extractor on one page or on a directory of pages.
//!
//! One page: `newsd clean [FILE|URL|-] [--url BASE] [--body-only] [--explain]`. FILE may be
//! gzip-compressed (`.gz`); an http(s) URL is fetched with the daemon's own client, and then
//! also serves as the base URL unless `--url` is given. The clean text (DESIGN §2 format, or the
//! body alone with `--body-only`) goes to stdout.
//!
//! `--explain` keeps stdout exactly as without it and writes every block the extractor dropped
//! to stderr, one per line, as `removed [<reason>] <text>`, followed by the metadata found
//! (`meta <field>: <value>`). Piping stdout somewhere and reading stderr shows what was cut.
//!
//! `--site-memory DIR` first primes a site memory from every `DIR/*.html[.gz]` (each page's
//! host is the `--url` host, else the host of the page's canonical or og:url), then cleans the
//! input with it: blocks a host repeats on most of its pages are dropped, and `--explain`
//! names them (`removed [site chrome: seen on 9 of the last 10 pages of this host] …`).
//!
//! Batch: `--batch IN_DIR OUT_DIR` turns every `IN_DIR/<id>.html[.gz]` into `OUT_DIR/<id>.txt`
//! and writes `OUT_DIR/timings.csv` (`id,seconds,cpu_seconds,status`). Timing is in-process and
//! covers decode + extract only (not file I/O or gunzip): wall time by `Instant`, CPU time by
//! the thread CPU clock. A page that fails gets an empty `.txt` and `status` `error:<kind>`; the
//! batch always runs to the end. Progress is shown on stderr only when stderr is a terminal; a
//! summary line (pages, errors, pages per CPU-second) always ends the run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::extract::{Extractor, SiteMemory, decode_html};
use crate::metrics::thread_cpu_time;
use crate::model::CleanArticle;

#[derive(Debug, clap::Args)]
pub struct CleanArgs {
    /// Page to clean: a file (optionally .gz), an http(s) URL, or `-` for stdin.
    pub input: Option<String>,
    /// Base URL of the page (resolves the canonical link, selects site rules).
    #[arg(long)]
    pub url: Option<String>,
    /// Print only the body blocks, without the title line.
    #[arg(long)]
    pub body_only: bool,
    /// Also list every removed block with its reason on stderr.
    #[arg(long)]
    pub explain: bool,
    /// Clean every `IN_DIR/<id>.html[.gz]` into `OUT_DIR/<id>.txt`, with `OUT_DIR/timings.csv`.
    #[arg(long, num_args = 2, value_names = ["IN_DIR", "OUT_DIR"])]
    pub batch: Option<Vec<PathBuf>>,
    /// Prime a site memory from the pages in DIR (`*.html[.gz]`) before cleaning.
    #[arg(long, value_name = "DIR")]
    pub site_memory: Option<PathBuf>,
}

/// Runs `newsd clean`; a URL input is fetched with `fetch` (the loaded config's `[fetch]`
/// section: same client, limits and egress guard as the daemon).
pub fn run(
    args: &CleanArgs,
    extractor: &Extractor,
    fetch: &crate::fetch::FetchConfig,
) -> anyhow::Result<()> {
    let base_arg = args
        .url
        .as_deref()
        .map(|u| url::Url::parse(u).with_context(|| format!("--url {u:?} is not a valid URL")))
        .transpose()?;
    let memory = match &args.site_memory {
        Some(dir) => Some(prime(dir, base_arg.as_ref(), extractor)?),
        None => None,
    };
    if let Some(dirs) = &args.batch {
        let [input, output] = dirs.as_slice() else {
            bail!("--batch takes IN_DIR and OUT_DIR");
        };
        if args.input.is_some() {
            bail!("--batch reads IN_DIR; do not also give an input page");
        }
        return batch(input, output, args.body_only, extractor, memory.as_ref());
    }
    let input = args.input.as_deref().unwrap_or("-");
    let fetched_url = url::Url::parse(input)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    let (bytes, content_type) = match &fetched_url {
        Some(u) => crate::cli::fetch_url(u, fetch).with_context(|| format!("fetching {u}"))?,
        None if input == "-" => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading stdin")?;
            (buf, None)
        }
        None => (read_page(Path::new(input))?, None),
    };
    let base = base_arg.or(fetched_url);
    let html =
        decode_html(bytes, content_type.as_deref()).with_context(|| format!("decoding {input}"))?;
    let mut out = super::output::stdout();
    if let Some(memory) = &memory {
        let page = if args.explain {
            extractor.extract_with_explained(&html, base.as_ref(), Some(memory))
        } else {
            extractor.extract_with(&html, base.as_ref(), Some(memory))
        }
        .with_context(|| format!("extracting {input}"))?;
        out.write_all(render(&page.article, args.body_only).as_bytes())?;
        out.flush()?;
        if args.explain {
            write_explanation(&mut super::output::stderr(), &page.article, &page.removed)?;
        }
    } else if args.explain {
        let (article, removed) = extractor
            .extract_explained(&html, base.as_ref())
            .with_context(|| format!("extracting {input}"))?;
        out.write_all(render(&article, args.body_only).as_bytes())?;
        out.flush()?;
        let mut err = super::output::stderr();
        write_explanation(&mut err, &article, &removed)?;
    } else {
        let article = extractor
            .extract(&html, base.as_ref())
            .with_context(|| format!("extracting {input}"))?;
        out.write_all(render(&article, args.body_only).as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn render(article: &CleanArticle, body_only: bool) -> String {
    if body_only {
        article.body_text()
    } else {
        article.text()
    }
}

/// The `--explain` report: one `removed [reason] text` line per dropped block, then metadata.
pub fn write_explanation(
    w: &mut impl Write,
    article: &CleanArticle,
    removed: &[crate::extract::Removal],
) -> std::io::Result<()> {
    for r in removed {
        writeln!(w, "removed [{}] {}", r.reason, r.text)?;
    }
    let m = &article.meta;
    for (k, v) in [
        ("title", Some(&article.title)),
        ("author", m.author.as_ref()),
        ("published", m.published.as_ref()),
        ("site_name", m.site_name.as_ref()),
        ("language", m.language.as_ref()),
        ("canonical_url", m.canonical_url.as_ref()),
    ] {
        if let Some(v) = v {
            writeln!(w, "meta {k}: {v}")?;
        }
    }
    Ok(())
}

/// The `*.html[.gz]` files of a directory as `(id, path)`, sorted.
fn html_files(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut pages: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name
                .strip_suffix(".html.gz")
                .or_else(|| name.strip_suffix(".html"))?
                .to_owned();
            Some((id, e.path()))
        })
        .collect();
    pages.sort();
    Ok(pages)
}

/// Builds a site memory from the pages of `dir`, in file-name order. A page without a host
/// (no `--url`, no canonical or og:url) or that fails to extract is skipped and counted.
pub fn prime(
    dir: &Path,
    base: Option<&url::Url>,
    extractor: &Extractor,
) -> anyhow::Result<SiteMemory> {
    let memory = SiteMemory::new();
    let (mut used, mut no_host, mut failed) = (0usize, 0usize, 0usize);
    for (_, path) in html_files(dir)? {
        let bytes = read_page(&path)?;
        let page = decode_html(bytes, None)
            .and_then(|html| extractor.extract_with(&html, base, Some(&memory)));
        match page {
            Ok(page) => match page.host.clone() {
                Some(host) => {
                    memory.observe(&host, &page);
                    used += 1;
                }
                None => no_host += 1,
            },
            Err(_) => failed += 1,
        }
    }
    eprintln!(
        "site memory: {used} pages of {} hosts from {} ({no_host} without a host, {failed} not extracted)",
        memory.hosts().len(),
        dir.display()
    );
    Ok(memory)
}

/// Reads a page file, gunzipping `.gz`.
fn read_page(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .with_context(|| format!("gunzipping {}", path.display()))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn batch(
    input: &Path,
    output: &Path,
    body_only: bool,
    extractor: &Extractor,
    memory: Option<&SiteMemory>,
) -> anyhow::Result<()> {
    let pages = html_files(input)?;
    std::fs::create_dir_all(output).with_context(|| format!("creating {}", output.display()))?;
    let timings_path = output.join("timings.csv");
    let mut timings = std::io::BufWriter::new(
        std::fs::File::create(&timings_path)
            .with_context(|| format!("creating {}", timings_path.display()))?,
    );
    writeln!(timings, "id,seconds,cpu_seconds,status")?;
    let mut bar =
        super::progress::Progress::start("clean --batch", "pages", Some(pages.len() as u64));
    let (mut errors, mut cpu_total) = (0usize, Duration::ZERO);
    for (id, path) in &pages {
        let (text, wall, cpu, status) = match read_page(path) {
            Err(e) => (
                String::new(),
                Duration::ZERO,
                Duration::ZERO,
                format!("error:read:{e:#}").replace(',', ";"),
            ),
            Ok(bytes) => {
                let (w0, c0) = (Instant::now(), thread_cpu_time());
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    decode_html(bytes, None).and_then(|html| match memory {
                        Some(m) => extractor
                            .extract_with(&html, None, Some(m))
                            .map(|p| p.article),
                        None => extractor.extract(&html, None),
                    })
                }));
                let (wall, cpu) = (w0.elapsed(), thread_cpu_time().saturating_sub(c0));
                match result {
                    Ok(Ok(article)) => (render(&article, body_only), wall, cpu, "ok".to_owned()),
                    Ok(Err(e)) => (String::new(), wall, cpu, format!("error:{}", e.kind())),
                    Err(_) => (String::new(), wall, cpu, "error:panic".to_owned()),
                }
            }
        };
        if status != "ok" {
            errors += 1;
        }
        cpu_total += cpu;
        let out_path = output.join(format!("{id}.txt"));
        std::fs::write(&out_path, text)
            .with_context(|| format!("writing {}", out_path.display()))?;
        writeln!(
            timings,
            "{id},{:.6},{:.6},{status}",
            wall.as_secs_f64(),
            cpu.as_secs_f64()
        )?;
        bar.add(1);
    }
    timings.flush()?;
    bar.finish();
    let rate = if cpu_total.is_zero() {
        0.0
    } else {
        pages.len() as f64 / cpu_total.as_secs_f64()
    };
    super::output::status(format_args!(
        "clean --batch: {} pages, {errors} errors, {:.3} CPU-s, {rate:.1} pages/CPU-s\n",
        pages.len(),
        cpu_total.as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ExtractConfig;

    #[test]
    fn explain_lists_removed_blocks_with_reasons() {
        let html = "<html><head><meta property=\"og:title\" content=\"Headline\"></head><body><article>\
                    <h1>Headline</h1><p>The first paragraph of the story is long enough to count as prose.</p>\
                    <p>Read also: Another story somewhere else</p>\
                    <p>The second paragraph closes the story with a few more words of prose.</p>\
                    </article></body></html>";
        let ex = Extractor::new(&ExtractConfig::default()).unwrap();
        let (article, removed) = ex.extract_explained(html, None).unwrap();
        let mut buf = Vec::new();
        write_explanation(&mut buf, &article, &removed).unwrap();
        let report = String::from_utf8(buf).unwrap();
        assert!(
            report.contains("removed [related] Read also: Another story somewhere else"),
            "{report}"
        );
        assert!(report.contains("meta title: Headline"), "{report}");
        assert_eq!(article.blocks.len(), 2);
    }

    #[test]
    fn explain_accounts_for_every_line_that_left_the_page() {
        // The Swedish seed page: bio, date line, byline, captions, support appeal and tags sit
        // around the content block, nav and footer are dropped before parsing.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/seed-site/site/articles/burkina-faso-further-russian-assistance.html"
        );
        let html = std::fs::read_to_string(path).unwrap();
        let ex = Extractor::new(&ExtractConfig::default()).unwrap();
        let plain = ex.extract(&html, None).unwrap();
        let (article, removed) = ex.extract_explained(&html, None).unwrap();
        assert_eq!(article, plain, "explaining must not change the output");
        let mut buf = Vec::new();
        write_explanation(&mut buf, &article, &removed).unwrap();
        let report = String::from_utf8(buf).unwrap();
        for line in [
            "removed [nav] Home World Africa Politics Opinion Subscribe",
            "removed [promo] Du kan stötta Newsvoice via MediaLinq",
            "removed [tags] Tags: Burkina Faso",
            "removed [date] publicerad 21 juni 2024",
            "removed [caption] Wagnergruppen i Afrika, september 2023.",
            "removed [share] Share this article",
        ] {
            assert!(report.contains(line), "missing {line:?} in:\n{report}");
        }
        assert!(report.contains("removed [bio] Baya Osborn"), "{report}");
        // Every removed line really is absent from the text.
        let text = article.text();
        for r in &removed {
            assert!(
                !text.contains(&r.text)
                    || r.reason == crate::extract::RemovalReason::Outside
                        && r.text == article.title,
                "{} [{}] is still in the text",
                r.text,
                r.reason
            );
        }
    }

    #[test]
    fn batch_writes_texts_and_timings() {
        let dir = std::env::temp_dir().join(format!("newsd-clean-test-{}", std::process::id()));
        let (inp, out) = (dir.join("in"), dir.join("out"));
        std::fs::create_dir_all(&inp).unwrap();
        std::fs::write(
            inp.join("a.html"),
            "<body><p>Some article text that is long enough, with commas, to keep.</p></body>",
        )
        .unwrap();
        std::fs::write(inp.join("b.html"), b"\0\0\0\x01binary").unwrap();
        let ex = Extractor::new(&ExtractConfig::default()).unwrap();
        batch(&inp, &out, true, &ex, None).unwrap();
        let csv = std::fs::read_to_string(out.join("timings.csv")).unwrap();
        assert!(
            csv.starts_with("id,seconds,cpu_seconds,status\na,"),
            "{csv}"
        );
        assert!(
            csv.contains(",ok\n") && csv.contains(",error:not-html\n"),
            "{csv}"
        );
        assert!(
            std::fs::read_to_string(out.join("a.txt"))
                .unwrap()
                .starts_with("Some article text")
        );
        assert_eq!(std::fs::read_to_string(out.join("b.txt")).unwrap(), "");
        std::fs::remove_dir_all(&dir).ok();
    }
}
