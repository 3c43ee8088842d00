//! Byte-level pre-pass over the markup before html5ever sees it.
//!
//! Most of a modern page's bytes never reach the article text: scripts, styles, inline SVG,
//! comments, tracking attributes. Building a tree for them costs more than all of our
//! heuristics, so this pass drops them with a plain scanner (keeping JSON-LD aside for the
//! metadata) and keeps only the attributes the heuristics read. It also enforces two caps that
//! protect the parser: input size ([`MAX_INPUT_BYTES`]; the tail beyond it is ignored) and
//! nesting depth ([`MAX_DEPTH`]; html5ever's tree builder is quadratic in depth, so deeper start
//! tags and their end tags are dropped while their text is kept).
//!
//! The scanner is deliberately forgiving: it only needs to be right on real pages, and on
//! anything else its output is still well-formed input for html5ever.

/// Documents longer than this (bytes of decoded text) are truncated; article text sits in the
/// first megabytes of any real page, and the cap bounds the cost of hostile input.
pub const MAX_INPUT_BYTES: usize = 6 * 1024 * 1024;
/// Maximum element nesting passed to the parser (void and optional-end tags are not counted).
pub const MAX_DEPTH: usize = 200;

/// The cleaned markup plus the JSON-LD blocks found in it.
pub struct Prepassed {
    pub html: String,
    pub json_ld: Vec<String>,
}

/// Elements whose whole content is dropped.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "iframe", "textarea", "select",
    "object", "canvas", "video", "audio", "map",
];
/// Void elements dropped outright (they carry no text).
const DROP_VOID: &[&str] = &[
    "img", "source", "input", "wbr", "embed", "param", "track", "area", "col",
];
/// Tags that do not count towards depth: void, or with optional end tags (browsers close them
/// implicitly, so counting them would drift upward on ordinary pages).
const UNCOUNTED: &[&str] = &[
    "br", "hr", "meta", "link", "base", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td",
    "th", "tbody", "thead", "tfoot", "colgroup", "caption", "html", "head", "body", "rb", "rt",
    "rp", "frame",
];
/// Attributes the later stages read; everything else is dropped.
const KEEP_ATTRS: &[&str] = &[
    "class",
    "id",
    "itemprop",
    "role",
    "rel",
    "property",
    "name",
    "content",
    "href",
    "datetime",
    "hidden",
    "aria-hidden",
    "itemtype",
];

pub fn clean(input: &str) -> Prepassed {
    let input = truncate(input, MAX_INPUT_BYTES);
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len() / 3);
    let mut json_ld = Vec::new();
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut i = 0;
    while i < b.len() {
        let Some(lt) = memchr(b'<', b, i) else {
            out.push_str(&input[i..]);
            break;
        };
        out.push_str(&input[i..lt]);
        i = lt;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = find(b, b"-->", i + 4).map_or(b.len(), |p| p + 3);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            let end = memchr(b'>', b, i).map_or(b.len(), |p| p + 1);
            if rest.len() > 2
                && rest[..9.min(rest.len())]
                    .eq_ignore_ascii_case(&b"<!doctype"[..9.min(rest.len())])
            {
                out.push_str(&input[i..end]);
            }
            i = end;
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = i + 1 + usize::from(closing);
        if !b.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // A bare `<` in text: escape it so the parser does not guess.
            out.push_str("&lt;");
            i += 1;
            continue;
        }
        let mut name_end = name_start;
        while name_end < b.len()
            && !matches!(
                b[name_end],
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>'
            )
        {
            name_end += 1;
        }
        let name = input[name_start..name_end].to_ascii_lowercase();
        let tag = scan_tag(b, name_end);
        if closing {
            i = tag.end;
            if DROP_WITH_CONTENT.contains(&name.as_str()) {
                continue;
            }
            if !UNCOUNTED.contains(&name.as_str()) {
                if dropped > 0 {
                    dropped -= 1;
                    continue;
                }
                depth = depth.saturating_sub(1);
            }
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
            continue;
        }
        if DROP_WITH_CONTENT.contains(&name.as_str()) {
            let body_start = tag.end;
            let close = if tag.self_closing && name != "script" {
                None
            } else {
                find_close(b, &name, body_start)
            };
            let (body_end, after) = close.unwrap_or((b.len(), b.len()));
            let body_end = if tag.self_closing && name != "script" {
                body_start
            } else {
                body_end
            };
            if name == "script" && is_json_ld(input, &tag.attrs) {
                json_ld.push(input[body_start..body_end].to_owned());
            }
            i = if tag.self_closing && name != "script" {
                body_start
            } else {
                after
            };
            continue;
        }
        i = tag.end;
        if DROP_VOID.contains(&name.as_str()) {
            continue;
        }
        let counted = !UNCOUNTED.contains(&name.as_str()) && !tag.self_closing;
        if counted {
            if depth >= MAX_DEPTH {
                dropped += 1;
                continue;
            }
            depth += 1;
        }
        out.push('<');
        out.push_str(&name);
        for (k, v) in &tag.attrs {
            let k = &input[k.0..k.1];
            let keep = KEEP_ATTRS.iter().any(|a| a.eq_ignore_ascii_case(k));
            let hidden_style = k.eq_ignore_ascii_case("style") && {
                let v = input[v.0..v.1].to_ascii_lowercase().replace(' ', "");
                v.contains("display:none") || v.contains("visibility:hidden")
            };
            if hidden_style {
                out.push_str(" hidden");
            } else if keep {
                out.push(' ');
                out.push_str(&k.to_ascii_lowercase());
                out.push_str("=\"");
                for ch in input[v.0..v.1].chars() {
                    if ch == '"' {
                        out.push_str("&quot;");
                    } else {
                        out.push(ch);
                    }
                }
                out.push('"');
            }
        }
        out.push('>');
    }
    Prepassed { html: out, json_ld }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

