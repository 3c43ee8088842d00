//! Block-level boilerplate classifier, run on the blocks of the chosen body root.
//!
//! Chrome that sits *inside* the article container survives root selection: "Read also" lines,
//! share and newsletter prompts, donation appeals, bylines and dates, captions and credits, tag
//! lines, a repeated headline. Each rule is a phrase family (several languages) plus a length
//! cap: the cap is what keeps a real paragraph that merely *mentions* a newsletter or a
//! donation, because prompts are short and prose is not.

use super::content::{Kind, RawBlock};
use super::memory::HostView;
use super::meta::Meta;
use super::phrases::{DATE_WORDS, END_MARKERS, FAMILIES, INLINE_BOX_MARKERS};
use super::{Removal, RemovalReason as R};

/// No rule looks at blocks longer than this many words (the largest family cap, and more than
/// any headline).
const LONGEST_RULE: usize = 60;

/// What the filter kept.
pub struct Cleaned {
    /// The article's text blocks.
    pub blocks: Vec<String>,
    /// Per kept block: whether it may feed a dedup fingerprint (false for blocks the site
    /// memory knows as recurring on the host, which two different articles may share).
    pub fingerprint: Vec<bool>,
    /// An author name found in a byline the filter removed.
    pub byline_author: Option<String>,
}

/// Filters the raw blocks; `site` is the host's memory, whose chrome blocks go.
pub fn clean_blocks(
    raw: Vec<RawBlock>,
    title: &str,
    meta: &Meta,
    site: Option<&HostView>,
    mut explain: Option<&mut Vec<Removal>>,
) -> Cleaned {
    let title_key = key(title);
    let author_key = meta.author.as_deref().map(key).filter(|k| !k.is_empty());
    // The memory names furniture around an article; a page it would leave without prose (an
    // article re-published word for word, a template page) is judged on its own.
    let site = site.filter(|s| {
        !s.is_empty()
            && raw
                .iter()
                .any(|b| b.text.len() >= 80 && s.chrome(b.shape).is_none())
    });
    let mut kept: Vec<(String, Kind, u64)> = Vec::with_capacity(raw.len());
    let mut seen_long: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut byline_author = None;
    let mut prose_seen = false;
    let mut kept_prose = 0;
    let mut stopped = false;
    let total: usize = raw.iter().map(|b| b.text.len()).sum();
    let mut before = 0;
    // End of an inline "read also" box: its blocks go, the article resumes after it.
    let mut box_until = 0;
    for (pos, b) in raw.iter().enumerate() {
        if !stopped && prose_seen && pos >= box_until && is_end_marker(b) {
            if let Some(end) = inline_box_end(&raw, pos) {
                box_until = end;
            } else if total - before < before
                || is_comment_heading(&b.text)
                || teaser_rail_follows(&raw, pos)
            {
                // The marker must close the article, not label a box in its middle: less
                // text may follow it than precedes it — unless what follows is a comment
                // thread or a rail of teasers, which routinely outweigh a short article.
                stopped = true;
            }
        }
        before += b.text.len();
        let verdict = if stopped || pos < box_until {
            Some(R::Related)
        } else {
            classify(b, pos, &title_key, author_key.as_deref())
                .or_else(|| {
                    let (seen, pages) = site?.chrome(b.shape)?;
                    Some(R::SiteMemory { seen, pages })
                })
                .or_else(|| {
                    // A second copy of a whole paragraph (teaser repeated below, summary box).
                    (b.text.len() > 80 && !seen_long.insert(b.text.as_str()))
                        .then_some(R::Duplicate)
                })
                .or_else(|| {
                    (copy_of_kept(&b.text, &kept)
                        || (b.kind != Kind::Pre && repeats_kept(&b.text, &kept)))
                    .then_some(R::Duplicate)
                })
        };
        // The article has started once a long paragraph, or a few shorter ones, were kept.
        if verdict.is_none() && b.text.len() >= 80 {
            kept_prose += b.text.len();
            prose_seen |= b.text.len() >= 200 || kept_prose >= 300;
        }
        match verdict {
            None => kept.push((b.text.clone(), b.kind, b.shape)),
            Some(reason) => {
                if reason == R::Byline && byline_author.is_none() {
                    byline_author = author_from_byline(&b.text);
                }
                if let Some(out) = explain.as_deref_mut() {
                    out.push(Removal {
                        reason,
                        text: b.text.clone(),
                    });
                }
            }
        }
    }
    // A heading with nothing after it introduces something we removed (related links,
    // comments), not article text.
    while kept
        .last()
        .is_some_and(|(_, k, _)| matches!(k, Kind::Heading(_)))
    {
        if let Some((text, _, _)) = kept.pop()
            && let Some(out) = explain.as_deref_mut()
        {
            out.push(Removal {
                reason: R::Related,
                text,
            });
        }
    }
    let fingerprint = kept
        .iter()
        .map(|(_, _, shape)| !site.is_some_and(|s| s.recurring(*shape)))
        .collect();
    Cleaned {
        blocks: kept.into_iter().map(|(t, _, _)| t).collect(),
        fingerprint,
        byline_author,
    }
}

