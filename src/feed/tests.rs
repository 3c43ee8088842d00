use super::*;

const BASE: &str = "http://127.0.0.1:8080";

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn parse(body: impl AsRef<[u8]>) -> Result<ParsedFeed, FeedError> {
    parse_feed(
        body.as_ref(),
        None,
        &url("https://news.example.org/feeds/main.xml"),
        100,
    )
}

fn links(feed: &ParsedFeed) -> Vec<&str> {
    feed.items.iter().map(|i| i.link.as_str()).collect()
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.items
        .iter()
        .map(|i| i.title.as_deref().unwrap_or(""))
        .collect()
}

/// The seed site's feeds, with `{{BASE_URL}}` substituted as the integration tests serve them.
fn seed_feed(name: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = [
        "fixtures/seed-site/site/feeds",
        "../shared/fixtures/seed-site/site/feeds",
    ]
    .iter()
    .map(|d| root.join(d))
    .find(|d| d.is_dir())
    .expect("seed-site fixtures not found next to the crate or in ../shared");
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    text.replace("{{BASE_URL}}", BASE).into_bytes()
}

fn parse_seed(name: &str) -> ParsedFeed {
    parse_feed(
        &seed_feed(name),
        None,
        &url(&format!("{BASE}/feeds/{name}")),
        100,
    )
    .unwrap()
}

fn rss(items: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>"#
    )
}

fn atom(entries: &str) -> String {
    format!(
        r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>{entries}</feed>"#
    )
}

#[test]
fn seed_rss_has_five_items_in_document_order_and_a_ttl() {
    let feed = parse_seed("sahel.xml");
    assert_eq!(feed.title.as_deref(), Some("Sahel News Roundup"));
    assert_eq!(feed.ttl_mins, Some(30));
    assert_eq!(feed.items.len(), 5);
    let first = &feed.items[0];
    // Tracking parameters are kept: canonicalisation belongs to the article stage.
    assert_eq!(
        first.link.as_str(),
        "http://127.0.0.1:8080/articles/russia-burkina-faso-strategic-ties.html?utm_source=rss&utm_medium=feed"
    );
    assert_eq!(
        first.guid.as_deref(),
        Some("sahel-russia-burkina-faso-strategic-ties")
    );
    assert_eq!(
        first.published.unwrap().to_rfc3339(),
        "2025-06-02T09:15:00+00:00"
    );
    let guids: Vec<&str> = feed
        .items
        .iter()
        .filter_map(|i| i.guid.as_deref())
        .collect();
    assert_eq!(
        guids,
        [
            "sahel-russia-burkina-faso-strategic-ties",
            "sahel-traore-moscow-visit",
            "sahel-burkina-faso-russia-instructors",
            "sahel-russia-strengthens-presence-burkina-faso",
            "sahel-burkina-faso-further-russian-assistance",
        ]
    );
    assert_eq!(
        titles(&feed)[1],
        "Traoré's Moscow visit: Burkina Faso seeks help with military industry and youth training"
    );
}

#[test]
fn seed_atom_has_two_entries_dated_by_updated() {
    let feed = parse_seed("wire.atom");
    assert_eq!(feed.title.as_deref(), Some("Sahel Wire"));
    assert_eq!(feed.ttl_mins, None);
    assert_eq!(
        links(&feed),
        [
            "http://127.0.0.1:8080/articles/wire-lavrov-instructors.html",
            "http://127.0.0.1:8080/articles/wire-russia-burkina-ties.html",
        ]
    );
    assert_eq!(
        feed.items[1].guid.as_deref(),
        Some("urn:sahelwire:wire-russia-burkina-ties")
    );
    assert_eq!(
        feed.items[1].published.unwrap().to_rfc3339(),
        "2025-06-03T06:20:00+00:00"
    );
}

