//! Finding the article body and cutting it into blocks.
//!
//! Every run of text belongs to its nearest block element. Blocks are judged by length, link
//! density and punctuation as *good* (prose), *bad* (link lists, chrome) or neutral (short
//! lines, headings; link lists inside `<li>` are neutral too, as articles list their sources).
//! Each container then scores `good − α·bad` over its subtree. Chrome elements (nav, aside,
//! footer, forms, `class="related"`, comments, hidden elements, …) are left out of the sums
//! entirely: they are never emitted, so they should neither attract nor repel the root. The
//! best-scoring container is the body root: it holds most of the prose while leaving out the
//! link-heavy furniture around it; ties go to the deepest container so the headline and byline
//! above the text stay out. The article ends with the root's main container (the child holding
//! most of its prose, see [`main_end`]): what a wrapper holds after it is furniture. The
//! page's own declarations (itemprop=articleBody, content class names, `<article>`) weigh in
//! as bonuses, not as verdicts, because templates misuse them, and every chrome verdict yields
//! to the amount of prose an element holds (see [`junk_reason`]).

use std::hash::Hasher;

use super::dom::{Chrome, Dom, Tag};
use super::memory::{Fnv, HostView, MAX_SHAPES_PER_PAGE, shape_hash};
use super::{Removal, RemovalReason};

/// Weight of link-heavy/chrome text against prose when choosing the root.
const BAD_WEIGHT: f32 = 1.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Paragraph,
    Heading(u8),
    ListItem,
    Quote,
    Cell,
    Pre,
    Other,
}

/// A block of text as found inside the chosen root, before the boilerplate filter.
#[derive(Debug)]
pub struct RawBlock {
    pub text: String,
    pub kind: Kind,
    /// Share of the text inside links (0..=1).
    pub link_density: f32,
    /// Shape of the block element the text belongs to (tag path + normalised text hash), for
    /// the site memory; 0 when shapes were not computed.
    pub shape: u64,
}

/// The blocks of the chosen root, and the shapes of every block of the page.
pub struct Blocks {
    pub blocks: Vec<RawBlock>,
    /// Distinct shapes of all text blocks of the page, in page order, at most
    /// [`MAX_SHAPES_PER_PAGE`] (the first and the last half): what the site memory observes.
    pub page_shapes: Vec<u64>,
}

#[derive(Clone, Copy, Default)]
struct Stat {
    chars: u32,
    link: u32,
    commas: u32,
    last: u8,
}

fn kind_of(tag: Tag) -> Kind {
    match tag {
        Tag::P => Kind::Paragraph,
        Tag::H(n) => Kind::Heading(n),
        Tag::Li | Tag::Dt | Tag::Dd => Kind::ListItem,
        Tag::Blockquote => Kind::Quote,
        Tag::Cell => Kind::Cell,
        Tag::Pre => Kind::Pre,
        _ => Kind::Other,
    }
}

/// Tags whose subtree never belongs to the article text, with the reason reported.
fn structural_junk(tag: Tag) -> Option<RemovalReason> {
    match tag {
        Tag::Nav => Some(RemovalReason::Nav),
        Tag::Aside => Some(RemovalReason::Related),
        Tag::Footer => Some(RemovalReason::Nav),
        Tag::Form => Some(RemovalReason::Form),

        Tag::Figcaption => Some(RemovalReason::Caption),
        Tag::Junk | Tag::Head | Tag::Title | Tag::Meta | Tag::Link => Some(RemovalReason::Hidden),
        _ => None,
    }
}

