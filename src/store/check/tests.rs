//! Unit tests of `newsd check`: each corrupts one tree on purpose and expects exactly the
//! violation that names it.

use super::super::{NewArticle, StoreConfig};
use super::*;

/// Test fingerprints are their band keys written out ("1,2"): what the check recomputes
/// is then exactly what the test inserted.
fn bands_of(fp: &[u8]) -> Result<Vec<u64>, String> {
    std::str::from_utf8(fp)
        .map_err(|e| e.to_string())?
        .split(',')
        .map(|b| b.parse().map_err(|e| format!("{b:?}: {e}")))
        .collect()
}

fn run(store: &Store) -> Vec<Violation> {
    let opts = CheckOptions {
        band_keys: &bands_of,
        now: Utc::now(),
        max_poll_ahead: Duration::days(7),
    };
    store.check(&opts).unwrap().violations
}

const TEXT: &str = "T\n\nBody text.\n";

/// Two articles (seq 0 and 1), one copy recorded under the first, a feed, a reject.
fn sound() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&StoreConfig {
        data_dir: dir.path().join("db"),
        cache_capacity_bytes: 1 << 20,
        ..StoreConfig::default()
    })
    .unwrap();
    for (url, fp) in [("http://a.example/1", "1,2"), ("http://a.example/2", "2,3")] {
        let record = ArticleRecord {
            feed: Some("http://a.example/rss".into()),
            content_hash: content_hash(TEXT),
            ..crate::store::tests::record(url)
        };
        let bands = bands_of(fp.as_bytes()).unwrap();
        store
            .insert_article(NewArticle {
                record,
                text: TEXT,
                aliases: &[format!("{url}?utm_source=x")],
                fingerprint: fp.as_bytes(),
                band_keys: &bands,
            })
            .unwrap();
    }
    let copy = DuplicateRecord {
        url: "http://b.example/copy".into(),
        feed: None,
        similarity: 0.9,
        seen_at: "2026-01-02T00:00:00Z".into(),
        original: None,
    };
    store
        .record_duplicate(0, copy, &["http://b.example/copy?ref=x".into()])
        .unwrap();
    let now = Utc::now();
    let state = FeedState {
        last_polled: Some(now),
        last_success: Some(now),
        next_poll: Some(now + Duration::minutes(15)),
        ..FeedState::default()
    };
    store
        .put_feed_state("http://a.example/rss", &state)
        .unwrap();
    let reject = Reject {
        reason: "404".into(),
        at: "2026-01-01T00:00:00Z".into(),
    };
    store
        .record_reject(&["http://a.example/gone".into()], &reject)
        .unwrap();
    (dir, store)
}

fn name(store: &Store, seq: u64) -> String {
    String::from_utf8(
        store
            .t()
            .unwrap()
            .by_seq
            .get(seq.to_be_bytes())
            .unwrap()
            .unwrap()
            .to_vec(),
    )
    .unwrap()
}

/// Asserts exactly one violation, of `invariant` in `tree`, whose text contains `needle`.
#[track_caller]
fn only(found: &[Violation], invariant: u8, tree: &str, needle: &str) {
    assert_eq!(found.len(), 1, "{found:#?}");
    let v = &found[0];
    assert_eq!((v.invariant, v.tree), (invariant, tree), "{v}");
    assert!(v.to_string().contains(needle), "{needle:?} not in {v}");
}

#[test]
fn a_sound_store_passes_with_its_counts() {
    let (_dir, store) = sound();
    let opts = CheckOptions {
        band_keys: &bands_of,
        now: Utc::now(),
        max_poll_ahead: Duration::days(7),
    };
    let report = store.check(&opts).unwrap();
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_eq!(
        (report.articles, report.duplicates, report.next_seq),
        (2, 1, 2)
    );
    assert_eq!((report.urls, report.lsh_entries), (4, 4));
    assert_eq!((report.feeds, report.rejects), (1, 1));
}

#[test]
fn a_missing_urls_entry_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .urls
        .remove("http://a.example/2")
        .unwrap();
    only(&run(&store), 5, "urls", "http://a.example/2");
}

#[test]
fn a_dangling_url_alias_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .urls
        .insert("http://a.example/old", "009_00000000000000ff.txt")
        .unwrap();
    only(
        &run(&store),
        5,
        "urls",
        "http://a.example/old: leads to 009_",
    );
}

