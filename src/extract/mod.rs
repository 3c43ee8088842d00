//! Article extraction: one HTML page in, one [`CleanArticle`] (title, body blocks, metadata) out.
//!
//! This stage owns charset decoding ([`decode_html`]), finding the article body inside the page
//! chrome, dropping promotional and structural residue inside it (bylines, captions, share
//! prompts, related links, appeals, …) and reading page metadata (title, author, date, outlet,
//! language, canonical URL).
//!
//! It must stay a pure function of its input: no I/O, no async, no sled, no logging side
//! effects, and it must never panic on any input. It is synchronous and CPU-bound, so callers
//! run it on blocking threads; an [`Extractor`] is built once from config and shared through an
//! `Arc`. scraper/html5ever types never leave this module: the DOM is converted into a small
//! arena (`dom`) that the heuristics work on.
//!
//! Pipeline of one page: `prepass` (byte-level removal of script/style/svg/comments, depth and
//! size caps, JSON-LD kept aside) → html5ever parse → site rules → arena → `content` (choose
//! the body root by text/link density; the article ends with the root's main container — the
//! child holding most of its prose — and grids of teaser cards beside it go; emit blocks) →
//! `filter` (per-block boilerplate classifier, second copies of the kept text) → `meta`.
//!
//! Site memory ([`SiteMemory`], `memory`): what one page cannot tell — which blocks the host
//! repeats on most of its pages — comes from the pages seen before. [`Extractor::extract_with`]
//! takes a read-only snapshot of the host's table, treats its chrome blocks as furniture and
//! reports every block's shape in the [`Extraction`], which the caller hands to
//! [`SiteMemory::observe`] afterwards. Without a memory the output is exactly that of
//! [`Extractor::extract`].

#[cfg(test)]
mod behaviour;
mod content;
mod decode;
mod dom;
mod filter;
mod memory;
mod meta;
mod phrases;
mod prepass;

use std::fmt;

use scraper::{Html, Selector};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

use crate::model::{CleanArticle, PageMeta};

pub use decode::decode_html;
pub use memory::{HostView, MemoryError, SiteMemory, host_key};
pub use prepass::{MAX_DEPTH, MAX_INPUT_BYTES};

/// The `[extract]` config section: per-site selector rules (`[[extract.site]]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractConfig {
    #[serde(default)]
    pub site: Vec<SiteRule>,
}

/// CSS selectors applied before the heuristics for pages on `host` (and its subdomains):
/// `remove` matches are deleted, and the first `content` match becomes the body root.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteRule {
    pub host: String,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Why extraction failed. Every variant is a per-page event to log and count, never fatal.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("not an HTML page: {reason}")]
    NotHtml { reason: String },
    #[error("no article text found")]
    NoContent,
    #[error("invalid CSS selector {selector:?} for site {host}: {reason}")]
    InvalidSelector {
        host: String,
        selector: String,
        reason: String,
    },
}

impl ExtractError {
    /// Short stable label (`not-html`, `no-content`, …) for metrics and batch status columns.
    pub fn kind(&self) -> &'static str {
        match self {
            ExtractError::NotHtml { .. } => "not-html",
            ExtractError::NoContent => "no-content",
            ExtractError::InvalidSelector { .. } => "invalid-selector",
        }
    }
}

/// Why a block of text was left out of the article (for `newsd clean --explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalReason {
    Nav,
    LinkDense,
    Boilerplate,
    Caption,
    Bio,
    Promo,
    Share,
    Related,
    Byline,
    Date,
    DuplicateTitle,
    Hidden,
    Comments,
    Tags,
    Form,
    Ad,
    Cookie,
    SiteRule,
    Duplicate,
    /// Not inside the block chosen as the article (sidebars, headers, widgets, footers).
    Outside,
    /// The host repeats this block on `seen` of its last `pages` pages (site memory).
    SiteMemory {
        seen: u16,
        pages: u16,
    },
}

