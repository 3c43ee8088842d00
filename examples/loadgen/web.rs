//! The shape of the synthetic news web: which host serves which feed, which articles a feed
//! lists, which articles are republished copies of which original, and the paths and
//! validators of every resource.
//!
//! Owns identities and routing only. It must not render HTML or feeds (see `render`) and
//! must not do I/O.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Feed formats, served in rotation so newsd parses all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    pub fn ext(self) -> &'static str {
        match self {
            Format::Rss => "xml",
            Format::Atom => "atom",
            Format::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }
}

/// How feeds answer polls after the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FeedMode {
    /// 200 with ETag and Last-Modified; 304 when the poll carries a matching validator.
    Conditional,
    /// Always 200 with the same body and no validators: a server that cannot say "unchanged".
    Unchanged200,
}

/// What the web is made of: the knobs of `loadgen serve`.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Distinct sites (one loopback address each).
    pub hosts: usize,
    /// Feeds, spread round-robin over the hosts.
    pub feeds: usize,
    /// Items listed by each feed; each item is its own article page.
    pub items: usize,
    /// Share of articles that are republished copies of an article on another host.
    pub copy_share: f64,
    /// Seed of every random choice, so two runs serve the same web.
    pub seed: u64,
    /// Pages answer 404 (a web of feeds only: polling cost without article cost).
    pub gone_pages: bool,
    pub feed_mode: FeedMode,
}

/// The web: shape plus, per article, the original it copies (if any).
pub struct Web {
    /// The knobs it was built from (host/feed/item counts, modes).
    pub shape: Shape,
    /// `copy_of[k]` is the original article of copy `k`; `None` for an original.
    copy_of: Vec<Option<u32>>,
}

/// A request path, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Feed(usize),
    Page(usize),
}

/// Validators of every resource: the web never changes while it is served.
pub const LAST_MODIFIED: &str = "Wed, 02 Dec 2026 06:00:00 GMT";

const SECTIONS: &[&str] = &[
    "world", "politics", "business", "africa", "sport", "culture",
];

impl Web {
    pub fn new(shape: Shape) -> Web {
        assert!(shape.hosts > 0, "at least one host");
        let n = shape.feeds * shape.items;
        let mut rng = StdRng::seed_from_u64(shape.seed);
        let mut is_copy: Vec<bool> = (0..n)
            .map(|_| rng.random_bool(shape.copy_share.clamp(0.0, 1.0)))
            .collect();
        // A copy needs an original on another host; a one-host web has no copies.
        if shape.hosts < 2 {
            is_copy.iter_mut().for_each(|c| *c = false);
        }
        let originals: Vec<u32> = (0..n as u32).filter(|&k| !is_copy[k as usize]).collect();
        let mut copy_of = vec![None; n];
        if !originals.is_empty() {
            let web = Web {
                shape: shape.clone(),
                copy_of: Vec::new(),
            };
            for k in 0..n {
                if !is_copy[k] {
                    continue;
                }
                // Draw until the original lives on another site (a copy is a republication).
                for _ in 0..64 {
                    let o = originals[rng.random_range(0..originals.len())];
                    if web.host_of_page(o as usize) != web.host_of_page(k) {
                        copy_of[k] = Some(o);
                        break;
                    }
                }
            }
        }
        Web { shape, copy_of }
    }

    pub fn pages(&self) -> usize {
        self.copy_of.len()
    }

    /// Articles that are copies of another (newsd should record them, not store them).
    pub fn copies(&self) -> usize {
        self.copy_of.iter().filter(|c| c.is_some()).count()
    }

    pub fn copy_of(&self, page: usize) -> Option<usize> {
        self.copy_of[page].map(|o| o as usize)
    }

    pub fn format(&self, feed: usize) -> Format {
        [Format::Rss, Format::Atom, Format::Json][feed % 3]
    }

