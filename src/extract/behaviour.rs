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
