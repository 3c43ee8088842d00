//! Feed stage: a fetched feed body (RSS 0.9x/1.0/2.0, Atom or JSON Feed) → [`ParsedFeed`].
//!
//! Owns: charset decoding, repair of common breakage (bare `&`, HTML entities, control
//! characters, mislabelled charsets, truncation, RSS items outside a `<channel>`, Atom text
//! types feed-rs refuses; an entry it still refuses is dropped and counted, see `lenient.rs`), the nesting-depth guard that keeps feed-rs
//! from overflowing the stack, link resolution and choice, item identity hints (a guid only
//! when the publisher gave one), ordering and the item cap.
//!
//! Must not: do I/O, be async, touch sled, log, or canonicalise URLs (tracking parameters and
//! `rel=canonical` are the article stage's business, DESIGN §3). [`parse_feed`] is a pure,
//! synchronous, CPU-bound function of its inputs: run it off the async workers.

mod decode;
mod entities;
mod lenient;
mod repair;
mod scan;

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::HashSet;

use feed_rs::parser::ParseFeedError;
use url::Url;

use crate::model::{FeedItem, ParsedFeed};

/// Deepest XML element nesting accepted. Real feeds stay below 20 levels (XHTML content
/// included); feed-rs recurses per level and aborts the process near 1,000.
pub const MAX_XML_DEPTH: usize = 256;

/// Deepest JSON nesting accepted: serde_json's own recursion limit, so every JSON Feed that
/// feed-rs could read passes, and deeper ones get [`FeedError::TooDeep`] instead of an opaque
/// serde error.
pub const MAX_JSON_DEPTH: usize = 128;

/// Why a body could not be turned into a feed. Every variant is about the body, never fatal
/// to the daemon: log it with the feed URL and count it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// Nothing but whitespace.
    #[error("empty feed body")]
    Empty,
    /// A document of another kind: an HTML page (the feed moved or needs a login), other XML,
    /// JSON that is not a JSON Feed, binary data.
    #[error("not a feed: {reason}")]
    NotAFeed { reason: String },
    /// Nesting deeper than any real feed; refused before parsing (see [`MAX_XML_DEPTH`]).
    #[error("feed nested {depth} levels deep, limit {limit}")]
    TooDeep { depth: usize, limit: usize },
    /// A feed, but broken beyond what the repair pass fixes.
    #[error("malformed feed: {reason}")]
    Malformed { reason: String },
}

/// Parses a fetched feed body into items: the newest `max_items` of them, in document order.
///
/// `content_type` is the HTTP `Content-Type` header (its `charset` is used when the bytes
/// do not settle the encoding); `feed_url` is the URL after redirects, against which relative
/// links are resolved. Items without an http(s) link are skipped, and an item whose link
/// repeats an earlier (newer) one is dropped. A valid feed with no items is `Ok`.
pub fn parse_feed(
    body: &[u8],
    content_type: Option<&str>,
    feed_url: &Url,
    max_items: usize,
) -> Result<ParsedFeed, FeedError> {
    let tld = match feed_url.host() {
        Some(url::Host::Domain(domain)) => domain.rsplit('.').next(),
        _ => None,
    };
    let text = trim_start(decode::to_utf8(body, content_type, tld));
    let (feed, dropped) = match text.as_bytes().first() {
        None => return Err(FeedError::Empty),
        Some(b'<') => parse_xml(text, feed_url)?,
        Some(b'{') => (parse_json(text, feed_url)?, 0),
        Some(b'[') => return Err(not_a_feed("a JSON array, not a JSON Feed object")),
        Some(_) => {
            let start: String = text.chars().take(24).collect();
            return Err(not_a_feed(&format!(
                "neither XML nor JSON (starts with {start:?})"
            )));
        }
    };
    let mut parsed = convert(feed, feed_url, max_items);
    parsed.dropped_entries = dropped;
    Ok(parsed)
}

/// Most entries one feed may lose to `lenient.rs` before it is refused as a whole: each drop
/// costs a parse of the whole document.
pub const MAX_DROPPED_ENTRIES: usize = 64;