#[test]
fn seed_json_feed_has_one_item() {
    let feed = parse_seed("digest.json");
    assert_eq!(feed.title.as_deref(), Some("Weekly Digest"));
    assert_eq!(
        links(&feed),
        [
            "http://127.0.0.1:8080/articles/traore-moscow-visit.html?utm_campaign=digest&utm_source=newsletter#top"
        ]
    );
    assert_eq!(feed.items[0].guid.as_deref(), Some("digest-1"));
}

#[test]
fn well_formed_feeds_pass_the_repairs_unchanged() {
    for name in ["sahel.xml", "wire.atom"] {
        let body = seed_feed(name);
        let text = std::str::from_utf8(&body).unwrap();
        let decoded = decode::to_utf8(&body, Some("application/rss+xml; charset=utf-8"), None);
        assert!(matches!(decoded, Cow::Borrowed(_)));
        let repaired =
            repair::fix_references(repair::strip_controls(decode::declare_utf8(decoded)));
        assert!(
            matches!(repaired, Cow::Borrowed(t) if t == text),
            "{name} was rewritten"
        );
    }
}

#[test]
fn rss_1_and_unversioned_rss_parse() {
    let rdf = r#"<?xml version="1.0"?>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
          <channel rdf:about="https://example.org/"><title>R</title><link>https://example.org/</link></channel>
          <item rdf:about="https://example.org/1"><title>One</title><link>https://example.org/1</link></item>
        </rdf:RDF>"#;
    assert_eq!(links(&parse(rdf).unwrap()), ["https://example.org/1"]);
    let item =
        "<channel><item><title>x</title><link>https://example.org/x</link></item></channel></rss>";
    for root in [
        "<rss>",
        "<rss version=\"0.94\">",
        "<rss xmlns:dc=\"http://purl.org/dc/elements/1.1/\" version='2.01'>",
    ] {
        let feed = parse(format!("{root}{item}")).unwrap_or_else(|e| panic!("{root}: {e}"));
        assert_eq!(links(&feed), ["https://example.org/x"], "{root}");
    }
    // Both repairs at once: no version and truncated.
    let body = format!("<rss>{}<item><title>y</ti", &item[..item.len() - 16]);
    assert_eq!(links(&parse(body).unwrap()), ["https://example.org/x"]);
}

#[test]
fn relative_links_are_resolved_against_the_feed_url_and_xml_base() {
    let feed = parse(rss(
        "<item><link>/a/1.html</link></item><item><link> b/2.html </link></item>",
    ))
    .unwrap();
    assert_eq!(
        links(&feed),
        [
            "https://news.example.org/a/1.html",
            "https://news.example.org/feeds/b/2.html"
        ]
    );

    let feed = parse(atom(
        r#"<entry xml:base="https://cdn.example.net/posts/"><id>1</id><link href="x.html"/></entry>
           <entry><id>2</id><link href="../y.html"/></entry>"#,
    ))
    .unwrap();
    assert_eq!(
        links(&feed),
        [
            "https://cdn.example.net/posts/x.html",
            "https://news.example.org/y.html"
        ]
    );

    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"/j/1"}]}"#;
    assert_eq!(
        links(&parse(json).unwrap()),
        ["https://news.example.org/j/1"]
    );
}

#[test]
fn atom_prefers_alternate_links() {
    let feed = parse(atom(
        r#"<entry><id>1</id>
             <link rel="self" href="https://api.example.org/1"/>
             <link rel="replies" href="https://example.org/1#comments"/>
             <link rel="alternate" type="application/pdf" href="https://example.org/1.pdf"/>
             <link rel="alternate" type="text/html" href="https://example.org/1.html"/></entry>
           <entry><id>2</id><link rel="related" href="https://other.example/story"/></entry>
           <entry><id>3</id><link rel="enclosure" href="https://example.org/3.mp3"/></entry>"#,
    ))
    .unwrap();
    assert_eq!(
        links(&feed),
        ["https://example.org/1.html", "https://other.example/story"]
    );
}

