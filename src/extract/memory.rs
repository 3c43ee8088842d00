//! Site memory: per host, which block shapes recur on most of the host's recent pages.
//!
//! Owns the per-host tables of block shapes (a hash of the block's tag path and its
//! normalised text), their counts with decay, the verdicts drawn from them ("site chrome",
//! "recurring") and their versioned byte encoding. It must not do I/O or touch sled: the store
//! keeps the bytes ([`SiteMemory::encode_host`] / [`SiteMemory::decode_host`]), and the caller
//! decides when to [`SiteMemory::observe`] a page.
//!
//! Bounds: a host keeps at most [`MAX_ENTRIES`] shapes (10 bytes each on disk, 16 in memory),
//! so one host costs at most 2,565 bytes encoded and about 4.2 KiB in memory; at most
//! [`MAX_HOSTS`] hosts are kept (the host seen on the fewest pages makes room for a new one).
//! Counts decay: when a host reaches [`WINDOW`] pages, its page count and every shape count
//! are halved, so a verdict always speaks of the last 20–40 pages.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::RwLock;

use super::dom::Tag;

/// Pages of a host after which counts are halved (the "last N pages" of a verdict).
pub const WINDOW: u16 = 40;
/// Pages a host needs before any block is called site chrome.
pub const MIN_PAGES: u16 = 8;
/// Shapes kept per host.
pub const MAX_ENTRIES: usize = 256;
/// Hosts kept in one memory.
pub const MAX_HOSTS: usize = 4096;
/// Distinct shapes taken from one page: the first and last half of this many, because chrome
/// sits at the top and the bottom of a page and long pages would otherwise flood the table.
pub const MAX_SHAPES_PER_PAGE: usize = 192;
/// Version byte of the encoding written by [`SiteMemory::encode_host`].
pub const ENCODING_VERSION: u8 = 1;

/// A malformed encoded host table.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(
        "site memory encoding version {found} is newer than this newsd understands ({ENCODING_VERSION})"
    )]
    NewerVersion { found: u8 },
    #[error("site memory record is malformed: {reason}")]
    Malformed { reason: String },
}

/// One shape of one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The block shape (tag path + normalised text), see [`shape_hash`].
    hash: u64,
    /// Pages (of the decayed window) the shape was seen on: the evidence of a verdict.
    count: u16,
    /// Host page number when last seen: eviction prefers stale one-off shapes. Not persisted
    /// (a reloaded table starts with every entry equally old).
    last: u32,
}

/// The table of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct HostMemory {
    /// Pages observed in the decayed window: the denominator of every verdict.
    pages: u16,
    /// Pages observed since the table was created or loaded: the clock of `Entry::last`.
    clock: u32,
    /// Sorted by hash, at most [`MAX_ENTRIES`].
    entries: Vec<Entry>,
    /// Changed since the last [`SiteMemory::take_dirty`]: only changed hosts are written back.
    dirty: bool,
    /// Ids of the last [`RECENT_PAGES`] pages observed (in memory only): a page fetched again
    /// (a retry after a failure, a feed re-polled in full) must not count twice, or its own
    /// blocks would soon look like the host's chrome.
    recent: std::collections::VecDeque<u64>,
}

/// How many recent page ids each host remembers against double counting (8 bytes each).
const RECENT_PAGES: usize = 64;

