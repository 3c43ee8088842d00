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

/// What the pre-pass does with an element, by tag name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Dropped with everything inside (scripts, styles, SVG, embedded media, form widgets).
    DropWithContent,
    /// Page furniture dropped with its content when its end tag can be matched (nav menus and
    /// footers are often the bulk of the markup and never article text).
    DropFurniture,
    /// Void elements that carry no text.
    DropVoid,
    /// Kept but not counted towards depth: void, or with optional end tags (browsers close
    /// them implicitly, so counting them would drift upward on ordinary pages).
    Uncounted,
    Counted,
}

fn class_of(name: &str) -> Class {
    match name {
        "script" | "style" | "noscript" | "template" | "svg" | "math" | "iframe" | "textarea"
        | "select" | "object" | "canvas" | "video" | "audio" | "map" => Class::DropWithContent,
        "nav" | "footer" => Class::DropFurniture,
        "img" | "source" | "input" | "wbr" | "embed" | "param" | "track" | "area" | "col" => {
            Class::DropVoid
        }
        "br" | "hr" | "meta" | "link" | "base" | "p" | "li" | "dt" | "dd" | "option"
        | "optgroup" | "tr" | "td" | "th" | "tbody" | "thead" | "tfoot" | "colgroup"
        | "caption" | "html" | "head" | "body" | "rb" | "rt" | "rp" | "frame" => Class::Uncounted,
        _ => Class::Counted,
    }
}

/// Attributes the later stages read on element `tag`; everything else is dropped (class and
/// id are handled apart).
fn keep_attr(tag: &str, name: &str) -> bool {
    match name {
        "itemprop" | "role" | "hidden" | "aria-hidden" | "datetime" => true,
        "property" | "name" | "content" => tag == "meta",
        "rel" | "href" => tag == "link",
        _ => false,
    }
}

/// Cleans `input` for the parser. With `keep_all_attrs` (a site rule's CSS selectors will run
/// on the tree) attributes are passed through untouched; otherwise class and id values are
/// reduced to the tokens [`super::dom::token_verdict`] knows, which gives the same verdicts
/// on a third of the bytes.
/// The input as [`clean`] sees it (after the size cap), for `--explain`'s second look.
pub fn truncate_for_explain(input: &str) -> &str {
    truncate(input, MAX_INPUT_BYTES)
}

pub fn clean(input: &str, keep_all_attrs: bool) -> Prepassed {
    let input = truncate(input, MAX_INPUT_BYTES);
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len() / 3);
    let mut json_ld = Vec::new();
    let mut depth = 0usize;
    let mut dropped = 0usize;
    let mut name = String::new();
    let mut pending_ws = false;
    let mut furniture_closes = true;
    let mut prev_block = true;
    let mut key = String::new();
    let mut i = 0;
    while i < b.len() {
        let Some(lt) = input[i..].find('<').map(|p| p + i) else {
            push_text(&mut out, &input[i..], &mut pending_ws);
            break;
        };
        if push_text(&mut out, &input[i..lt], &mut pending_ws) {
            prev_block = false;
        }
        i = lt;
        let rest = &b[i..];
        if rest.starts_with(b"<!--") {
            i = find(input, b"-->", i + 4).map_or(b.len(), |p| p + 3);
            continue;
        }
        if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
            let end = memchr(b'>', input, i).map_or(b.len(), |p| p + 1);
            if rest.len() >= 9 && rest[..9].eq_ignore_ascii_case(b"<!doctype") {
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
        name.clear();
        name.push_str(&input[name_start..name_end]);
        name.make_ascii_lowercase();
        let tag = scan_tag(input, name_end);
        let class = class_of(&name);
        let is_real_tag = !matches!(class, Class::DropWithContent | Class::DropVoid);
        if is_real_tag {
            // Whitespace next to a block boundary is no text at all; sparing html5ever those
            // nodes is a good share of its work.
            let block = is_block(&name);
            if std::mem::take(&mut pending_ws) && !(prev_block || block) {
                out.push(' ');
            }
            prev_block = block;
        }
        if closing {
            i = tag.end;
            match class {
                Class::DropWithContent | Class::DropVoid => continue,
                Class::Counted | Class::DropFurniture => {
                    if dropped > 0 {
                        dropped -= 1;
                        continue;
                    }
                    depth = depth.saturating_sub(1);
                }
                Class::Uncounted => {}
            }
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
            continue;
        }
        match class {
            Class::DropWithContent => {
                if tag.self_closing && name != "script" {
                    i = tag.end;
                    continue;
                }
                let (body_end, after) =
                    find_close(input, &name, tag.end, false).unwrap_or((b.len(), b.len()));
                if name == "script" && is_json_ld(input, &tag.attrs) {
                    json_ld.push(input[tag.end..body_end].to_owned());
                }
                i = after;
                continue;
            }
            Class::DropFurniture if furniture_closes => {
                if let Some((_, after)) = find_close(input, &name, tag.end, true) {
                    i = after;
                    continue;
                }
                // Unbalanced markup: searching again for every later start tag would make
                // the pass quadratic, so furniture is left to the later stages from here on.
                furniture_closes = false;
            }
            Class::DropVoid => {
                i = tag.end;
                continue;
            }
            // Only the canonical link is read later; pages carry dozens of preload/icon links.
            Class::Uncounted
                if name == "link" && !attr_contains(input, &tag.attrs, "rel", "canonical") =>
            {
                i = tag.end;
                continue;
            }
            _ => {}
        }
        i = tag.end;
        if matches!(class, Class::Counted | Class::DropFurniture) && !tag.self_closing {
            if depth >= MAX_DEPTH {
                dropped += 1;
                continue;
            }
            depth += 1;
        }
        out.push('<');
        out.push_str(&name);
        for &((ks, ke), (vs, ve)) in &tag.attrs {
            key.clear();
            key.push_str(&input[ks..ke]);
            key.make_ascii_lowercase();
            let v = &input[vs..ve];
            if key == "style" {
                let lv = v.to_ascii_lowercase().replace([' ', '\t', '\n'], "");
                if lv.contains("display:none") || lv.contains("visibility:hidden") {
                    out.push_str(" hidden");
                }
            }
            if !keep_all_attrs && (key == "class" || key == "id") {
                push_tokens(&mut out, &key, v);
            } else if keep_all_attrs || keep_attr(&name, &key) {
                out.push(' ');
                out.push_str(&key);
                out.push_str("=\"");
                push_escaped(&mut out, v);
                out.push('"');
            }
        }
        out.push('>');
    }
    Prepassed { html: out, json_ld }
}

