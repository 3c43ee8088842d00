//! The writer: the one place that decides "duplicate or new" and writes, on its own thread
//! (sled calls block).
//!
//! Two steps, kept apart so other callers (cluster mode's committer) can reuse them:
//!
//! - [`decide`]: known? copy of which article, with what similarity? or new? — computed
//!   against the store and the articles decided earlier in the same batch ([`Pending`]);
//!   writes nothing.
//! - apply: the batch's decisions go to [`Store::apply`] in ONE transaction (all or nothing,
//!   so never half an article), then the known URLs get their aliases.
//!
//! A job is a chunk of one poll's articles, in feed order (usually the whole poll: see
//! [`super::poll`]), answered with ONE reply. The writer takes whatever jobs are queued (up to
//! [`MAX_BATCH`] articles, always whole jobs) as one batch: one transaction and one thread
//! wake-up for several articles. Article k+1 of a batch sees article k: as a known URL and
//! as a duplicate candidate.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::mpsc;
use tracing::{debug, error, info_span};

use super::{ItemOutcome, Prepared, WriteJob};
use crate::article;
use crate::dedup::{Engine, Fingerprint};
use crate::events;
use crate::metrics::Metrics;
use crate::model::split_text;
use crate::pipeline::{Gate, Liveness};
use crate::store::{
    Applied, ArticleRecord, DuplicateRecord, NewArticle, Original, Store, StoreError, Write,
};

/// Most articles decided and written together (a job larger than this is still taken
/// whole).
const MAX_BATCH: usize = 32;

/// Runs before each article is decided; tests use it to stall or crash the writer on purpose.
type Hook = Option<super::WriteHook>;

/// What the writer thread works with.
pub(super) struct Writer {
    pub(super) store: Arc<Store>,
    pub(super) engine: Arc<Engine>,
    pub(super) metrics: Arc<Metrics>,
    pub(super) gate: Arc<Gate>,
    pub(super) liveness: Arc<Liveness>,
    pub(super) hook: Hook,
}

pub(super) fn spawn(rx: mpsc::Receiver<WriteJob>, w: Writer) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || writer_loop(rx, &w))
}

fn writer_loop(mut rx: mpsc::Receiver<WriteJob>, w: &Writer) {
    while let Some(first) = rx.blocking_recv() {
        let mut n = first.pages.len();
        let mut jobs = vec![first];
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.pages.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let pages: Vec<&Prepared> = jobs.iter().flat_map(|j| &j.pages).collect();
        w.liveness.writer_started();
        let outcomes = write_batch(w, &pages);
        w.liveness.writer_done();
        let mut outcomes = outcomes.into_iter();
        for job in jobs {
            let mine = outcomes.by_ref().take(job.pages.len()).collect();
            let _ = job.reply.send(mine);
        }
    }
    if let Err(e) = w.store.flush() {
        w.gate.store_failed(&e, "flush");
    }
}

/// The writer's verdict on one prepared article.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Its canonical URL is already stored, recorded or rejected (or taken by an earlier
    /// article of the batch): nothing to write but its aliases.
    Known,
    /// A copy of `original`.
    Copy { original: Original, similarity: f64 },
    /// A new article, findable by these band keys.
    New { band_keys: Vec<u64> },
}

/// What a decision looks at: a prepared page (single node) or a candidate from the stream
/// (the cluster committer).
#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub canonical: &'a str,
    pub aliases: &'a [String],
    pub text: &'a str,
    pub fingerprint: &'a Fingerprint,
}

impl Prepared {
    fn entry(&self) -> Entry<'_> {
        Entry {
            canonical: self.canonical.as_str(),
            aliases: &self.aliases,
            text: &self.text,
            fingerprint: &self.fingerprint,
        }
    }
}

/// The articles decided earlier in a batch, which later ones must see.
#[derive(Default)]
pub(crate) struct Pending<'a> {
    /// Canonical URLs and aliases of every article written by the batch.
    urls: HashSet<&'a str>,
    /// Writes so far (new articles and copies): the index the next write gets.
    writes: usize,
    /// New articles: their write index, fingerprint, band keys and text.
    new: Vec<(usize, &'a Fingerprint, Vec<u64>, &'a str)>,
}

