//! Behaviour tests of the extractor on small hand-written pages: one per class of leftover
//! chrome (issue 13) and the site memory.

use super::*;

fn ex() -> Extractor {
    Extractor::new(&ExtractConfig::default()).unwrap()
}

const WORDS: [&str; 12] = [
    "harbour", "council", "orchard", "railway", "library", "festival", "bridge", "market",
    "hospital", "museum", "stadium", "ferry",
];

/// Page `n` of a local news site: its own headline and three paragraphs of its own, and the
/// furniture every page of the site repeats inside the article container (a podcast promo and
/// a rail of four teaser links).
fn site_page(n: usize) -> String {
    let w = |k: usize| WORDS[(n * 5 + k * 7) % WORDS.len()];
    format!(
        "<html><head><title>{a} {b} news</title></head><body>\
         <div class=top><a href=/>Home</a> <a href=/local>Local</a></div>\
         <article><h1>The {a} and the {b}, story {n}</h1>\
         <p>Residents met on Tuesday to discuss the {a} plan, which the {b} committee had sent back \
         twice before, and story {n} follows what they decided after a long evening of debate.</p>\
         <p>The {c} group asked for more time, saying that the {a} had not been consulted properly, \
         while supporters of the {b} said every delay raised the cost for everyone in town.</p>\
         <div class=box><p>Our podcast returns every Tuesday with the week's best interviews, \
         a quiz and your letters, wherever you listen.</p></div>\
         <p>A final vote on the {c} is expected next month; story {n} will be updated then.</p>\
         <ul class=rail><li><a href=/x1>Harbour ferry timetable changes for winter</a></li>\
         <li><a href=/x2>Library extends its opening hours on Sundays</a></li>\
         <li><a href=/x3>Market traders welcome new parking rules</a></li>\
         <li><a href=/x4>Museum shows a century of local photographs</a></li></ul>\
         </article></body></html>",
        a = w(0),
        b = w(1),
        c = w(2),
    )
}

#[test]
fn site_memory_drops_a_hosts_repeated_promo_and_rail_and_no_other_hosts() {
    let ex = ex();
    let memory = SiteMemory::new();
    let url = |n: usize| url::Url::parse(&format!("https://www.local.example/news/{n}")).unwrap();
    // Without a memory, the promo and the rail are part of the article.
    let plain = ex.extract(&site_page(10), Some(&url(10))).unwrap();
    let text = plain.body_text();
    assert!(
        text.contains("Our podcast returns") && text.contains("Museum shows"),
        "{text}"
    );
    for n in 0..10 {
        let page = ex
            .extract_with(&site_page(n), Some(&url(n)), Some(&memory))
            .unwrap();
        assert_eq!(page.host.as_deref(), Some("local.example"));
        memory.observe("local.example", &page);
    }
    let page = ex
        .extract_with_explained(&site_page(10), Some(&url(10)), Some(&memory))
        .unwrap();
    let text = page.article.body_text();
    assert!(!text.contains("Our podcast"), "{text}");
    assert!(!text.contains("Harbour ferry timetable"), "{text}");
    assert!(!text.contains("Museum shows"), "{text}");
    assert!(text.contains("Residents met on Tuesday"), "{text}");
    assert!(text.contains("A final vote"), "{text}");
    assert_eq!(page.article.blocks.len(), 3, "{text}");
    // --explain names the memory's evidence.
    let named = page
        .removed
        .iter()
        .find(|r| r.text.starts_with("Our podcast returns"))
        .expect("the promo is reported");
    assert_eq!(
        named.reason.to_string(),
        "site chrome: seen on 10 of the last 10 pages of this host"
    );
    // The same page served by another host is not touched by local.example's memory.
    let other = url::Url::parse("https://other.example/news/10").unwrap();
    let page = ex
        .extract_with(&site_page(10), Some(&other), Some(&memory))
        .unwrap();
    assert_eq!(page.article, plain);
}

#[test]
fn fingerprint_leaves_out_blocks_the_host_repeats() {
    let ex = ex();
    let memory = SiteMemory::new();
    let url = url::Url::parse("https://local.example/a").unwrap();
    // Four pages are too few for the memory to drop the promo, but enough to keep it out of
    // the fingerprint: two different articles sharing it must not look alike.
    for n in 0..4 {
        let page = ex
            .extract_with(&site_page(n), Some(&url), Some(&memory))
            .unwrap();
        // A block on two earlier pages may be one article stored twice: still fingerprinted.
        assert_eq!(page.fingerprint.iter().all(|&f| f), n < 3, "page {n}");
        memory.observe("local.example", &page);
    }
    let page = ex
        .extract_with(&site_page(7), Some(&url), Some(&memory))
        .unwrap();
    assert!(page.article.body_text().contains("Our podcast returns"));
    let fp = page.fingerprint_text();
    assert!(!fp.contains("Our podcast returns"), "{fp}");
    assert!(!fp.contains("Library extends"), "{fp}");
    assert!(fp.contains("Residents met on Tuesday"), "{fp}");
    // Without a memory the fingerprint is the body.
    let page = ex.extract_with(&site_page(7), Some(&url), None).unwrap();
    assert_eq!(page.fingerprint_text(), page.article.body_text());
}