/// Whether element `i` is chrome. Verdicts from class names and markup are overruled by the
/// amount of prose inside: an element holding most of the page's prose is the article whatever
/// its template calls it (`hs_cos_wrapper_meta_field`, `<form id="aspnetForm">`, a `hidden`
/// wrapper revealed by script), and the weak names (meta, date, author, title, …) only mark
/// small elements.
fn junk_reason(dom: &Dom, i: usize, prose: f32, total_prose: f32) -> Option<RemovalReason> {
    let n = &dom.nodes[i];
    if n.tag == Tag::Text {
        return None;
    }
    let reason = if n.hidden {
        // Collapsed tabs and accordions hide real prose until clicked; hidden menus,
        // dialogs and templates hold little of it.
        if prose >= 300.0 {
            return None;
        }
        RemovalReason::Hidden
    } else if let Some(r) = structural_junk(n.tag) {
        r
    } else if let Chrome::Junk(r) = n.chrome {
        let weak = matches!(
            r,
            RemovalReason::Byline
                | RemovalReason::Date
                | RemovalReason::Bio
                | RemovalReason::Caption
                | RemovalReason::Tags
                | RemovalReason::DuplicateTitle
        );
        if weak && prose >= 800.0 {
            return None;
        }
        r
    } else {
        return None;
    };
    // Comment threads are the one kind of chrome that routinely outweighs the article.
    if prose > 0.5 * total_prose
        && prose > 0.0
        && reason != RemovalReason::Comments
        && !matches!(n.tag, Tag::Head | Tag::Title | Tag::Meta)
    {
        return None;
    }
    Some(reason)
}

/// A container whose first text is a comment heading ("3 Comments", "Kommentare",
/// "Laisser un commentaire") is a reader-comment thread, whatever its class names say; a
/// heading that opens its container's text cannot be a subheading in the middle of an
/// article. The `<body>`, `<main>` and `<article>` elements are never marked.
fn mark_comment_threads(dom: &Dom, stats: &[Stat], junk: &mut [Option<RemovalReason>]) {
    let n = dom.nodes.len();
    for (h, st) in stats.iter().enumerate() {
        if !matches!(dom.nodes[h].tag, Tag::H(_)) || st.chars == 0 || st.chars > 50 {
            continue;
        }
        let p = dom.nodes[h].parent as usize;
        if p >= n || junk[p].is_some() || !matches!(dom.nodes[p].tag, Tag::Block | Tag::Aside) {
            continue;
        }
        // No text between the container's start and the heading.
        if (p + 1..h).any(|j| dom.nodes[j].tag == Tag::Text && !dom.text_of(j).trim().is_empty()) {
            continue;
        }
        if super::filter::is_comment_heading(&dom.subtree_text(h)) {
            junk[p] = Some(RemovalReason::Comments);
        }
    }
}

/// Longest card of a teaser grid, in visible characters: a linked headline, a lede of a
/// sentence or two, a date and a section label. An item of a listicle runs longer.
const CARD_CHARS: u32 = 600;

/// A container of three or more *teaser cards* — each one linked headline and at most a short
/// lede — that make up nearly all of its text is a grid or rail of teasers for other stories
/// ("More from …", a section front under the article), whatever its class names say. Its
/// ledes read as prose, so without this the grid pulls the root up to a wrapper that holds
/// both it and the article. Headlines are headings whose text is mostly a link; an article's
/// own linked subheadings (a table of contents' targets) are followed by more than a lede.
fn mark_teaser_grids(
    dom: &Dom,
    stats: &[Stat],
    prose: &[f32],
    total_prose: f32,
    junk: &mut [Option<RemovalReason>],
) {
    let n = dom.nodes.len();
    // Per element, over its subtree: linked headlines (saturating) and visible characters.
    let mut heads = vec![0u8; n];
    let mut chars = vec![0u32; n];
    for i in (0..n).rev() {
        let node = &dom.nodes[i];
        let st = &stats[i];
        if matches!(node.tag, Tag::H(_)) && st.chars > 0 && st.link * 2 > st.chars {
            heads[i] = heads[i].saturating_add(1);
        }
        chars[i] += st.chars;
        let p = node.parent as usize;
        if p < n {
            heads[p] = heads[p].saturating_add(heads[i]);
            chars[p] += chars[i];
        }
    }
    for i in 0..n {
        let node = &dom.nodes[i];
        if heads[i] < 3
            || junk[i].is_some()
            || !matches!(node.tag, Tag::Block | Tag::List | Tag::Aside | Tag::Main)
        {
            continue;
        }
        let (mut cards, mut card_chars) = (0u32, 0u32);
        let mut c = i + 1;
        let end = node.end as usize;
        while c < end {
            if heads[c] == 1 && chars[c] <= CARD_CHARS {
                cards += 1;
                card_chars += chars[c];
            }
            c = dom.nodes[c].end as usize;
        }
        // A grid holding most of the page's prose is what the page is (a list of projects,
        // products or courses), not furniture around it.
        if cards >= 3
            && card_chars * 10 >= chars[i] * 9
            && prose[i] <= 0.5 * total_prose
            && !continues_paragraphs(dom, stats, &chars, i)
        {
            junk[i] = Some(RemovalReason::Related);
        }
    }
}

