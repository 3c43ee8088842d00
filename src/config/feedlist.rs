//! Feed lists (DESIGN §7): plain text, one URL per line with `#` comments, or OPML as
//! exported by feed readers. Detected by content: a list whose first non-blank character is
//! `<` is OPML, since no feed URL starts with `<`.
//!
//! Everything is parsed and every problem reported, each with its line, so `newsd validate`
//! shows an operator all mistakes at once; the valid entries are usable regardless.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use url::Url;

/// A feed found in a list file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFeed {
    pub url: url::Url,
    /// OPML `title` (or `text`); plain lists carry none.
    pub title: Option<String>,
    /// 1-based line in the list file where it was found.
    pub line: usize,
}

/// One problem in a list file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {reason}")]
pub struct ListError {
    pub path: PathBuf,
    pub line: usize,
    pub reason: String,
}

/// Parses a feed list. A URL listed twice is kept once, at its first line, without an error
/// (lists merged from several sources repeat feeds harmlessly).
pub fn parse_feed_list(text: &str, path: &Path) -> (Vec<ListedFeed>, Vec<ListError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut list = Collector {
        path,
        feeds: Vec::new(),
        errors: Vec::new(),
        seen: HashSet::new(),
    };
    if text.trim_start().starts_with('<') {
        opml(text, &mut list);
    } else {
        for (i, line) in text.lines().enumerate() {
            // `#` starts a comment at the start of a line or after whitespace; elsewhere it is
            // a URL fragment.
            let end = line
                .match_indices('#')
                .find(|(at, _)| {
                    line[..*at]
                        .chars()
                        .next_back()
                        .is_none_or(char::is_whitespace)
                })
                .map_or(line.len(), |(at, _)| at);
            let entry = line[..end].trim();
            if !entry.is_empty() {
                list.add(entry, None, i + 1);
            }
        }
    }
    (list.feeds, list.errors)
}

struct Collector<'p> {
    path: &'p Path,
    feeds: Vec<ListedFeed>,
    errors: Vec<ListError>,
    seen: HashSet<Url>,
}

impl Collector<'_> {
    fn add(&mut self, raw: &str, title: Option<String>, line: usize) {
        match feed_url(raw) {
            Ok(url) => {
                if self.seen.insert(url.clone()) {
                    self.feeds.push(ListedFeed { url, title, line });
                }
            }
            Err(reason) => self.error(line, reason),
        }
    }

    fn error(&mut self, line: usize, reason: String) {
        self.errors.push(ListError {
            path: self.path.to_owned(),
            line,
            reason,
        });
    }
}

fn feed_url(raw: &str) -> Result<Url, String> {
    if raw.contains(char::is_whitespace) {
        return Err(format!("not a URL (contains whitespace): {raw:?}"));
    }
    let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(format!(
            "unsupported scheme {other} (only http and https feeds)"
        )),
    }
}

/// Collects every `<outline xmlUrl=…>` at any depth (categories are outlines too). A small
/// tag scanner rather than an XML parser: OPML files from readers are often not well-formed
/// (unescaped `&` in titles), and one bad outline must not hide the others.
fn opml(text: &str, list: &mut Collector<'_>) {
    let b = text.as_bytes();
    let (mut pos, mut line, mut counted) = (0, 1, 0);
    let mut root_seen = false;
    while let Some(off) = b[pos..].iter().position(|&c| c == b'<') {
        let lt = pos + off;
        line += b[counted..lt].iter().filter(|&&c| c == b'\n').count();
        counted = lt;
        let rest = &text[lt..];
        let skip = [
            ("<!--", "-->"),
            ("<![CDATA[", "]]>"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .into_iter()
        .find(|(open, _)| rest.starts_with(open));
        let end = match skip {
            Some((open, close)) => rest[open.len()..]
                .find(close)
                .map(|e| lt + open.len() + e + close.len()),
            None => tag_end(b, lt).map(|e| e + 1),
        };
        let Some(end) = end else {
            list.error(line, "unterminated markup at end of file".into());
            return;
        };
        pos = end;
        if skip.is_some() || rest.starts_with("</") {
            continue;
        }
        let tag = &text[lt + 1..end - 1];
        let name_len = tag
            .find(|c: char| c.is_whitespace() || c == '/' || c == '>')
            .unwrap_or(tag.len());
        let (name, attrs) = tag.split_at(name_len);
        if !root_seen {
            root_seen = true;
            if !name.eq_ignore_ascii_case("opml") {
                list.error(line, format!("not OPML: the root element is <{name}>"));
                return;
            }
        }
        if !name.eq_ignore_ascii_case("outline") {
            continue;
        }
        let attrs = attributes(attrs);
        let attr = |key: &str| {
            attrs
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| unescape(v))
        };
        let Some(url) = attr("xmlUrl") else { continue };
        let title = attr("title").or_else(|| attr("text")).and_then(|t| {
            let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
            (!t.is_empty()).then_some(t)
        });
        match url.trim() {
            "" => list.error(line, "outline with an empty xmlUrl".into()),
            url => list.add(url, title, line),
        }
    }
}

/// Offset of the `>` closing the tag that starts at `from`, skipping quoted values.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(from) {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c == b'>' => return Some(i),
            None => {}
        }
    }
    None
}

