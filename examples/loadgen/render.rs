//! Bytes of the synthetic web: article pages (40–150 KB, mostly style, script, navigation and
//! footer, the article inside one of five site layouts) and feeds (RSS 2.0, Atom, JSON Feed).
//!
//! Owns markup only: what a resource is and where it lives comes from `web`, its text from
//! `corpus`. Rendering is a pure function of the resource, so served and dumped pages match.

use std::fmt::Write as _;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::corpus::{Block, Corpus, Text};
use crate::web::{Format, Web};

/// Page sizes are drawn uniformly from this range (bytes).
pub const PAGE_BYTES: std::ops::Range<usize> = 40_000..150_000;

/// One site's template: what every page of the host repeats around its article.
struct Site {
    /// Shown in titles, the header and the footer.
    name: String,
    /// `http://127.0.x.y:port`, for absolute links and canonical URLs.
    base: String,
    /// Which of the five article layouts this site uses.
    layout: usize,
    /// Inline stylesheet, as theme builders ship them.
    css: String,
    /// Inline scripts before the content (tag managers, consent, polyfills).
    js_head: String,
    /// Script text the page is padded with up to its drawn size (ads, hydration data).
    js_tail: String,
    /// Header with the site navigation.
    nav: String,
    /// Footer with its link farm.
    footer: String,
}

/// Renders pages and feeds of one web whose hosts live at `bases`.
pub struct Renderer {
    /// Which resource is where, and which article copies which.
    pub web: Web,
    /// Where article text comes from.
    corpus: Corpus,
    /// One template per host, indexed like the hosts.
    sites: Vec<Site>,
}

impl Renderer {
    pub fn new(web: Web, corpus: Corpus, bases: Vec<String>) -> Renderer {
        assert_eq!(bases.len(), web.shape.hosts, "one base URL per host");
        let seed = web.shape.seed;
        let sites = bases
            .into_iter()
            .enumerate()
            .map(|(h, base)| site(h, base, seed))
            .collect();
        Renderer { web, corpus, sites }
    }

    /// Where the article text comes from (for the web manifest).
    pub fn corpus_source(&self) -> &str {
        &self.corpus.source
    }

    pub fn page_url(&self, page: usize) -> String {
        format!(
            "{}{}",
            self.sites[self.web.host_of_page(page)].base,
            self.web.page_path(page)
        )
    }

    pub fn feed_url(&self, feed: usize) -> String {
        format!(
            "{}{}",
            self.sites[self.web.host_of_feed(feed)].base,
            self.web.feed_path(feed)
        )
    }

    /// The text of an article: its own, or its original's with a copy's edits.
    pub fn text(&self, page: usize) -> Text {
        let seed = self.web.shape.seed;
        match self.web.copy_of(page) {
            Some(o) => self
                .corpus
                .copy(&self.corpus.article(mix(seed, o)), mix(seed, page)),
            None => self.corpus.article(mix(seed, page)),
        }
    }

