//! Extraction speed against scraper's own parse, on the same pages in the same minutes.
//!
//! `cargo bench --bench extract [DATASET_DIR]` (default `../shared/bench/extraction/wcxb-dev`).
//! For each article page, in turn: scraper's bare parse (html5ever tree + all text — the
//! reference ANCHORS.md quotes at ~555 pages/CPU-s) and newsd's full `decode_html` +
//! `extract`. Interleaving per page cancels the drift of a shared machine, so the ratio is
//! the figure to compare; absolute pages/CPU-s are printed too. Thread CPU time, one core.

// A benchmark's report is its output (Cargo.toml's [lints] deny printing in the library).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use newsd::extract::{ExtractConfig, Extractor, decode_html};
use newsd::metrics::thread_cpu_time;

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/bench/extraction/wcxb-dev"
            ))
        });
    let Ok(truth) = std::fs::read_to_string(dir.join("ground-truth.json")) else {
        eprintln!("no dataset at {} (pass its path)", dir.display());
        return;
    };
    let truth: serde_json::Value = serde_json::from_str(&truth).expect("ground-truth.json");
    let mut pages = Vec::new();
    for (id, entry) in truth.as_object().expect("object") {
        if entry["page_type"] != "article" {
            continue;
        }
        let path = dir.join("html").join(format!("{id}.html.gz"));
        let Ok(raw) = std::fs::read(&path) else {
            continue;
        };
        let mut html = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut html)
            .expect("gzip");
        pages.push(html);
    }
    let extractor = Extractor::new(&ExtractConfig::default()).expect("extractor");
    let (mut parse_cpu, mut newsd_cpu) = (Duration::ZERO, Duration::ZERO);
    let mut sink = 0usize;
    for _round in 0..3 {
        for html in &pages {
            let t = thread_cpu_time();
            let doc = scraper::Html::parse_document(&String::from_utf8_lossy(html));
            sink += doc.root_element().text().map(str::len).sum::<usize>();
            drop(doc);
            parse_cpu += thread_cpu_time() - t;

            let t = thread_cpu_time();
            // decode_html takes the body (the daemon moves the fetched one in); every round
            // decodes its own copy, timed like the copy decoding made before it took the body.
            if let Ok(text) = decode_html(html.clone(), None)
                && let Ok(a) = extractor.extract(&text, None)
            {
                sink += a.blocks.len();
            }
            newsd_cpu += thread_cpu_time() - t;
        }
    }
    let n = (pages.len() * 3) as f64;
    let parse_rate = n / parse_cpu.as_secs_f64();
    let newsd_rate = n / newsd_cpu.as_secs_f64();
    println!("{} article pages × 3 rounds (checksum {sink})", pages.len());
    println!("scraper parse + text : {parse_rate:>7.0} pages/CPU-s");
    println!("newsd decode+extract : {newsd_rate:>7.0} pages/CPU-s");
    println!(
        "ratio newsd / parse  : {:>7.2}  (× ~555 = anchor-machine estimate {:.0} pages/CPU-s)",
        newsd_rate / parse_rate,
        555.0 * newsd_rate / parse_rate
    );
}