/// The feed, and how many entries were dropped to get it.
fn parse_xml(
    text: Cow<'_, str>,
    feed_url: &Url,
) -> Result<(feed_rs::model::Feed, usize), FeedError> {
    let text = repair::fix_references(repair::strip_controls(decode::declare_utf8(text)));
    let shape = scan::xml_shape(&text, MAX_XML_DEPTH)?;
    if shape.html {
        let reason = match scan::advertised_feed(&text).and_then(|href| feed_url.join(href).ok()) {
            Some(feed) => format!("an HTML page, not a feed; the page links to a feed at {feed}"),
            None => "an HTML page, not a feed (the feed may have moved)".to_owned(),
        };
        return Err(FeedError::NotAFeed { reason });
    }
    let err = match feed_rs_parse(text.as_bytes(), feed_url) {
        Ok(feed) => return Ok((feed, 0)),
        Err(err) => err,
    };
    // Repairs that need a full copy, applied only now that the strict parse has failed.
    let mut fixed = None;
    if shape.truncated {
        let Some((cut, open)) = &shape.last_item_end else {
            return Err(malformed(&format!(
                "truncated before the first complete item ({err})"
            )));
        };
        fixed = Some(repair::close_truncated(&text, *cut, open));
    }
    let no_root = matches!(
        err,
        ParseFeedError::ParseError(feed_rs::parser::ParseErrorKind::NoFeedRoot)
    );
    // RSS without a <channel> is "no root" to feed-rs too, once any truncation is repaired.
    if let (true, Some(rss_tag)) = (no_root || !shape.channel, &shape.rss_tag) {
        // The root tag lies before any truncation cut or inserted <channel>, so its span is
        // still valid.
        let base = fixed.as_deref().unwrap_or(&text);
        let wrapped = (!shape.channel)
            .then(|| repair::wrap_in_channel(base, rss_tag))
            .flatten();
        let base = wrapped.as_deref().unwrap_or(base);
        fixed = repair::set_rss_version(base, rss_tag).or(wrapped).or(fixed);
    }
    let failure = if shape.truncated {
        malformed(&format!(
            "truncated, and the complete items do not parse either ({err})"
        ))
    } else {
        xml_error(&err)
    };
    // Then leniency: odd text types retyped once, then the entry an error points into cut out.
    let (mut doc, mut pending) = match fixed {
        Some(fixed) => (Cow::Owned(fixed), None),
        None => (text, Some(err)),
    };
    let (mut retyped, mut dropped) = (false, 0);
    loop {
        let err = match pending.take() {
            Some(err) => err,
            None => match feed_rs_parse(doc.as_bytes(), feed_url) {
                Ok(feed) => return Ok((feed, dropped)),
                Err(err) => err,
            },
        };
        if !retyped {
            retyped = true;
            if let Some(retyped) = lenient::fix_text_types(&doc) {
                doc = Cow::Owned(retyped);
                continue;
            }
        }
        let item = lenient::error_position(&err).and_then(|at| lenient::item_around(&doc, at));
        let Some(item) = item.filter(|_| dropped < MAX_DROPPED_ENTRIES) else {
            return Err(failure);
        };
        let mut cut = doc.into_owned();
        cut.replace_range(item, "");
        doc = Cow::Owned(cut);
        dropped += 1;
    }
}

fn parse_json(text: Cow<'_, str>, feed_url: &Url) -> Result<feed_rs::model::Feed, FeedError> {
    let shape = scan::json_shape(&text, MAX_JSON_DEPTH)?;
    let err = match feed_rs_parse(text.as_bytes(), feed_url) {
        Ok(feed) => return Ok(feed),
        Err(err) => err,
    };
    if let (true, Some(cut)) = (shape.truncated, shape.last_item_end) {
        let closed = format!("{}]}}", &text[..cut]);
        if let Ok(feed) = feed_rs_parse(closed.as_bytes(), feed_url) {
            return Ok(feed);
        }
    }
    Err(match err {
        ParseFeedError::JsonUnsupportedVersion(v) => not_a_feed(&format!(
            "JSON with version {:?}, not a JSON Feed",
            v.chars().take(60).collect::<String>()
        )),
        ParseFeedError::JsonSerde(e) if e.is_data() => {
            not_a_feed(&format!("JSON, but not a JSON Feed: {e}"))
        }
        ParseFeedError::JsonSerde(e) if e.is_eof() => malformed(&format!("truncated JSON: {e}")),
        other => malformed(&other.to_string()),
    })
}

/// feed-rs with the publisher's ids only: its default generator invents an id (a hash of
/// link and title, or a random UUID) for items without one, which DESIGN §3 forbids using as
/// identity. Returning "" leaves those ids empty, so they can be told apart.
fn feed_rs_parse(bytes: &[u8], feed_url: &Url) -> Result<feed_rs::model::Feed, ParseFeedError> {
    feed_rs::parser::Builder::new()
        .base_uri(Some(feed_url.as_str()))
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build()
        .parse(bytes)
}

