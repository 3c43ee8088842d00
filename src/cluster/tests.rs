use super::*;
use crate::store::{ArticleRecord, DuplicateRecord, Reject};

fn cfg() -> ClusterConfig {
    ClusterConfig {
        nats_url: "nats://127.0.0.1:4222".into(),
        name: "newsd".into(),
        partitions: 64,
        lease_secs: 15,
        node: Some("w1".into()),
        committer: true,
    }
}

#[test]
fn config_problems_name_the_key() {
    assert!(cfg().problems().is_empty());
    let bad = ClusterConfig {
        nats_url: " ".into(),
        name: "news.d".into(),
        partitions: 0,
        lease_secs: 1,
        node: Some("a b".into()),
        committer: true,
    };
    let keys: Vec<&str> = bad.problems().into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            "cluster.nats_url",
            "cluster.name",
            "cluster.partitions",
            "cluster.lease_secs",
            "cluster.node"
        ]
    );
}

#[test]
fn feeds_of_one_host_share_a_partition() {
    let a = url::Url::parse("http://127.0.0.3:8080/feed/a.xml").unwrap();
    let b = url::Url::parse("http://127.0.0.3:8080/other/b.atom").unwrap();
    assert_eq!(partition_of(&a, 64), partition_of(&b, 64));
    let hosts: std::collections::BTreeSet<u32> = (1..=40)
        .map(|i| {
            partition_of(
                &url::Url::parse(&format!("http://127.0.0.{i}/f")).unwrap(),
                8,
            )
        })
        .collect();
    assert!(
        hosts.len() >= 6,
        "40 hosts land in {} of 8 partitions",
        hosts.len()
    );
}

#[test]
fn rendezvous_moves_only_the_partitions_of_the_member_that_left() {
    let three: Vec<String> = ["w1", "w2", "w3"].map(String::from).to_vec();
    let two: Vec<String> = ["w1", "w3"].map(String::from).to_vec();
    let mut per_member = std::collections::HashMap::new();
    for p in 0..256 {
        let before = lease::owner_of(&three, p).unwrap();
        let after = lease::owner_of(&two, p).unwrap();
        *per_member.entry(before).or_insert(0) += 1;
        if before != "w2" {
            assert_eq!(before, after, "partition {p} moved without need");
        }
    }
    // Spread over all three (no member starved).
    assert!(per_member.values().all(|n| *n > 40), "{per_member:?}");
    assert_eq!(lease::owner_of(&[], 3), None);
}

fn record() -> ArticleRecord {
    ArticleRecord {
        name: "000_76ace5f3621fed2e.txt".into(),
        seq: 0,
        id: "76ace5f3621fed2e".into(),
        url: "http://127.0.0.1/a".into(),
        canonical_url: "http://127.0.0.1/a".into(),
        feed: Some("http://127.0.0.1/feed".into()),
        title: "T".into(),
        author: None,
        published: None,
        site_name: None,
        language: Some("en".into()),
        fetched_at: "2026-12-03T00:00:00+00:00".into(),
        words: 2,
        content_hash: "00".into(),
        duplicates: vec![],
    }
}

#[test]
fn records_survive_the_stream_byte_for_byte() {
    let decisions = [
        Decided::Stored {
            record: Box::new(record()),
            text: "T\n\nBody ü".into(),
            aliases: vec!["http://127.0.0.1/a?utm=1".into()],
            fingerprint: vec![0, 1, 2, 255],
        },
        Decided::Copy {
            of_seq: 0,
            of: "000_76ace5f3621fed2e.txt".into(),
            dup: DuplicateRecord {
                url: "http://127.0.0.2/b".into(),
                feed: None,
                similarity: 0.91,
                seen_at: "2026-12-03T00:00:00+00:00".into(),
                original: None,
            },
            aliases: vec![],
        },
        Decided::Reject {
            urls: vec!["http://127.0.0.1/x".into()],
            reject: Reject {
                reason: "404".into(),
                at: "now".into(),
            },
        },
    ];
    for (i, what) in decisions.into_iter().enumerate() {
        let d = Decision {
            cand: i as u64 + 7,
            what,
        };
        let bytes = serde_json::to_vec(&d).unwrap();
        assert_eq!(replica::decode(1, &bytes).unwrap(), d);
    }
    let c = Candidate::Reject {
        urls: vec!["u".into()],
        reject: Reject {
            reason: "r".into(),
            at: "a".into(),
        },
    };
    let back: Candidate = serde_json::from_slice(&serde_json::to_vec(&c).unwrap()).unwrap();
    assert_eq!(back.message_id(), c.message_id());
    assert!(replica::decode(3, b"{\"cand\":1}").is_err());
}