    /// The HTML of an article page.
    pub fn page(&self, page: usize) -> Vec<u8> {
        let mut rng = StdRng::seed_from_u64(mix(self.web.shape.seed, page) ^ 0x9a6e);
        let target = rng.random_range(PAGE_BYTES);
        let host = self.web.host_of_page(page);
        let site = &self.sites[host];
        let text = self.text(page);
        let url = self.page_url(page);
        let title = esc(&text.title);
        let published = self.web.published(page).to_rfc3339();
        let author = format!("{} {}", FIRST[page % FIRST.len()], LAST[page % LAST.len()]);
        let mut h = String::with_capacity(target + 4096);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} | {name}</title>\
             <link rel=\"canonical\" href=\"{url}\">\
             <meta property=\"og:url\" content=\"{url}\"><meta property=\"og:title\" content=\"{title}\">\
             <meta property=\"og:site_name\" content=\"{name}\"><meta name=\"author\" content=\"{author}\">\
             <meta property=\"article:published_time\" content=\"{published}\">\
             <style>{css}</style>\
             <script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\"headline\":{jt},\"datePublished\":\"{published}\",\"author\":{{\"@type\":\"Person\",\"name\":\"{author}\"}}}}</script>\
             <script>{js}</script></head>\n<body class=\"single post-{page}\">\
             <div id=\"cookie-banner\" class=\"consent\"><p>We use cookies to improve your experience. By continuing you accept our cookie policy.</p><button>Accept</button><button>Settings</button></div>\n{nav}\n",
            name = site.name,
            css = site.css,
            jt = serde_json::Value::String(text.title.clone()),
            js = site.js_head,
            nav = site.nav,
        );
        let body = body_html(&text);
        let related = self.related(page, &mut rng);
        let share = "<div class=\"share\"><a href=\"#\">Share on Facebook</a> <a href=\"#\">Share on X</a> <a href=\"#\">Email</a> <a href=\"#\">Print</a></div>";
        let date = &published[..10];
        match site.layout {
            0 => {
                let _ = write!(
                    h,
                    "<div id=\"primary\" class=\"content-area\"><main id=\"main\" class=\"site-main\">\
                     <article class=\"post type-post status-publish\"><header class=\"entry-header\"><h1 class=\"entry-title\">{title}</h1>\
                     <div class=\"entry-meta\"><span class=\"byline\">By <a href=\"/author/{page}\">{author}</a></span> <time datetime=\"{published}\">{date}</time></div></header>\
                     {share}<div class=\"entry-content\">{body}<p><strong>READ MORE:</strong> <a href=\"{rel0}\">More from {name}</a></p></div>\
                     <footer class=\"entry-footer\"><span class=\"tags-links\">Tags: news, world, {sec}</span></footer></article>\
                     <div class=\"author-bio\"><h4>About {author}</h4><p>{author} covers politics and the economy for {name}. Follow on social media.</p></div>\
                     {related}<div id=\"comments\" class=\"comments-area\">{comments}</div></main></div>\
                     <aside id=\"secondary\" class=\"widget-area\"><section class=\"widget\"><h2>Most read</h2>{related}</section></aside>",
                    name = site.name,
                    rel0 = site.base,
                    sec = page % 7,
                    comments = comments(&mut rng),
                );
            }
            1 => {
                let _ = write!(
                    h,
                    "<main role=\"main\"><div class=\"story\"><p class=\"kicker\">World</p><h1 class=\"headline\">{title}</h1>\
                     <p class=\"byline\">By {author}, {date}</p>\
                     <figure class=\"lead-image\"><img src=\"/img/{page}.jpg\" alt=\"\"><figcaption>Photo: {author} / Agency</figcaption></figure>\
                     <div class=\"story-body\" itemprop=\"articleBody\">{body}</div>\
                     <aside class=\"related-inline\"><h3>Related</h3>{related}</aside>{share}</div></main>",
                );
            }
            2 => {
                let mut soup = String::new();
                for (i, chunk) in body_blocks(&text).iter().enumerate() {
                    let _ = write!(soup, "<div class=\"td-paragraph\">{chunk}</div>");
                    if i % 3 == 2 {
                        soup.push_str("<div class=\"ad-slot\"><span>Advertisement</span><div id=\"gpt-ad\"></div></div>");
                    }
                }
                let _ = write!(
                    h,
                    "<div class=\"container\"><div class=\"row\"><div class=\"col-md-8\"><div class=\"td-post-header\"><h1 class=\"td-post-title\">{title}</h1>\
                     <div class=\"td-module-meta-info\"><span class=\"td-post-author-name\">{author}</span><span class=\"td-post-date\">{date}</span></div></div>\
                     <div class=\"td-post-content\">{soup}</div>\
                     <div class=\"newsletter-box\"><h3>Sign up for our newsletter</h3><p>Get the day's top stories in your inbox every morning.</p><form><input type=\"email\"><button>Subscribe</button></form></div>\
                     {share}</div><div class=\"col-md-4 sidebar\"><h3>Trending</h3>{related}</div></div></div>",
                );
            }
            3 => {
                let _ = write!(
                    h,
                    "<div class=\"page\"><section class=\"article-header\"><h1>{title}</h1><div class=\"meta\">{date} · {author}</div></section>\
                     <section class=\"article-body\">{body}</section>\
                     <section class=\"more\"><h2>Read also</h2>{related}</section>\
                     <div class=\"support\"><p>Feel free to support independent journalism on PayPal.</p></div></div>",
                );
            }
            _ => {
                let _ = write!(
                    h,
                    "<table class=\"layout\" width=\"100%\"><tr><td class=\"left-col\" valign=\"top\">{related}</td>\
                     <td class=\"main-col\" valign=\"top\"><div class=\"article\"><h1>{title}</h1><div class=\"date\">{date}</div>\
                     <div class=\"text\">{body}</div><p class=\"back\"><a href=\"#top\">Back to top</a></p></div></td></tr></table>",
                );
            }
        }
        h.push('\n');
        h.push_str(&site.footer);
        // Pad to the drawn size with script, as ad and hydration payloads do.
        let tail = "</body></html>\n";
        let room = target.saturating_sub(h.len() + tail.len() + 17);
        if room > 0 {
            let mut cut = room.min(site.js_tail.len());
            while !site.js_tail.is_char_boundary(cut) {
                cut -= 1;
            }
            h.push_str("<script>");
            h.push_str(&site.js_tail[..cut]);
            h.push_str("</script>");
        }
        h.push_str(tail);
        h.into_bytes()
    }

    /// Links to eight other articles of the same site.
    fn related(&self, page: usize, rng: &mut StdRng) -> String {
        let w = &self.web;
        let host = w.host_of_page(page);
        let same_host_feeds = w.shape.feeds.div_ceil(w.shape.hosts).max(1);
        let mut s = String::from("<ul class=\"related-list\">");
        for _ in 0..8 {
            let feed = (host + w.shape.hosts * rng.random_range(0..same_host_feeds))
                .min(w.shape.feeds.saturating_sub(1));
            let other = feed * w.shape.items + rng.random_range(0..w.shape.items.max(1));
            let _ = write!(
                s,
                "<li><a href=\"{}\">{}</a></li>",
                w.page_path(other),
                esc(&headline_stub(rng))
            );
        }
        s.push_str("</ul>");
        s
    }

    /// The feed document of `feed`.
    pub fn feed(&self, feed: usize) -> Vec<u8> {
        let w = &self.web;
        let host = w.host_of_feed(feed);
        let site = &self.sites[host];
        let items: Vec<(String, Text, chrono::DateTime<chrono::Utc>)> = w
            .items(feed)
            .map(|p| (self.page_url(p), self.text(p), w.published(p)))
            .collect();
        let summary = |t: &Text| -> String {
            let first = t.blocks.first().map(|b| b.text()).unwrap_or("");
            first.chars().take(200).collect()
        };
        let mut s = String::with_capacity(512 + items.len() * 600);
        match w.format(feed) {
            Format::Rss => {
                let _ = write!(
                    s,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{} — feed {feed}</title><link>{}/</link><description>Latest news</description>\n",
                    esc(&site.name),
                    site.base
                );
                for (url, t, d) in &items {
                    let _ = writeln!(
                        s,
                        "<item><title>{}</title><link>{url}</link><guid isPermaLink=\"true\">{url}</guid><pubDate>{}</pubDate><description>{}</description></item>",
                        esc(&t.title),
                        d.to_rfc2822(),
                        esc(&summary(t))
                    );
                }
                s.push_str("</channel></rss>\n");
            }
            Format::Atom => {
                let _ = write!(
                    s,
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{} — feed {feed}</title><id>{}</id><updated>{}</updated><link href=\"{}/\"/>\n",
                    esc(&site.name),
                    self.feed_url(feed),
                    items
                        .first()
                        .map(|i| i.2)
                        .unwrap_or_else(|| w.published(0))
                        .to_rfc3339(),
                    site.base
                );
                for (url, t, d) in &items {
                    let _ = writeln!(
                        s,
                        "<entry><title>{}</title><link href=\"{url}\"/><id>{url}</id><updated>{}</updated><summary>{}</summary></entry>",
                        esc(&t.title),
                        d.to_rfc3339(),
                        esc(&summary(t))
                    );
                }
                s.push_str("</feed>\n");
            }
            Format::Json => {
                let items: Vec<serde_json::Value> = items
                    .iter()
                    .map(|(url, t, d)| {
                        serde_json::json!({
                            "id": url, "url": url, "title": t.title,
                            "date_published": d.to_rfc3339(), "summary": summary(t),
                        })
                    })
                    .collect();
                let doc = serde_json::json!({
                    "version": "https://jsonfeed.org/version/1.1",
                    "title": format!("{} — feed {feed}", site.name),
                    "home_page_url": format!("{}/", site.base),
                    "feed_url": self.feed_url(feed),
                    "items": items,
                });
                s = doc.to_string();
            }
        }
        s.into_bytes()
    }
}

