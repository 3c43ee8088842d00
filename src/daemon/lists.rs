//! The feed lists of a running daemon: loaded at start and on SIGHUP, and re-read when a list
//! file's modification time changes (checked without inotify, every list check).

use std::path::PathBuf;
use std::time::SystemTime;

use tracing::{info, warn};

use crate::config::{Config, FeedSpec};

/// Remembers the feed-list files' modification times to notice edits.
pub(super) struct ListWatch {
    files: Vec<PathBuf>,
    stamps: Vec<Option<SystemTime>>,
}

impl ListWatch {
    pub(super) fn new(cfg: &Config) -> ListWatch {
        let files = cfg.feed_files.clone();
        let stamps = files.iter().map(|f| mtime(f)).collect();
        ListWatch { files, stamps }
    }

    /// Whether a list file changed since the last call (or load).
    pub(super) fn changed(&mut self) -> bool {
        let now: Vec<_> = self.files.iter().map(|f| mtime(f)).collect();
        let changed = now != self.stamps;
        self.stamps = now;
        changed
    }

    /// Loads every list, logging each problem (a bad line never stops the daemon).
    pub(super) fn load(&mut self, cfg: &Config) -> Vec<FeedSpec> {
        self.changed();
        let (feeds, problems) = cfg.load_feeds();
        for p in &problems {
            warn!(event = "feed_list_error", error = %p);
        }
        info!(
            event = "feeds_loaded",
            feeds = feeds.len(),
            problems = problems.len()
        );
        feeds
    }
}

fn mtime(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
