//! A compact arena copy of the parsed document, in document (pre-)order.
//!
//! The heuristics need a few aggregate passes over the tree (text and link length per subtree,
//! class-name verdicts) and one ordered walk. Doing that on scraper's tree would mean string
//! comparisons of tag names and class lists at every visit; here each element is classified
//! once. Pre-order storage with a subtree `end` index lets every pass be a loop, never
//! recursion, so no input depth can overflow the stack.

use scraper::{ElementRef, Html, Node as HtmlNode};

/// Element kinds the heuristics distinguish; everything else is `Inline` or `Block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    Text,
    Html,
    Head,
    Body,
    Title,
    Meta,
    Link,
    Time,
    A,
    Br,
    P,
    H(u8),
    Li,
    Dt,
    Dd,
    Blockquote,
    Pre,
    Cell,
    Article,
    Main,
    Nav,
    Header,
    Footer,
    Aside,
    Form,
    Button,
    Figure,
    Figcaption,
    Table,
    List,
    /// Other block containers (div, section, …).
    Block,
    /// Inline elements whose text flows into the surrounding block.
    Inline,
    /// Elements that never hold article text (label, legend, dialog, …).
    Junk,
}

impl Tag {
    fn from_name(name: &str) -> Tag {
        match name {
            "html" => Tag::Html,
            "head" => Tag::Head,
            "body" => Tag::Body,
            "title" => Tag::Title,
            "meta" => Tag::Meta,
            "link" => Tag::Link,
            "time" => Tag::Time,
            "a" => Tag::A,
            "br" => Tag::Br,
            "p" => Tag::P,
            "h1" => Tag::H(1),
            "h2" => Tag::H(2),
            "h3" => Tag::H(3),
            "h4" => Tag::H(4),
            "h5" => Tag::H(5),
            "h6" => Tag::H(6),
            "li" => Tag::Li,
            "dt" => Tag::Dt,
            "dd" => Tag::Dd,
            "blockquote" => Tag::Blockquote,
            "pre" => Tag::Pre,
            "td" | "th" => Tag::Cell,
            "article" => Tag::Article,
            "main" => Tag::Main,
            "nav" | "menu" => Tag::Nav,
            "header" => Tag::Header,
            "footer" => Tag::Footer,
            "aside" => Tag::Aside,
            "form" => Tag::Form,
            "button" => Tag::Button,
            "figure" => Tag::Figure,
            "figcaption" => Tag::Figcaption,
            "table" => Tag::Table,
            "ul" | "ol" | "dl" => Tag::List,
            "div" | "section" | "center" | "details" | "summary" | "address" | "hgroup"
            | "fieldset" | "tbody" | "thead" | "tfoot" | "tr" | "caption" | "hr" | "picture"
            | "font-block" => Tag::Block,
            "label" | "legend" | "dialog" | "option" | "datalist" | "output" | "progress"
            | "meter" | "head-junk" => Tag::Junk,
            _ => Tag::Inline,
        }
    }

    /// Whether the element starts a new line of text.
    pub fn is_block(self) -> bool {
        !matches!(self, Tag::Text | Tag::A | Tag::Inline | Tag::Time | Tag::Br)
    }
}

/// Verdict on an element's class/id/role: what kind of chrome it announces, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chrome {
    None,
    /// Announces article content (`article-body`, `entry-content`, itemprop=articleBody).
    Content,
    Junk(super::RemovalReason),
}

pub struct Node {
    pub tag: Tag,
    pub parent: u32,
    /// One past the last descendant (pre-order), so the subtree is `self..end`.
    pub end: u32,
    pub chrome: Chrome,
    /// Hidden by its own attributes (`hidden`, `aria-hidden`, inline `display:none`); not
    /// inherited, so a hidden wrapper holding the article can be judged as a whole.
    pub hidden: bool,
    pub in_link: bool,
    /// Text nodes: byte range into [`Dom::text`].
    pub text: (u32, u32),
}

/// Attributes kept for metadata lookups (meta/link/time/html elements only).
pub struct MetaTag {
    pub tag: Tag,
    pub node: u32,
    pub attrs: Vec<(String, String)>,
}

pub struct Dom {
    pub nodes: Vec<Node>,
    pub text: String,
    pub metas: Vec<MetaTag>,
    /// Index of the `<body>` (or root) element.
    pub body: u32,
    /// Index of the element a site rule named as content, if any.
    pub forced_root: Option<u32>,
    /// Index of the first element with itemprop=articleBody, if any.
    pub article_body: Option<u32>,
}

