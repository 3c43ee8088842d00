//! Kill test (issue 10, part 6): `newsd run` ingests a local site whose feeds keep growing
//! (about one page in ten a republished copy of an earlier story) and is SIGKILLed at random
//! moments, 10 ms to 1.5 s after it starts; `newsd check` must pass after every kill. At the
//! end one `newsd once` settles the rest, and the store must hold what the site served:
//! every story stored once with every other page of it recorded once as its copy, none lost,
//! seqs 0..n-1 with no name reused.
//!
//! `NEWSD_KILLS` sets the number of kills (default 30; 200 for the long run),
//! `NEWSD_KILL_SEED` replays a run (the seed is printed; page contents and kill delays follow
//! from it, the interleaving with the growing site only roughly).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::server::Server;
use crate::util::*;

const FEEDS: usize = 5;

/// One page the site serves.
struct Page {
    path: String,
    /// The story it tells: a page and its republished copies share one.
    story: usize,
}

/// A news site on 127.0.0.1 whose feeds grow while newsd runs.
struct Site {
    server: Server,
    seed: u64,
    /// Made-up words the stories are written with (no real text needed, only distinct ones).
    vocab: Vec<String>,
    pages: Mutex<Vec<Page>>,
    /// Links per feed, oldest first (the feed's document order).
    feeds: Mutex<Vec<Vec<String>>>,
    stories: Mutex<usize>,
}

impl Site {
    fn new(seed: u64) -> Site {
        let mut rng = StdRng::seed_from_u64(seed);
        let syllables = [
            "ka", "lo", "mi", "ter", "sun", "va", "dre", "pol", "quin", "ra", "se", "tu", "bor",
            "nel", "fi", "gam", "hu", "jos", "ze", "wen",
        ];
        let vocab = (0..3000)
            .map(|_| {
                (0..rng.random_range(2..=4))
                    .map(|_| syllables[rng.random_range(0..syllables.len())])
                    .collect()
            })
            .collect();
        let site = Site {
            server: Server::empty(),
            seed,
            vocab,
            pages: Mutex::new(Vec::new()),
            feeds: Mutex::new(vec![Vec::new(); FEEDS]),
            stories: Mutex::new(0),
        };
        for f in 0..FEEDS {
            site.publish_feed(f);
        }
        site
    }

    fn feed_urls(&self) -> Vec<String> {
        (0..FEEDS)
            .map(|f| self.server.url(&format!("/feeds/{f}.xml")))
            .collect()
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        &self.vocab[rng.random_range(0..self.vocab.len())]
    }

    fn capital(word: &str) -> String {
        let mut c = word.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    }

    /// Story `s`'s headline and paragraphs, the same every time for one seed.
    fn story(&self, s: usize) -> (String, Vec<String>) {
        let mut rng = StdRng::seed_from_u64(self.seed ^ (s as u64 + 1).wrapping_mul(0x9E37_79B9));
        let title = format!(
            "{} {} meets {} over {} {}",
            Self::capital(self.word(&mut rng)),
            self.word(&mut rng),
            Self::capital(self.word(&mut rng)),
            rng.random_range(2..900),
            self.word(&mut rng)
        );
        let paragraphs = (0..rng.random_range(4..7))
            .map(|_| {
                let mut p = Vec::new();
                for sentence in 0..rng.random_range(3..5) {
                    let n = rng.random_range(8..16);
                    let mut words: Vec<String> =
                        (0..n).map(|_| self.word(&mut rng).to_string()).collect();
                    words[0] = Self::capital(&words[0]);
                    // Names and figures mid-sentence: the facts the dedup rule compares.
                    words[n / 2] = Self::capital(&words[n / 2]);
                    if sentence % 2 == 0 {
                        words[n - 2] = rng.random_range(10..100_000).to_string();
                    }
                    p.push(words.join(" ") + ".");
                }
                p.join(" ")
            })
            .collect();
        (title, paragraphs)
    }