#[test]
fn a_wrong_content_hash_is_named() {
    let (_dir, store) = sound();
    let n = name(&store, 1);
    store
        .t()
        .unwrap()
        .articles
        .insert(n.as_bytes(), "T\n\nBody text!\n")
        .unwrap();
    only(&run(&store), 3, "articles", &format!("{n}: text hashes to"));
}

#[test]
fn a_text_that_is_not_utf8_is_named() {
    let (_dir, store) = sound();
    let n = name(&store, 0);
    store
        .t()
        .unwrap()
        .articles
        .insert(n.as_bytes(), &[0xff, 0xfe][..])
        .unwrap();
    only(&run(&store), 3, "articles", "not UTF-8");
}

#[test]
fn a_record_that_does_not_decode_is_named() {
    let (_dir, store) = sound();
    let n = name(&store, 1);
    store
        .t()
        .unwrap()
        .meta
        .insert(n.as_bytes(), &b"{\"name\": 3"[..])
        .unwrap();
    let found = run(&store);
    // Named by its key and by its seq.
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0]
            .to_string()
            .starts_with(&format!("invariant 2: meta {n}: record does not decode")),
        "{found:#?}"
    );
    assert_eq!(
        found[1].to_string(),
        format!("invariant 4: by_seq seq 1: names {n}, which is not a stored article")
    );
}

#[test]
fn a_dangling_bands_entry_is_named() {
    let (_dir, store) = sound();
    let t = store.t().unwrap();
    t.bands
        .insert(5u64.to_be_bytes(), super::super::bands::pack(&[7]))
        .unwrap();
    only(
        &run(&store),
        7,
        "bands",
        "seq 5: band keys of no stored article",
    );
    t.bands.remove(5u64.to_be_bytes()).unwrap();
    t.bands
        .insert(b"xyz", super::super::bands::pack(&[7]))
        .unwrap();
    only(&run(&store), 7, "bands", "xyz: key is not an 8-byte seq");
}

#[test]
fn a_stray_band_of_a_stored_article_is_named() {
    let (_dir, store) = sound();
    let t = store.t().unwrap();
    t.bands
        .insert(1u64.to_be_bytes(), super::super::bands::pack(&[2, 3, 9]))
        .unwrap();
    only(
        &run(&store),
        7,
        "bands",
        "seq 1: band 0000000000000009 is not a band of",
    );
    t.bands
        .insert(1u64.to_be_bytes(), &[1u8, 2, 3][..])
        .unwrap();
    only(&run(&store), 7, "bands", "seq 1: band keys of 001_");
}

#[test]
fn a_missing_band_is_named() {
    let (_dir, store) = sound();
    let t = store.t().unwrap();
    t.bands
        .insert(1u64.to_be_bytes(), super::super::bands::pack(&[2]))
        .unwrap();
    only(
        &run(&store),
        7,
        "bands",
        "seq 1: band 0000000000000003 missing",
    );
    t.bands.remove(1u64.to_be_bytes()).unwrap();
    only(&run(&store), 7, "bands", "seq 1: missing: 001_");
}

#[test]
fn a_leftover_schema_1_index_is_named() {
    let (_dir, store) = sound();
    store.t().unwrap().db.open_tree("lsh").unwrap();
    only(&run(&store), 7, "lsh", "still present");
}

#[test]
fn a_missing_or_undecodable_fingerprint_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .sigs
        .insert(1u64.to_be_bytes(), &b"x,y"[..])
        .unwrap();
    only(&run(&store), 6, "sigs", "does not decode");
    store.t().unwrap().sigs.remove(1u64.to_be_bytes()).unwrap();
    only(&run(&store), 6, "sigs", "seq 1: no fingerprint");
    store
        .t()
        .unwrap()
        .sigs
        .insert(8u64.to_be_bytes(), &b"1"[..])
        .unwrap();
    let found = run(&store);
    assert!(
        found
            .iter()
            .any(|v| v.to_string() == "invariant 6: sigs seq 8: fingerprint of no stored article"),
        "{found:#?}"
    );
}