impl fmt::Display for RemovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RemovalReason::Nav => "nav",
            RemovalReason::LinkDense => "link-dense",
            RemovalReason::Boilerplate => "boilerplate phrase",
            RemovalReason::Caption => "caption",
            RemovalReason::Bio => "bio",
            RemovalReason::Promo => "promo",
            RemovalReason::Share => "share",
            RemovalReason::Related => "related",
            RemovalReason::Byline => "byline",
            RemovalReason::Date => "date",
            RemovalReason::DuplicateTitle => "duplicate title",
            RemovalReason::Hidden => "hidden",
            RemovalReason::Comments => "comments",
            RemovalReason::Tags => "tags",
            RemovalReason::Form => "form",
            RemovalReason::Ad => "ad",
            RemovalReason::Cookie => "cookie notice",
            RemovalReason::SiteRule => "site rule",
            RemovalReason::Duplicate => "duplicate block",
            RemovalReason::Outside => "outside the article",
            RemovalReason::SiteMemory { seen, pages } => {
                return write!(
                    f,
                    "site chrome: seen on {seen} of the last {pages} pages of this host"
                );
            }
        })
    }
}

/// One page's extraction with the site-memory extras (see [`Extractor::extract_with`]).
#[derive(Debug, Clone)]
pub struct Extraction {
    pub article: CleanArticle,
    /// The host key the memory was consulted under (the page URL's host, else the host of the
    /// page's canonical URL): where to [`SiteMemory::observe`] this page.
    pub host: Option<String>,
    /// Distinct block shapes of the whole page, what [`SiteMemory::observe`] records.
    pub shapes: Vec<u64>,
    /// Per `article.blocks` entry: whether it may feed the dedup fingerprint (false for blocks
    /// the host repeats across pages, so two articles sharing a promo box do not look alike).
    pub fingerprint: Vec<bool>,
    /// Every dropped block with its reason (only from [`Extractor::extract_with_explained`]).
    pub removed: Vec<Removal>,
}

impl Extraction {
    /// The body blocks fit for a dedup fingerprint, joined as in [`CleanArticle::body_text`].
    pub fn fingerprint_text(&self) -> String {
        let mut out = String::new();
        for (b, _) in self
            .article
            .blocks
            .iter()
            .zip(&self.fingerprint)
            .filter(|(_, ok)| **ok)
        {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(b);
            out.push('\n');
        }
        out
    }
}

/// One block of text the extractor dropped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub reason: RemovalReason,
    pub text: String,
}

/// Compiled site rule.
struct CompiledRule {
    host: String,
    content: Option<Selector>,
    remove: Vec<Selector>,
}

/// The extractor: compiled site rules plus the heuristics. Build once, share via `Arc`.
pub struct Extractor {
    rules: Vec<CompiledRule>,
}

fn compile(host: &str, css: &str) -> Result<Selector, ExtractError> {
    Selector::parse(css).map_err(|e| ExtractError::InvalidSelector {
        host: host.to_owned(),
        selector: css.to_owned(),
        reason: e.to_string(),
    })
}

impl Extractor {
    /// Compiles the site rules; an invalid selector is reported with its host and reason.
    pub fn new(cfg: &ExtractConfig) -> Result<Self, ExtractError> {
        let rules = cfg
            .site
            .iter()
            .map(|r| {
                let host = r.host.trim().trim_start_matches('.').to_ascii_lowercase();
                Ok(CompiledRule {
                    content: r
                        .content
                        .as_deref()
                        .map(|c| compile(&r.host, c))
                        .transpose()?,
                    remove: r
                        .remove
                        .iter()
                        .map(|c| compile(&r.host, c))
                        .collect::<Result<_, _>>()?,
                    host,
                })
            })
            .collect::<Result<_, ExtractError>>()?;
        Ok(Extractor { rules })
    }