#[test]
fn items_without_a_usable_link_are_skipped() {
    let feed = parse(rss(r#"
        <item><title>mail</title><link>mailto:desk@example.org</link></item>
        <item><title>js</title><link>javascript:alert(1)</link></item>
        <item><title>none</title><description>no link</description></item>
        <item><title>comments only</title><comments>https://example.org/c</comments></item>
        <item><title>permalink guid</title><guid>https://example.org/p/7</guid></item>
        <item><title>ok</title><link>https://example.org/ok</link></item>"#))
    .unwrap();
    assert_eq!(titles(&feed), ["permalink guid", "ok"]);
    assert_eq!(
        links(&feed),
        ["https://example.org/p/7", "https://example.org/ok"]
    );
}

#[test]
fn json_attachments_are_not_article_links() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"P","items":[
        {"id":"1","attachments":[{"url":"https://cdn.example.org/1.mp3","mime_type":"audio/mpeg"}]},
        {"id":"2","url":"https://example.org/2","attachments":[{"url":"https://cdn.example.org/2.mp3","mime_type":"audio/mpeg"}]}]}"#;
    assert_eq!(links(&parse(json).unwrap()), ["https://example.org/2"]);
}

#[test]
fn missing_ids_stay_none_instead_of_generated_ones() {
    let feed = parse(rss(
        "<item><title>a</title><link>https://example.org/a</link></item>",
    ))
    .unwrap();
    assert_eq!(feed.items[0].guid, None);
    let feed = parse(atom(
        r#"<entry><title>b</title><link href="https://example.org/b"/></entry>"#,
    ))
    .unwrap();
    assert_eq!(feed.items[0].guid, None);
    let json = r#"{"version":"https://jsonfeed.org/version/1","title":"J","items":[{"url":"https://example.org/c"}]}"#;
    assert_eq!(parse(json).unwrap().items[0].guid, None);
}

#[test]
fn cap_keeps_the_newest_undated_last_and_returns_document_order() {
    let item = |n: u32, date: &str| {
        format!("<item><title>{n}</title><link>https://example.org/{n}</link>{date}</item>")
    };
    let body = rss(&[
        item(1, ""),
        item(2, "<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>"),
        item(3, "<pubDate>Wed, 03 Jan 2024 10:00:00 GMT</pubDate>"),
        item(4, ""),
        item(5, "<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>"),
    ]
    .concat());
    let feed_url = url("https://example.org/rss");
    let all = parse_feed(body.as_bytes(), None, &feed_url, 10).unwrap();
    assert_eq!(titles(&all), ["1", "2", "3", "4", "5"]);
    let capped = parse_feed(body.as_bytes(), None, &feed_url, 2).unwrap();
    assert_eq!(titles(&capped), ["3", "5"]);
    let capped = parse_feed(body.as_bytes(), None, &feed_url, 4).unwrap();
    assert_eq!(
        titles(&capped),
        ["1", "2", "3", "5"],
        "undated items are the first to go"
    );
}