/// Whether the grid at `i` sits in the flow of an article's paragraphs — the list of a
/// roundup ("10 projects for your home") after its introduction — rather than in a container
/// of its own: on the way up to the first ancestor holding a few paragraphs' worth of other
/// text, some container has paragraphs of prose as direct children.
fn continues_paragraphs(dom: &Dom, stats: &[Stat], chars: &[u32], i: usize) -> bool {
    const OTHER_TEXT: u32 = 400;
    let n = dom.nodes.len();
    let mut a = i;
    loop {
        let p = dom.nodes[a].parent as usize;
        if p >= n || matches!(dom.nodes[p].tag, Tag::Body | Tag::Html) {
            return false;
        }
        let end = dom.nodes[p].end as usize;
        let mut c = p + 1;
        while c < end {
            if c != a && dom.nodes[c].tag == Tag::P && quality(&stats[c], Tag::P) == Quality::Good {
                return true;
            }
            c = dom.nodes[c].end as usize;
        }
        if chars[p] > chars[i] + OTHER_TEXT {
            return false;
        }
        a = p;
    }
}

/// Counts visible characters cheaply: UTF-8 lead bytes that are not ASCII whitespace.
fn count_text(s: &str, st: &mut Stat, link: bool) {
    let mut n = 0u32;
    for &b in s.as_bytes() {
        if (b & 0xC0) != 0x80 && !b.is_ascii_whitespace() {
            n += 1;
            st.last = b;
        }
        if b == b',' {
            st.commas += 1;
        }
    }
    st.chars += n;
    if link {
        st.link += n;
    }
}

#[derive(PartialEq)]
enum Quality {
    Good,
    Neutral,
    Bad,
}

fn quality(st: &Stat, tag: Tag) -> Quality {
    if st.chars == 0 {
        return Quality::Neutral;
    }
    let ld = st.link as f32 / st.chars as f32;
    if ld > 0.5 {
        return if tag == Tag::Li {
            Quality::Neutral
        } else {
            Quality::Bad
        };
    }
    if matches!(tag, Tag::H(_)) {
        return Quality::Neutral;
    }
    let sentence_end =
        matches!(st.last, b'.' | b'!' | b'?' | b'"' | b')' | b':') || st.last >= 0x80;
    if (st.chars >= 80 && ld < 0.3) || (st.chars >= 25 && ld < 0.1 && sentence_end) {
        Quality::Good
    } else {
        Quality::Neutral
    }
}

