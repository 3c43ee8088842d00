//! Writer unit tests: a batch decides each article seeing the ones before it, exactly as
//! one-at-a-time writes would.

use super::*;
use crate::config::Config;
use crate::model::{CleanArticle, PageMeta};
use url::Url;

/// A body of `n` paragraphs of pseudo-random words (seeded), so two seeds share no shingles.
fn body(seed: u64, n: usize) -> Vec<String> {
    const WORDS: [&str; 24] = [
        "council", "river", "budget", "minister", "harbour", "station", "teachers", "strike",
        "bridge", "museum", "farmers", "election", "court", "hospital", "storm", "market",
        "village", "police", "festival", "airport", "school", "factory", "forest", "mayor",
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            (0..40)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                    WORDS[(x >> 33) as usize % WORDS.len()]
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn prepared(engine: &Engine, url: &str, title: &str, blocks: Vec<String>) -> Prepared {
    let article = CleanArticle {
        title: title.into(),
        blocks,
        meta: PageMeta::default(),
    };
    let text = article.text();
    let fingerprint = engine.fingerprint(&article.title, &article.blocks.join("\n"));
    let url = Url::parse(url).unwrap();
    Prepared {
        feed: "http://feed.example/rss".into(),
        fetched_url: url.clone(),
        canonical: url.clone(),
        aliases: vec![format!("{url}?utm_source=feed")],
        article,
        text,
        fingerprint,
    }
}

fn writer(dir: &std::path::Path) -> (Writer, Config) {
    let cfg = crate::pipeline::tests::test_config(dir);
    let store = Arc::new(Store::open(&cfg.store).unwrap());
    let metrics = Arc::new(Metrics::new());
    let w = Writer {
        gate: Arc::new(Gate::new(store.clone(), metrics.clone(), 0)),
        store,
        engine: Arc::new(Engine::new(&cfg.dedup).unwrap()),
        metrics,
        liveness: Arc::new(Liveness::new(1, 1)),
        hook: None,
    };
    (w, cfg)
}

/// An original, its copy (other URL, new headline, one word changed), the original's URL
/// again, and an unrelated story.
fn stream(engine: &Engine) -> Vec<Prepared> {
    let original = body(1, 6);
    let mut copy = original.clone();
    copy[2] = copy[2].replacen("council", "committee", 1);
    vec![
        prepared(
            engine,
            "http://a.example/story",
            "Original",
            original.clone(),
        ),
        prepared(engine, "http://b.example/copy", "Republished", copy),
        prepared(engine, "http://a.example/story", "Original", original),
        prepared(engine, "http://c.example/other", "Other", body(2, 6)),
    ]
}

fn refs(items: &[Prepared]) -> Vec<&Prepared> {
    items.iter().collect()
}

#[test]
fn a_batch_sees_its_own_earlier_articles_like_single_writes_do() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (batched, _) = writer(a.path());
    let (single, _) = writer(b.path());
    let items = stream(&batched.engine);
    let together = write_batch(&batched, &refs(&items));
    let one_by_one: Vec<ItemOutcome> = stream(&single.engine)
        .iter()
        .flat_map(|p| write_batch(&single, &[p]))
        .collect();
    assert_eq!(together, one_by_one);
    let ItemOutcome::Stored(first) = &together[0] else {
        panic!("{together:?}")
    };
    assert!(
        matches!(&together[1], ItemOutcome::Duplicate { of, similarity } if of == first && *similarity > 0.8),
        "{together:?}"
    );
    assert_eq!(together[2], ItemOutcome::Known);
    assert!(matches!(&together[3], ItemOutcome::Stored(n) if n.starts_with("001_")));
    let stats = batched.store.stats().unwrap();
    assert_eq!(
        (stats.articles, stats.duplicates, stats.next_seq),
        (2, 1, 2)
    );
    let (record, _) = batched.store.article(first).unwrap().unwrap();
    assert_eq!(record.duplicates[0].url, "http://b.example/copy");
    // The copy's alias was recorded with it.
    assert_eq!(
        batched
            .store
            .known("http://b.example/copy?utm_source=feed")
            .unwrap(),
        Some(crate::store::Known::Duplicate(first.clone()))
    );
}

#[test]
fn a_batch_the_store_refuses_writes_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let (w, _) = writer(dir.path());
    let mut items = stream(&w.engine);
    items.truncate(2);
    let pages = refs(&items);
    // A copy recorded under an original that is not there: the store aborts the batch.
    let decided = vec![
        (
            0,
            Decision::New {
                band_keys: w.engine.band_keys(&pages[0].fingerprint),
            },
        ),
        (
            1,
            Decision::Copy {
                original: Original::Seq(99),
                similarity: 0.9,
            },
        ),
    ];
    assert!(matches!(
        apply(&w, &pages, &decided),
        Err(StoreError::Record { .. })
    ));
    let stats = w.store.stats().unwrap();
    assert_eq!((stats.articles, stats.next_seq), (0, 0), "all or nothing");
    assert_eq!(w.store.known("http://a.example/story").unwrap(), None);
}

#[test]
fn a_panic_on_one_article_of_a_batch_fails_that_article_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut w, _) = writer(dir.path());
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = calls.clone();
    w.hook = Some(Arc::new(move || {
        if c.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            panic!("injected writer panic");
        }
    }));
    let items = stream(&w.engine);
    let out = write_batch(&w, &refs(&items));
    assert!(matches!(out[0], ItemOutcome::Stored(_)), "{out:?}");
    assert_eq!(out[1], ItemOutcome::Failed("writer panicked".into()));
    assert_eq!(out[2], ItemOutcome::Known);
    assert!(matches!(out[3], ItemOutcome::Stored(_)), "{out:?}");
    // The copy is retried later (its URL is not remembered) and then recorded.
    assert_eq!(w.store.known("http://b.example/copy").unwrap(), None);
    let items = stream(&w.engine);
    let again = write_batch(&w, &[&items[1]]);
    assert!(
        matches!(again[0], ItemOutcome::Duplicate { .. }),
        "{again:?}"
    );
}