/// `name="value"` / `name='value'` pairs of a tag body; stops at the first malformed one.
fn attributes(mut s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        let Some(eq) = s.find('=') else { break };
        let name = s[..eq].trim();
        let value = s[eq + 1..].trim_start();
        let Some(quote) = value.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            break;
        };
        let Some(len) = value[1..].find(quote) else {
            break;
        };
        out.push((name, &value[1..1 + len]));
        s = &value[len + 2..];
    }
    out
}

/// Resolves XML's predefined entities and character references; anything else stays literal.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = rest
            .find(';')
            .filter(|&semi| semi <= 12)
            .map(|semi| (&rest[1..semi], semi + 1));
        let resolved = entity.and_then(|(name, len)| {
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    char::from_u32(code?)?
                }
            };
            Some((c, len))
        });
        match resolved {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<ListedFeed>, Vec<ListError>) {
        parse_feed_list(text, Path::new("feeds.txt"))
    }

    fn urls(feeds: &[ListedFeed]) -> Vec<(&str, usize)> {
        feeds.iter().map(|f| (f.url.as_str(), f.line)).collect()
    }

    #[test]
    fn plain_list_with_comments_blank_and_bad_lines() {
        let text = "# news feeds\n\
                    \n\
                    https://example.org/rss.xml\n\
                    \t http://example.com/feed#frag   # trailing comment\r\n\
                    example.net/feed\n\
                    ftp://example.org/feed\n\
                    https://example.org/rss.xml\n\
                    https://a.example/one two\n\
                    https://b.example/atom   \n";
        let (feeds, errors) = parse(text);
        assert_eq!(
            urls(&feeds),
            [
                ("https://example.org/rss.xml", 3),
                ("http://example.com/feed#frag", 4),
                ("https://b.example/atom", 9)
            ]
        );
        assert!(feeds.iter().all(|f| f.title.is_none()));
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [5, 6, 8]);
        assert_eq!(errors[0].reason, "not a URL: relative URL without a base");
        assert!(
            errors[1].reason.starts_with("unsupported scheme ftp"),
            "{}",
            errors[1].reason
        );
        assert_eq!(
            errors[0].to_string(),
            "feeds.txt:5: not a URL: relative URL without a base"
        );
    }

    #[test]
    fn empty_and_comment_only_lists_are_empty() {
        assert_eq!(parse(""), (vec![], vec![]));
        assert_eq!(parse("\n  # nothing yet\n\n"), (vec![], vec![]));
    }

    #[test]
    fn opml_with_nested_categories() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by a reader -->
<opml version="2.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline type="rss" text="Sahel &amp; Co" xmlUrl="https://example.org/sahel.xml?a=1&amp;b=2" htmlUrl="https://example.org/"/>
      <outline text="Tech">
        <outline type="rss" title="  Wire  feed " text="ignored" xmlUrl='http://example.com/wire.atom' />
        <outline type="rss" text="Bad" xmlUrl="/relative.xml"/>
      </outline>
    </outline>
    <outline type="rss" xmlURL="https://example.org/sahel.xml?a=1&amp;b=2"/>
    <outline type="rss" text="Empty" xmlUrl=""/>
    <outline type="rss" text="Gopher" xmlUrl="gopher://example.org/feed"/>
  </body>
</opml>
"#;
        let (feeds, errors) = parse(text);
        assert_eq!(
            urls(&feeds),
            [
                ("https://example.org/sahel.xml?a=1&b=2", 7),
                ("http://example.com/wire.atom", 9)
            ]
        );
        assert_eq!(feeds[0].title.as_deref(), Some("Sahel & Co"));
        assert_eq!(feeds[1].title.as_deref(), Some("Wire feed"));
        let errs: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.reason.as_str())).collect();
        assert_eq!(errs[0], (10, "not a URL: relative URL without a base"));
        assert_eq!(errs[1], (14, "outline with an empty xmlUrl"));
        assert_eq!(errs[2].0, 15);
        assert_eq!(errors.len(), 3);
    }

    #[test]
    fn xml_that_is_not_opml_is_reported() {
        let (feeds, errors) = parse("<rss version=\"2.0\"><channel/></rss>");
        assert!(feeds.is_empty());
        assert_eq!(errors[0].reason, "not OPML: the root element is <rss>");
    }

    #[test]
    fn truncated_opml_keeps_earlier_outlines() {
        let (feeds, errors) = parse(
            "<opml><body>\n<outline xmlUrl=\"https://a.example/f\"/>\n<outline xmlUrl=\"https://b",
        );
        assert_eq!(urls(&feeds), [("https://a.example/f", 2)]);
        assert_eq!(errors[0].line, 3);
    }
}