/// Chooses the body root and returns its blocks in page order. With `shapes`, every block
/// gets its shape and the page's shapes are listed; `site` (a host's memory) makes blocks
/// known as site chrome count as furniture when the root is chosen.
pub fn extract_blocks(
    dom: &Dom,
    explain: Option<&mut Vec<Removal>>,
    shapes: bool,
    site: Option<&HostView>,
) -> Blocks {
    let n = dom.nodes.len();
    if n == 0 {
        return Blocks {
            blocks: Vec::new(),
            page_shapes: Vec::new(),
        };
    }
    // Per block owner: text statistics (and the running hash of its normalised text).
    let mut owner = vec![0u32; n];
    let mut stats = vec![Stat::default(); n];
    let mut text_hash: Vec<Fnv> = if shapes {
        vec![Fnv::default(); n]
    } else {
        Vec::new()
    };
    for i in 0..n {
        let node = &dom.nodes[i];
        let parent = node.parent as usize;
        owner[i] = if node.tag.is_block() || parent >= n {
            i as u32
        } else {
            owner[parent]
        };
        if node.tag == Tag::Text {
            let o = owner[i] as usize;
            let mut st = stats[o];
            count_text(dom.text_of(i), &mut st, node.in_link);
            stats[o] = st;
            if let Some(h) = text_hash.get_mut(o) {
                h.feed_text(dom.text_of(i));
            }
        }
    }
    let (shape, page_shapes) = if shapes {
        block_shapes(dom, &text_hash)
    } else {
        (Vec::new(), Vec::new())
    };
    // Subtree totals, bottom-up (reverse pre-order visits children before parents). A first
    // pass ignores chrome so that chrome verdicts can be checked against how much prose the
    // element holds; the second pass leaves chrome out.
    let mut own_good = vec![0f32; n];
    let mut own_bad = vec![0f32; n];
    for i in 0..n {
        let tag = dom.nodes[i].tag;
        if tag.is_block() || i == 0 {
            // A block the host repeats on most of its pages is furniture, however prosy.
            if let (Some(site), Some(&s)) = (site, shape.get(i))
                && s != 0
                && site.chrome(s).is_some()
            {
                own_bad[i] = stats[i].chars as f32;
                continue;
            }
            match quality(&stats[i], tag) {
                Quality::Good => own_good[i] = stats[i].chars as f32,
                Quality::Bad => own_bad[i] = stats[i].chars as f32,
                Quality::Neutral => {}
            }
        }
    }
    let mut raw = own_good.clone();
    for i in (1..n).rev() {
        let p = dom.nodes[i].parent as usize;
        if p < n {
            raw[p] += raw[i];
        }
    }
    let total = raw[0];
    let mut junk: Vec<Option<RemovalReason>> =
        (0..n).map(|i| junk_reason(dom, i, raw[i], total)).collect();
    mark_comment_threads(dom, &stats, &mut junk);
    mark_teaser_grids(dom, &stats, &raw, total, &mut junk);
    let mut good = own_good;
    let mut bad = own_bad;
    for i in (1..n).rev() {
        let p = dom.nodes[i].parent as usize;
        if p >= n {
            continue;
        }
        // Chrome is never emitted, so it neither helps nor hurts the containers around it.
        if junk[i].is_none() {
            good[p] += good[i];
            bad[p] += bad[i];
        }
    }

    let root = dom
        .forced_root
        .map(|r| r as usize)
        .unwrap_or_else(|| choose_root(dom, &good, &bad, &junk));
    // A root named by a site rule is taken whole.
    let end = if dom.forced_root.is_some() {
        dom.nodes[root].end as usize
    } else {
        main_end(dom, &good, &junk, root)
    };
    let mut explain = explain;
    if let Some(out) = explain.as_deref_mut() {
        explain_outside(dom, root, end, &junk, out);
    }
    Blocks {
        blocks: emit(dom, root, end, &junk, &shape, explain),
        page_shapes,
    }
}