impl<'a> Pending<'a> {
    /// Adds a decided article; returns the decision back.
    pub(crate) fn push(&mut self, e: Entry<'a>, d: &Decision) {
        if let Decision::Known = d {
            return;
        }
        self.urls.insert(e.canonical);
        self.urls.extend(e.aliases.iter().map(String::as_str));
        if let Decision::New { band_keys } = d {
            self.new
                .push((self.writes, e.fingerprint, band_keys.clone(), e.text));
        }
        self.writes += 1;
    }
}

/// Decides what `p` is, against the store and `pending`; writes nothing (DESIGN §4). Single
/// node: the writer applies the batch's decisions at once; cluster mode: the committer
/// publishes each decision first, then applies it to its replica.
pub(crate) fn decide(
    store: &Store,
    engine: &Engine,
    p: &Entry<'_>,
    pending: &Pending<'_>,
) -> Result<Decision, StoreError> {
    if pending.urls.contains(p.canonical) {
        debug!(
            event = "article_known",
            "taken by an article of the same batch"
        );
        return Ok(Decision::Known);
    }
    if let Some(known) = store.known(p.canonical)? {
        debug!(event = "article_known", known = ?known);
        return Ok(Decision::Known);
    }
    let band_keys = engine.band_keys(p.fingerprint);
    // (original, similarity, needs the template check, the earlier text when pending)
    let mut copies: Vec<(Original, f64, bool, Option<&str>)> = Vec::new();
    for (seq, bytes) in store.candidates(&band_keys)? {
        let Ok(old) = Fingerprint::from_bytes(&bytes) else {
            debug!(event = "store_error", seq, "unreadable fingerprint skipped");
            continue;
        };
        let cmp = engine.compare(p.fingerprint, &old);
        if cmp.is_duplicate {
            copies.push((
                Original::Seq(seq),
                cmp.similarity,
                cmp.needs_text_check,
                None,
            ));
        }
    }
    // Earlier articles of the batch come after every stored one, as their seqs will.
    for (index, fp, keys, text) in &pending.new {
        if !keys.iter().any(|k| band_keys.contains(k)) {
            continue;
        }
        let cmp = engine.compare(p.fingerprint, fp);
        if cmp.is_duplicate {
            copies.push((
                Original::Earlier(*index),
                cmp.similarity,
                cmp.needs_text_check,
                Some(*text),
            ));
        }
    }
    // Best first (ties to the earliest: candidates come in seq order and the sort is stable);
    // the first that survives the template check, if it needs it, is the original.
    copies.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (original, similarity, check, text) in copies {
        if check {
            let old = match (original, text) {
                (_, Some(t)) => Some(t.to_string()),
                (Original::Seq(seq), None) => store.text_by_seq(seq)?,
                (Original::Earlier(_), None) => None,
            };
            if let Some(old) = old
                && let Some(swaps) = engine.template_swaps(split_text(p.text).1, split_text(&old).1)
            {
                debug!(
                    event = "article_template",
                    ?original,
                    names = swaps.names,
                    numbers = swaps.numbers,
                    "same wording as a stored article with other names or figures: not a copy"
                );
                continue;
            }
        }
        return Ok(Decision::Copy {
            original,
            similarity,
        });
    }
    Ok(Decision::New { band_keys })
}

fn span(p: &Prepared) -> tracing::Span {
    info_span!("article", feed = %p.feed, url = %p.canonical)
}

/// Decides every article (in order, each seeing the ones before), applies the decisions in
/// one transaction, and returns each article's outcome.
fn write_batch(w: &Writer, pages: &[&Prepared]) -> Vec<ItemOutcome> {
    let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; pages.len()];
    let mut decided: Vec<(usize, Decision)> = Vec::new();
    let mut pending = Pending::default();
    for (i, &p) in pages.iter().enumerate() {
        let _enter = span(p).entered();
        // A panic here would leave the daemon running but storing nothing; contain it to the
        // one article.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            if let Some(h) = &w.hook {
                h();
            }
            decide(&w.store, &w.engine, &p.entry(), &pending)
        }));
        match result {
            Ok(Ok(d)) => {
                pending.push(p.entry(), &d);
                decided.push((i, d));
            }
            Ok(Err(e)) => {
                w.gate.store_failed(&e, "write article");
                outcomes[i] = Some(ItemOutcome::Failed(e.to_string()));
            }
            Err(_) => outcomes[i] = Some(panicked()),
        }
    }
    let writes_n = decided
        .iter()
        .filter(|(_, d)| *d != Decision::Known)
        .count();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(w, pages, &decided))) {
        Ok(Ok(done)) => {
            for (i, o) in done {
                outcomes[i] = Some(o);
            }
        }
        // One bad record must not fail the articles queued beside it: each goes again on
        // its own (nothing of the batch was written, so their decisions are taken again).
        Ok(Err(StoreError::Record { .. })) | Err(_) if writes_n > 1 => {
            for &(i, _) in &decided {
                outcomes[i] = write_batch(w, &[pages[i]]).pop();
            }
        }
        Ok(Err(e)) => {
            w.gate.store_failed(&e, "write article");
            for &(i, _) in &decided {
                outcomes[i] = Some(ItemOutcome::Failed(e.to_string()));
            }
        }
        Err(_) => {
            for &(i, _) in &decided {
                outcomes[i] = Some(panicked());
            }
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| ItemOutcome::Failed("not decided".into())))
        .collect()
}