#[test]
fn memory_never_empties_a_page() {
    // The same article served ten times: everything recurs, and it must still come out whole.
    let ex = ex();
    let memory = SiteMemory::new();
    let url = url::Url::parse("https://local.example/same").unwrap();
    for _ in 0..10 {
        let page = ex
            .extract_with(&site_page(3), Some(&url), Some(&memory))
            .unwrap();
        memory.observe("local.example", &page);
    }
    let page = ex
        .extract_with(&site_page(3), Some(&url), Some(&memory))
        .unwrap();
    assert!(
        page.article
            .body_text()
            .contains("Residents met on Tuesday")
    );
}

/// Paragraphs of a short article (about 120 words), distinct enough to be checked one by one.
const STORY: [&str; 3] = [
    "The town council voted on Monday to keep the old harbour bridge open to cyclists, \
     reversing a plan that would have closed it for two years of repairs.",
    "Engineers said the repairs can be done one lane at a time, which will slow traffic \
     but keeps the only crossing in the east of the town usable for everyone.",
    "Work is due to start in March, and the council will publish a timetable for each \
     stage of the repairs on its website before the end of the year.",
];

fn story_html() -> String {
    STORY.iter().map(|p| format!("<p>{p}</p>")).collect()
}

fn assert_story_only(text: &str) {
    for p in STORY {
        assert!(text.contains(p), "lost {p:?} in:\n{text}");
    }
}

#[test]
fn class1_short_article_beats_a_longer_comment_thread() {
    let comment = |who: &str, n: usize| {
        format!(
            "<div><p><b>{who}</b> 12 May 2024 at 10:{n:02}</p><p>I have crossed that bridge every \
             morning for twenty years and I think closing it would have been a disaster for the \
             shops on the east side, so I am glad the council listened to us this time, \
             although the repairs will still be a pain for months. Comment {n} of many.</p></div>"
        )
    };
    let comments: String = (0..6).map(|n| comment("Anna", n)).collect();
    let html = format!(
        "<html><body><div><h1>Harbour bridge stays open</h1>{}</div>\
         <div><h3>6 Comments</h3>{comments}</div></body></html>",
        story_html()
    );
    let (art, removed) = ex().extract_explained(&html, None).unwrap();
    let text = art.body_text();
    assert_story_only(&text);
    assert!(!text.contains("twenty years"), "{text}");
    assert!(removed.iter().any(|r| r.reason == RemovalReason::Comments));
}

#[test]
fn class2_teaser_rail_after_a_short_article_goes() {
    let card = |n: usize| {
        format!(
            "<h3><a href=/s{n}>Another story number {n} from the newsroom</a></h3>\
             <p>The lede of teaser {n}, a sentence or two that sells the story behind the link.</p>"
        )
    };
    let cards: String = (0..8).map(card).collect();
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <h2>More from the newsroom</h2>{cards}</article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("teaser"), "{text}");
    assert!(!text.contains("Another story"), "{text}");
}

#[test]
fn class3_metadata_printed_as_text_and_a_hidden_copy_go() {
    let copy: String = STORY.concat();
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <div><span>2024-05-12T10:00:00+02:00</span> <span>https://news.example/img/bridge.jpg</span> \
         <span>1200</span> <span>800</span></div>\
         <div style=\"display: none\">{copy} {copy}</div></article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("2024-05-12T10"), "{text}");
    assert_eq!(text.matches("The town council voted").count(), 1, "{text}");
}