struct Tag {
    /// Byte offset just after the closing `>`.
    end: usize,
    self_closing: bool,
    /// (name range, value range) pairs in the input.
    attrs: Vec<((usize, usize), (usize, usize))>,
}

/// Scans attributes from just after the tag name to the closing `>`, honouring quotes.
fn scan_tag(b: &[u8], mut i: usize) -> Tag {
    let mut attrs = Vec::new();
    let mut self_closing = false;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            return Tag {
                end: b.len(),
                self_closing,
                attrs,
            };
        }
        match b[i] {
            b'>' => {
                return Tag {
                    end: i + 1,
                    self_closing,
                    attrs,
                };
            }
            b'/' => {
                self_closing = b.get(i + 1) == Some(&b'>');
                i += 1;
                continue;
            }
            _ => {}
        }
        self_closing = false;
        let ks = i;
        while i < b.len()
            && !matches!(
                b[i],
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'/' | b'>' | b'='
            )
        {
            i += 1;
        }
        // A lone `=` or similar junk: skip one byte so the loop always advances.
        if i == ks {
            i += 1;
            continue;
        }
        let key = (ks, i);
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut val = (i, i);
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let vs = i + 1;
                    let ve = memchr(q, b, vs).unwrap_or(b.len());
                    val = (vs, ve);
                    i = (ve + 1).min(b.len());
                }
                _ => {
                    let vs = i;
                    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0c | b'>')
                    {
                        i += 1;
                    }
                    val = (vs, i);
                }
            }
        }
        attrs.push((key, val));
    }
}

fn is_json_ld(input: &str, attrs: &[((usize, usize), (usize, usize))]) -> bool {
    attrs.iter().any(|&((ks, ke), (vs, ve))| {
        input[ks..ke].eq_ignore_ascii_case("type")
            && input[vs..ve].to_ascii_lowercase().contains("ld+json")
    })
}

/// Finds `</name` (case-insensitive) from `from`; returns (start of the end tag, after its `>`).
fn find_close(b: &[u8], name: &str, from: usize) -> Option<(usize, usize)> {
    let n = name.as_bytes();
    let mut i = from;
    while let Some(p) = memchr(b'<', b, i) {
        if b.get(p + 1) == Some(&b'/')
            && b.len() >= p + 2 + n.len()
            && b[p + 2..p + 2 + n.len()].eq_ignore_ascii_case(n)
            && !b
                .get(p + 2 + n.len())
                .is_some_and(u8::is_ascii_alphanumeric)
        {
            let end = memchr(b'>', b, p).map_or(b.len(), |e| e + 1);
            return Some((p, end));
        }
        i = p + 1;
    }
    None
}

fn memchr(needle: u8, hay: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .iter()
        .position(|&c| c == needle)
        .map(|p| p + from)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = needle[0];
    let mut i = from;
    while let Some(p) = memchr(first, hay, i) {
        if hay[p..].starts_with(needle) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}