impl HostMemory {
    fn observe(&mut self, shapes: &[u64]) {
        self.pages = self.pages.saturating_add(1);
        self.clock = self.clock.wrapping_add(1);
        self.dirty = true;
        let mut fresh = Vec::new();
        for &h in shapes {
            match self.entries.binary_search_by_key(&h, |e| e.hash) {
                Ok(i) => {
                    let e = &mut self.entries[i];
                    e.count = e.count.saturating_add(1);
                    e.last = self.clock;
                }
                Err(_) => fresh.push(h),
            }
        }
        for h in fresh {
            if self.entries.len() >= MAX_ENTRIES {
                // Only a stale one-off shape makes room; shapes with evidence stay until
                // decay takes them.
                let victim = self
                    .entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.count <= 1 && e.last != self.clock)
                    .min_by_key(|(_, e)| e.last)
                    .map(|(i, _)| i);
                match victim {
                    Some(i) => {
                        self.entries.remove(i);
                    }
                    None => break,
                }
            }
            let at = self
                .entries
                .binary_search_by_key(&h, |e| e.hash)
                .unwrap_or_else(|i| i);
            self.entries.insert(
                at,
                Entry {
                    hash: h,
                    count: 1,
                    last: self.clock,
                },
            );
        }
        if self.pages >= WINDOW {
            self.pages /= 2;
            for e in &mut self.entries {
                e.count /= 2;
            }
            self.entries.retain(|e| e.count > 0);
        }
    }

    fn view(&self) -> HostView {
        HostView {
            pages: self.pages,
            entries: self
                .entries
                .iter()
                .filter(|e| recurring(e.count, self.pages))
                .map(|e| (e.hash, e.count))
                .collect(),
        }
    }
}

/// Whether a shape seen on `count` of `pages` pages is site chrome.
fn chrome(count: u16, pages: u16) -> bool {
    pages >= MIN_PAGES && u32::from(count) * 5 >= u32::from(pages) * 3
}

/// Whether a shape recurs often enough to stay out of a dedup fingerprint: on at least three
/// pages and a fifth of them. (Two pages sharing a block may be one article stored twice —
/// exactly what the fingerprint must still see.)
fn recurring(count: u16, pages: u16) -> bool {
    count >= 3 && u32::from(count) * 5 >= u32::from(pages)
}

/// What extraction needs from a host's memory: a small snapshot, taken once per page so the
/// lock is not held while a page is extracted.
#[derive(Debug, Clone, Default)]
pub struct HostView {
    /// Pages in the host's window.
    pages: u16,
    /// Recurring shapes and their counts, sorted by hash.
    entries: Vec<(u64, u16)>,
}