#[test]
fn class4_furniture_that_is_not_prose_goes() {
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>\
         <p>Advert</p>{}\
         <p>[button link=\"/subscribe\" style=\"big\"]Subscribe to the Courier[/button]</p>\
         <p>This slideshow requires JavaScript.</p>\
         <p>&lt;img src=\"https://news.example/a.jpg\" alt=\"bridge\"&gt;</p>\
         <div><h4>Privacy Overview</h4><p>This website uses cookies to improve your experience \
         while you navigate through the website. Necessary cookies are absolutely essential for \
         the website to function properly.</p></div></article></body></html>",
        story_html()
    );
    let (art, removed) = ex().extract_explained(&html, None).unwrap();
    let text = art.body_text();
    assert_story_only(&text);
    for gone in [
        "Advert",
        "[button",
        "slideshow",
        "<img",
        "cookies",
        "Privacy Overview",
    ] {
        assert!(!text.contains(gone), "{gone:?} left in:\n{text}");
    }
    // --explain accounts for each of them.
    for gone in [
        "Advert",
        "[button",
        "slideshow",
        "<img",
        "Necessary cookies",
    ] {
        assert!(
            removed.iter().any(|r| r.text.contains(gone)),
            "{gone:?} not explained: {removed:?}"
        );
    }
}

#[test]
fn class5_inline_read_also_box_does_not_end_the_article() {
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <h3>Read also</h3>\
         <p><a href=/a>Ferry timetable changes for the winter</a></p>\
         <p><a href=/b>New cycle lanes on the ring road</a></p>\
         <p>Cyclists welcomed the decision, and their association said it would help the \
         council plan detours for the weeks when one lane of the bridge is closed.</p>\
         <p>The mayor thanked residents for their patience and promised regular updates on \
         the progress of the works, starting with a public meeting in February.</p>\
         </article></body></html>",
        story_html()
    );
    let (art, removed) = ex().extract_explained(&html, None).unwrap();
    let text = art.body_text();
    assert_story_only(&text);
    assert!(text.contains("Cyclists welcomed the decision"), "{text}");
    assert!(text.contains("The mayor thanked residents"), "{text}");
    assert!(!text.contains("Ferry timetable"), "{text}");
    assert!(
        removed
            .iter()
            .any(|r| r.reason == RemovalReason::Related && r.text == "Read also")
    );
}

#[test]
fn camel_case_class_names_are_read_word_by_word() {
    use super::dom::{Chrome, token_verdict};
    assert_eq!(
        token_verdict("relatedArticle"),
        Some(Chrome::Junk(RemovalReason::Related))
    );
    assert_eq!(
        token_verdict("BorlabsCookie"),
        Some(Chrome::Junk(RemovalReason::Cookie))
    );
    // A content word inside a name does not make the element the article, and words shorter
    // than four letters are too ambiguous inside a compound (`BioCard`, `mainDiv`).
    assert_eq!(token_verdict("mainContentWrapper"), None);
    assert_eq!(token_verdict("BioCardV2"), None);
    // The page: a related box named in camelCase inside the article goes.
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <div class=\"relatedArticle\"><p>Ferry timetable changes for the winter months, \
         with fewer crossings at night and a new stop at the marina.</p></div>\
         </article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("Ferry timetable"), "{text}");
}