/// ` key="tok tok"` with only the class/id tokens that carry a verdict (ASCII alphanumerics,
/// so nothing needs escaping); nothing when none does.
fn push_tokens(out: &mut String, key: &str, v: &str) {
    let mut first = true;
    for tok in v
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
    {
        if super::dom::token_verdict(tok).is_none() {
            continue;
        }
        if first {
            out.push(' ');
            out.push_str(key);
            out.push_str("=\"");
            first = false;
        } else {
            out.push(' ');
        }
        out.push_str(tok);
    }
    if !first {
        out.push('"');
    }
}

/// Attribute value inside double quotes: `"` and `&` must not change meaning.
fn push_escaped(out: &mut String, v: &str) {
    if !v.contains('"') {
        out.push_str(v);
        return;
    }
    out.push_str(&v.replace('"', "&quot;"));
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

/// Byte ranges of an attribute's name and value in the input.
type AttrSpan = ((usize, usize), (usize, usize));

struct Tag {
    /// Byte offset just after the closing `>`.
    end: usize,
    self_closing: bool,
    /// (name range, value range) pairs in the input.
    attrs: Vec<AttrSpan>,
}

/// Scans attributes from just after the tag name to the closing `>`, honouring quotes.
fn scan_tag(input: &str, mut i: usize) -> Tag {
    let b = input.as_bytes();
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
                    let ve = memchr(q, input, vs).unwrap_or(b.len());
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

fn is_json_ld(input: &str, attrs: &[AttrSpan]) -> bool {
    attr_contains(input, attrs, "type", "ld+json")
}

/// Whether attribute `key` exists and its value contains `needle` (ASCII case-insensitive).
fn attr_contains(input: &str, attrs: &[AttrSpan], key: &str, needle: &str) -> bool {
    attrs.iter().any(|&((ks, ke), (vs, ve))| {
        input[ks..ke].eq_ignore_ascii_case(key)
            && input[vs..ve].to_ascii_lowercase().contains(needle)
    })
}

/// Elements whose start and end are line breaks in the text, so adjacent whitespace is moot.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "head"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "td"
            | "tfoot"
            | "th"
            | "thead"
            | "title"
            | "tr"
            | "ul"
            | "br"
            | "meta"
            | "link"
            | "caption"
            | "colgroup"
            | "option"
    )
}

/// Text between two tags: whitespace-only runs are held back in `pending_ws` (the next tag
/// decides whether they matter); anything else is copied, collapsed. Returns whether text was
/// written.
fn push_text(out: &mut String, text: &str, pending_ws: &mut bool) -> bool {
    if text.is_empty() {
        return false;
    }
    if text.bytes().all(|b| b.is_ascii_whitespace()) {
        *pending_ws = true;
        return false;
    }
    if std::mem::take(pending_ws) {
        out.push(' ');
    }
    push_collapsed(out, text);
    true
}