impl HostView {
    fn count(&self, shape: u64) -> Option<u16> {
        self.entries
            .binary_search_by_key(&shape, |e| e.0)
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// `(seen, pages)` when the shape is site chrome on this host.
    pub fn chrome(&self, shape: u64) -> Option<(u16, u16)> {
        self.count(shape)
            .filter(|&c| chrome(c, self.pages))
            .map(|c| (c, self.pages))
    }

    /// Whether the shape recurs on the host (kept out of the dedup fingerprint).
    pub fn recurring(&self, shape: u64) -> bool {
        self.count(shape).is_some()
    }

    /// Whether the view can say anything at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Site memory of many hosts, shared by every extraction thread (`Arc<SiteMemory>`).
#[derive(Debug, Default)]
pub struct SiteMemory {
    hosts: RwLock<HashMap<String, HostMemory>>,
}

/// The key a host is remembered under: lower-case, without a leading `www.`.
pub fn host_key(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match h.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => h,
    }
}

impl SiteMemory {
    pub fn new() -> SiteMemory {
        SiteMemory::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, HostMemory>> {
        // A panic while holding the lock leaves counts, never a broken invariant worth
        // refusing service for.
        self.hosts.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, HostMemory>> {
        self.hosts.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one extracted page of `host`: every distinct block shape of the page (its
    /// [`crate::extract::Extraction::shapes`]). Call it after extracting, so a page is never
    /// judged by its own blocks.
    pub fn observe(&self, host: &str, page: &super::Extraction) {
        self.observe_shapes(host, &page.shapes);
    }

    /// [`SiteMemory::observe`] for a page known by `page_id` (e.g. a hash of its URL): a page
    /// observed again among the host's last pages is not counted twice.
    pub fn observe_page(&self, host: &str, page_id: u64, page: &super::Extraction) {
        let key = host_key(host);
        if self
            .read()
            .get(&key)
            .is_some_and(|m| m.recent.contains(&page_id))
        {
            return;
        }
        self.observe_shapes(host, &page.shapes);
        if let Some(m) = self.write().get_mut(&key) {
            if m.recent.len() >= RECENT_PAGES {
                m.recent.pop_front();
            }
            m.recent.push_back(page_id);
        }
    }

    pub(crate) fn observe_shapes(&self, host: &str, shapes: &[u64]) {
        let key = host_key(host);
        if key.is_empty() {
            return;
        }
        let mut hosts = self.write();
        if !hosts.contains_key(&key)
            && hosts.len() >= MAX_HOSTS
            && let Some(k) = hosts
                .iter()
                .min_by_key(|(_, m)| (m.pages, m.clock))
                .map(|(k, _)| k.clone())
        {
            hosts.remove(&k);
        }
        hosts.entry(key).or_default().observe(shapes);
    }

    /// Snapshot of what the memory knows about `host` (empty when nothing recurs yet).
    pub fn view(&self, host: &str) -> HostView {
        self.read()
            .get(&host_key(host))
            .map(HostMemory::view)
            .unwrap_or_default()
    }

    /// Pages of `host` in its current window.
    pub fn pages(&self, host: &str) -> u16 {
        self.read().get(&host_key(host)).map_or(0, |m| m.pages)
    }

    /// Shapes kept for `host`.
    pub fn entries(&self, host: &str) -> usize {
        self.read()
            .get(&host_key(host))
            .map_or(0, |m| m.entries.len())
    }

    /// Hosts remembered.
    pub fn hosts(&self) -> Vec<String> {
        let mut v: Vec<String> = self.read().keys().cloned().collect();
        v.sort();
        v
    }

    /// Hosts changed since the last call, with their encoding; marks them clean.
    pub fn take_dirty(&self) -> Vec<(String, Vec<u8>)> {
        let mut hosts = self.write();
        let mut out = Vec::new();
        for (k, m) in hosts.iter_mut().filter(|(_, m)| m.dirty) {
            m.dirty = false;
            out.push((k.clone(), encode(m)));
        }
        out.sort();
        out
    }

    /// Versioned bytes of one host's table (`None` for an unknown host).
    pub fn encode_host(&self, host: &str) -> Option<Vec<u8>> {
        self.read().get(&host_key(host)).map(encode)
    }

    /// Replaces one host's table with decoded bytes.
    pub fn decode_host(&self, host: &str, bytes: &[u8]) -> Result<(), MemoryError> {
        let m = decode(bytes)?;
        let key = host_key(host);
        let mut hosts = self.write();
        if !hosts.contains_key(&key) && hosts.len() >= MAX_HOSTS {
            return Ok(());
        }
        hosts.insert(key, m);
        Ok(())
    }
}

/// `[version u8][pages u16 LE][n u16 LE] n × [hash u64 LE][count u16 LE]`.
fn encode(m: &HostMemory) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + 10 * m.entries.len());
    out.push(ENCODING_VERSION);
    out.extend_from_slice(&m.pages.to_le_bytes());
    out.extend_from_slice(&(m.entries.len() as u16).to_le_bytes());
    for e in &m.entries {
        out.extend_from_slice(&e.hash.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
    }
    out
}

fn decode(bytes: &[u8]) -> Result<HostMemory, MemoryError> {
    let bad = |reason: &str| MemoryError::Malformed {
        reason: reason.to_owned(),
    };
    let (&version, rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
    if version > ENCODING_VERSION {
        return Err(MemoryError::NewerVersion { found: version });
    }
    if version == 0 {
        return Err(bad("version 0"));
    }
    if rest.len() < 4 {
        return Err(bad("truncated header"));
    }
    let pages = u16::from_le_bytes([rest[0], rest[1]]);
    let n = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
    let body = &rest[4..];
    if n > MAX_ENTRIES || body.len() != n * 10 {
        return Err(bad(&format!(
            "{n} entries in {} bytes (at most {MAX_ENTRIES} entries of 10 bytes)",
            body.len()
        )));
    }
    let mut entries: Vec<Entry> = body
        .chunks_exact(10)
        .map(|c| Entry {
            hash: u64::from_le_bytes(c[..8].try_into().unwrap_or([0; 8])),
            count: u16::from_le_bytes([c[8], c[9]]),
            last: 0,
        })
        .collect();
    entries.sort_by_key(|e| e.hash);
    entries.dedup_by_key(|e| e.hash);
    Ok(HostMemory {
        pages: pages.min(WINDOW),
        clock: 0,
        entries,
        dirty: false,
        recent: Default::default(),
    })
}

/// FNV-1a, 64 bit: a streaming hash cheap enough to run over every byte of page text.
#[derive(Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl Fnv {
    /// Feeds text normalised for shape comparison: letters lower-cased, digits kept (a
    /// templated report whose figures change is a new text each time), everything else
    /// dropped.
    pub fn feed_text(&mut self, s: &str) {
        // Byte loop for ASCII (nearly all of the text on most pages), chars for the rest.
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let x = b[i];
            if x.is_ascii() {
                if x.is_ascii_alphabetic() {
                    self.write_u8(x.to_ascii_lowercase());
                } else if x.is_ascii_digit() {
                    self.write_u8(x);
                }
                i += 1;
                continue;
            }
            let Some(c) = s.get(i..).and_then(|t| t.chars().next()) else {
                break;
            };
            i += c.len_utf8();
            if c.is_alphanumeric() {
                for l in c.to_lowercase() {
                    let mut buf = [0u8; 4];
                    self.write(l.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
}

/// The shape of a block: its normalised-text hash combined with its tag path.
pub fn shape_hash(text_hash: u64, path: &[Tag]) -> u64 {
    let mut h = Fnv(text_hash);
    for t in path {
        std::hash::Hash::hash(t, &mut h);
    }
    // Never 0: 0 marks "no shape computed".
    h.finish() | 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(shared: &[u64], own: u64) -> Vec<u64> {
        let mut v = shared.to_vec();
        v.push(own);
        v
    }

    #[test]
    fn chrome_needs_enough_pages_and_a_majority() {
        let m = SiteMemory::new();
        for i in 0..7 {
            m.observe_shapes("www.example.org", &page(&[11, 13], 1000 + i));
        }
        assert_eq!(
            m.view("example.org").chrome(11),
            None,
            "7 pages are too few"
        );
        m.observe_shapes("example.org", &page(&[11], 2000));
        let v = m.view("EXAMPLE.org");
        assert_eq!(v.chrome(11), Some((8, 8)));
        assert_eq!(v.chrome(13), Some((7, 8)));
        assert_eq!(v.chrome(1000), None, "a one-off block is never chrome");
        // 4 of 10 is below 60 %.
        for i in 0..2 {
            m.observe_shapes("example.org", &page(&[], 3000 + i));
        }
        let v = m.view("example.org");
        assert_eq!(v.chrome(13), Some((7, 10)));
        assert!(v.recurring(13) && !v.recurring(1000));
        assert!(m.view("other.org").is_empty());
    }

    #[test]
    fn a_page_observed_again_is_not_counted_twice() {
        let m = SiteMemory::new();
        let e = |shapes: Vec<u64>| crate::extract::Extraction {
            article: Default::default(),
            host: None,
            shapes,
            fingerprint: Vec::new(),
            removed: Vec::new(),
        };
        // One page fetched ten times (retries) does not make its blocks the host's chrome …
        for _ in 0..10 {
            m.observe_page("example.org", 42, &e(page(&[11], 500)));
        }
        assert_eq!(m.pages("example.org"), 1);
        // … while ten distinct pages sharing a block do.
        for i in 0..10 {
            m.observe_page("example.org", 100 + i, &e(page(&[11], 600 + i)));
        }
        assert_eq!(m.view("example.org").chrome(11), Some((11, 11)));
    }

    #[test]
    fn table_stays_bounded_and_keeps_the_evidence() {
        let m = SiteMemory::new();
        // 500 pages of 150 unique blocks each, plus three chrome blocks.
        for p in 0..500u64 {
            let mut shapes: Vec<u64> = (0..150).map(|b| (p << 20) | b | 1 << 60).collect();
            shapes.extend([7, 9, 21]);
            m.observe_shapes("news.example", &shapes);
            assert!(m.entries("news.example") <= MAX_ENTRIES);
            assert!(m.pages("news.example") < WINDOW);
        }
        let v = m.view("news.example");
        for s in [7, 9, 21] {
            let (seen, pages) = v.chrome(s).expect("chrome survives churn and decay");
            assert_eq!(seen, pages);
        }
        let bytes = m.encode_host("news.example").unwrap();
        assert!(bytes.len() <= 5 + 10 * MAX_ENTRIES, "{} bytes", bytes.len());
    }

    #[test]
    fn hosts_are_bounded() {
        let m = SiteMemory::new();
        for h in 0..MAX_HOSTS + 10 {
            m.observe_shapes(&format!("h{h}.example"), &[1, 3]);
        }
        assert_eq!(m.hosts().len(), MAX_HOSTS);
    }

    #[test]
    fn encoding_round_trips_and_refuses_garbage() {
        let m = SiteMemory::new();
        for i in 0..12 {
            m.observe_shapes("example.org", &[5, 7, 100 + i]);
        }
        let bytes = m.encode_host("example.org").unwrap();
        let back = SiteMemory::new();
        back.decode_host("example.org", &bytes).unwrap();
        assert_eq!(back.view("example.org").chrome(5), Some((12, 12)));
        assert_eq!(back.encode_host("example.org").unwrap(), bytes);
        let mut newer = bytes.clone();
        newer[0] = 9;
        assert!(matches!(
            back.decode_host("x.org", &newer),
            Err(MemoryError::NewerVersion { found: 9 })
        ));
        assert!(
            back.decode_host("x.org", &bytes[..bytes.len() - 3])
                .is_err()
        );
        assert!(back.decode_host("x.org", &[]).is_err());
        assert_eq!(back.hosts(), vec!["example.org".to_owned()]);
    }

    #[test]
    fn shapes_ignore_case_and_punctuation_but_not_digits_or_path() {
        let hash = |s: &str| {
            let mut f = Fnv::default();
            f.feed_text(s);
            f.finish()
        };
        assert_eq!(hash("Sign up: it's free!"), hash("sign up its FREE"));
        assert_ne!(hash("Index up 3%"), hash("Index up 4%"));
        assert_ne!(hash("Comments"), hash("Commentz"));
        let h = hash("Subscribe now");
        assert_ne!(
            shape_hash(h, &[Tag::P, Tag::Block]),
            shape_hash(h, &[Tag::Li, Tag::List])
        );
    }

    #[test]
    fn text_hash_is_the_stored_definition() {
        // Shapes are persisted with the memory: the byte loop must hash exactly what the
        // definition (letters lower-cased char by char, digits kept, the rest dropped) does.
        let reference = |s: &str| {
            let mut f = Fnv::default();
            for c in s.chars().filter(|c| c.is_alphanumeric()) {
                for l in c.to_lowercase() {
                    let mut buf = [0u8; 4];
                    f.write(l.encode_utf8(&mut buf).as_bytes());
                }
            }
            f.finish()
        };
        for s in [
            "Sign up: it's free!",
            "Über die Straße, ÉCOLE n° 12 — İstanbul",
            "Новости 2025 года",
            "",
        ] {
            let mut f = Fnv::default();
            f.feed_text(s);
            assert_eq!(f.finish(), reference(s), "{s}");
        }
    }
}