impl Dom {
    /// `forced` is the element a site rule selected as content (compared by identity).
    pub fn build(doc: &Html, forced: Option<&scraper::node::Element>) -> Dom {
        let mut dom = Dom {
            nodes: Vec::with_capacity(2048),
            text: String::with_capacity(32 * 1024),
            metas: Vec::new(),
            body: 0,
            forced_root: None,
            article_body: None,
        };
        let root = doc.root_element();
        dom.push_element(root, u32::MAX, false, false);
        // Explicit stack of (arena index, children iterator): no recursion on input depth.
        let mut stack = vec![(0u32, root.children())];
        while let Some((parent, iter)) = stack.last_mut() {
            let parent = *parent;
            let Some(child) = iter.next() else {
                let idx = parent as usize;
                dom.nodes[idx].end = dom.nodes.len() as u32;
                stack.pop();
                continue;
            };
            let in_link = {
                let p = &dom.nodes[parent as usize];
                p.in_link || p.tag == Tag::A
            };
            let hidden = false;
            match child.value() {
                HtmlNode::Text(t) => {
                    let start = dom.text.len() as u32;
                    dom.text.push_str(t);
                    let end = dom.text.len() as u32;
                    let idx = dom.nodes.len() as u32;
                    dom.nodes.push(Node {
                        tag: Tag::Text,
                        parent,
                        end: idx + 1,
                        chrome: Chrome::None,
                        hidden,
                        in_link,
                        text: (start, end),
                    });
                }
                HtmlNode::Element(_) => {
                    if let Some(el) = ElementRef::wrap(child) {
                        let idx = dom.push_element(el, parent, hidden, in_link);
                        if forced.is_some_and(|f| std::ptr::eq(f, el.value())) {
                            dom.forced_root = Some(idx);
                        }
                        stack.push((idx, el.children()));
                    }
                }
                _ => {}
            }
        }
        dom
    }

    fn push_element(
        &mut self,
        el: ElementRef<'_>,
        parent: u32,
        hidden: bool,
        in_link: bool,
    ) -> u32 {
        let e = el.value();
        let tag = Tag::from_name(e.name());
        let idx = self.nodes.len() as u32;
        // One pass over the (few, pre-filtered) attributes instead of a lookup per name.
        let (mut class, mut id, mut role, mut itemprop) = (None, None, None, None);
        let mut hidden = hidden;
        for (k, v) in e.attrs() {
            match k {
                "class" => class = Some(v),
                "id" => id = Some(v),
                "role" => role = Some(v),
                "itemprop" => itemprop = Some(v),
                "hidden" => hidden = true,
                "aria-hidden" => hidden |= v == "true",
                _ => {}
            }
        }
        let itemprop_body = itemprop.is_some_and(|v| v.eq_ignore_ascii_case("articleBody"));
        if itemprop_body && self.article_body.is_none() {
            self.article_body = Some(idx);
        }
        let chrome = if itemprop_body {
            Chrome::Content
        } else if tag == Tag::Inline && self.in_preformatted(parent) {
            // Syntax highlighters name their spans after the code (`hljs-comment`,
            // `token comment`): words of the code, not chrome around it.
            Chrome::None
        } else {
            classify(tag, class, id, role)
        };
        if tag == Tag::Body {
            self.body = idx;
            hidden = false;
        }
        if matches!(
            tag,
            Tag::Meta | Tag::Link | Tag::Time | Tag::Html | Tag::Title
        ) || itemprop.is_some_and(|v| v.eq_ignore_ascii_case("author"))
        {
            self.metas.push(MetaTag {
                tag,
                node: idx,
                attrs: e
                    .attrs()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            });
        }
        self.nodes.push(Node {
            tag,
            parent,
            end: idx + 1,
            chrome,
            hidden,
            in_link,
            text: (0, 0),
        });
        idx
    }

    /// Whether inline content under `parent` is inside a `<pre>` (through inline elements
    /// only, such as `<code>`).
    fn in_preformatted(&self, mut parent: u32) -> bool {
        while let Some(p) = self.nodes.get(parent as usize) {
            match p.tag {
                Tag::Pre => return true,
                Tag::Inline | Tag::A => parent = p.parent,
                _ => return false,
            }
        }
        false
    }

    pub fn text_of(&self, i: usize) -> &str {
        let (s, e) = self.nodes[i].text;
        self.text.get(s as usize..e as usize).unwrap_or("")
    }

    /// All text under node `i`, whitespace collapsed.
    pub fn subtree_text(&self, i: usize) -> String {
        let end = self.nodes[i].end as usize;
        let mut s = String::new();
        for j in i..end {
            if self.nodes[j].tag == Tag::Text {
                s.push_str(self.text_of(j));
            } else if self.nodes[j].tag.is_block() || self.nodes[j].tag == Tag::Br {
                s.push(' ');
            }
        }
        super::collapse_ws(&s)
    }
}

/// Class/id/role tokens → chrome verdict. Tokens are split on non-alphanumerics, so
/// `post-tags` yields `tags`, but `commentary` is not `comment`.
pub fn classify(tag: Tag, class: Option<&str>, id: Option<&str>, role: Option<&str>) -> Chrome {
    use super::RemovalReason as R;
    if matches!(tag, Tag::Html | Tag::Body | Tag::Head) {
        return Chrome::None;
    }
    match role {
        Some("navigation" | "menu" | "menubar") => return Chrome::Junk(R::Nav),
        Some("complementary") => return Chrome::Junk(R::Related),
        Some("dialog" | "alertdialog") => return Chrome::Junk(R::Cookie),
        _ => {}
    }
    if class.is_none() && id.is_none() {
        return Chrome::None;
    }
    let mut positive = false;
    let mut junk: Option<R> = None;
    for token in class
        .into_iter()
        .chain(id)
        .flat_map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|t| !t.is_empty())
    {
        match token_verdict(token) {
            Some(Chrome::Content) => positive = true,
            Some(Chrome::Junk(r)) => junk = junk.or(Some(r)),
            _ => {}
        }
    }
    // Any chrome token wins over a content token: `post-tags`, `entry-meta` and
    // `article-related` are chrome inside the article, not the article.
    match junk {
        Some(r) => Chrome::Junk(r),
        None if positive => Chrome::Content,
        None => Chrome::None,
    }
}