/// Copies text with every run of ASCII whitespace shortened to its first character: the
/// extractor collapses whitespace anyway, and indentation is a large share of the markup.
fn push_collapsed(out: &mut String, text: &str) {
    let b = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j - i > 1 {
                out.push_str(&text[start..=i]);
                start = j;
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[start..]);
}

/// Finds the end tag `</name` (case-insensitive) from `from`; returns (start of the end tag,
/// after its `>`). With `nested`, start tags of the same name must be closed first (raw-text
/// elements like `<script>` cannot nest, so they search for the first end tag).
fn find_close(input: &str, name: &str, from: usize, nested: bool) -> Option<(usize, usize)> {
    let b = input.as_bytes();
    let n = name.as_bytes();
    let mut open = 0usize;
    let mut i = from;
    while let Some(p) = memchr(b'<', input, i) {
        let closing = b.get(p + 1) == Some(&b'/');
        let s = p + 1 + usize::from(closing);
        let matches = b.len() >= s + n.len()
            && b[s..s + n.len()].eq_ignore_ascii_case(n)
            && !b
                .get(s + n.len())
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-');
        if matches && closing {
            if open == 0 {
                let end = memchr(b'>', input, p).map_or(b.len(), |e| e + 1);
                return Some((p, end));
            }
            open -= 1;
        } else if matches && nested {
            open += 1;
        }
        i = p + 1;
    }
    None
}

/// Position of an ASCII byte at or after `from`. `str::find(char)` runs core's word-at-a-time
/// memchr, unlike a byte loop; every `from` the scanner uses follows an ASCII byte, so it is a
/// char boundary (the byte loop only covers a caller bug).
fn memchr(needle: u8, hay: &str, from: usize) -> Option<usize> {
    match hay.get(from..) {
        Some(rest) => rest.find(needle as char).map(|p| p + from),
        None => hay
            .as_bytes()
            .get(from..)?
            .iter()
            .position(|&c| c == needle)
            .map(|p| p + from),
    }
}

fn find(hay: &str, needle: &[u8], from: usize) -> Option<usize> {
    let first = needle[0];
    let mut i = from;
    while let Some(p) = memchr(first, hay, i) {
        if hay.as_bytes()[p..].starts_with(needle) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_bulk_and_keeps_json_ld() {
        let p = clean(
            "<html><head><script type=\"application/ld+json\">{\"headline\":\"H\"}</script>\
             <style>p{color:red}</style></head><body><!-- a comment --><p class=\"x article-body\" \
             data-x=\"1\" style=\"display: none\">Text <b>bold</b></p><svg><text>no</text></svg>\
             <script>if (a < b) { document.write('</p>') }</script><nav><a>Menu</a></nav></body></html>",
            false,
        );
        assert_eq!(p.json_ld, vec!["{\"headline\":\"H\"}".to_owned()]);
        assert!(
            !p.html.contains("color:red")
                && !p.html.contains("comment")
                && !p.html.contains("Menu")
        );
        assert!(!p.html.contains("document.write") && !p.html.contains("<svg"));
        assert!(
            p.html
                .contains("<p class=\"article body\" hidden>Text <b>bold</b></p>"),
            "{}",
            p.html
        );
    }

    #[test]
    fn keeps_all_attributes_for_site_rules() {
        let p = clean("<div class=\"Foo-bar x\" data-k=\"v\">t</div>", true);
        assert!(
            p.html.contains("class=\"Foo-bar x\"") && p.html.contains("data-k=\"v\""),
            "{}",
            p.html
        );
    }

    #[test]
    fn depth_is_capped_but_text_kept() {
        let deep = format!(
            "{}deep text{}",
            "<div>".repeat(100_000),
            "</div>".repeat(100_000)
        );
        let p = clean(&deep, false);
        assert_eq!(p.html.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(p.html.matches("</div>").count(), MAX_DEPTH);
        assert!(p.html.contains("deep text"));
    }

    #[test]
    fn unbalanced_furniture_stays_linear() {
        let page = "<nav>menu <p>text</p>".repeat(50_000);
        let p = clean(&page, false);
        assert!(p.html.contains("<nav>menu"));
    }

    #[test]
    fn size_is_capped_on_a_char_boundary() {
        let big = "é".repeat(MAX_INPUT_BYTES);
        let p = clean(&big, false);
        assert!(p.html.len() <= MAX_INPUT_BYTES);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "<",
            "<!--",
            "</",
            "<a b='",
            "<script>",
            "<a =>",
            "<<<>>>",
            "<!doctype",
            "<p\u{0}é>x",
            "<svg/>t",
        ] {
            let _ = clean(s, false);
        }
    }
}