/// Per node, the shape of the block it owns (0 for nodes that own no text), and the page's
/// distinct shapes in page order.
fn block_shapes(dom: &Dom, text_hash: &[Fnv]) -> (Vec<u64>, Vec<u64>) {
    let n = dom.nodes.len();
    let empty = Fnv::default().finish();
    let mut shape = vec![0u64; n];
    let mut order = Vec::new();
    for i in 0..n {
        let h = text_hash[i].finish();
        if h == empty {
            continue;
        }
        // Tag path: the block element and two ancestors.
        let mut path = [dom.nodes[i].tag; 3];
        let mut p = dom.nodes[i].parent as usize;
        for slot in path.iter_mut().skip(1) {
            if p >= n {
                break;
            }
            *slot = dom.nodes[p].tag;
            p = dom.nodes[p].parent as usize;
        }
        shape[i] = shape_hash(h, &path);
        order.push(shape[i]);
    }
    let mut seen = std::collections::HashSet::with_capacity(order.len());
    order.retain(|s| seen.insert(*s));
    if order.len() > MAX_SHAPES_PER_PAGE {
        let half = MAX_SHAPES_PER_PAGE / 2;
        order.drain(half..order.len() - half);
    }
    (shape, order)
}

/// For `--explain`: every block outside the chosen root, with its chrome verdict when it has
/// one. Ancestors of the root are walked into; any other element is reported whole.
fn explain_outside(
    dom: &Dom,
    root: usize,
    main_end: usize,
    junk: &[Option<RemovalReason>],
    out: &mut Vec<Removal>,
) {
    let n = dom.nodes.len();
    let root_end = dom.nodes[root].end as usize;
    let mut i = 0;
    while i < n {
        let node = &dom.nodes[i];
        let end = (node.end as usize).max(i + 1);
        if i == root || node.tag == Tag::Head {
            // The root's text up to the end of its main container is the article.
            i = if i == root { main_end } else { end };
            continue;
        }
        if i < root && end >= root_end {
            i += 1; // an ancestor of the root: look at its other children
            continue;
        }
        if node.tag == Tag::Text || node.tag.is_block() || junk[i].is_some() {
            let text = dom.subtree_text(i);
            if !text.is_empty() {
                out.push(Removal {
                    reason: junk[i].unwrap_or(RemovalReason::Outside),
                    text,
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
}

fn choose_root(dom: &Dom, good: &[f32], bad: &[f32], junk: &[Option<RemovalReason>]) -> usize {
    let n = dom.nodes.len();
    let mut under_junk = vec![false; n];
    let mut under_comments = vec![false; n];
    let mut best = (dom.body as usize, f32::MIN);
    let mut best_thread = (dom.body as usize, f32::MIN);
    for i in 0..n {
        let node = &dom.nodes[i];
        let p = node.parent as usize;
        let inherited = p < n && under_junk[p];
        under_junk[i] = inherited || junk[i].is_some();
        // A comment thread is not the article, however much it outweighs it — unless the
        // page has nothing else (a forum thread, a discussion page).
        under_comments[i] =
            (p < n && under_comments[p]) || junk[i] == Some(RemovalReason::Comments);
        if !matches!(
            node.tag,
            Tag::Block | Tag::Article | Tag::Main | Tag::Body | Tag::Cell | Tag::Blockquote
        ) || good[i] <= 0.0
        {
            continue;
        }
        let mut score = good[i] - BAD_WEIGHT * bad[i];
        if dom.article_body == Some(i as u32) {
            score *= 1.5;
        } else if node.chrome == Chrome::Content || node.tag == Tag::Article {
            score *= 1.1;
        }
        if under_junk[i] {
            score *= 0.3;
        }
        let slot = if under_comments[i] {
            &mut best_thread
        } else {
            &mut best
        };
        if score >= slot.1 {
            *slot = (i, score);
        }
    }
    let prose = |i: usize| good.get(i).copied().unwrap_or(0.0);
    if prose(best.0) < 150.0 && prose(best_thread.0) >= 150.0 {
        return best_thread.0;
    }
    best.0
}

/// Share of the root's prose a child container must hold for the article to end with it.
const MAIN_SHARE: f32 = 0.8;

/// Where the article ends inside `root`: the end of the container that holds most of its
/// prose. The root is the best-scoring container, and a wrapper scores best as soon as
/// anything prose-like sits beside the article in it — an author's bio, a rail of teasers
/// with ledes, a sign-up box, a reader's comment. Walking down through children that hold at
/// least [`MAIN_SHARE`] of the prose finds the article's own container; what the wrapper
/// holds *after* it is furniture, while what comes before (a standfirst, the intro of a
/// section page) is kept, because the opening of an article is often split off from its body.
fn main_end(dom: &Dom, good: &[f32], junk: &[Option<RemovalReason>], root: usize) -> usize {
    let mut main = root;
    'down: loop {
        let end = dom.nodes[main].end as usize;
        let mut c = main + 1;
        while c < end {
            if junk[c].is_none()
                && matches!(
                    dom.nodes[c].tag,
                    Tag::Block | Tag::Article | Tag::Main | Tag::Cell | Tag::Blockquote
                )
                && good[c] > 0.0
                && good[c] >= MAIN_SHARE * good[main]
            {
                main = c;
                continue 'down;
            }
            c = dom.nodes[c].end as usize;
        }
        return end;
    }
}

/// The blocks of `root`'s subtree up to node index `end` (exclusive), chrome left out.
fn emit(
    dom: &Dom,
    root: usize,
    end: usize,
    junk: &[Option<RemovalReason>],
    shape: &[u64],
    mut explain: Option<&mut Vec<Removal>>,
) -> Vec<RawBlock> {
    let mut blocks = Vec::new();
    let mut buf = String::new();
    let mut link_chars = 0usize;
    // Open block elements: (subtree end, kind, node). The text gathered in `buf` always
    // belongs to the innermost open element, since every block boundary flushes.
    let mut open: Vec<(usize, Kind, usize)> = vec![(end, kind_of(dom.nodes[root].tag), root)];
    let shape_of = |node: usize| shape.get(node).copied().unwrap_or(0);
    let flush = |buf: &mut String,
                 link_chars: &mut usize,
                 (kind, shape): (Kind, u64),
                 blocks: &mut Vec<RawBlock>| {
        let text = super::collapse_ws(buf);
        buf.clear();
        if !text.is_empty() {
            let chars = text.chars().filter(|c| !c.is_whitespace()).count().max(1);
            blocks.push(RawBlock {
                text,
                kind,
                link_density: (*link_chars as f32 / chars as f32).min(1.0),
                shape,
            });
        }
        *link_chars = 0;
    };
    let top = |open: &[(usize, Kind, usize)]| {
        open.last()
            .map_or((Kind::Other, 0), |o| (o.1, shape_of(o.2)))
    };
    let mut i = root + 1;
    while i < end {
        while open.len() > 1 && open.last().is_some_and(|&(e, _, _)| e <= i) {
            flush(&mut buf, &mut link_chars, top(&open), &mut blocks);
            open.pop();
        }
        let node = &dom.nodes[i];
        if node.tag == Tag::Text {
            let t = dom.text_of(i);
            if node.in_link {
                link_chars += t.chars().filter(|c| !c.is_whitespace()).count();
            }
            buf.push_str(t);
            i += 1;
            continue;
        }
        if let Some(reason) = junk[i] {
            if let Some(out) = explain.as_deref_mut() {
                let text = dom.subtree_text(i);
                if !text.is_empty() {
                    out.push(Removal { reason, text });
                }
            }
            i = node.end as usize;
            continue;
        }
        if node.tag == Tag::Br {
            buf.push(' ');
        } else if node.tag.is_block() {
            flush(&mut buf, &mut link_chars, top(&open), &mut blocks);
            open.push((node.end as usize, kind_of(node.tag), i));
        }
        i += 1;
    }
    while !open.is_empty() {
        flush(&mut buf, &mut link_chars, top(&open), &mut blocks);
        open.pop();
    }
    blocks
}