/// Headings that open a reader-comment thread, in the supported languages, with an optional
/// count ("3 Comments", "Kommentare (12)").
pub fn is_comment_heading(text: &str) -> bool {
    // Every heading below holds one of these stems: most lines are rejected without
    // allocating.
    const STEMS: &[&str] = &[
        "omment",
        "OMMENT",
        "oment",
        "OMENT",
        "eply",
        "EPLY",
        "оммент",
        "ОММЕНТ",
    ];
    if text.len() > 60 || !STEMS.iter().any(|s| text.contains(s)) {
        return false;
    }
    let lower = text.to_lowercase().replace('\u{2019}', "'");
    let t: String = lower
        .chars()
        .filter(|c| !c.is_ascii_digit() && !matches!(c, '(' | ')' | '[' | ']' | ':' | '.'))
        .collect();
    let t = t.trim();
    const WORDS: &[&str] = &[
        "comment",
        "comments",
        "reader comments",
        "leave a reply",
        "leave a comment",
        "join the discussion",
        "join the conversation",
        "kommentar",
        "kommentare",
        "leserkommentare",
        "kommentar schreiben",
        "commentaire",
        "commentaires",
        "laisser un commentaire",
        "comentario",
        "comentarios",
        "deja un comentario",
        "comentário",
        "comentários",
        "deixe um comentário",
        "commento",
        "commenti",
        "lascia un commento",
        "kommentarer",
        "skriv en kommentar",
        "комментарии",
        "комментарий",
        "komentarze",
        "komentarz",
    ];
    WORDS.contains(&t)
}

/// Whether the blocks after `pos` are a rail of teasers: linked headlines make up a third
/// of the next lines or more, and less prose follows than precedes (a long list of links in
/// the middle of a guide is not its end).
fn teaser_rail_follows(raw: &[RawBlock], pos: usize) -> bool {
    let next: Vec<&RawBlock> = raw.iter().skip(pos + 1).take(12).collect();
    let linked = next.iter().filter(|b| b.link_density > 0.5).count();
    if next.len() < 3 || linked * 3 < next.len() {
        return false;
    }
    let prose = |bs: &[RawBlock]| -> usize {
        bs.iter()
            .filter(|b| is_prose(b))
            .map(|b| b.text.len())
            .sum()
    };
    prose(&raw[pos + 1..]) < prose(&raw[..pos])
}

/// Whether `text` repeats article text already kept: a hidden second copy of the article
/// printed as one block holds the opening of an earlier paragraph, and a paragraph whose
/// opening sits inside an earlier, much longer block was already printed by it. Only the first
/// few long kept blocks are compared, which keeps the check cheap on any page.
fn copy_of_kept(text: &str, kept: &[(String, Kind, u64)]) -> bool {
    const PREFIX: usize = 60;
    if text.len() < 150 {
        return false;
    }
    let prefix = |s: &str| -> Option<usize> {
        let mut end = PREFIX;
        while end < s.len() && !s.is_char_boundary(end) {
            end += 1;
        }
        (end < s.len()).then_some(end)
    };
    let Some(own) = prefix(text) else {
        return false;
    };
    let mut tail = text.len() - PREFIX;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    let long = || kept.iter().filter(|(k, _, _)| k.len() >= 150).take(4);
    // This block holds two earlier paragraphs, or an earlier block holds all of this one.
    long()
        .filter(|(k, _, _)| {
            text.len() >= 2 * k.len() && prefix(k).is_some_and(|e| text.contains(&k[..e]))
        })
        .count()
        >= 2
        || long().any(|(k, _, _)| {
            k.len() >= 2 * text.len() && k.contains(&text[..own]) && k.contains(&text[tail..])
        })
}

