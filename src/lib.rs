//! # newsd — a news-ingestion daemon
//!
//! newsd polls news feeds politely, fetches every new article page, strips it down to the
//! article text, recognises near-identical copies of a story, and keeps each distinct story
//! once in an embedded sled store. `../shared/DESIGN.md` is the contract; this page maps it
//! onto the code.
//!
//! ## Data flow
//!
//! ```text
//! config ─► schedule ─► fetch ─► feed ─► article ─► extract ─► dedup ─► store
//!   │          │          │        │        │          │          │        │
//!   │          │          │        │        │          │          │        └ sled: articles, meta, by_seq, urls,
//!   │          │          │        │        │          │          │          dups, sigs, bands, feeds, rejects
//!   │          │          │        │        │          │          └ shingles → MinHash → LSH bands; verdict;
//!   │          │          │        │        │          │            same wording? the texts settle it
//!   │          │          │        │        │          └ HTML → CleanArticle (sync, on the page threads)
//!   │          │          │        │        └ canonical URL, article id and name
//!   │          │          │        └ feed bytes → ParsedFeed (repair, depth check, feed-rs)
//!   │          │          └ one reqwest client: caps, conditional GET, per-host limits, egress guard
//!   │          └ next poll: interval, ttl/max-age/Expires, backoff with jitter
//!   └ newsd.toml + feed lists (text, OPML), all problems at once
//! ```
//!
//! [`pipeline`] is the only module that knows several stages: `pipeline/poll.rs` polls one
//! feed and reports on every way out (panic and timeout included) and hands the writer its
//! articles as one job per poll (chunks when a page is slow), `pipeline/page.rs` runs the
//! page workers (fetch) over a bounded queue, `pipeline/cpu.rs` the page threads (one per
//! core, one bounded queue) that decode, extract and fingerprint pages and parse feeds, and
//! `pipeline/writer.rs` is the one writer thread that performs "duplicate?" and "insert"
//! together (reading a candidate original's text back when the template check needs it). [`pipeline::gate`] pauses ingest while the store cannot write
//! (disk full) or free disk is below the watermark, and reopens the store when it can;
//! [`pipeline::liveness`] records what the writer, page workers and page threads hold;
//! [`pipeline::order`] keeps `newsd once`'s list order while its polls run side by side (a
//! page two feeds list is fetched by the earlier one; articles reach the writer in list
//! order). [`daemon`] runs the scheduler loop over [`daemon::scheduler`] (a due-time book,
//! O(log n) per poll; it sleeps while every poll slot is taken) and `newsd once`
//! (`daemon/once.rs`), reloads feed lists, drains on shutdown, tells systemd and the probes
//! what [`daemon::health`] finds, serves `/metrics`, `/healthz` and `/readyz` on the admin address,
//! and the live export on its owner-only control socket in the data directory. [`cli`] holds one function per command; `main.rs` maps errors to exit codes.
//!
//! Cluster mode ([`cluster`], only with a `[cluster]` section): the same pipeline, but a
//! worker's feed state, known URLs and finished pages go to NATS JetStream through
//! [`pipeline::Shared`] (KV buckets and the candidates stream); one committer per cluster
//! runs the writer's decision (`decide` in `pipeline/writer.rs`) over the candidates in stream
//! order and publishes each to the articles stream (the store of record), which every node
//! applies to its local sled replica.
//!
//! ## Modules
//!
//! | module | owns | must not |
//! |---|---|---|
//! | [`model`] | types passed between stages | do I/O |
//! | [`config`] | loading, validation, feed lists | know runtime state |
//! | [`schedule`] | poll state and interval policy | do I/O |
//! | [`fetch`] | all network I/O | parse feeds or pages |
//! | [`feed`] | feed parsing and repair | fetch, store |
//! | [`article`] | canonical URL, id, name | fetch, store |
//! | [`extract`] | main text and metadata from HTML; the per-host site memory (chrome a host repeats) | do I/O, block on async |
//! | [`dedup`] | fingerprints and the duplicate verdict | touch sled |
//! | [`store`] | every sled access | decide duplicates |
//! | [`metrics`] | counters and histograms (atomics, enum labels), Prometheus text | do I/O |
//! | [`events`] | one function per notable event: counts its metric, then logs it | decide anything |
//! | [`pipeline`] | poll, page workers, page threads, writer; the ingest gate; liveness evidence | know the schedule |
//! | [`daemon`] | scheduler loop, health, admin port, control socket, systemd | touch sled (through [`store`]) |
//! | [`cluster`] | leases (partitions, committer), the worker's link to NATS, the committer, the replica follower, `cluster status` | touch sled except through [`store`]; run without `[cluster]` |
//! | [`export`] | the export directory (written, and read back for `import`) and the export stream | touch sled (reads through [`store`]) |

pub mod article;
// The one module that may print (Cargo.toml's [lints] deny it everywhere else).
#[allow(clippy::print_stdout, clippy::print_stderr)]
pub mod cli;
pub mod cluster;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod events;
pub mod export;
pub mod extract;
pub mod feed;
pub mod fetch;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod schedule;
pub mod store;
#[cfg(test)]
pub(crate) mod testutil;