    fn html(&self, title: &str, paragraphs: &[String], outlet: &str) -> String {
        let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>\n")).collect();
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} | {outlet}</title></head>\n<body><header><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav></header>\n<main><article><h1>{title}</h1>\n{body}</article></main>\n<footer>© {outlet}</footer></body></html>"
        )
    }

    fn publish_feed(&self, f: usize) {
        let links = self.feeds.lock().unwrap()[f].clone();
        let items: String = links
            .iter()
            .map(|l| format!("<item><title>Item</title><link>{l}</link><guid>{l}</guid></item>"))
            .collect();
        self.server.route(
            &format!("/feeds/{f}.xml"),
            200,
            "application/rss+xml",
            format!(
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title>{items}</channel></rss>"
            ),
        );
    }

    /// Publishes page number `i`: a new story, or (one time in ten) a copy of an earlier
    /// one under another address, on another outlet's feed.
    fn add_page(&self, i: usize) {
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(1_000_003 * (i as u64 + 1)));
        let stories = *self.stories.lock().unwrap();
        let story = if stories > 3 && rng.random_range(0..10) == 0 {
            rng.random_range(0..stories)
        } else {
            *self.stories.lock().unwrap() += 1;
            stories
        };
        let (title, paragraphs) = self.story(story);
        let feed = rng.random_range(0..FEEDS);
        let path = format!("/news/{feed}/{i}.html");
        // The page exists before any feed links to it.
        self.server.route(
            &path,
            200,
            "text/html; charset=utf-8",
            self.html(&title, &paragraphs, &format!("Outlet {feed}")),
        );
        self.feeds.lock().unwrap()[feed].push(self.server.url(&path));
        self.publish_feed(feed);
        self.pages.lock().unwrap().push(Page { path, story });
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_and_reuses_no_name() {
    let kills: usize = std::env::var("NEWSD_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(30);
    let seed: u64 = std::env::var("NEWSD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("kill test: seed {seed} (NEWSD_KILL_SEED={seed} replays it), {kills} kills");
    let site = Site::new(seed);
    // A few pages per kill (at most 120 a feed: all stay within max_feed_items).
    let max_pages = (kills * 4).clamp(20, FEEDS * 120);
    for i in 0..8 {
        site.add_page(i);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &site.feed_urls(),
        "[schedule]\ndefault_interval_secs = 1\nmin_interval_secs = 1\nbackoff_base_secs = 1\nmax_backoff_secs = 2\njitter_ratio = 0.0\n\n",
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let done = AtomicBool::new(false);
    let mut failures: Vec<String> = Vec::new();
    let mut violations = 0;
    let mut checked = 0;
    std::thread::scope(|scope| {
        // The site grows while the daemon runs, is killed and restarts.
        let grower = scope.spawn(|| {
            let mut rng = StdRng::seed_from_u64(seed ^ 0xfeed);
            let mut i = 8;
            while !done.load(Ordering::SeqCst) && i < max_pages {
                std::thread::sleep(Duration::from_millis(rng.random_range(100..400)));
                site.add_page(i);
                i += 1;
            }
        });
        for k in 0..kills {
            let daemon = Daemon::start(&config);
            std::thread::sleep(Duration::from_millis(rng.random_range(10..=1500)));
            daemon.kill();
            if !dir.path().join("data").exists() {
                continue; // killed before it created the store
            }
            checked += 1;
            let out = newsd(&config, &["check"]);
            if !out.status.success() {
                let report = String::from_utf8_lossy(&out.stdout).into_owned();
                violations += report
                    .lines()
                    .filter(|l| l.starts_with("invariant "))
                    .count();
                failures.push(format!("after kill {k}:\n{report}{}", stderr(&out)));
            }
        }
        done.store(true, Ordering::SeqCst);
        grower.join().unwrap();
    });
    let kill_phase = started.elapsed();
    let stats = |config| -> Value {
        let out = newsd(config, &["stats", "--json"]);
        assert_ok(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let by_killed = stats(&config);
    // Settle what the killed runs left: one full pass over the final site.
    once_logs(&config, "newsd once");
    check_ok(&config);
    let pages = site.pages.lock().unwrap();
    let last = stats(&config);
    eprintln!(
        "kill test: {kills} kills in {:.1} s, {checked} checks, {violations} violations; {} pages served ({} stories): the killed runs stored {} articles and {} copies, the final pass {} and {}",
        kill_phase.as_secs_f64(),
        pages.len(),
        *site.stories.lock().unwrap(),
        by_killed["articles"],
        by_killed["duplicates"],
        last["articles"].as_u64().unwrap() - by_killed["articles"].as_u64().unwrap(),
        last["duplicates"].as_u64().unwrap() - by_killed["duplicates"].as_u64().unwrap(),
    );
    assert!(failures.is_empty(), "seed {seed}:\n{}", failures.join("\n"));
    // Otherwise the kills interrupted nothing worth testing.
    assert!(
        by_killed["articles"].as_u64().unwrap() * 4 > last["articles"].as_u64().unwrap(),
        "the killed runs stored too little to test anything: {by_killed}"
    );

    let lines = export(&config, &dir.path().join("export"));
    // Seqs dense from 0, names unique.
    let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (0..lines.len() as u64).collect::<Vec<_>>(),
        "seed {seed}"
    );
    let names: HashSet<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), lines.len(), "seed {seed}: a name is reused");
    // Every page is stored once or recorded once as a copy, and the copies of a story are
    // recorded under the one page of it that is stored.
    let story_of: HashMap<String, usize> = pages
        .iter()
        .map(|p| (site.server.url(&p.path), p.story))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut stored_story: HashMap<usize, &str> = HashMap::new();
    for l in &lines {
        let url = l["canonical_url"].as_str().unwrap();
        let story = story_of[url];
        *seen.entry(url.to_string()).or_default() += 1;
        if let Some(other) = stored_story.insert(story, url) {
            panic!("seed {seed}: story {story} stored twice: {other} and {url}");
        }
        for d in l["duplicates"].as_array().unwrap() {
            let copy = d["url"].as_str().unwrap();
            *seen.entry(copy.to_string()).or_default() += 1;
            assert_eq!(
                story_of[copy], story,
                "seed {seed}: {copy} recorded as a copy of {url}, another story"
            );
        }
    }
    for (url, n) in &seen {
        assert_eq!(*n, 1, "seed {seed}: {url} is in the store {n} times");
    }
    let lost: Vec<&String> = story_of.keys().filter(|u| !seen.contains_key(*u)).collect();
    assert!(lost.is_empty(), "seed {seed}: pages lost: {lost:?}");
    let stats = newsd(&config, &["stats", "--json"]);
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(
        stats["next_seq"].as_u64(),
        Some(lines.len() as u64),
        "{stats}"
    );
}
