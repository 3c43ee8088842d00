//! A growing news web for the kill and cluster tests: `hosts` sites on loopback addresses
//! 127.0.0.10, .11, … (one fixture server each, so per-host limits are per site), `feeds`
//! feeds (feed f on host f mod hosts), pages added while newsd runs, about one in ten a
//! republished copy of an earlier story on another feed. [`Site::assert_store`] checks what
//! newsd ended with against what the web served.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::server::Server;

/// One page the web serves.
pub struct Page {
    pub url: String,
    /// The story it tells: a page and its republished copies share one.
    pub story: usize,
}

pub struct Site {
    pub servers: Vec<Server>,
    feeds: usize,
    seed: u64,
    /// Made-up words the stories are written with (no real text needed, only distinct ones).
    vocab: Vec<String>,
    pub pages: Mutex<Vec<Page>>,
    /// Links per feed, oldest first (the feed's document order).
    links: Mutex<Vec<Vec<String>>>,
    pub stories: Mutex<usize>,
}

impl Site {
    pub fn new(seed: u64, hosts: usize, feeds: usize) -> Site {
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
        let servers = (0..hosts)
            .map(|h| Server::empty_on(&format!("127.0.0.{}", 10 + h)))
            .collect();
        let site = Site {
            servers,
            feeds,
            seed,
            vocab,
            pages: Mutex::new(Vec::new()),
            links: Mutex::new(vec![Vec::new(); feeds]),
            stories: Mutex::new(0),
        };
        for f in 0..feeds {
            site.publish_feed(f);
        }
        site
    }

    fn host_of(&self, feed: usize) -> &Server {
        &self.servers[feed % self.servers.len()]
    }

    pub fn feed_urls(&self) -> Vec<String> {
        (0..self.feeds)
            .map(|f| self.host_of(f).url(&format!("/feeds/{f}.xml")))
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
        let links = self.links.lock().unwrap()[f].clone();
        let items: String = links
            .iter()
            .map(|l| format!("<item><title>Item</title><link>{l}</link><guid>{l}</guid></item>"))
            .collect();
        self.host_of(f).route(
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
    pub fn add_page(&self, i: usize) {
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(1_000_003 * (i as u64 + 1)));
        let stories = *self.stories.lock().unwrap();
        let story = if stories > 3 && rng.random_range(0..10) == 0 {
            rng.random_range(0..stories)
        } else {
            *self.stories.lock().unwrap() += 1;
            stories
        };
        let (title, paragraphs) = self.story(story);
        let feed = rng.random_range(0..self.feeds);
        let path = format!("/news/{feed}/{i}.html");
        let host = self.host_of(feed);
        // The page exists before any feed links to it.
        host.route(
            &path,
            200,
            "text/html; charset=utf-8",
            self.html(&title, &paragraphs, &format!("Outlet {feed}")),
        );
        let url = host.url(&path);
        self.links.lock().unwrap()[feed].push(url.clone());
        self.publish_feed(feed);
        self.pages.lock().unwrap().push(Page { url, story });
    }

    /// Most requests any one host had in flight at once.
    pub fn max_in_flight_per_host(&self) -> usize {
        self.servers
            .iter()
            .map(Server::max_in_flight)
            .max()
            .unwrap_or(0)
    }

    /// Pages the web served so far, stored or recorded in `lines` (an export manifest).
    pub fn settled(&self, lines: &[Value]) -> (usize, usize) {
        let n: usize = lines
            .iter()
            .map(|l| 1 + l["duplicates"].as_array().map_or(0, Vec::len))
            .sum();
        (n, self.pages.lock().unwrap().len())
    }

    /// The export `lines` hold exactly what the web served: every page stored once or
    /// recorded once as a copy of the stored page of its story, no story stored twice, no
    /// page lost, seqs 0..n-1 and names unique. `ctx` prefixes every failure.
    pub fn assert_store(&self, lines: &[Value], ctx: &str) {
        let seqs: Vec<u64> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (0..lines.len() as u64).collect::<Vec<_>>(), "{ctx}");
        let names: HashSet<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(names.len(), lines.len(), "{ctx}: a name is reused");
        let pages = self.pages.lock().unwrap();
        let story_of: HashMap<&str, usize> =
            pages.iter().map(|p| (p.url.as_str(), p.story)).collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut stored_story: HashMap<usize, &str> = HashMap::new();
        for l in lines {
            let url = l["canonical_url"].as_str().unwrap();
            let story = story_of[url];
            *seen.entry(url.to_string()).or_default() += 1;
            if let Some(other) = stored_story.insert(story, url) {
                panic!("{ctx}: story {story} stored twice: {other} and {url}");
            }
            for d in l["duplicates"].as_array().unwrap() {
                let copy = d["url"].as_str().unwrap();
                *seen.entry(copy.to_string()).or_default() += 1;
                assert_eq!(
                    story_of[copy], story,
                    "{ctx}: {copy} recorded as a copy of {url}, another story"
                );
            }
        }
        for (url, n) in &seen {
            assert_eq!(*n, 1, "{ctx}: {url} is in the store {n} times");
        }
        let lost: Vec<&&str> = story_of
            .keys()
            .filter(|u| !seen.contains_key(**u))
            .collect();
        assert!(lost.is_empty(), "{ctx}: pages lost: {lost:?}");
    }
}