    /// Extracts the article from decoded HTML. `page_url` resolves the canonical URL and
    /// selects site rules.
    pub fn extract(
        &self,
        html: &str,
        page_url: Option<&url::Url>,
    ) -> Result<CleanArticle, ExtractError> {
        Ok(self.run(html, page_url, None, false, None)?.article)
    }

    /// Extracts with a site memory: blocks the host repeats on most of its recent pages are
    /// dropped (reason [`RemovalReason::SiteMemory`]) and the result carries the page's block
    /// shapes for [`SiteMemory::observe`]. `memory` is only read; observing is the caller's
    /// step, after extraction. With `None` the article equals [`Extractor::extract`]'s.
    pub fn extract_with(
        &self,
        html: &str,
        page_url: Option<&url::Url>,
        memory: Option<&SiteMemory>,
    ) -> Result<Extraction, ExtractError> {
        self.run(html, page_url, None, true, memory)
    }

    /// [`Extractor::extract_with`], also listing every dropped block in `removed`.
    pub fn extract_with_explained(
        &self,
        html: &str,
        page_url: Option<&url::Url>,
        memory: Option<&SiteMemory>,
    ) -> Result<Extraction, ExtractError> {
        let mut removed = Vec::new();
        let mut ex = self.run(html, page_url, Some(&mut removed), true, memory)?;
        ex.removed = removed;
        Ok(ex)
    }

    /// Like [`Extractor::extract`], also returning every dropped block with its reason.
    pub fn extract_explained(
        &self,
        html: &str,
        page_url: Option<&url::Url>,
    ) -> Result<(CleanArticle, Vec<Removal>), ExtractError> {
        let mut removed = Vec::new();
        let article = self.run(html, page_url, Some(&mut removed), false, None)?;
        Ok((article.article, removed))
    }

    fn rule_for(&self, page_url: Option<&url::Url>) -> Option<&CompiledRule> {
        let host = page_url?.host_str()?.to_ascii_lowercase();
        self.rules.iter().find(|r| {
            host == r.host
                || (host.len() > r.host.len()
                    && host.ends_with(&r.host)
                    && host.as_bytes()[host.len() - r.host.len() - 1] == b'.')
        })
    }

    fn run(
        &self,
        html: &str,
        page_url: Option<&url::Url>,
        mut explain: Option<&mut Vec<Removal>>,
        shapes: bool,
        memory: Option<&SiteMemory>,
    ) -> Result<Extraction, ExtractError> {
        if html.trim().is_empty() {
            return Err(ExtractError::NoContent);
        }
        let rule = self.rule_for(page_url);
        if let Some(out) = explain.as_deref_mut() {
            explain_furniture(html, out);
        }
        let pre = prepass::clean(html, rule.is_some());
        let mut doc = Html::parse_document(&pre.html);
        if let Some(rule) = rule {
            let mut doomed = Vec::new();
            for sel in &rule.remove {
                doomed.extend(doc.select(sel).map(|e| e.id()));
            }
            for id in doomed {
                if let Some(out) = explain.as_deref_mut()
                    && let Some(el) = doc.tree.get(id).and_then(scraper::ElementRef::wrap)
                {
                    let text = collapse_ws(&el.text().collect::<String>());
                    if !text.is_empty() {
                        out.push(Removal {
                            reason: RemovalReason::SiteRule,
                            text,
                        });
                    }
                }
                if let Some(mut node) = doc.tree.get_mut(id) {
                    node.detach();
                }
            }
        }
        let content_root = rule
            .and_then(|r| r.content.as_ref())
            .and_then(|sel| doc.select(sel).next())
            .map(|e| e.value());
        let tree = dom::Dom::build(&doc, content_root);
        drop(doc);

        let mut page_meta = meta::collect(&tree, &pre.json_ld, page_url);
        let title = page_meta.title.clone();
        let host = shapes
            .then(|| {
                page_url
                    .and_then(|u| u.host_str().map(host_key))
                    .or_else(|| {
                        let c = url::Url::parse(page_meta.canonical_url.as_deref()?).ok()?;
                        c.host_str().map(host_key)
                    })
            })
            .flatten();
        let view = match (memory, &host) {
            (Some(m), Some(h)) => Some(m.view(h)),
            _ => None,
        };
        let found = content::extract_blocks(&tree, explain.as_deref_mut(), shapes, view.as_ref());
        let cleaned =
            filter::clean_blocks(found.blocks, &title, &page_meta, view.as_ref(), explain);
        let (blocks, fingerprint) = if cleaned.blocks.is_empty() {
            // A page whose DOM gave nothing may still carry its text in JSON-LD.
            let b: Vec<String> = page_meta
                .article_body
                .as_deref()
                .map(split_plain_text)
                .unwrap_or_default();
            let f = vec![true; b.len()];
            (b, f)
        } else {
            (cleaned.blocks, cleaned.fingerprint)
        };
        if blocks.is_empty() {
            return Err(ExtractError::NoContent);
        }
        if page_meta.author.is_none() {
            page_meta.author = cleaned.byline_author;
        }
        let language = meta::language(&blocks);
        Ok(Extraction {
            article: CleanArticle {
                title: nfc(&title),
                blocks: blocks.iter().map(|b| nfc(b)).collect(),
                meta: PageMeta {
                    author: page_meta.author,
                    published: page_meta.published,
                    site_name: page_meta.site_name,
                    language,
                    canonical_url: page_meta.canonical_url,
                },
            },
            host,
            shapes: found.page_shapes,
            fingerprint,
            removed: Vec::new(),
        })
    }
}