#[test]
fn class1_short_article_beats_a_longer_sidebar_of_links() {
    let links: String = (0..20)
        .map(|n| {
            format!(
                "<li><a href=/n{n}>Headline number {n} about the town's roads, schools and \
                 the long argument over the new ferry terminal</a></li>"
            )
        })
        .collect();
    let html = format!(
        "<html><body><div><h1>Harbour bridge stays open</h1>{}</div>\
         <div><h3>Latest news</h3><ul>{links}</ul></div></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("Headline number"), "{text}");
}

#[test]
fn class2_teaser_grid_before_the_article_and_you_may_also_like_go() {
    let card = |n: usize| {
        format!(
            "<div><h3><a href=/t{n}>Teaser headline {n} from the front page</a></h3>\
             <p><a href=/t{n}>A lede that sells story {n} in a sentence or two.</a></p></div>"
        )
    };
    let grid: String = (0..6).map(card).collect();
    let more: String = (6..10).map(card).collect();
    let html = format!(
        "<html><body><div>{grid}</div><article><h1>Harbour bridge stays open</h1>{}\
         <h2>You may also like</h2>{more}</article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("Teaser headline"), "{text}");
    assert!(!text.contains("sells story"), "{text}");
    assert!(!text.contains("You may also like"), "{text}");
}

/// A teaser card: a linked headline and a short lede, in a container of its own.
fn teaser_card(n: usize) -> String {
    format!(
        "<div class=item><h2><a href=/s{n}>Another story number {n} from the newsroom</a></h2>\
         <p>The lede of teaser {n}, a sentence or two that sells the story behind the link to \
         readers who have finished this one.</p><span>Dec {n}, 2025</span></div>"
    )
}

#[test]
fn class2_a_grid_of_teaser_cards_beside_the_article_goes() {
    // The grid sits in its own container next to the article's: its ledes read as prose, and
    // without the card shape the root would be the wrapper that holds both.
    let cards: String = (0..4).map(teaser_card).collect();
    let html = format!(
        "<html><body><div id=content><div class=post><h1>Harbour bridge stays open</h1>{}{}</div>\
         <div class=post-grid>{cards}</div></div></body></html>",
        story_html(),
        story_html().replace(
            "</p>",
            " It was the second vote on the bridge this year.</p>"
        )
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("teaser"), "{text}");
    assert!(!text.contains("Another story"), "{text}");
}

#[test]
fn a_roundup_of_cards_after_its_introduction_stays() {
    // The same cards continuing the paragraphs of their container are the article: a roundup
    // ("ten projects for your home") whose items link out.
    let cards: String = (0..6).map(teaser_card).collect();
    let html = format!(
        "<html><body><div class=sidebar><p>Welcome to the blog, where we share stories and \
         projects from the harbour town every week of the year.</p></div>\
         <div class=entry-content>{}<div class=list>{cards}</div></div></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    for n in 0..6 {
        assert!(text.contains(&format!("The lede of teaser {n},")), "{text}");
    }
}

#[test]
fn the_article_ends_with_its_own_container() {
    // The wrapper scores best because a bio and a sign-up box beside the article read as
    // prose; the article is the container holding most of it, and what follows it goes. The
    // standfirst before the body, in a container of its own, stays.
    let body: String = (0..9)
        .map(|k| format!("<p>{} Paragraph {k} of the body.</p>", STORY[k % 3]))
        .collect();
    let html = format!(
        "<html><body><div class=wrap>\
         <div class=standfirst><p>The harbour bridge will stay open to cyclists during two years \
         of repairs, the council decided.</p></div>\
         <div class=text>{body}</div>\
         <div class=writer><p>Jane Doe is a reporter who has covered the town council and its \
         budgets for the paper since 2015.</p></div>\
         <div class=box><p>Get the morning briefing, the five stories everyone in town will be \
         talking about, every weekday before seven.</p></div>\
         </div></body></html>"
    );
    let ex = ex();
    let text = ex.extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(text.contains("will stay open to cyclists during"), "{text}");
    assert!(!text.contains("Jane Doe"), "{text}");
    assert!(!text.contains("morning briefing"), "{text}");
    // --explain accounts for the cut blocks.
    let (_, removed) = ex.extract_explained(&html, None).unwrap();
    assert!(
        removed
            .iter()
            .any(|r| r.reason == RemovalReason::Outside && r.text.contains("Jane Doe")),
        "{removed:?}"
    );
}

#[test]
fn class3_a_second_copy_in_other_markup_goes() {
    // A hidden "copy as Markdown" of the whole article: the same words with emphasis marks
    // and link targets between them, printed as one block after the article.
    let paragraphs: Vec<String> = (0..20)
        .map(|k| format!("{} Section {k} adds its own closing words.", STORY[k % 3]))
        .collect();
    let html_body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    let markdown: String = paragraphs
        .iter()
        .enumerate()
        .map(|(k, p)| {
            // Emphasis on the second word: no paragraph's opening survives verbatim.
            let (first, rest) = p.split_once(' ').unwrap();
            let (second, rest) = rest.split_once(' ').unwrap();
            format!("## Part {k} {first} **{second}** {rest} ")
        })
        .collect();
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{html_body}\
         <div>{markdown}</div></article></body></html>"
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert_eq!(
        text.matches("The town council voted").count(),
        7,
        "one copy of each paragraph: {text}"
    );
    assert!(!text.contains("**"), "{text}");
}

#[test]
fn class4_template_filler_text_goes() {
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <div><h3>Heading Line</h3><p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, \
         sed do eiusmod tempor.</p></div></article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(!text.contains("Lorem"), "{text}");
}

#[test]
fn highlighted_code_keeps_its_comments() {
    // Syntax highlighters class their spans after the code (`hljs-comment`): not a comment
    // thread.
    let html = format!(
        "<html><body><article><h1>Harbour bridge stays open</h1>{}\
         <pre><code class=\"language-bash hljs\"><span class=\"hljs-comment\"># fetch the \
         council's timetable for the repairs</span>\ncurl -O https://council.example/t.csv\n\
         <span class=\"token comment\">// and print it</span></code></pre></article></body></html>",
        story_html()
    );
    let text = ex().extract(&html, None).unwrap().body_text();
    assert_story_only(&text);
    assert!(text.contains("# fetch the council's timetable"), "{text}");
    assert!(text.contains("// and print it"), "{text}");
}