/// Whether a very long block mostly repeats the text already kept: a second copy of the
/// whole article in other markup (a hidden "copy as Markdown" or print version, a JSON body
/// printed as text), whose formatting marks defeat [`copy_of_kept`]'s verbatim comparison.
/// Compared by word 4-grams, which survive inserted emphasis marks and link targets; only
/// blocks of several thousand bytes after as much kept text are compared, so ordinary pages
/// never pay for it.
fn repeats_kept(text: &str, kept: &[(String, Kind, u64)]) -> bool {
    const MIN_BYTES: usize = 3000;
    if text.len() < MIN_BYTES || kept.iter().map(|k| k.0.len()).sum::<usize>() < text.len() / 2 {
        return false;
    }
    let mut seen = std::collections::HashSet::new();
    for (k, _, _) in kept {
        word_grams(k, |g| {
            seen.insert(g);
        });
    }
    let (mut grams, mut repeated) = (0usize, 0usize);
    word_grams(text, |g| {
        grams += 1;
        repeated += usize::from(seen.contains(&g));
    });
    grams > 0 && repeated * 10 >= grams * 7
}

/// Calls `f` with a hash of every run of four consecutive words of `text` (alphanumeric runs,
/// case folded).
fn word_grams(text: &str, mut f: impl FnMut(u64)) {
    let mut ring = [0u64; 4];
    let mut words = 0usize;
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for c in w.chars().flat_map(char::to_lowercase) {
            h = (h ^ c as u64).wrapping_mul(0x0100_0000_01b3);
        }
        ring[words % 4] = h;
        words += 1;
        if words >= 4 {
            let g = (0..4).fold(0u64, |acc, k| {
                acc.rotate_left(17) ^ ring[(words + k) % 4].wrapping_mul(0x9e37_79b9_7f4a_7c15)
            });
            f(g);
        }
    }
}

/// Whether `blocks` start as a grid of teaser cards — a lede under each title line, never two
/// paragraphs in a row — rather than an article, whose sections run to several paragraphs.
fn teaser_cards(blocks: &[RawBlock]) -> bool {
    let window = &blocks[..blocks.len().min(8)];
    let long = |b: &RawBlock| b.text.len() >= 100;
    let ledes = window.iter().filter(|b| long(b)).count();
    ledes >= 3 && !window.windows(2).any(|w| long(&w[0]) && long(&w[1]))
}

/// A paragraph of running text: long, hardly linked, ending a sentence.
fn is_prose(b: &RawBlock) -> bool {
    matches!(b.kind, Kind::Paragraph | Kind::Other | Kind::Quote)
        && b.text.len() >= 150
        && b.link_density < 0.1
        && b.text.ends_with(['.', '!', '?', '"', '»', '”', ')'])
}

/// When the end marker at `pos` opens an inline "read also" box — a few short lines (the
/// linked headlines) followed by more article prose — the index of the first prose block
/// after the box. `None` when the marker is not of that kind or no prose follows closely.
fn inline_box_end(raw: &[RawBlock], pos: usize) -> Option<usize> {
    let lower = raw[pos].text.to_lowercase();
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    if !INLINE_BOX_MARKERS.iter().any(|m| t.starts_with(m)) {
        return None;
    }
    let prose = is_prose;
    // At most six lines in the box, each a headline-sized line, then at least two prose
    // paragraphs: a rail of teasers with ledes is not the article resuming.
    for (j, b) in raw.iter().enumerate().skip(pos + 1).take(7) {
        if prose(b) {
            let following = raw[j..].iter().take(4).filter(|b| prose(b)).count();
            return (j > pos + 1 && following >= 2 && !teaser_cards(&raw[j..])).then_some(j);
        }
        if b.text.len() >= 200 {
            return None;
        }
    }
    None
}

fn is_end_marker(b: &RawBlock) -> bool {
    if b.text.len() > 60 || !matches!(b.kind, Kind::Heading(_) | Kind::Other | Kind::Paragraph) {
        return false;
    }
    if is_comment_heading(&b.text) {
        return true;
    }
    let lower = b.text.to_lowercase().replace('\u{2019}', "'");
    let t = lower.trim_matches(|c: char| !c.is_alphanumeric());
    END_MARKERS.contains(&t)
        || [
            "more from ",
            "related ",
            "more in ",
            "more on ",
            "mehr zu ",
            "mehr zum ",
            "más sobre ",
            "plus sur ",
            "mais sobre ",
            "altro su ",
            "mer om ",
            "więcej o ",
        ]
        .iter()
        .any(|p| t.starts_with(p) && t.len() < 40)
}