/// NFC without allocating a second time for the common ASCII case.
fn nfc(s: &str) -> String {
    if s.is_ascii()
        || unicode_normalization::is_nfc_quick(s.chars())
            == unicode_normalization::IsNormalized::Yes
    {
        s.to_owned()
    } else {
        s.nfc().collect()
    }
}

/// Collapses every run of whitespace (including NBSP) and control characters into one space,
/// and trims.
/// For `--explain` only: the text of the `<nav>` and `<footer>` elements the pre-pass drops
/// before parsing (they never reach the tree, so nothing else can report them). Costs a
/// second parse, which is why the normal path never does it.
fn explain_furniture(html: &str, out: &mut Vec<Removal>) {
    static FURNITURE: std::sync::LazyLock<scraper::Selector> = std::sync::LazyLock::new(|| {
        scraper::Selector::parse("nav, footer").expect("static selector")
    });
    let doc = Html::parse_document(prepass::truncate_for_explain(html));
    for el in doc.select(&FURNITURE) {
        // Nested furniture is reported with its outermost element.
        if el
            .ancestors()
            .filter_map(scraper::ElementRef::wrap)
            .any(|a| matches!(a.value().name(), "nav" | "footer"))
        {
            continue;
        }
        let text = collapse_ws(&el.text().collect::<Vec<_>>().join(" "));
        if !text.is_empty() {
            out.push(Removal {
                reason: RemovalReason::Nav,
                text,
            });
        }
    }
}

