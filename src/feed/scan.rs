//! Byte-level structure scans that run before feed-rs: nesting depth (feed-rs recurses per
//! element and overflows the stack at about 1,000 levels, which aborts the whole daemon),
//! the document element (to tell an HTML page from a feed), and where a truncated document
//! can be cut. Iterative and allocation-light; tags only, never text content.

use std::ops::Range;

use super::FeedError;
use super::repair::{attr_value, find};

/// One markup token; names are byte ranges into the scanned text.
#[derive(Clone)]
pub(super) enum Token {
    Open(Range<usize>),
    Close(Range<usize>),
    Empty(Range<usize>),
    Doctype,
}

/// Tags of an XML document in order, skipping comments, CDATA sections and processing
/// instructions (whose content may contain `<` and `>`). Quoted attribute values may contain
/// `>` too. Stray `<` in text (ill-formed, but common) is not a tag.
pub(super) struct Tokens<'a> {
    /// The text scanned.
    b: &'a [u8],
    /// Where the next token is looked for.
    pos: usize,
    /// The input ended inside a construct (tag, comment, CDATA…).
    truncated: bool,
}

impl Tokens<'_> {
    pub(super) fn new(text: &str) -> Tokens<'_> {
        Tokens {
            b: text.as_bytes(),
            pos: 0,
            truncated: false,
        }
    }
}

impl Iterator for Tokens<'_> {
    /// A token and its span, `<` to `>` inclusive.
    type Item = (Token, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        loop {
            let lt = self.pos + b.get(self.pos..)?.iter().position(|&c| c == b'<')?;
            let rest = &b[lt..];
            let skip_to: Option<&[u8]> = if rest.starts_with(b"<!--") {
                Some(b"-->")
            } else if rest.starts_with(b"<![CDATA[") {
                Some(b"]]>")
            } else if rest.starts_with(b"<?") {
                Some(b"?>")
            } else {
                None
            };
            if let Some(close) = skip_to {
                let Some(end) = find(b, lt + 2, close) else {
                    self.truncated = true;
                    return None;
                };
                self.pos = end + close.len();
                continue;
            }
            let (is_close, name_start) = match rest.get(1) {
                Some(b'/') => (true, lt + 2),
                Some(b'!') => (false, lt + 1),
                Some(&c) if c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80 => {
                    (false, lt + 1)
                }
                Some(_) => {
                    self.pos = lt + 1;
                    continue;
                }
                None => {
                    self.truncated = true;
                    return None;
                }
            };
            let Some(end) = tag_end(b, name_start) else {
                self.truncated = true;
                return None;
            };
            self.pos = end + 1;
            let name_len = b[name_start..end]
                .iter()
                .position(|&c| c.is_ascii_whitespace() || c == b'/' || c == b'>' || c == b'[')
                .unwrap_or(end - name_start);
            let name = name_start..name_start + name_len;
            let token = if rest[1] == b'!' {
                Token::Doctype
            } else if is_close {
                Token::Close(name)
            } else if b[end - 1] == b'/' {
                Token::Empty(name)
            } else {
                Token::Open(name)
            };
            return Some((token, lt..end + 1));
        }
    }
}