    pub fn host_of_feed(&self, feed: usize) -> usize {
        feed % self.shape.hosts
    }

    pub fn feed_of_page(&self, page: usize) -> usize {
        page / self.shape.items
    }

    pub fn host_of_page(&self, page: usize) -> usize {
        self.host_of_feed(self.feed_of_page(page))
    }

    /// Articles listed by `feed`, newest first.
    pub fn items(&self, feed: usize) -> std::ops::Range<usize> {
        feed * self.shape.items..(feed + 1) * self.shape.items
    }

    pub fn feed_path(&self, feed: usize) -> String {
        format!("/feeds/{feed}.{}", self.format(feed).ext())
    }

    pub fn page_path(&self, page: usize) -> String {
        format!(
            "/{}/2026/12/story-{page}.html",
            SECTIONS[page % SECTIONS.len()]
        )
    }

    /// The file name of a page in a dump (`newsd clean --batch` input).
    pub fn page_id(&self, page: usize) -> String {
        format!("p{page:07}")
    }

    /// Which resource `path` names on `host`, if any: a resource is only served by its own
    /// site, as on the real web.
    pub fn resolve(&self, host: usize, path: &str) -> Option<Resource> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        if let Some(rest) = path.strip_prefix("/feeds/") {
            let (num, ext) = rest.split_once('.')?;
            let feed: usize = num.parse().ok()?;
            if feed < self.shape.feeds
                && self.format(feed).ext() == ext
                && self.host_of_feed(feed) == host
            {
                return Some(Resource::Feed(feed));
            }
            return None;
        }
        let file = path.rsplit('/').next()?;
        let page: usize = file
            .strip_prefix("story-")?
            .strip_suffix(".html")?
            .parse()
            .ok()?;
        (page < self.pages() && self.page_path(page) == path && self.host_of_page(page) == host)
            .then_some(Resource::Page(page))
    }

    /// The strong validator of a resource.
    pub fn etag(&self, r: Resource) -> String {
        match r {
            Resource::Feed(f) => format!("\"f{f}-{:x}\"", self.shape.seed),
            Resource::Page(p) => format!("\"p{p}-{:x}\"", self.shape.seed),
        }
    }

    /// Publication time of an article, minutes apart, newest item of a feed first.
    pub fn published(&self, page: usize) -> chrono::DateTime<chrono::Utc> {
        let base = chrono::DateTime::parse_from_rfc3339("2026-12-02T06:00:00Z")
            .expect("constant date")
            .with_timezone(&chrono::Utc);
        base - chrono::Duration::minutes((page % (self.shape.items.max(1) * 97)) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape {
            hosts: 4,
            feeds: 12,
            items: 5,
            copy_share: 0.3,
            seed: 1,
            gone_pages: false,
            feed_mode: FeedMode::Conditional,
        }
    }

    #[test]
    fn copies_are_of_originals_on_other_hosts() {
        let w = Web::new(shape());
        assert!(w.copies() > 0);
        for k in 0..w.pages() {
            if let Some(o) = w.copy_of(k) {
                assert!(w.copy_of(o).is_none(), "copy of a copy");
                assert_ne!(w.host_of_page(o), w.host_of_page(k));
            }
        }
    }

    #[test]
    fn paths_resolve_only_on_their_own_host() {
        let w = Web::new(shape());
        assert_eq!(w.resolve(1, &w.feed_path(5)), Some(Resource::Feed(5)));
        assert_eq!(w.resolve(2, &w.feed_path(5)), None);
        let p = 37;
        let h = w.host_of_page(p);
        assert_eq!(w.resolve(h, &w.page_path(p)), Some(Resource::Page(p)));
        assert_eq!(w.resolve((h + 1) % 4, &w.page_path(p)), None);
        assert_eq!(w.resolve(h, "/feeds/5.json"), None);
        assert_eq!(w.resolve(h, "/world/2026/12/story-99999.html"), None);
    }
}