/// Mixes the web's seed with an index into an independent seed.
fn mix(seed: u64, i: usize) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&(i as u64).to_le_bytes(), seed)
}

fn body_blocks(t: &Text) -> Vec<String> {
    t.blocks
        .iter()
        .map(|b| match b {
            Block::Para(p) => format!("<p>{}</p>", esc(p)),
            Block::Heading(p) => format!("<h2>{}</h2>", esc(p)),
            Block::Quote(p) => format!("<blockquote><p>{}</p></blockquote>", esc(p)),
        })
        .collect()
}

fn body_html(t: &Text) -> String {
    body_blocks(t).join("\n")
}

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            c => o.push(c),
        }
    }
    o
}

fn headline_stub(rng: &mut StdRng) -> String {
    let a = [
        "Minister", "Council", "Court", "Market", "Team", "Region", "Union", "Bank",
    ];
    let b = [
        "warns of",
        "backs",
        "rejects",
        "delays",
        "unveils",
        "questions",
        "wins",
    ];
    let c = [
        "new plan",
        "budget cuts",
        "talks",
        "election date",
        "water project",
        "deal",
    ];
    format!(
        "{} {} {} in {}",
        a[rng.random_range(0..a.len())],
        b[rng.random_range(0..b.len())],
        c[rng.random_range(0..c.len())],
        2000 + rng.random_range(0..30)
    )
}