/// Unrendered template slots such as `[CTA_MODULE]`, and the designer's filler text of an
/// unfilled template block ("Lorem ipsum dolor sit amet").
fn is_placeholder(text: &str) -> bool {
    if text.contains("orem ipsum") || text.contains("OREM IPSUM") {
        return true;
    }
    text.len() > 2
        && text.starts_with('[')
        && text.ends_with(']')
        && text[1..text.len() - 1]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
}

/// Machine metadata printed as text (schema.org microdata, hidden CMS fields): most tokens are
/// URLs, ISO dates or bare numbers and sizes, not words.
fn is_metadata(text: &str, words: usize) -> bool {
    // Prose fails on its first few words: give up once 30 % of them are plain words.
    let allowed = words * 3 / 10;
    let (mut n, mut machine, mut figures) = (0usize, 0usize, 0usize);
    for tok in text.split_whitespace() {
        n += 1;
        if n - machine > allowed + 1 {
            return false;
        }
        if !tok
            .bytes()
            .any(|c| c.is_ascii_digit() || c == b'.' || c == b':')
        {
            continue;
        }
        let t = tok.trim_matches(|c: char| matches!(c, ',' | ';' | '"' | '\'' | '(' | ')'));
        let b = t.as_bytes();
        let url = t.contains("://")
            || t.starts_with("www.")
            || t.contains(".jpg")
            || t.contains(".png")
            || t.contains(".webp");
        let iso =
            b.len() >= 10 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-';
        let number = !t.is_empty()
            && t.bytes().all(|c| {
                c.is_ascii_digit() || matches!(c, b'.' | b':' | b'x' | b'-' | b'+' | b'/' | b'|')
            });
        if url || iso || (number && t.len() >= 3) {
            machine += 1;
        }
        if iso || (number && t.len() >= 3) {
            figures += 1;
        }
    }
    // A list of links alone may be an article's sources; metadata mixes in dates and sizes.
    n >= 2 && figures > 0 && machine * 10 >= n * 7
}

/// Text that is markup, not prose: an unexpanded shortcode (`[button link="…"]Go[/button]`,
/// `[caption id=…]`) or a tag printed as text (`<img src=…>` from a `<noscript>`).
fn is_markup(text: &str) -> bool {
    let b = text.as_bytes();
    let name_len = |rest: &[u8]| {
        rest.iter()
            .take_while(|c| c.is_ascii_alphabetic() || **c == b'_' || **c == b'-')
            .count()
    };
    match b.first() {
        Some(b'[') => {
            let rest = &b[1..];
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            let n = name_len(rest);
            n >= 2
                && rest[..n].iter().all(|c| !c.is_ascii_uppercase())
                && matches!(rest.get(n), Some(b' ' | b']' | b'='))
                && text.contains(']')
        }
        Some(b'<') => {
            // An HTML element with attributes: `<img src="…"`, `<a href=…`, `<iframe …`.
            const ELEMENTS: &[&[u8]] = &[
                b"img",
                b"a",
                b"iframe",
                b"div",
                b"span",
                b"p",
                b"script",
                b"video",
                b"source",
                b"picture",
                b"figure",
                b"embed",
                b"object",
                b"ins",
                b"blockquote",
                b"link",
                b"meta",
                b"input",
                b"form",
                b"audio",
                b"noscript",
                b"style",
            ];
            let rest = &b[1..];
            let n = name_len(rest);
            let name = rest[..n].to_ascii_lowercase();
            ELEMENTS.contains(&name.as_slice())
                && rest.get(n) == Some(&b' ')
                && (text.contains("=\"") || text.contains("='") || text.contains("=http"))
        }
        _ => false,
    }
}