/// What one class/id token (split on non-alphanumerics) announces. The pre-pass keeps only the
/// tokens for which this returns `Some`, so [`classify`] sees the same verdicts either way.
pub fn token_verdict(token: &str) -> Option<Chrome> {
    let verdict = word_verdict(token);
    if verdict.is_some() || !token.bytes().any(|b| b.is_ascii_uppercase()) {
        return verdict;
    }
    // camelCase names (`relatedArticle`, `BorlabsCookie`): a chrome word among the parts
    // counts; a content word does not (`mainContentAd` is an ad slot, not the article).
    let b = token.as_bytes();
    let mut start = 0;
    for i in 1..=b.len() {
        if i == b.len() || (b[i].is_ascii_uppercase() && b[i - 1].is_ascii_lowercase()) {
            if let Some(Chrome::Junk(r)) = word_verdict(&token[start..i])
                && i - start >= 4
            {
                return Some(Chrome::Junk(r));
            }
            start = i;
        }
    }
    None
}

fn word_verdict(token: &str) -> Option<Chrome> {
    use super::RemovalReason as R;
    // Numbered instances (`comments18`, `sidebar2`) say what their stem says.
    let stem = token.trim_end_matches(|c: char| c.is_ascii_digit());
    let word = if stem.len() >= 3 { stem } else { token };
    // Every word below is short: longer tokens (hashed CSS-module names, long BEM chains) are
    // rejected at once, and the others are lower-cased on the stack when they need it.
    const LONGEST: usize = 32;
    if word.len() > LONGEST {
        return None;
    }
    let mut buf = [0u8; LONGEST];
    let t = if word.bytes().any(|b| b.is_ascii_uppercase()) {
        let buf = &mut buf[..word.len()];
        buf.copy_from_slice(word.as_bytes());
        buf.make_ascii_lowercase();
        let Ok(t) = std::str::from_utf8(buf) else {
            return None;
        };
        t
    } else {
        word
    };
    let junk = match t {
        "articlebody" | "article" | "content" | "entry" | "post" | "story" | "body" | "text"
        | "main" | "prose" | "richtext" | "blogpost" | "postbody" | "storycontent"
        | "articletext" => return Some(Chrome::Content),
        "comment" | "comments" | "disqus" | "respond" | "replies" | "commentlist" => R::Comments,
        "share" | "sharing" | "social" | "sharedaddy" | "addthis" | "sociallinks" | "shares"
        | "sharebar" => R::Share,
        "related" | "relatedposts" | "recommended" | "recommendations" | "mostread" | "popular"
        | "trending" | "outbrain" | "taboola" | "readmore" | "morestories" | "relatedlinks"
        | "nextstory" | "recent" | "linklist" | "linkbox" => R::Related,
        "newsletter" | "subscribe" | "subscription" | "signup" | "donate" | "donation"
        | "paywall" | "promo" | "cta" | "membership" | "support" => R::Promo,
        // Not "skip": besides skip links, templates name whole article sections `skip-item`.
        "nav" | "navbar" | "navigation" | "menu" | "breadcrumb" | "breadcrumbs" | "pagination"
        | "pager" | "toolbar" | "masthead" => R::Nav,
        // Not "widget": page builders (Elementor) wrap every paragraph in one.
        "footer" | "sidebar" | "aside" => R::Nav,
        // Not "tag": WordPress puts `tag-<slug>` on the article element itself.
        "tags" | "tagged" | "tagcloud" | "keywords" | "categories" | "topics" => R::Tags,
        "author" | "bio" | "authorbox" | "authorbio" | "contributor" | "about" | "saboxplugin" => {
            R::Bio
        }
        "byline" | "meta" | "postmeta" | "entrymeta" | "dateline" | "postmetadata" | "metadata"
        | "ratings" => R::Byline,
        // Not "published"/"updated": CMSs put publication-state flags on the content itself.
        "date" | "time" | "timestamp" | "pubdate" => R::Date,
        "caption" | "credit" | "credits" | "photocredit" | "figcaption" => R::Caption,
        "ad" | "ads" | "advert" | "advertisement" | "adsbygoogle" | "banner" | "sponsored"
        | "dfp" | "affiliate" | "disclosure" => R::Ad,
        "cookie" | "cookies" | "consent" | "gdpr" | "popup" | "modal" | "overlay" | "pum"
        | "popmake" => R::Cookie,
        _ => return None,
    };
    Some(Chrome::Junk(junk))
}
