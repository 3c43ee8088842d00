//! Repairs for the ways real feeds break XML. Each one returns its input unchanged (borrowed)
//! when it finds nothing to fix, so a well-formed feed reaches feed-rs byte for byte.

use std::borrow::Cow;
use std::ops::Range;

use super::entities;

/// Drops C0 control characters, which XML 1.0 forbids everywhere (`\t \n \r` excepted).
/// quick-xml does not check, so without this they would end up in titles.
pub(super) fn strip_controls(text: Cow<'_, str>) -> Cow<'_, str> {
    let illegal = |c: char| c < ' ' && !matches!(c, '\t' | '\n' | '\r');
    if text
        .bytes()
        .any(|b| b < b' ' && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        Cow::Owned(text.replace(illegal, ""))
    } else {
        text
    }
}

/// Fixes `&` outside comments, CDATA sections and processing instructions: a bare `&` (one
/// not starting a reference) becomes `&amp;`, an HTML named entity (`&nbsp;`, `&mdash;`)
/// becomes its character, a reference to a character XML forbids (`&#0;`) is dropped.
/// An unknown name becomes literal text (`&amp;foo;`), which is what feed-rs would show.
pub(super) fn fix_references(text: Cow<'_, str>) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'<' || c == b'&') {
        i += off;
        if b[i] == b'<' {
            let rest = &b[i..];
            let close: &[u8] = if rest.starts_with(b"<!--") {
                b"-->"
            } else if rest.starts_with(b"<![CDATA[") {
                b"]]>"
            } else if rest.starts_with(b"<?") {
                b"?>"
            } else {
                i += 1;
                continue;
            };
            match find(b, i + 2, close) {
                Some(end) => i = end + close.len(),
                None => break,
            }
            continue;
        }
        let (len, replacement) = reference(&b[i..]);
        if let Some(rep) = replacement {
            let o = out.get_or_insert_with(|| String::with_capacity(b.len() + 64));
            o.push_str(&text[copied..i]);
            rep.write_to(o);
            copied = i + len;
        }
        i += len.max(1);
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => text,
    }
}

/// What to write instead of the reference starting at `s[0] == b'&'`: `(bytes consumed, None)`
/// keeps it as is.
fn reference(s: &[u8]) -> (usize, Option<Replacement>) {
    let Some(semi) = s.iter().take(34).position(|&c| c == b';') else {
        return (1, Some(Replacement::Amp));
    };
    let name = &s[1..semi];
    let valid = |c: u32| matches!(c, 0x9 | 0xa | 0xd | 0x20..=0xd7ff | 0xe000..=0xfffd | 0x10000..=0x10ffff);
    let code = match name {
        [b'#', b'x' | b'X', hex @ ..]
            if !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit) =>
        {
            std::str::from_utf8(hex)
                .ok()
                .and_then(|h| u32::from_str_radix(h, 16).ok())
        }
        [b'#', dec @ ..] if !dec.is_empty() && dec.iter().all(u8::is_ascii_digit) => {
            std::str::from_utf8(dec).ok().and_then(|d| d.parse().ok())
        }
        b"amp" | b"lt" | b"gt" | b"quot" | b"apos" => return (semi + 1, None),
        _ => {
            let found = std::str::from_utf8(name)
                .ok()
                .filter(|n| n.bytes().all(|c| c.is_ascii_alphanumeric()));
            return match found.and_then(entities::lookup) {
                Some(c) => (semi + 1, Some(Replacement::Char(c))),
                None => (1, Some(Replacement::Amp)),
            };
        }
    };
    match code {
        Some(c) if valid(c) => (semi + 1, None),
        _ => (semi + 1, Some(Replacement::Drop)),
    }
}

enum Replacement {
    Amp,
    Char(char),
    Drop,
}

impl Replacement {
    fn write_to(self, out: &mut String) {
        match self {
            Self::Amp => out.push_str("&amp;"),
            Self::Char(c) => out.push(c),
            Self::Drop => {}
        }
    }
}

/// Cuts a truncated document after its last complete item and closes the elements that were
/// open there, so the items that did arrive are kept.
pub(super) fn close_truncated(text: &str, cut: usize, open: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(cut + open.len() * 16);
    out.push_str(&text[..cut]);
    for name in open.iter().rev() {
        out.push_str("</");
        out.push_str(&text[name.clone()]);
        out.push('>');
    }
    out
}

/// Position of `needle` in `hay` at or after `from`.
pub(super) fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Byte range of the quoted value of attribute `name` in a start tag (or XML declaration).
pub(super) fn attr_value(tag: &[u8], name: &[u8]) -> Option<Range<usize>> {
    let mut from = 0;
    while let Some(at) = find(tag, from, name) {
        from = at + name.len();
        if !tag[..at].last().is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let rest = tag[from..].trim_ascii_start();
        let Some(value) = rest.strip_prefix(b"=").map(<[u8]>::trim_ascii_start) else {
            continue;
        };
        let (&quote, value) = value.split_first()?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let start = tag.len() - value.len();
        let len = value.iter().position(|&c| c == quote)?;
        return Some(start..start + len);
    }
    None
}

/// feed-rs only knows `<rss version="2.0">` (or "", "0.91", "0.92") and rejects the feed as
/// "no root" otherwise; RSS 0.93/0.94/2.01 or a missing version are 2.0 in practice.
pub(super) fn set_rss_version(text: &str, rss_tag: &Range<usize>) -> Option<String> {
    let tag = text.as_bytes().get(rss_tag.clone())?;
    let (at, insert) = match attr_value(tag, b"version") {
        Some(value) => (
            rss_tag.start + value.start..rss_tag.start + value.end,
            "2.0",
        ),
        None => {
            let name_end = tag
                .iter()
                .position(|&c| c.is_ascii_whitespace() || c == b'/' || c == b'>');
            let at = rss_tag.start + name_end.unwrap_or(tag.len());
            (at..at, " version=\"2.0\"")
        }
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..at.start]);
    out.push_str(insert);
    out.push_str(&text[at.end..]);
    Some(out)
}

/// RSS whose `<item>`s sit straight under `<rss>`, with no `<channel>` (feed-rs then finds no
/// feed): wraps the root's content in one.
pub(super) fn wrap_in_channel(text: &str, rss_tag: &Range<usize>) -> Option<String> {
    let close = text.rfind("</rss")?;
    if close < rss_tag.end {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 24);
    out.push_str(&text[..rss_tag.end]);
    out.push_str("<channel>");
    out.push_str(&text[rss_tag.end..close]);
    out.push_str("</channel>");
    out.push_str(&text[close..]);
    Some(out)
}