fn panicked() -> ItemOutcome {
    error!(
        event = "writer_panic",
        "the writer panicked on one article; it will be retried"
    );
    ItemOutcome::Failed("writer panicked".into())
}

/// Writes the decided articles and copies in one transaction, then aliases the known
/// ones; returns (article index, outcome).
fn apply(
    w: &Writer,
    pages: &[&Prepared],
    decided: &[(usize, Decision)],
) -> Result<Vec<(usize, ItemOutcome)>, StoreError> {
    let now = Utc::now().to_rfc3339();
    let fingerprints: Vec<Option<Vec<u8>>> = decided
        .iter()
        .map(|(i, d)| matches!(d, Decision::New { .. }).then(|| pages[*i].fingerprint.to_bytes()))
        .collect();
    let mut writes = Vec::new();
    for ((i, d), fp) in decided.iter().zip(&fingerprints) {
        let p = pages[*i];
        match (d, fp) {
            (Decision::New { band_keys }, Some(fp)) => writes.push(Write::New(NewArticle {
                record: record(p, now.clone()),
                text: &p.text,
                aliases: &p.aliases,
                fingerprint: fp,
                band_keys,
            })),
            (
                Decision::Copy {
                    original,
                    similarity,
                },
                _,
            ) => writes.push(Write::Copy {
                original: *original,
                dup: DuplicateRecord {
                    url: p.canonical.to_string(),
                    feed: Some(p.feed.clone()),
                    similarity: *similarity,
                    seen_at: now.clone(),
                    original: None,
                },
                aliases: &p.aliases,
            }),
            _ => {}
        }
    }
    let mut applied = w.store.apply(writes)?.into_iter();
    let mut out = Vec::with_capacity(decided.len());
    for (i, d) in decided {
        let p = pages[*i];
        let _enter = span(p).entered();
        let outcome = match (d, d.ne(&Decision::Known).then(|| applied.next()).flatten()) {
            (Decision::Known, _) => {
                w.store.add_aliases(p.canonical.as_str(), &p.aliases)?;
                ItemOutcome::Known
            }
            (_, Some(Applied::Stored(r))) => {
                events::article_stored(&w.metrics, &r.name, r.words);
                ItemOutcome::Stored(r.name)
            }
            (Decision::Copy { similarity, .. }, Some(Applied::Copy(of))) => {
                events::article_duplicate(&w.metrics, &of, *similarity);
                ItemOutcome::Duplicate {
                    of,
                    similarity: *similarity,
                }
            }
            _ => unreachable!("apply returns one result per write, in order"),
        };
        out.push((*i, outcome));
    }
    Ok(out)
}

/// The record of a new article (seq and name are allocated by the store).
pub(super) fn record(p: &Prepared, now: String) -> ArticleRecord {
    let a = &p.article;
    ArticleRecord {
        name: String::new(),
        seq: 0,
        id: format!("{:016x}", article::article_id(&p.canonical)),
        url: p.fetched_url.to_string(),
        canonical_url: p.canonical.to_string(),
        feed: Some(p.feed.clone()),
        title: a.title.clone(),
        author: a.meta.author.clone(),
        published: a.meta.published.clone(),
        site_name: a.meta.site_name.clone(),
        language: a.meta.language.clone(),
        fetched_at: now,
        words: a.word_count(),
        content_hash: article::content_hash(&p.text),
        duplicates: Vec::new(),
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