fn comments(rng: &mut StdRng) -> String {
    let mut s =
        String::from("<h3 class=\"comments-title\">Comments</h3><ol class=\"comment-list\">");
    for i in 0..rng.random_range(0..6) {
        let _ = write!(
            s,
            "<li class=\"comment\"><div class=\"comment-author\">reader{i}</div><p>Thanks for this piece, very informative. I wonder what happens next.</p><a class=\"reply\">Reply</a></li>"
        );
    }
    s.push_str("</ol>");
    s
}

const FIRST: &[&str] = &[
    "Amina", "Jonas", "Sofia", "Moussa", "Claire", "Ahmed", "Lena",
];
const LAST: &[&str] = &[
    "Diallo", "Berg", "Rossi", "Keita", "Martin", "Haddad", "Novak",
];

/// A site's template, drawn from the web's seed and the host index.
fn site(host: usize, base: String, seed: u64) -> Site {
    let mut rng = StdRng::seed_from_u64(mix(seed, host) ^ 0x517e);
    let name = format!(
        "{} {}",
        ["Daily", "Morning", "Evening", "Sahel", "Capital", "Coastal"][host % 6],
        [
            "Herald", "Times", "Post", "Observer", "Courier", "Gazette", "Monitor"
        ][host % 7]
    );
    let mut css = String::new();
    let css_bytes = rng.random_range(12_000..30_000);
    let mut i = 0;
    while css.len() < css_bytes {
        let _ = writeln!(
            css,
            ".c-{host}-{i} .item-{}{{margin:{}px {}px;padding:0 {}px;color:#{:06x};font-size:{}px;display:{}}}",
            rng.random_range(0..99),
            rng.random_range(0..24),
            rng.random_range(0..24),
            rng.random_range(0..16),
            rng.random_range(0..0xffffff),
            rng.random_range(10..28),
            ["block", "flex", "grid", "inline-block"][rng.random_range(0..4)]
        );
        i += 1;
    }
    let js = |rng: &mut StdRng, bytes: usize| {
        let mut s = String::with_capacity(bytes + 200);
        let mut i = 0;
        while s.len() < bytes {
            let _ = write!(
                s,
                "function f{i}(a,b){{var c=a.q{}||{};if(b&&b.length>{}){{c+=b.map(function(x){{return x*{}+\"k{}\"}}).join(\",\")}}return window.__d{}=c}}",
                rng.random_range(0..999),
                rng.random_range(0..99),
                rng.random_range(0..9),
                rng.random_range(2..9),
                rng.random_range(0..9999),
                rng.random_range(0..99)
            );
            if i % 7 == 0 {
                let _ = write!(
                    s,
                    "var cfg{i}={{\"slot\":\"div-gpt-{}\",\"sizes\":[[300,250],[728,90]],\"targeting\":{{\"sec\":\"news\",\"k\":\"{:x}\"}}}};",
                    rng.random_range(0..999),
                    rng.random::<u64>()
                );
            }
            i += 1;
        }
        s
    };
    let head_bytes = rng.random_range(8_000..25_000);
    let js_head = js(&mut rng, head_bytes);
    let js_tail = js(&mut rng, PAGE_BYTES.end);
    let mut nav = format!(
        "<header class=\"site-header\"><a class=\"logo\" href=\"{base}/\">{name}</a><nav class=\"main-nav\"><ul>"
    );
    for i in 0..rng.random_range(40..120) {
        let _ = write!(
            nav,
            "<li class=\"menu-item\"><a href=\"/section/{i}\">Section {i}</a></li>"
        );
    }
    nav.push_str("</ul></nav><form class=\"search\"><input type=\"search\" placeholder=\"Search\"></form></header>");
    let mut footer = String::from("<footer class=\"site-footer\"><div class=\"footer-links\">");
    for i in 0..rng.random_range(30..90) {
        let _ = write!(footer, "<a href=\"/page/{i}\">Link {i}</a> ");
    }
    let _ = write!(
        footer,
        "</div><p>© 2026 {name}. All rights reserved.</p><p>Verified by MonsterInsights</p></footer>"
    );
    Site {
        name,
        base,
        layout: host % 5,
        css,
        js_head,
        js_tail,
        nav,
        footer,
    }
}