/// Letters and digits only, lower-cased: how two renderings of a title are compared.
fn key(s: &str) -> String {
    if s.is_ascii() {
        return s
            .bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| char::from(b.to_ascii_lowercase()))
            .collect();
    }
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn classify(b: &RawBlock, pos: usize, title_key: &str, author_key: Option<&str>) -> Option<R> {
    let text = &b.text;
    // A linked subheading is still a subheading (tables of contents link them).
    // A linked subheading or list item is still article structure (tables of contents and
    // source lists link them), and a linked full sentence is prose; a bare link label is not.
    let sentence = text.ends_with(['.', '!', '?']);
    if b.link_density > 0.5 && !sentence && !matches!(b.kind, Kind::Heading(_) | Kind::ListItem) {
        return Some(R::LinkDense);
    }
    let words = text.split_whitespace().take(LONGEST_RULE + 1).count();
    if words > LONGEST_RULE {
        // Prose: no rule below applies to a block this long.
        return None;
    }
    if !text.chars().any(char::is_alphanumeric) || is_placeholder(text) || is_markup(text) {
        return Some(R::Boilerplate);
    }
    if is_metadata(text, words) {
        return Some(R::Hidden);
    }
    // The comparison key costs a pass over the text: only build it when it can matter.
    let k = if (author_key.is_some() && words <= 12) || text.len() <= 2 * title_key.len() + 16 {
        key(text)
    } else {
        String::new()
    };
    if !title_key.is_empty() && k == title_key {
        return Some(R::DuplicateTitle);
    }
    if matches!(b.kind, Kind::Heading(1)) && pos < 3 {
        return Some(R::DuplicateTitle);
    }
    if let Some(a) = author_key
        && words <= 12
        && (k == a || (k.contains(a) && k.len() < a.len() + 40 && !text.ends_with('.')))
    {
        return Some(R::Byline);
    }
    if let Some(r) = phrase_verdict(text, words) {
        return Some(r);
    }
    if words <= 8 && looks_like_date(text) {
        return Some(R::Date);
    }
    None
}

/// The phrase families, on their own (exposed for tests): the first family, in table order,
/// with a phrase in place (and, for bylines and dates, the shape they need).
fn phrase_verdict(text: &str, words: usize) -> Option<R> {
    let lower = text.to_lowercase();
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '©');
    let start = trimmed.as_ptr() as usize - lower.as_ptr() as usize;
    let mut hit = matcher::families_hit(&lower, start..start + trimmed.len(), words);
    while hit != 0 {
        let fam = &FAMILIES[hit.trailing_zeros() as usize];
        hit &= hit - 1;
        if fam.reason == R::Byline && !byline_shape(text) {
            continue;
        }
        if fam.reason == R::Date && !text.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        return Some(fam.reason);
    }
    None
}

/// "By Jane Doe", "- Osborn Baya", "Von Max Muster und Erika Beispiel": a marker followed by
/// capitalised names, no sentence punctuation.
fn byline_shape(text: &str) -> bool {
    let mut it = text.split_whitespace();
    let first = it.next().unwrap_or("");
    let rest: Vec<&str> = if first.ends_with(':') || first == "-" || first.len() <= 3 {
        it.collect()
    } else {
        // "Written by", "Posted by": skip the second marker word too.
        it.skip(1).collect()
    };
    !rest.is_empty()
        && !text.ends_with('.')
        && rest
            .iter()
            .take(2)
            .all(|w| w.chars().next().is_some_and(|c| c.is_uppercase()))
}

fn author_from_byline(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let markers = [
        "written by ",
        "posted by ",
        "by ",
        "von ",
        "par ",
        "por ",
        "di ",
        "av ",
        "door ",
        "- ",
    ];
    let start = markers
        .iter()
        .find(|m| lower.starts_with(*m))
        .map_or(0, |m| m.len());
    let name = text
        .get(start..)?
        .split(['|', '·', ',', '\u{2014}'])
        .next()?
        .trim();
    (!name.is_empty() && name.split_whitespace().count() <= 5).then(|| name.to_owned())
}

/// A short line made of a date and little else ("June 2, 2025", "12 May 2025 · 6 min read",
/// "2025-06-02 09:15"): mostly numbers and date words, with at least one number.
fn looks_like_date(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut total = 0;
    let mut datey = 0;
    let mut numbers = 0;
    let mut month = false;
    for w in lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        total += 1;
        if w.chars().all(|c| c.is_ascii_digit()) {
            numbers += 1;
            datey += 1;
        } else if DATE_WORDS.contains(&w) {
            datey += 1;
            // The filler words at the end of DATE_WORDS do not make a date on their own.
            month |= w.len() >= 3
                && !matches!(
                    w,
                    "min"
                        | "mins"
                        | "read"
                        | "updated"
                        | "published"
                        | "posted"
                        | "ago"
                        | "hours"
                        | "days"
                        | "utc"
                        | "gmt"
                        | "est"
                        | "edt"
                        | "cet"
                        | "cest"
                        | "года"
                        | "del"
                        | "den"
                );
        }
    }
    let numeric_date = lower.split_whitespace().any(|w| {
        let parts: Vec<&str> = w.split(['/', '.', '-']).filter(|p| !p.is_empty()).collect();
        parts.len() == 3 && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
    });
    let money = lower.contains(['$', '€', '£', '%', '¥']);
    numbers > 0 && !money && (month || numeric_date) && datey * 4 >= total * 3
}

mod matcher;
#[cfg(test)]
mod tests;