/// Offset of the `>` ending the tag whose body starts at `from`, skipping quoted attribute
/// values and a DOCTYPE's bracketed internal subset.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let (mut quote, mut brackets) = (None, 0usize);
    for (i, &c) in b.iter().enumerate().skip(from) {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(c),
            (None, b'[') => brackets += 1,
            (None, b']') => brackets = brackets.saturating_sub(1),
            (None, b'>') if brackets == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// What [`xml_shape`] learned about a document that looks like a feed.
pub(super) struct Shape {
    /// An HTML page (by DOCTYPE or root element); nothing else was examined.
    pub html: bool,
    /// The input ended with elements still open or inside a tag/comment/CDATA.
    pub truncated: bool,
    /// Offset just past the last complete `</item>`/`</entry>` and the elements open there.
    pub last_item_end: Option<(usize, Vec<Range<usize>>)>,
    /// Span of the document element's start tag when it is `<rss>`.
    pub rss_tag: Option<Range<usize>>,
    /// A `<channel>` element was seen: RSS without one has its items straight under `<rss>`.
    pub channel: bool,
}

/// Checks the nesting depth and the document element, and finds where a truncated document
/// could be cut. Refuses XML that is not RSS, RDF or Atom; stops at the start of an HTML page.
pub(super) fn xml_shape(text: &str, limit: usize) -> Result<Shape, FeedError> {
    let mut tokens = Tokens::new(text);
    let (mut depth, mut max_depth) = (0usize, 0usize);
    let mut root_tag = None;
    let mut open: Vec<Range<usize>> = Vec::new();
    let mut last_item_end = None;
    let mut channel = false;
    for (token, span) in &mut tokens {
        let local = |r: &Range<usize>| {
            let name = &text[r.clone()];
            name.rsplit(':').next().unwrap_or(name)
        };
        if let Token::Open(name) | Token::Empty(name) = &token
            && root_tag.is_none()
        {
            if is_html_root(local(name)) {
                return Ok(Shape::HTML);
            }
            check_root(local(name))?;
            root_tag = Some((local(name) == "rss").then(|| span.clone()));
        }
        match token {
            Token::Doctype => {
                let doctype = &text[span];
                let is_html = doctype
                    .get(..9)
                    .is_some_and(|d| d.eq_ignore_ascii_case("<!doctype"))
                    && doctype[9..]
                        .trim_start()
                        .get(..4)
                        .is_some_and(|d| d.eq_ignore_ascii_case("html"));
                if is_html {
                    return Ok(Shape::HTML);
                }
            }
            Token::Open(name) => {
                channel |= local(&name) == "channel";
                depth += 1;
                max_depth = max_depth.max(depth);
                if depth <= limit {
                    open.push(name);
                }
            }
            Token::Empty(_) => max_depth = max_depth.max(depth + 1),
            Token::Close(name) => {
                if depth <= limit {
                    open.pop();
                }
                depth = depth.saturating_sub(1);
                // Real items sit at depth 2 or 3, inside the root; the bound keeps the snapshot
                // cheap.
                if (1..=8).contains(&open.len()) && matches!(local(&name), "item" | "entry") {
                    last_item_end = Some((span.end, open.clone()));
                }
            }
        }
    }
    if max_depth > limit {
        return Err(FeedError::TooDeep {
            depth: max_depth,
            limit,
        });
    }
    let Some(rss_tag) = root_tag else {
        return Err(FeedError::NotAFeed {
            reason: "no XML element found".into(),
        });
    };
    Ok(Shape {
        html: false,
        truncated: tokens.truncated || depth > 0,
        last_item_end,
        rss_tag,
        channel,
    })
}

impl Shape {
    const HTML: Shape = Shape {
        html: true,
        truncated: false,
        last_item_end: None,
        rss_tag: None,
        channel: false,
    };
}

/// `<head>` and `<body>` roots are HTML fragments served as pages.
fn is_html_root(name: &str) -> bool {
    ["html", "head", "body"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// feed-rs dispatches on the document element: RSS 0.9x/2.0, RDF (RSS 0.90/1.0), Atom.
fn check_root(name: &str) -> Result<(), FeedError> {
    match name {
        "rss" | "RDF" | "feed" | "entry" => Ok(()),
        n => Err(FeedError::NotAFeed {
            reason: format!(
                "XML whose root element is <{}>, not RSS, RDF or Atom",
                n.chars().take(40).collect::<String>()
            ),
        }),
    }
}

/// The `href` of an HTML page's first `<link rel="alternate">` to an RSS, Atom or JSON feed
/// (feed autodiscovery): when a feed URL starts serving its site's home page, this is usually
/// where the feed went.
pub(super) fn advertised_feed(html: &str) -> Option<&str> {
    let b = html.as_bytes();
    let mut pos = 0;
    while let Some(off) = b.get(pos..)?.iter().position(|&c| c == b'<') {
        let lt = pos + off;
        let end = tag_end(b, lt + 1)?;
        pos = end + 1;
        let tag = &b[lt..end];
        if !tag
            .get(..5)
            .is_some_and(|t| t.eq_ignore_ascii_case(b"<link"))
        {
            continue;
        }
        let value = |name: &[u8]| attr_value(tag, name).map(|r| &html[lt + r.start..lt + r.end]);
        let is_feed = value(b"type").is_some_and(|t| {
            [
                "application/rss+xml",
                "application/atom+xml",
                "application/feed+json",
            ]
            .iter()
            .any(|f| t.trim().eq_ignore_ascii_case(f))
        });
        let alternate = value(b"rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case("alternate"))
        });
        if is_feed && alternate {
            return value(b"href").map(str::trim).filter(|h| !h.is_empty());
        }
    }
    None
}

/// What [`json_shape`] learned about a JSON document.
pub(super) struct JsonShape {
    /// The input ended inside a string or with brackets still open.
    pub truncated: bool,
    /// Offset just past the last object closed directly inside a top-level array (an item
    /// of `items`, in a JSON Feed).
    pub last_item_end: Option<usize>,
}

/// Checks bracket depth (serde_json, which feed-rs uses, stops at 128 levels anyway, but with
/// an opaque error) and finds where a truncated JSON Feed could be cut.
pub(super) fn json_shape(text: &str, limit: usize) -> Result<JsonShape, FeedError> {
    let (mut depth, mut max_depth) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    let mut open: Vec<u8> = Vec::new();
    let mut last_item_end = None;
    for (i, &c) in text.as_bytes().iter().enumerate() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                max_depth = max_depth.max(depth);
                if depth <= limit {
                    open.push(c);
                }
            }
            b'}' | b']' => {
                if depth <= limit {
                    open.pop();
                }
                depth = depth.saturating_sub(1);
                if c == b'}' && open == b"{[" {
                    last_item_end = Some(i + 1);
                }
            }
            _ => {}
        }
    }
    if max_depth > limit {
        return Err(FeedError::TooDeep {
            depth: max_depth,
            limit,
        });
    }
    Ok(JsonShape {
        truncated: in_string || depth > 0,
        last_item_end,
    })
}
