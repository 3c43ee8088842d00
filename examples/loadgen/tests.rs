//! The generator serves what it promises: feed and item counts in three formats, pages in the
//! size range, 304 on conditional GETs, unchanged 200s, a copy share with copies that keep
//! their original's text, and per-host routing.

use super::*;

use crate::corpus::Block;
use crate::render::PAGE_BYTES;

/// A tiny web served on a test runtime; the runtime (and its listeners) stop when dropped.
struct Tiny {
    app: Arc<App>,
    rt: tokio::runtime::Runtime,
}

fn tiny(mode: FeedMode, copies: f64) -> Tiny {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let shape = Shape {
        hosts: 3,
        feeds: 6,
        items: 4,
        copy_share: copies,
        seed: 7,
        gone_pages: false,
        feed_mode: mode,
    };
    let app = rt.block_on(async {
        let mut listeners = Vec::new();
        let mut bases = Vec::new();
        for h in 0..3 {
            let l = TcpListener::bind((host_ip(h).as_str(), 0)).await.unwrap();
            bases.push(format!("http://{}", l.local_addr().unwrap()));
            listeners.push(l);
        }
        let app = Arc::new(App {
            render: Renderer::new(Web::new(shape), Corpus::synthetic(3000), bases),
            stats: Stats::new(6),
            latency: Duration::ZERO,
        });
        for (h, l) in listeners.into_iter().enumerate() {
            tokio::spawn(http::serve_host(l, h, app.clone()));
        }
        app
    });
    Tiny { app, rt }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[test]
fn feeds_list_their_items_in_three_formats_and_pages_are_full_size() {
    let t = tiny(FeedMode::Conditional, 0.0);
    let r = &t.app.render;
    let c = client();
    t.rt.block_on(async {
        let mut types = std::collections::BTreeSet::new();
        for f in 0..6 {
            let resp = c.get(r.feed_url(f)).send().await.unwrap();
            assert_eq!(resp.status(), 200);
            types.insert(resp.headers()["content-type"].to_str().unwrap().to_string());
            let body = resp.bytes().await.unwrap();
            let feed = feed_rs::parser::parse(&body[..]).unwrap();
            assert_eq!(feed.entries.len(), 4, "feed {f}");
            for e in &feed.entries {
                let link = &e.links[0].href;
                let page = c.get(link).send().await.unwrap();
                assert_eq!(page.status(), 200, "{link}");
                let html = page.text().await.unwrap();
                assert!(
                    PAGE_BYTES.contains(&html.len()),
                    "{link}: {} bytes",
                    html.len()
                );
                let title = e.title.as_ref().unwrap().content.clone();
                assert!(
                    html.contains(&render::esc(&title)),
                    "{link} lacks its title"
                );
            }
        }
        assert_eq!(types.len(), 3, "{types:?}");
        let s = t.app.stats.json();
        assert_eq!(s["feeds_polled_once"], 6);
        assert_eq!(s["page_200"], 24);
        assert_eq!(s["not_found"], 0);
    });
}

#[test]
fn conditional_gets_are_answered_304_and_unchanged200_ignores_them() {
    let t = tiny(FeedMode::Conditional, 0.0);
    let url = t.app.render.feed_url(2);
    let c = client();
    t.rt.block_on(async {
        let first = c.get(&url).send().await.unwrap();
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let lm = first.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_string();
        let by_etag = c
            .get(&url)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(by_etag.status(), 304);
        let by_date = c
            .get(&url)
            .header("If-Modified-Since", &lm)
            .send()
            .await
            .unwrap();
        assert_eq!(by_date.status(), 304);
        let stale = c
            .get(&url)
            .header("If-None-Match", "\"other\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 200);
        let s = t.app.stats.json();
        assert_eq!(
            (s["feed_200"].as_u64(), s["feed_304"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(s["feeds_polled_twice"], 1);
    });

    let t = tiny(FeedMode::Unchanged200, 0.0);
    let url = t.app.render.feed_url(2);
    t.rt.block_on(async {
        let first = c.get(&url).send().await.unwrap();
        assert!(first.headers().get("etag").is_none());
        let body = first.bytes().await.unwrap();
        let again = c
            .get(&url)
            .header("If-None-Match", "*")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.bytes().await.unwrap(), body);
    });
}

#[test]
fn a_share_of_articles_are_copies_that_keep_their_originals_text() {
    let t = tiny(FeedMode::Conditional, 0.3);
    let r = &t.app.render;
    let w = &r.web;
    let copies: Vec<usize> = (0..w.pages()).filter(|&p| w.copy_of(p).is_some()).collect();
    // 24 articles at a 30 % share: at least one copy, and not nearly all of them.
    assert!(!copies.is_empty() && copies.len() < 16, "{copies:?}");
    assert_eq!(w.copies(), copies.len());
    for &p in &copies {
        let o = w.copy_of(p).unwrap();
        assert_ne!(w.host_of_page(o), w.host_of_page(p));
        let (orig, copy) = (r.text(o), r.text(p));
        assert_ne!(orig.title, copy.title);
        let paras = |t: &corpus::Text| -> Vec<String> {
            t.blocks
                .iter()
                .filter(|b| matches!(b, Block::Para(_)))
                .map(|b| b.text().to_string())
                .collect()
        };
        let (op, cp) = (paras(&orig), paras(&copy));
        let kept = op.iter().filter(|x| cp.contains(x)).count();
        assert!(
            kept * 10 >= op.len() * 6,
            "copy {p} keeps {kept} of {} paragraphs",
            op.len()
        );
        // The copy's page carries every paragraph it kept from the original.
        let html = String::from_utf8(r.page(p)).unwrap();
        for para in op.iter().filter(|x| cp.contains(x)) {
            assert!(
                html.contains(&format!("<p>{}</p>", render::esc(para))),
                "copy {p}"
            );
        }
    }
    // Originals are distinct from each other.
    let originals: Vec<usize> = (0..w.pages()).filter(|&p| w.copy_of(p).is_none()).collect();
    assert_ne!(r.text(originals[0]).blocks, r.text(originals[1]).blocks);
}

#[test]
fn resources_are_served_only_by_their_own_host() {
    let t = tiny(FeedMode::Conditional, 0.0);
    let r = &t.app.render;
    let c = client();
    // Feed 1 lives on host 1; ask host 2 for it.
    let wrong = format!(
        "{}{}",
        r.feed_url(2).split("/feeds/").next().unwrap(),
        r.web.feed_path(1)
    );
    t.rt.block_on(async {
        assert_eq!(c.get(&wrong).send().await.unwrap().status(), 404);
        assert_eq!(c.get(r.feed_url(1)).send().await.unwrap().status(), 200);
    });
    assert_eq!(t.app.stats.json()["not_found"], 1);
}