pub(crate) fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Control characters (stray C0/C1 bytes of a mis-declared page) separate words too, so
    // none reaches the stored text.
    for word in s
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Blocks from plain text (JSON-LD `articleBody`): one per non-empty line.
fn split_plain_text(s: &str) -> Vec<String> {
    s.lines()
        .map(collapse_ws)
        .filter(|l| !l.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_dir() -> std::path::PathBuf {
        // CARGO_MANIFEST_DIR is /work/main in the real crate; the scratch crate sets
        // NEWSD_SHARED_DIR instead of relying on a sibling `shared` directory.
        match std::env::var_os("NEWSD_SHARED_DIR") {
            Some(d) => std::path::PathBuf::from(d).join("fixtures/seed-site"),
            None => std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/fixtures/seed-site"
            )),
        }
    }

    #[test]
    fn seed_site_pages_are_byte_exact() {
        let dir = seed_dir();
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join("expected/manifest.json")).unwrap(),
        )
        .unwrap();
        let ex = Extractor::new(&ExtractConfig::default()).unwrap();
        let base = "http://127.0.0.1:8080";
        let mut n = 0;
        for entry in std::fs::read_dir(dir.join("site/articles")).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let html = std::fs::read_to_string(&path)
                .unwrap()
                .replace("{{BASE_URL}}", base);
            let url = url::Url::parse(&format!("{base}/articles/{stem}.html")).unwrap();
            let art = ex.extract(&html, Some(&url)).unwrap();
            let want = std::fs::read_to_string(dir.join(format!("expected/{stem}.txt"))).unwrap();
            assert_eq!(art.text(), want, "page {stem}");
            assert_eq!(art.meta.canonical_url.as_deref(), Some(url.as_str()));
            if let Some(m) = manifest["metadata"].get(format!("/articles/{stem}.html")) {
                assert_eq!(art.title, m["title"].as_str().unwrap());
                assert_eq!(art.meta.site_name.as_deref(), m["site_name"].as_str());
                if let Some(a) = m.get("author") {
                    assert_eq!(art.meta.author.as_deref(), a.as_str());
                }
                let want_date = m["published"].as_str().unwrap();
                assert!(
                    art.meta
                        .published
                        .as_deref()
                        .unwrap()
                        .starts_with(want_date)
                );
            }
            n += 1;
        }
        assert_eq!(n, 7);
    }

    #[test]
    fn language_comes_from_body_text() {
        let html = "<html lang=fr><body><article><p>The quick brown fox jumps over the lazy dog, \
                    and then it runs far away into the forest where nobody can find it again.</p>\
                    <p>Another English paragraph follows here, long enough to be the article body.</p>\
                    </article></body></html>";
        let art = Extractor::new(&ExtractConfig::default())
            .unwrap()
            .extract(html, None)
            .unwrap();
        assert_eq!(art.meta.language.as_deref(), Some("en"));
    }

    #[test]
    fn invalid_selector_names_host_and_selector() {
        let cfg = ExtractConfig {
            site: vec![SiteRule {
                host: "example.org".into(),
                content: Some("div[".into()),
                remove: vec![],
            }],
        };
        match Extractor::new(&cfg) {
            Err(ExtractError::InvalidSelector { host, selector, .. }) => {
                assert_eq!(host, "example.org");
                assert_eq!(selector, "div[");
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn site_rules_apply_to_subdomains() {
        let cfg = ExtractConfig {
            site: vec![SiteRule {
                host: "example.org".into(),
                content: Some("#body".into()),
                remove: vec![".ad".into()],
            }],
        };
        let ex = Extractor::new(&cfg).unwrap();
        let html = "<body><div id=body><p>Kept paragraph of the article, which is rather short.</p>\
                    <p class=ad>Remove this sentence from the article please now.</p></div>\
                    <div><p>Other long text that would otherwise look like the article body, with commas, \
                    and more commas, and more words to make it the longest block here by far.</p></div></body>";
        let url = url::Url::parse("https://news.example.org/a").unwrap();
        let art = ex.extract(html, Some(&url)).unwrap();
        assert_eq!(
            art.blocks,
            vec!["Kept paragraph of the article, which is rather short."]
        );
    }

    #[test]
    fn pathological_nesting_finishes() {
        let n = 100_000;
        let html = format!(
            "<body>{}<p>The only paragraph of this page is deeply nested, but it is still an article.</p>{}</body>",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        let art = Extractor::new(&ExtractConfig::default())
            .unwrap()
            .extract(&html, None)
            .unwrap();
        assert!(art.blocks[0].starts_with("The only paragraph"));
        let unclosed = "<b><i><font>".repeat(n) + "x";
        let _ = Extractor::new(&ExtractConfig::default())
            .unwrap()
            .extract(&unclosed, None);
    }

    #[test]
    fn extractor_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Extractor>();
    }
}