#[test]
fn url_keys_are_valid_kv_keys() {
    let k = url_key("https://example.com/a?b=c&d=e#f");
    assert_eq!(k.len(), 32);
    assert!(k.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(k, url_key("https://example.com/a?b=c&d=e"));
}

/// A page of `n` sentences of made-up words, the same for one seed (a story of its own).
fn story(seed: u64, n: usize) -> String {
    let words = [
        "harbour",
        "council",
        "Mendez",
        "river",
        "budget",
        "2,400",
        "tunnel",
        "Okafor",
        "station",
        "ministry",
        "flood",
        "Lindqvist",
        "grain",
        "report",
        "1998",
        "bridge",
        "Harrow",
        "tariff",
    ];
    (0..n)
        .map(|i| {
            let w: Vec<&str> = (0..14)
                .map(|j| {
                    let k = (seed as usize * 31 + i * 7 + j * 13 + (i * j) % 5) % words.len();
                    words[k]
                })
                .collect();
            format!(
                "The {} said on day {} that {}.",
                w[0],
                i + seed as usize,
                w[1..].join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn page(engine: &crate::dedup::Engine, url: &str, title: &str, body: &str) -> bytes::Bytes {
    let fp = engine.fingerprint(title, body);
    let mut r = record();
    r.url = url.into();
    r.canonical_url = url.into();
    r.id = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(url.as_bytes()));
    r.title = title.into();
    let c = Candidate::Page(Box::new(PageCandidate {
        feed: "http://127.0.0.1/feed".into(),
        aliases: vec![format!("{url}?utm_source=x")],
        record: r,
        text: format!("{title}\n\n{body}"),
        fingerprint: fp.to_bytes(),
    }));
    serde_json::to_vec(&c).unwrap().into()
}

#[test]
fn a_committer_batch_sees_its_own_new_articles() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::open(&crate::store::StoreConfig {
        data_dir: dir.path().join("replica"),
        min_free_bytes: 0,
        ..Default::default()
    })
    .unwrap();
    let engine = crate::dedup::Engine::new(&crate::dedup::DedupConfig::default()).unwrap();
    let body = story(1, 12);
    let other = story(7, 12);
    // A new article, a republished copy of it under another URL and headline, the first
    // URL again, another story, and a candidate that cannot be read — all in one batch.
    let pages = [
        (5, "http://127.0.0.1/a", "Harbour council agrees", &body),
        (6, "http://127.0.0.2/b", "Council agrees on harbour", &body),
        (7, "http://127.0.0.1/a", "Harbour council agrees", &body),
        (8, "http://127.0.0.3/c", "Grain tariff report", &other),
    ];
    let mut items: Vec<(u64, bytes::Bytes)> = pages
        .iter()
        .map(|(cand, url, title, body)| (*cand, page(&engine, url, title, body)))
        .collect();
    items.push((9, bytes::Bytes::from_static(b"{\"kind\":\"page\"")));
    let out = committer::decide_candidates(&store, &engine, items).unwrap();
    let cands: Vec<u64> = out.iter().map(|d| d.cand).collect();
    assert_eq!(cands, [5, 6, 7, 8, 9]);
    let Decided::Stored { record: a, .. } = &out[0].what else {
        panic!("{:?}", out[0].what)
    };
    assert_eq!(a.seq, 0);
    match &out[1].what {
        Decided::Copy {
            of_seq, of, dup, ..
        } => {
            assert_eq!((*of_seq, of.as_str()), (0, a.name.as_str()));
            assert_eq!(dup.url, "http://127.0.0.2/b");
        }
        other => panic!("the copy: {other:?}"),
    }
    assert!(matches!(&out[2].what, Decided::Known { url, .. } if url == "http://127.0.0.1/a"));
    let Decided::Stored { record: c, .. } = &out[3].what else {
        panic!("{:?}", out[3].what)
    };
    assert_eq!(
        c.seq, 1,
        "the second new article of the batch takes the next seq"
    );
    assert!(matches!(&out[4].what, Decided::Unreadable { .. }));
    // Applied in order, a replica ends exactly where the committer said.
    let replica = replica::Replica::new(std::sync::Arc::new(store), std::sync::Arc::new(engine));
    for (i, d) in out.iter().enumerate() {
        assert!(replica.apply(i as u64 + 1, d).unwrap());
    }
    assert!(
        !replica.apply(3, &out[2]).unwrap(),
        "an applied record is skipped"
    );
    let s = replica.store().stats().unwrap();
    assert_eq!((s.articles, s.duplicates, s.next_seq), (2, 1, 2));
    assert_eq!(replica.position().unwrap().applied, 5);
}