#[test]
fn duplicate_links_collapse_to_the_newest_item() {
    let body = rss(r#"
        <item><title>old</title><link>https://example.org/x</link><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item>
        <item><title>other</title><link>https://example.org/y</link></item>
        <item><title>new</title><link>https://example.org/x</link><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>"#);
    assert_eq!(titles(&parse(body).unwrap()), ["other", "new"]);
}

#[test]
fn authors_are_joined() {
    let feed = parse(atom(
        r#"<entry><id>1</id><link href="https://example.org/1"/><author><name>Ann</name></author><author><name> Bo </name></author></entry>"#,
    ))
    .unwrap();
    assert_eq!(feed.items[0].author.as_deref(), Some("Ann, Bo"));
}

#[test]
fn bare_ampersands_and_html_entities_are_repaired() {
    let body = rss(
        r#"<item><title>Tom & Jerry&nbsp;&mdash; caf&eacute; AT&T; &bogus; &#233;&amp;</title>
        <link>https://example.org/a?x=1&y=2</link></item>
        <item><title><![CDATA[Raw & kept &nbsp;]]></title><link>https://example.org/b</link></item>"#,
    );
    let feed = parse(body).unwrap();
    assert_eq!(
        titles(&feed),
        ["Tom & Jerry — café AT&T; &bogus; é&", "Raw & kept &nbsp;"]
    );
    assert_eq!(feed.items[0].link.as_str(), "https://example.org/a?x=1&y=2");
    let atom_body = atom(
        r#"<entry><id>1</id><title>R&D</title><link href="https://example.org/?a=1&b=2"/></entry>"#,
    );
    assert_eq!(
        links(&parse(atom_body).unwrap()),
        ["https://example.org/?a=1&b=2"]
    );
}

#[test]
fn control_characters_and_illegal_references_are_dropped() {
    let body = rss(
        "<item><title>A\u{1}B\u{8}C&#0;&#x1B;D\tE</title><link>https://example.org/a</link></item>",
    );
    assert_eq!(titles(&parse(body).unwrap()), ["ABCD E"]);
}

#[test]
fn a_stray_invalid_byte_in_utf8_is_read_as_latin1() {
    let mut body =
        rss("<item><title>Traoré: X</title><link>https://example.org/a</link></item>").into_bytes();
    let at = body.windows(2).position(|w| w == b"X<").unwrap();
    body.splice(at..at + 1, [b'c', b'a', b'f', 0xe9]);
    assert_eq!(titles(&parse(&body).unwrap()), ["Traoré: café"]);
}

#[test]
fn latin1_declared_as_utf8_is_not_mojibake() {
    let text =
        rss("<item><title>Traoré à Moscou, été</title><link>https://example.org/a</link></item>");
    let (latin1, _, _) = encoding_rs::WINDOWS_1252.encode(&text);
    let expect = ["Traoré à Moscou, été"];
    assert_eq!(titles(&parse(&*latin1).unwrap()), expect);
    let feed_url = url("https://example.fr/rss");
    let feed = parse_feed(&latin1, Some("text/xml; charset=UTF-8"), &feed_url, 10).unwrap();
    assert_eq!(titles(&feed), expect);
}

#[test]
fn utf8_declared_as_latin1_is_not_mojibake() {
    let text =
        rss("<item><title>Traoré — «Moscou»</title><link>https://example.org/a</link></item>")
            .replace("UTF-8", "ISO-8859-1");
    let expect = ["Traoré — «Moscou»"];
    assert_eq!(titles(&parse(&text).unwrap()), expect);
    let feed_url = url("https://example.fr/rss");
    let feed = parse_feed(
        text.as_bytes(),
        Some("application/rss+xml; charset=\"iso-8859-1\""),
        &feed_url,
        10,
    )
    .unwrap();
    assert_eq!(titles(&feed), expect);
}

#[test]
fn legacy_charsets_are_decoded_by_label_bom_or_detection() {
    let text =
        rss("<item><title>Новости дня: Москва</title><link>https://example.org/a</link></item>");
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    let expect = ["Новости дня: Москва"];
    let feed_url = url("https://news.example.ru/rss");
    let labelled = parse_feed(
        &cp1251,
        Some("text/xml; charset=windows-1251"),
        &feed_url,
        10,
    )
    .unwrap();
    assert_eq!(titles(&labelled), expect);
    // Declared UTF-8, actually Windows-1251: detection, not Latin-1 mojibake.
    assert_eq!(
        titles(&parse_feed(&cp1251, None, &feed_url, 10).unwrap()),
        expect
    );

    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(
        text.replace("UTF-8", "UTF-16")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    assert_eq!(titles(&parse(&utf16).unwrap()), expect);
}

#[test]
fn truncated_feeds_keep_their_complete_items() {
    let full = rss(&(1..=3)
        .map(|n| format!("<item><title>{n}</title><link>https://example.org/{n}</link></item>"))
        .collect::<String>());
    let cut = full.find("<link>https://example.org/3").unwrap() + 10;
    assert_eq!(titles(&parse(&full[..cut]).unwrap()), ["1", "2"]);
    let cut = full.find("</item><item><title>3").unwrap() + 9; // inside a tag
    assert_eq!(titles(&parse(&full[..cut]).unwrap()), ["1", "2"]);

    let entries = atom(
        r#"<entry><id>1</id><link href="https://example.org/1"/></entry><entry><id>2</id><link hr"#,
    );
    let entries = &entries[..entries.rfind("<link hr").unwrap() + 8];
    assert_eq!(links(&parse(entries).unwrap()), ["https://example.org/1"]);

    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[{"id":"1","url":"https://example.org/1"},{"id":"2","url":"https://exa"#;
    assert_eq!(links(&parse(json).unwrap()), ["https://example.org/1"]);

    let err = parse(&full[..full.find("<item>").unwrap() + 12]).unwrap_err();
    assert!(
        matches!(&err, FeedError::Malformed { reason } if reason.contains("truncated")),
        "{err}"
    );
}

#[test]
fn every_prefix_of_a_feed_is_handled_without_panicking() {
    let body = seed_feed("sahel.xml");
    let feed_url = url("https://example.org/rss");
    let mut kept = Vec::new();
    for end in 0..=body.len() {
        if let Ok(feed) = parse_feed(&body[..end], None, &feed_url, 10) {
            kept.push(feed.items.len());
        }
    }
    // Once the first item is complete, every longer prefix yields items, never fewer.
    assert!(kept.windows(2).all(|w| w[0] <= w[1]), "{kept:?}");
    assert_eq!(kept.last(), Some(&5));
}

#[test]
fn deep_xml_nesting_is_refused_before_feed_rs_sees_it() {
    let deep = format!("<rss version=\"2.0\"><channel>{}", "<x>".repeat(100_000));
    assert_eq!(
        parse(&deep).unwrap_err(),
        FeedError::TooDeep {
            depth: 100_002,
            limit: MAX_XML_DEPTH
        }
    );
    let closed = format!("{deep}{}</channel></rss>", "</x>".repeat(100_000));
    assert!(matches!(parse(&closed), Err(FeedError::TooDeep { .. })));
}

#[test]
fn nesting_at_the_limit_parses_and_markup_in_cdata_or_comments_does_not_count() {
    let n = MAX_XML_DEPTH - 4; // rss, channel, item, description
    let body = rss(&format!(
        "<item><link>https://example.org/a</link><description>{}{}</description></item>",
        "<div>".repeat(n),
        "</div>".repeat(n)
    ));
    assert_eq!(parse(&body).unwrap().items.len(), 1);
    let hidden = format!(
        "<![CDATA[{}]]><!-- {} -->",
        "<x>".repeat(5000),
        "<y>".repeat(5000)
    );
    let body = rss(&format!(
        "<item><link>https://example.org/a</link><description>{hidden}</description></item>"
    ));
    assert_eq!(parse(&body).unwrap().items.len(), 1);
}

#[test]
fn deep_json_nesting_is_refused() {
    let deep = format!(
        r#"{{"version":"https://jsonfeed.org/version/1","title":"J","items":[{}"#,
        "[".repeat(100_000)
    );
    assert!(matches!(
        parse(&deep),
        Err(FeedError::TooDeep {
            limit: MAX_JSON_DEPTH,
            ..
        })
    ));
    let brackets_in_strings = format!(
        r#"{{"version":"https://jsonfeed.org/version/1","title":"{}\"[","items":[{{"url":"https://example.org/a"}}]}}"#,
        "[{".repeat(1000)
    );
    assert_eq!(parse(brackets_in_strings).unwrap().items.len(), 1);
}

#[test]
fn html_pages_are_not_feeds() {
    for page in [
        "<!DOCTYPE html><html><head><title>Home</title></head><body><br><br><p>Hi</body></html>",
        "\n  <!doctype HTML>\n<html lang=en>",
        "<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>",
        "<!-- cms --><HTML><BODY>",
    ] {
        let err = parse(page).unwrap_err();
        assert!(
            matches!(&err, FeedError::NotAFeed { reason } if reason.contains("HTML page")),
            "{err}"
        );
    }
    let home = r#"<!DOCTYPE html><html><head>
        <link rel="stylesheet" href="/s.css"><link rel="alternate" type="application/rss+xml" title="News" href="/feed/">
        </head><body></body></html>"#;
    let err = parse(home).unwrap_err().to_string();
    assert!(
        err.ends_with("links to a feed at https://news.example.org/feed/"),
        "{err}"
    );
}

#[test]
fn other_documents_and_garbage_are_errors() {
    assert_eq!(parse(""), Err(FeedError::Empty));
    assert_eq!(parse(" \r\n\t"), Err(FeedError::Empty));
    let not_a_feed = |body: &[u8]| matches!(parse(body), Err(FeedError::NotAFeed { .. }));
    assert!(not_a_feed(
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"
    ));
    assert!(not_a_feed(b"{\"hello\": \"world\"}"));
    assert!(not_a_feed(
        b"{\"version\": \"2\", \"title\": \"x\", \"items\": []}"
    ));
    assert!(not_a_feed(b"[1, 2]"));
    assert!(not_a_feed(b"Service Unavailable"));
    assert!(not_a_feed(
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe"
    ));
    assert!(matches!(
        parse("<rss version=\"2.0\"><channel><item></channel></rss>"),
        Err(FeedError::Malformed { .. })
    ));
    assert!(
        parse("<rss version=\"2.0\"><channel><title>Empty</title></channel></rss>")
            .unwrap()
            .items
            .is_empty()
    );

    // Pseudo-random bytes, with and without a feed-like start: errors, never panics.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..300 {
        let mut body: Vec<u8> = match round % 3 {
            0 => Vec::new(),
            1 => b"<rss version=\"2.0\"><channel><item>".to_vec(),
            _ => b"{\"version\":\"https://jsonfeed.org/version/1\",\"items\":[".to_vec(),
        };
        for _ in 0..(round * 7 % 400) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            body.push(b"<>&;/\"'[]{}#x!-?a \x00\xc3\xe9\xff"[(state % 22) as usize]);
        }
        let _ = parse(&body);
    }
}

/// An Atom entry with the given title element and link `/n`.
fn entry(n: u32, title: &str) -> String {
    format!(
        r#"<entry><id>urn:{n}</id>{title}<link href="https://news.example.org/{n}"/><updated>2026-11-2{n}T00:00:00Z</updated></entry>"#
    )
}

#[test]
fn one_base64_entry_title_does_not_cost_the_other_entries() {
    // "Example <b>Atom</b>" in base64, as Atom 0.3 feeds (and feedparser's tests) send it.
    let odd = r#"<title type="application/octet-stream" mode="base64">RXhhbXBs
        ZSA8Yj5BdG9tPC9iPg==</title>"#;
    let feed = parse(atom(
        &(entry(1, "<title>One</title>") + &entry(2, odd) + &entry(3, "<title>Three</title>")),
    ))
    .unwrap();
    assert_eq!(titles(&feed), ["One", "Example <b>Atom</b>", "Three"]);
    assert_eq!(feed.dropped_entries, 0);
    // Not base64 at all: the title goes, the entry stays.
    let junk = r#"<title type="application/octet-stream">%%% not base64 %%%</title>"#;
    let feed = parse(atom(&(entry(1, junk) + &entry(2, "<title>Two</title>")))).unwrap();
    assert_eq!(titles(&feed), ["", "Two"]);
    assert_eq!(links(&feed)[0], "https://news.example.org/1");
}

#[test]
fn xhtml_empty_and_plain_text_types_are_read_as_what_they_mean() {
    let cases = [
        (
            r#"<title type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">X title</div></title>"#,
            "X title",
        ),
        (r#"<title type="">Empty type</title>"#, "Empty type"),
        (r#"<title type="text/plain">Plain</title>"#, "Plain"),
        (
            r#"<title>S</title><summary type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml">s</div></summary>"#,
            "S",
        ),
        (r#"<title>C</title><content type="">c</content>"#, "C"),
        (
            r#"<title>X</title><content type="application/xhtml+xml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>"#,
            "X",
        ),
    ];
    for (odd, title) in cases {
        let feed = parse(atom(&(entry(1, odd) + &entry(2, "<title>Two</title>"))))
            .unwrap_or_else(|e| panic!("{odd}: {e}"));
        assert_eq!(titles(&feed), [title, "Two"], "{odd}");
        assert_eq!(feed.dropped_entries, 0, "{odd}");
    }
    // The feed's own title is a text construct too.
    let doc = atom(&entry(1, "<title>One</title>"))
        .replace("<title>T</title>", r#"<title type="">Feed</title>"#);
    assert_eq!(parse(doc).unwrap().title.as_deref(), Some("Feed"));
}

#[test]
fn only_atom_text_constructs_are_retyped() {
    // "QUJD" is valid base64 ("ABC"): a Media RSS title must not be decoded as Atom's.
    let doc = r#"<entry><media:title type="plain">QUJD</media:title><atom:title type="">A</atom:title><title type="application/octet-stream">QUJD</title></entry>"#;
    let fixed = lenient::fix_text_types(doc).unwrap();
    assert_eq!(
        fixed,
        r#"<entry><media:title type="plain">QUJD</media:title><atom:title type="text">A</atom:title><title type="text">ABC</title></entry>"#
    );
    assert_eq!(lenient::fix_text_types(&fixed), None);
}

#[test]
fn an_entry_feed_rs_still_refuses_is_dropped_and_counted() {
    // atom:content with src must be empty; feed-rs refuses the whole feed otherwise.
    let bad = r#"<title>Bad</title><content type="text/html" src="https://news.example.org/b">body</content>"#;
    let feed = parse(atom(
        &(entry(1, "<title>One</title>")
            + &entry(2, bad)
            + &entry(3, bad)
            + &entry(4, "<title>Four</title>")),
    ))
    .unwrap();
    assert_eq!(titles(&feed), ["One", "Four"]);
    assert_eq!(feed.dropped_entries, 2);
    // A feed whose every entry is refused is an empty feed, not an error: each drop counted.
    let feed = parse(atom(&(entry(1, bad) + &entry(2, bad)))).unwrap();
    assert!(feed.items.is_empty());
    assert_eq!(feed.dropped_entries, 2);
}

#[test]
fn rss_items_straight_under_rss_without_a_channel_are_read() {
    let items = r#"<item><title>A</title><link>https://news.example.org/a</link></item><item><title>B</title><link>https://news.example.org/b</link></item>"#;
    for root in [r#"<rss version="2.0">"#, "<rss>", r#"<rss version="0.92">"#] {
        let doc = format!(r#"<?xml version="1.0"?>{root}<title>T</title>{items}</rss>"#);
        let feed = parse(&doc).unwrap_or_else(|e| panic!("{root}: {e}"));
        assert_eq!(titles(&feed), ["A", "B"], "{root}");
        assert_eq!(feed.dropped_entries, 0);
    }
    // Truncated as well.
    let doc = format!(r#"<?xml version="1.0"?><rss version="2.0">{items}<item><title>C"#);
    assert_eq!(titles(&parse(&doc).unwrap()), ["A", "B"]);
}