fn xml_error(err: &ParseFeedError) -> FeedError {
    match err {
        ParseFeedError::ParseError(feed_rs::parser::ParseErrorKind::NoFeedRoot) => {
            not_a_feed("no feed in the XML (unknown RSS version or root element)")
        }
        other => malformed(&other.to_string()),
    }
}

fn not_a_feed(reason: &str) -> FeedError {
    FeedError::NotAFeed {
        reason: reason.to_owned(),
    }
}

fn malformed(reason: &str) -> FeedError {
    FeedError::Malformed {
        reason: reason.to_owned(),
    }
}

/// Whitespace (and stray BOMs) before the first markup would make the XML declaration
/// ill-formed and hide the first byte that tells XML from JSON; it is never content.
fn trim_start(text: Cow<'_, str>) -> Cow<'_, str> {
    let junk = |c: char| c.is_whitespace() || c == '\u{feff}';
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim_start_matches(junk)),
        Cow::Owned(mut s) => {
            s.drain(..s.len() - s.trim_start_matches(junk).len());
            Cow::Owned(s)
        }
    }
}

fn convert(feed: feed_rs::model::Feed, feed_url: &Url, max_items: usize) -> ParsedFeed {
    let items: Vec<FeedItem> = feed
        .entries
        .into_iter()
        .filter_map(|e| item(e, feed_url))
        .collect();
    // Choose by date: the newest items survive the cap and a repeated link keeps its newest
    // copy (stable sort: undated items, None under Reverse, go last in document order)…
    let mut ranked: Vec<(usize, FeedItem)> = items.into_iter().enumerate().collect();
    ranked.sort_by_key(|(_, item)| Reverse(item.published));
    let mut seen = HashSet::with_capacity(ranked.len());
    ranked.retain(|(_, item)| seen.insert(item.link.clone()));
    ranked.truncate(max_items);
    // …but hand them on in the publisher's order, which is the ingest order: it decides
    // seq numbers and which copy of a story counts as the original.
    ranked.sort_by_key(|(index, _)| *index);
    let items = ranked.into_iter().map(|(_, item)| item).collect();
    ParsedFeed {
        title: feed.title.and_then(|t| collapse_ws(&t.content)),
        ttl_mins: feed.ttl,
        items,
        dropped_entries: 0,
    }
}

fn item(entry: feed_rs::model::Entry, feed_url: &Url) -> Option<FeedItem> {
    let guid = Some(entry.id.trim()).filter(|id| !id.is_empty());
    // An RSS item without <link> is identified by its permalink guid.
    let link = best_link(&entry.links, feed_url)
        .or_else(|| guid.and_then(|g| Url::parse(g).ok()).filter(is_http))?;
    let mut authors: Vec<&str> = Vec::new();
    for name in entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref())
        .map(str::trim)
    {
        if !name.is_empty() && !authors.contains(&name) {
            authors.push(name);
        }
    }
    Some(FeedItem {
        link,
        guid: guid.map(str::to_owned),
        title: entry.title.and_then(|t| collapse_ws(&t.content)),
        published: entry.published.or(entry.updated),
        author: (!authors.is_empty()).then(|| authors.join(", ")),
    })
}

/// The article link: an `alternate` (or rel-less) link to an HTML page first, then other
/// alternates, then links of other relations except those that never point at the article
/// (comments, enclosures and media, API endpoints). Ties keep document order.
fn best_link(links: &[feed_rs::model::Link], feed_url: &Url) -> Option<Url> {
    links
        .iter()
        .filter(|link| link.target.is_none()) // RSS <comments>, wfw:commentRss
        .filter_map(|link| {
            let rank = match link.rel.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None | Some("alternate") => match link.media_type.as_deref() {
                    None | Some("text/html" | "application/xhtml+xml") => 0,
                    // Podcast media (JSON Feed attachments arrive as typed rel-less links).
                    Some(t)
                        if ["audio/", "video/", "image/"]
                            .iter()
                            .any(|m| t.starts_with(m)) =>
                    {
                        return None;
                    }
                    Some(_) => 1,
                },
                Some(
                    "self" | "edit" | "edit-media" | "enclosure" | "replies" | "license"
                    | "payment" | "hub" | "first" | "last" | "next" | "previous" | "prev",
                ) => return None,
                Some(_) => 2,
            };
            let url = feed_url.join(link.href.trim()).ok().filter(is_http)?;
            Some((rank, url))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, url)| url)
}

fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

fn collapse_ws(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests;