#[test]
fn a_dangling_dups_entry_is_named() {
    let (_dir, store) = sound();
    let orphan = DuplicateRecord {
        url: "http://c.example/x".into(),
        feed: None,
        similarity: 0.7,
        seen_at: String::new(),
        original: Some("042_00000000000000aa.txt".into()),
    };
    store
        .t()
        .unwrap()
        .dups
        .insert("http://c.example/x", serde_json::to_vec(&orphan).unwrap())
        .unwrap();
    only(
        &run(&store),
        8,
        "dups",
        "original 042_00000000000000aa.txt is not a stored article",
    );
}

#[test]
fn a_listed_copy_without_its_dups_entry_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .dups
        .remove("http://b.example/copy")
        .unwrap();
    only(
        &run(&store),
        8,
        "meta",
        "lists the copy http://b.example/copy but dups leads nowhere",
    );
}

#[test]
fn a_wrong_duplicates_counter_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .schema
        .insert(DUPLICATES, &5u64.to_be_bytes())
        .unwrap();
    only(
        &run(&store),
        9,
        "meta_schema",
        "counter says 5 copies, the article records list 1",
    );
}

#[test]
fn a_seq_at_or_above_next_seq_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .schema
        .insert(NEXT_SEQ, &1u64.to_be_bytes())
        .unwrap();
    let found = run(&store);
    let n = name(&store, 1);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found.iter().any(|v| v.invariant == 2
            && v.key == n
            && v.problem.contains("seq 1 is not below next_seq 1")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|v| v.invariant == 4 && v.key == "seq 1"),
        "{found:#?}"
    );
}

#[test]
fn an_orphan_by_seq_entry_is_named() {
    let (_dir, store) = sound();
    let n = name(&store, 0);
    // Seq 1 now also names the first article: seqs would not be unique.
    store
        .t()
        .unwrap()
        .by_seq
        .insert(1u64.to_be_bytes(), n.as_bytes())
        .unwrap();
    let found = run(&store);
    assert!(
        found.iter().any(|v| v
            .to_string()
            .contains(&format!("by_seq seq 1: names {n}, whose seq is 0"))),
        "{found:#?}"
    );
    store
        .t()
        .unwrap()
        .by_seq
        .insert(1u64.to_be_bytes(), &b"nobody.txt"[..])
        .unwrap();
    let found = run(&store);
    assert!(
        found.iter().any(|v| v
            .to_string()
            .contains("by_seq seq 1: names nobody.txt, which is not a stored article")),
        "{found:#?}"
    );
}

#[test]
fn a_record_under_the_wrong_name_is_named() {
    let (_dir, store) = sound();
    let n = name(&store, 1);
    let raw = store.t().unwrap().meta.get(n.as_bytes()).unwrap().unwrap();
    let mut r: ArticleRecord = serde_json::from_slice(&raw).unwrap();
    r.id = "00000000000000ff".into();
    store
        .t()
        .unwrap()
        .meta
        .insert(n.as_bytes(), serde_json::to_vec(&r).unwrap())
        .unwrap();
    only(&run(&store), 2, "meta", "they do not make this name");
}

#[test]
fn an_insane_feed_state_is_named() {
    let (_dir, store) = sound();
    let state = FeedState {
        next_poll: Some(Utc::now() + Duration::days(400)),
        error_streak: 3,
        ..FeedState::default()
    };
    store
        .put_feed_state("http://a.example/rss", &state)
        .unwrap();
    let found = run(&store);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|v| v.invariant == 10 && v.key == "http://a.example/rss")
    );
    assert!(
        found[0].problem.contains("more than 7 days ahead"),
        "{found:#?}"
    );
    assert!(
        found[1]
            .problem
            .contains("error streak 3 with no last error"),
        "{found:#?}"
    );
    store
        .t()
        .unwrap()
        .feeds
        .insert("not a url", &b"{}"[..])
        .unwrap();
    assert!(
        run(&store)
            .iter()
            .any(|v| v.to_string() == "invariant 10: feeds not a url: key is not an http(s) URL")
    );
}

#[test]
fn an_undecodable_reject_is_named() {
    let (_dir, store) = sound();
    store
        .t()
        .unwrap()
        .rejects
        .insert("http://a.example/bad", &b"[]"[..])
        .unwrap();
    only(
        &run(&store),
        11,
        "rejects",
        "http://a.example/bad: record does not decode",
    );
}

#[test]
fn a_missing_schema_version_is_named() {
    let (_dir, store) = sound();
    store.t().unwrap().schema.remove(VERSION).unwrap();
    only(&run(&store), 1, "meta_schema", "version: missing");
}
