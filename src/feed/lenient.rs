//! Leniency for feeds that feed-rs refuses as a whole because of one element or one entry
//! (issue 12: 14 of feedparser's test feeds). Applied only after the strict parse failed.
//!
//! - An Atom text construct (`title`, `subtitle`, `summary`, `rights`, `content`) with a
//!   `type` feed-rs does not know is rewritten: `""` → `text`, `application/xhtml+xml` →
//!   `xhtml`, other `text/*` → `text`, and any other media type in a text construct is base64
//!   (Atom 0.3 `mode="base64"`, RFC 4287 §3.1.1): decoded to text, or the element removed when
//!   it does not decode to UTF-8.
//! - An entry feed-rs still refuses (its error names a position inside it) is cut out, and the
//!   parse retried; the caller counts the entries dropped.

use std::ops::Range;

use base64::Engine as _;

use super::repair::attr_value;
use super::scan::{Token, Tokens};

/// Atom elements that feed-rs parses as text constructs.
const TEXT_CONSTRUCTS: [&str; 5] = ["title", "subtitle", "summary", "rights", "content"];

/// Rewrites every Atom text construct whose `type` feed-rs would refuse; `None` when there is
/// none.
pub(super) fn fix_text_types(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let local = |r: &Range<usize>| {
        let name = &text[r.clone()];
        name.rsplit(':').next().unwrap_or(name)
    };
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let mut tokens = Tokens::new(text).peekable();
    while let Some((token, span)) = tokens.next() {
        let Token::Open(name) = token else { continue };
        let element = local(&name);
        // Atom's own elements only: `media:title type="plain"` and the like are other
        // vocabularies, which feed-rs reads without complaint.
        let prefix = text[name.clone()].strip_suffix(element);
        let atom = matches!(prefix, Some("" | "atom:"));
        if !atom || !TEXT_CONSTRUCTS.contains(&element) {
            continue;
        }
        let Some(value) = attr_value(&b[span.clone()], b"type") else {
            continue;
        };
        let value = span.start + value.start..span.start + value.end;
        let kind = text[value.clone()].trim().to_ascii_lowercase();
        let is_content = element == "content";
        let retype = match kind.as_str() {
            "text" | "html" | "xhtml" | "text/html" => continue,
            "" => "text",
            "application/xhtml+xml" => "xhtml",
            // feed-rs takes any media type in <content> (it is kept, not used, by newsd).
            _ if is_content => continue,
            k if k.starts_with("text/") => "text",
            _ => {
                // Base64: the element must be a plain text node up to its end tag.
                let Some((Token::Close(close), end)) = tokens.peek().cloned() else {
                    continue;
                };
                if local(&close) != element {
                    continue;
                }
                match decode_base64(&text[span.end..end.start]) {
                    Some(decoded) => {
                        edits.push((value, "text".into()));
                        edits.push((span.end..end.start, escape(&decoded)));
                    }
                    None => edits.push((span.start..end.end, String::new())),
                }
                continue;
            }
        };
        edits.push((value, retype.into()));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (range, replacement) in edits {
        out.push_str(&text[copied..range.start]);
        out.push_str(&replacement);
        copied = range.end;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

fn decode_base64(s: &str) -> Option<String> {
    let compact: String = s.split_ascii_whitespace().collect();
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let bytes = engines.iter().find_map(|e| e.decode(&compact).ok())?;
    String::from_utf8(bytes).ok()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Span of the `<item>`/`<entry>` element (start tag to end tag) that contains byte `pos`,
/// innermost first; `None` outside any item or when the item is not closed.
pub(super) fn item_around(text: &str, pos: usize) -> Option<Range<usize>> {
    let local = |r: &Range<usize>| {
        let name = &text[r.clone()];
        name.rsplit(':').next().unwrap_or(name)
    };
    // (is an item, start) of every open element.
    let mut open: Vec<(bool, usize)> = Vec::new();
    let mut target: Option<(usize, usize)> = None; // (depth, start)
    for (token, span) in Tokens::new(text) {
        if target.is_none() && span.start >= pos {
            let depth = open.iter().rposition(|(item, _)| *item)?;
            target = Some((depth, open[depth].1));
        }
        match token {
            Token::Open(name) => open.push((matches!(local(&name), "item" | "entry"), span.start)),
            Token::Close(_) => {
                open.pop();
                if let Some((depth, start)) = target
                    && open.len() == depth
                {
                    return Some(start..span.end);
                }
            }
            Token::Empty(_) | Token::Doctype => {}
        }
    }
    None
}

/// The byte position a feed-rs error points at, if any.
pub(super) fn error_position(err: &feed_rs::parser::ParseFeedError) -> Option<usize> {
    use feed_rs::parser::{ParseErrorKind as K, ParseFeedError as E};
    match err {
        E::ParseError(
            K::UnknownMimeType { position, .. }
            | K::MissingContent { position, .. }
            | K::UnknownEnumVariant { position, .. }
            | K::IllegalState { position, .. },
        ) => usize::try_from(*position).ok(),
        _ => None,
    }
}
