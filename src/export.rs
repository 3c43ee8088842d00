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
        })
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
                // The name becomes a file name: it must be exactly what seq and id make.
                let id = u64::from_str_radix(&record.id, 16).ok();
                if id.map(|id| article_name(record.seq, id)).as_ref() != Some(&record.name) {
                    return Err(bad(
                        n,
                        format!("name {:?} does not match its seq and id", record.name),
                    ));
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
        let cases = [
            (article(0, "A\n"), "without its end line"),
            (article(0, "A\n") + "{\"end\":3}\n", "end says 3"),
            (
                article(0, "A\n") + "{\"error\":\"disk on fire\"}\n",
                "disk on fire",
            ),
            (
                article(0, "A\n").replace("A\\n\"}", "B\\n\"}"),
                "content hash",
            ),
            (
                article(0, "A\n").replace("000_", "../000_"),
                "does not match its seq and id",
            ),
            ("not json\n".to_string(), "line 1"),
        ];
        for (stream, why) in cases {
            let (out, r) = read(&stream);
            let err = r.expect_err(&stream).to_string();
            assert!(err.contains(why), "{stream:?}: {err}");
            assert!(!out.path().join("manifest.jsonl").exists());
            assert!(!out.path().join(".manifest.jsonl.tmp").exists());
        }
    }
}
