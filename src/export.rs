//! Export (DESIGN §7 `newsd export`): every stored article as `DIR/<name>`, its text byte for
//! byte, plus `DIR/manifest.jsonl` in seq order — read from the store, or streamed from a
//! running daemon, whose store lock keeps other processes out of sled.
//!
//! Owns: the export directory's layout and the stream format. Must not: touch sled (it reads
//! through [`Store`]) or know about HTTP.
//!
//! Stream (what the daemon answers on its control socket, `daemon::control`; one JSON object
//! per line): one `{"record": <ArticleRecord>, "text": <stored text>}` per article in seq order, then
//! `{"end": <count>}`. A store error mid-stream ends it with `{"error": <reason>}` instead. The
//! reader checks every article's name against its seq and id and its text against its content
//! hash, and refuses a stream without its end line: a dropped connection or a daemon that
//! stopped mid-way gives an error, never an export that looks complete.
//!
//! Reading an export directory back ([`read_dir`], for `newsd import`): the manifest carries
//! no content hash (DESIGN §7 lists its fields), so each text is checked against what the
//! manifest does say — the name is what seq and id make, the id is the XXH3 of the canonical
//! URL, seqs increase, the text's first line is the title, its body has `words` words, and
//! it ends with a newline; a truncated or swapped text fails one of them. The content hash is
//! recomputed from the text (and compared when a manifest line carries one).
//!
//! What an export does not carry: feed poll state (validators, next poll, error streaks),
//! rejected pages, and the URLs that led to an article besides its canonical and fetched
//! URL (feed links, tracking variants) or to a copy besides the copy's canonical URL.

use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::article::{article_name, content_hash};
use crate::store::{ArticleRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("export stream: {0}")]
    Stream(String),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Bad { path: String, reason: String },
}

/// One line of the export stream.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Article {
        record: Box<ArticleRecord>,
        text: String,
    },
    End {
        end: usize,
    },
    Error {
        error: String,
    },
}

/// An export directory being filled. Files are written to a temporary name and renamed, and
/// `manifest.jsonl` appears last, so an interrupted export never leaves a truncated article
/// under its real name or a manifest that lists more than was written. Dropped unfinished, it
/// removes its temporary manifest.
pub struct ExportDir {
    out: PathBuf,
    manifest_tmp: PathBuf,
    manifest: BufWriter<File>,
    count: usize,
    /// Told of every article written (progress), if anyone asked.
    on_added: Option<Box<dyn FnMut() + Send>>,
}

