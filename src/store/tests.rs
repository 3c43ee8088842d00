//! Store unit tests: seqs, reopen, duplicates, schema refusal, the lock.
use super::*;

pub(super) fn cfg(dir: &Path) -> StoreConfig {
    StoreConfig {
        data_dir: dir.join("db"),
        cache_capacity_bytes: 1 << 20,
        ..StoreConfig::default()
    }
}

/// A record for `url` with placeholder metadata (the check tests reuse it).
pub(super) fn record(url: &str) -> ArticleRecord {
    ArticleRecord {
        name: String::new(),
        seq: 0,
        id: format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_bytes())),
        url: url.into(),
        canonical_url: url.into(),
        feed: Some("http://feed.example/rss".into()),
        title: "T".into(),
        author: None,
        published: None,
        site_name: None,
        language: None,
        fetched_at: "2026-01-01T00:00:00Z".into(),
        words: 2,
        content_hash: "0".into(),
        duplicates: vec![],
    }
}

pub(super) fn insert(store: &Store, url: &str, bands: &[u64]) -> ArticleRecord {
    store
        .insert_article(NewArticle {
            record: record(url),
            text: "T\n\nBody text.\n",
            aliases: &[format!("{url}?utm_source=x")],
            fingerprint: url.as_bytes(),
            band_keys: bands,
        })
        .unwrap()
}

#[test]
fn articles_get_consecutive_seqs_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&cfg(dir.path())).unwrap();
        let a = insert(&store, "http://a.example/1", &[1, 2]);
        let b = insert(&store, "http://a.example/2", &[2, 3]);
        assert_eq!((a.seq, b.seq), (0, 1));
        assert!(a.name.starts_with("000_") && b.name.starts_with("001_"));
        store.flush().unwrap();
    }
    let store = Store::open(&cfg(dir.path())).unwrap();
    let c = insert(&store, "http://a.example/3", &[9]);
    assert_eq!(c.seq, 2, "the counter is never reused after a restart");
    let names: Vec<String> = store.records().map(|r| r.unwrap().name).collect();
    assert_eq!(names.len(), 3);
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "seq order: {names:?}"
    );
    // Band 2 is shared by the first two articles; candidates carry their fingerprints.
    let cands = store.candidates(&[2]).unwrap();
    let seqs: Vec<u64> = cands.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, [0, 1]);
    assert_eq!(&*cands[0].1, b"http://a.example/1");
    // Aliases lead to the article.
    assert_eq!(
        store.known("http://a.example/1?utm_source=x").unwrap(),
        Some(Known::Stored(names[0].clone()))
    );
    let (rec, text) = store.find("http://a.example/2").unwrap().unwrap();
    assert_eq!(rec.name, names[1]);
    assert_eq!(text, "T\n\nBody text.\n");
}

#[test]
fn duplicates_are_recorded_under_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&cfg(dir.path())).unwrap();
    let a = insert(&store, "http://a.example/1", &[1]);
    let dup = DuplicateRecord {
        url: "http://b.example/copy".into(),
        feed: Some("http://b.example/feed".into()),
        similarity: 0.83,
        seen_at: "2026-01-02T00:00:00Z".into(),
        original: None,
    };
    let of = store
        .record_duplicate(a.seq, dup, &["http://b.example/copy?ref=rss".into()])
        .unwrap();
    assert_eq!(of, a.name);
    let (rec, _) = store.article(&a.name).unwrap().unwrap();
    assert_eq!(rec.duplicates.len(), 1);
    assert_eq!(rec.duplicates[0].url, "http://b.example/copy");
    assert_eq!(
        store.known("http://b.example/copy?ref=rss").unwrap(),
        Some(Known::Duplicate(a.name.clone()))
    );
    assert_eq!(store.stats().unwrap().duplicates, 1);
    // A duplicate of an unknown seq is an error, and nothing is written.
    let missing = DuplicateRecord {
        url: "http://c.example/x".into(),
        feed: None,
        similarity: 0.5,
        seen_at: String::new(),
        original: None,
    };
    assert!(store.record_duplicate(99, missing, &[]).is_err());
    assert_eq!(store.known("http://c.example/x").unwrap(), None);
    assert_eq!(
        store.stats().unwrap().duplicates,
        1,
        "the aborted record is not counted"
    );
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&cfg(dir.path())).unwrap();
        insert(&store, "http://a.example/1", &[1]);
        store
            .t()
            .unwrap()
            .schema
            .insert(VERSION, &99u32.to_be_bytes())
            .unwrap();
        store.flush().unwrap();
    }
    let err = Store::open(&cfg(dir.path()))
        .err()
        .expect("newer schema must be refused");
    let msg = err.to_string();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{msg}"
    );
    assert!(msg.contains("upgrade newsd"), "{msg}");
}

#[test]
fn a_second_opener_gets_a_clear_lock_error() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Store::open(&cfg(dir.path())).unwrap();
    let err = Store::open(&cfg(dir.path()))
        .err()
        .expect("second open must fail");
    assert!(matches!(err, StoreError::Locked { .. }), "{err}");
}
