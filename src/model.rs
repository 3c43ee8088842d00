//! Types passed between pipeline stages.
//!
//! Every stage depends on this module and on its own config section, never on a stage
//! upstream of it. Keep this file free of I/O and of heavy dependencies: it is compiled
//! into every stage's tests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// One entry of a parsed feed, with its link already resolved against the feed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The article page, absolute. Items without a usable http(s) link are dropped by the
    /// feed stage, so every item handed on can be fetched.
    pub link: Url,
    /// The publisher's guid/id, as the feed states it. Not used for identity: every item handed
    /// on has a link, and the canonical link comes first (DESIGN §3).
    pub guid: Option<String>,
    /// Headline as the feed states it; the page's own title wins when extraction finds one.
    pub title: Option<String>,
    /// Publication time as the feed states it; used when the page carries no date.
    pub published: Option<DateTime<Utc>>,
    /// Author as the feed states it; used when the page names none.
    pub author: Option<String>,
}

/// A parsed feed: its items (in document order) plus the hints it gives the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedFeed {
    /// Feed title, for `newsd feeds` and logs.
    pub title: Option<String>,
    /// RSS `<ttl>` in minutes: the publisher asks not to be polled more often than this.
    pub ttl_mins: Option<u32>,
    /// Items in the feed's document order (the ingest order), already capped to the newest
    /// `max_items`.
    pub items: Vec<FeedItem>,
    /// Entries dropped because feed-rs refused them (the rest of the feed is kept): the poll
    /// logs and counts them, so a publisher's broken entries do not vanish unnoticed.
    pub dropped_entries: usize,
}

/// Metadata extracted from an article page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PageMeta {
    /// Author names joined with ", " (bylines are moved here, never left in the text).
    pub author: Option<String>,
    /// Publication date as ISO 8601 / RFC 3339 (a bare `YYYY-MM-DD` when only the day is known).
    pub published: Option<String>,
    /// Outlet name (`og:site_name`, JSON-LD publisher).
    pub site_name: Option<String>,
    /// ISO 639-1 code detected from the body text (not the `lang` attribute).
    pub language: Option<String>,
    /// `<link rel=canonical>` or `og:url`, resolved to an absolute URL but not yet judged:
    /// the article stage decides whether it is on the same site and may be trusted.
    pub canonical_url: Option<String>,
}

/// The headline and the body of a text in the stored form (DESIGN §2): the first line, and
/// everything after it (empty when there is no line break).
pub fn split_text(text: &str) -> (&str, &str) {
    text.split_once('\n').unwrap_or((text, ""))
}

/// The clean article extract produces: a title and body blocks, plus page metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CleanArticle {
    /// Headline, whitespace collapsed, site suffix stripped.
    pub title: String,
    /// Body blocks in page order; each is one line (no `\n`), trimmed, non-empty.
    pub blocks: Vec<String>,
    pub meta: PageMeta,
}

impl CleanArticle {
    /// The stored text form (DESIGN §2): title, blank line, blocks separated by one blank
    /// line, final newline.
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(
            self.title.len() + 2 + self.blocks.iter().map(|b| b.len() + 2).sum::<usize>(),
        );
        out.push_str(&self.title);
        out.push('\n');
        for block in &self.blocks {
            out.push('\n');
            out.push_str(block);
            out.push('\n');
        }
        out
    }

    /// The body alone: blocks separated by one blank line, final newline (no title).
    pub fn body_text(&self) -> String {
        let mut out = String::new();
        for (i, block) in self.blocks.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(block);
            out.push('\n');
        }
        out
    }

    /// Number of `\w+`-ish words in the body (whitespace-separated tokens with a letter or digit).
    pub fn word_count(&self) -> usize {
        self.blocks
            .iter()
            .flat_map(|b| b.split_whitespace())
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_follows_the_seed_format() {
        let a = CleanArticle {
            title: "Title".into(),
            blocks: vec!["One.".into(), "Two.".into()],
            meta: PageMeta::default(),
        };
        assert_eq!(a.text(), "Title\n\nOne.\n\nTwo.\n");
        assert_eq!(a.body_text(), "One.\n\nTwo.\n");
        assert_eq!(a.word_count(), 2);
        let text = a.text();
        let (title, body) = split_text(&text);
        assert_eq!(
            (title, body.trim_start()),
            ("Title", a.body_text().as_str())
        );
        assert_eq!(split_text("Headline only"), ("Headline only", ""));
    }
}