/// `r`, with an error naming the file written.
fn written<T>(path: &Path, r: std::io::Result<T>) -> Result<T, ExportError> {
    r.map_err(|source| ExportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

impl Drop for ExportDir {
    fn drop(&mut self) {
        // Gone already when `finish` renamed it.
        let _ = std::fs::remove_file(&self.manifest_tmp);
    }
}

impl ExportDir {
    /// Starts an export into `out`, which must exist.
    pub fn create(out: &Path) -> Result<ExportDir, ExportError> {
        let manifest_tmp = out.join(".manifest.jsonl.tmp");
        let file = File::create(&manifest_tmp);
        let file = written(&manifest_tmp, file)?;
        Ok(ExportDir {
            out: out.to_path_buf(),
            manifest_tmp,
            manifest: BufWriter::new(file),
            count: 0,
            on_added: None,
        })
    }

    /// Calls `f` after each article is written (the CLI's progress line).
    pub fn on_added(&mut self, f: impl FnMut() + Send + 'static) {
        self.on_added = Some(Box::new(f));
    }

    /// Writes one article and its manifest line (the record without its content hash).
    pub fn add(&mut self, record: &ArticleRecord, text: &str) -> Result<(), ExportError> {
        let path = self.out.join(&record.name);
        let tmp = self.out.join(format!(".{}.tmp", record.name));
        written(&tmp, std::fs::write(&tmp, text.as_bytes()))?;
        written(&path, std::fs::rename(&tmp, &path))?;
        let mut line = serde_json::to_value(record).expect("records serialise");
        if let Some(obj) = line.as_object_mut() {
            obj.remove("content_hash");
        }
        let manifest = &mut self.manifest;
        let r = serde_json::to_writer(&mut *manifest, &line)
            .map_err(std::io::Error::from)
            .and_then(|()| manifest.write_all(b"\n"));
        written(&self.manifest_tmp, r)?;
        self.count += 1;
        if let Some(f) = &mut self.on_added {
            f();
        }
        Ok(())
    }

    /// Puts `manifest.jsonl` in place; returns the number of articles exported.
    pub fn finish(mut self) -> Result<usize, ExportError> {
        let r = self.manifest.flush();
        written(&self.manifest_tmp, r)?;
        let path = self.out.join("manifest.jsonl");
        written(&path, std::fs::rename(&self.manifest_tmp, &path))?;
        Ok(self.count)
    }
}

/// Exports straight from an open store.
pub fn from_store(store: &Store, dir: &mut ExportDir) -> Result<(), ExportError> {
    for entry in store.articles() {
        let (record, text) = entry?;
        dir.add(&record, &text)?;
    }
    Ok(())
}

/// Writes the export stream of `store` to `w` (the daemon's side). `stop` is asked before
/// each article; when it says so the stream ends with an error line.
pub fn write_stream(
    store: &Store,
    mut w: impl Write,
    stop: impl Fn() -> bool,
) -> std::io::Result<()> {
    let mut count = 0;
    for entry in store.articles() {
        let line = match entry {
            _ if stop() => Line::Error {
                error: "the daemon is shutting down".into(),
            },
            Ok((record, text)) => Line::Article {
                record: Box::new(record),
                text,
            },
            Err(e) => Line::Error {
                error: e.to_string(),
            },
        };
        serde_json::to_writer(&mut w, &line)?;
        w.write_all(b"\n")?;
        if matches!(line, Line::Error { .. }) {
            return w.flush();
        }
        count += 1;
    }
    serde_json::to_writer(&mut w, &Line::End { end: count })?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The name becomes a file name: it must be exactly what seq and id make.
fn name_problem(record: &ArticleRecord) -> Option<String> {
    let id = u64::from_str_radix(&record.id, 16)
        .ok()
        .filter(|_| record.id.len() == 16);
    (id.map(|id| article_name(record.seq, id)).as_ref() != Some(&record.name))
        .then(|| format!("name {:?} does not match its seq and id", record.name))
}

/// Words of a stored text's body, counted as [`crate::model::CleanArticle::word_count`]
/// counts its blocks (the body is those blocks separated by blank lines).
fn body_words(text: &str) -> usize {
    crate::model::split_text(text)
        .1
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Why `text` cannot be the stored text of `record`, if it cannot.
fn text_problem(record: &ArticleRecord, text: &str) -> Option<String> {
    let (title, _) = crate::model::split_text(text);
    if title != record.title {
        return Some(format!(
            "its first line {title:?} is not the manifest's title {:?}",
            record.title
        ));
    }
    if !text.ends_with('\n') {
        return Some("it does not end with a newline (truncated?)".into());
    }
    let words = body_words(text);
    (words != record.words).then(|| {
        format!(
            "its body has {words} words, the manifest says {} (truncated or edited?)",
            record.words
        )
    })
}

/// Reads the export directory `dir` in manifest order, checking every article (see the
/// module docs) before handing it to `each` with its content hash filled in. The first
/// problem ends the read, naming the file (and manifest line).
pub fn read_dir(
    dir: &Path,
    mut each: impl FnMut(ArticleRecord, String) -> Result<(), ExportError>,
) -> Result<usize, ExportError> {
    let manifest = dir.join("manifest.jsonl");
    let file = File::open(&manifest).map_err(|source| ExportError::Read {
        path: manifest.clone(),
        source,
    })?;
    let mut last_seq: Option<u64> = None;
    let mut count = 0;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = format!("{}:{}", manifest.display(), i + 1);
        let bad = |reason: String| ExportError::Bad {
            path: at.clone(),
            reason,
        };
        let line = line.map_err(|source| ExportError::Read {
            path: manifest.clone(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let mut value: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        let Some(obj) = value.as_object_mut() else {
            return Err(bad("not a JSON object".into()));
        };
        let listed_hash = obj.remove("content_hash");
        let name = obj.get("name").and_then(|n| n.as_str()).unwrap_or("");
        // The name becomes a path: only the plain file names an export writes.
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(bad(format!("name {name:?} is not an article file name")));
        }
        let path = dir.join(name);
        let text = std::fs::read(&path).map_err(|source| ExportError::Read {
            path: path.clone(),
            source,
        })?;
        let text = String::from_utf8(text).map_err(|_| ExportError::Bad {
            path: path.display().to_string(),
            reason: "not UTF-8".into(),
        })?;
        obj.insert("content_hash".into(), content_hash(&text).into());
        let record: ArticleRecord =
            serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        if let Some(listed) = listed_hash
            && listed.as_str() != Some(&record.content_hash)
        {
            return Err(ExportError::Bad {
                path: path.display().to_string(),
                reason: format!("text does not match the manifest's content hash {listed}"),
            });
        }
        if let Some(why) = name_problem(&record) {
            return Err(bad(why));
        }
        let id = format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(record.canonical_url.as_bytes())
        );
        if id != record.id {
            return Err(bad(format!(
                "id {} is not the hash of canonical_url {} ({id})",
                record.id, record.canonical_url
            )));
        }
        if last_seq.is_some_and(|last| record.seq <= last) {
            return Err(bad(format!(
                "seq {} does not follow seq {}",
                record.seq,
                last_seq.unwrap_or_default()
            )));
        }
        last_seq = Some(record.seq);
        if let Some(why) = text_problem(&record, &text) {
            return Err(ExportError::Bad {
                path: path.display().to_string(),
                reason: why,
            });
        }
        each(record, text)?;
        count += 1;
    }
    Ok(count)
}

/// Reads an export stream into `dir` (the client's side), checking every article.
pub fn read_stream(r: impl BufRead, dir: &mut ExportDir) -> Result<(), ExportError> {
    let bad = |n: usize, why: String| ExportError::Stream(format!("line {n}: {why}"));
    let mut lines = r.lines();
    let mut n = 0;
    loop {
        n += 1;
        let Some(line) = lines.next() else {
            return Err(ExportError::Stream(format!(
                "ended after {} articles without its end line (daemon stopped or connection lost)",
                n - 1
            )));
        };
        let line = line.map_err(|e| bad(n, e.to_string()))?;
        match serde_json::from_str::<Line>(&line).map_err(|e| bad(n, e.to_string()))? {
            Line::Article { record, text } => {
                if let Some(why) = name_problem(&record) {
                    return Err(bad(n, why));
                }
                if content_hash(&text) != record.content_hash {
                    return Err(bad(
                        n,
                        format!("text of {} does not match its content hash", record.name),
                    ));
                }
                dir.add(&record, &text)?;
            }
            Line::End { end } if end == n - 1 => return Ok(()),
            Line::End { end } => {
                return Err(bad(n, format!("end says {end} articles, got {}", n - 1)));
            }
            Line::Error { error } => return Err(bad(n, format!("the daemon failed: {error}"))),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn record(seq: u64, text: &str) -> ArticleRecord {
        let id = 0x76ac_e5f3_621f_ed2e + seq;
        ArticleRecord {
            name: article_name(seq, id),
            seq,
            id: format!("{id:016x}"),
            url: format!("https://example.org/{seq}"),
            canonical_url: format!("https://example.org/{seq}"),
            feed: None,
            title: "Title".into(),
            author: None,
            published: None,
            site_name: None,
            language: None,
            fetched_at: "2026-11-21T00:00:00Z".into(),
            words: 2,
            content_hash: content_hash(text),
            duplicates: Vec::new(),
        }
    }

    fn line(v: &Line) -> String {
        serde_json::to_string(v).unwrap() + "\n"
    }

    fn read(stream: &str) -> (tempfile::TempDir, Result<usize, ExportError>) {
        let out = tempfile::tempdir().unwrap();
        let mut dir = ExportDir::create(out.path()).unwrap();
        let r = read_stream(stream.as_bytes(), &mut dir).and_then(|()| dir.finish());
        (out, r)
    }

    /// One article line of a stream.
    /// Export streams a reader must refuse, each with the words its error must contain: cut
    /// short, a wrong end count, an error line from the daemon (`error`), a text that does
    /// not match its hash, a name that does not match its seq and id.
    pub(crate) fn refused_streams(error: &'static str) -> Vec<(String, &'static str)> {
        vec![
            (article(0, "A\n"), "without its end line"),
            (article(0, "A\n") + "{\"end\":3}\n", "end says 3"),
            (
                article(0, "A\n") + &format!("{{\"error\":\"{error}\"}}\n"),
                error,
            ),
            (
                article(0, "A\n").replace("A\\n\"}", "B\\n\"}"),
                "content hash",
            ),
            (
                article(0, "A\n").replace("000_", "../000_"),
                "does not match its seq and id",
            ),
        ]
    }

    pub(crate) fn article(seq: u64, text: &str) -> String {
        line(&Line::Article {
            record: Box::new(record(seq, text)),
            text: text.into(),
        })
    }

    #[test]
    fn a_complete_stream_becomes_files_and_a_manifest() {
        let stream = article(0, "A\n\nOne.\n") + &article(1, "B\n\nTwo.\n") + "{\"end\":2}\n";
        let (out, r) = read(&stream);
        assert_eq!(r.unwrap(), 2);
        let name = record(1, "").name;
        assert_eq!(
            std::fs::read_to_string(out.path().join(&name)).unwrap(),
            "B\n\nTwo.\n"
        );
        let manifest = std::fs::read_to_string(out.path().join("manifest.jsonl")).unwrap();
        assert_eq!(manifest.lines().count(), 2);
        assert!(!manifest.contains("content_hash"), "{manifest}");
    }

    #[test]
    fn a_cut_or_tampered_stream_is_refused_and_leaves_no_manifest() {
        let mut cases = refused_streams("disk on fire");
        cases.push(("not json\n".to_string(), "line 1"));
        for (stream, why) in cases {
            let (out, r) = read(&stream);
            let err = r.expect_err(&stream).to_string();
            assert!(err.contains(why), "{stream:?}: {err}");
            assert!(!out.path().join("manifest.jsonl").exists());
            assert!(!out.path().join(".manifest.jsonl.tmp").exists());
        }
    }
}
