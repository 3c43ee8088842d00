//! Schedule: when each feed is polled next.
//!
//! Owns the per-feed poll state (validators, next poll, error streak) and the interval policy:
//! the configured interval stretched by the publisher's hints (RSS `<ttl>`, `Cache-Control:
//! max-age`, `Expires`), clamped to `[min, max]`, with jitter so feeds added together drift
//! apart; after errors, exponential backoff with full jitter, capped, never giving up. The
//! state is plain data the store persists, so a restart resumes the schedule instead of
//! polling every feed at once. No I/O here.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::fetch::{CacheHints, Validators};

/// The `[schedule]` config section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScheduleConfig {
    /// Poll interval of a feed without its own `interval_secs`.
    pub default_interval_secs: u64,
    /// No feed is polled more often than this, whatever its hints say.
    pub min_interval_secs: u64,
    /// Publisher hints (ttl, max-age) cannot stretch an interval beyond this.
    pub max_interval_secs: u64,
    /// First backoff step after a failure; doubles per consecutive failure.
    pub backoff_base_secs: u64,
    /// Backoff never waits longer than this (the feed is still retried, forever).
    pub max_backoff_secs: u64,
    /// Each interval is spread by ± this fraction so feeds do not poll in lockstep.
    pub jitter_ratio: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            default_interval_secs: 900,
            min_interval_secs: 60,
            max_interval_secs: 6 * 3600,
            backoff_base_secs: 60,
            max_backoff_secs: 6 * 3600,
            jitter_ratio: 0.1,
        }
    }
}

impl ScheduleConfig {
    /// Problems with the section, as (key, reason).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.default_interval_secs == 0 {
            out.push(("schedule.default_interval_secs", "must be > 0".into()));
        }
        if self.min_interval_secs > self.max_interval_secs {
            out.push((
                "schedule.min_interval_secs",
                format!(
                    "{} is above schedule.max_interval_secs ({})",
                    self.min_interval_secs, self.max_interval_secs
                ),
            ));
        }
        if !(0.0..=0.5).contains(&self.jitter_ratio) {
            out.push(("schedule.jitter_ratio", "must be between 0 and 0.5".into()));
        }
        if self.backoff_base_secs == 0 {
            out.push(("schedule.backoff_base_secs", "must be > 0".into()));
        }
        out
    }
}

/// Everything newsd remembers about one feed between polls (persisted as JSON by the store).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// Validators of the last response whose items were all processed (cursor safety: never
    /// ahead of the stored articles).
    #[serde(default)]
    pub validators: Validators,
    /// When the feed is due next.
    pub next_poll: Option<DateTime<Utc>>,
    /// Consecutive failed polls; 0 after a success.
    #[serde(default)]
    pub error_streak: u32,
    pub last_error: Option<String>,
    /// Kind of the last error (`timeout`, `http_status`, `parse`, `panic`, …), for the health
    /// view; `None` after a success.
    #[serde(default)]
    pub last_error_kind: Option<String>,
    pub last_polled: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    /// Set when the server said 410 Gone: the feed is not polled again until it is removed
    /// from and re-added to the list (visible in `newsd feeds`).
    pub disabled: Option<String>,
    pub title: Option<String>,
    /// RSS `<ttl>` in minutes, as last seen.
    pub ttl_mins: Option<u32>,
    /// Articles stored from this feed, for `newsd feeds`.
    #[serde(default)]
    pub articles: u64,
    /// Items of this feed recorded as copies of an already stored article.
    #[serde(default)]
    pub copies: u64,
    /// Pages of this feed that failed for good (not HTML, 404, no article text …).
    #[serde(default)]
    pub rejected: u64,
    /// Of those, pages where extraction found no article text (a site whose layout newsd
    /// cannot read shows here first).
    #[serde(default)]
    pub empty: u64,
}

impl FeedState {
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.disabled.is_none() && self.next_poll.is_none_or(|t| t <= now)
    }
}

/// Delay until the next poll after a successful poll (200 or 304).
pub fn after_success(
    cfg: &ScheduleConfig,
    interval: Duration,
    ttl_mins: Option<u32>,
    hints: CacheHints,
    rng: &mut impl Rng,
) -> Duration {
    let min = Duration::from_secs(cfg.min_interval_secs);
    let max = Duration::from_secs(cfg.max_interval_secs);
    // Hints only ever stretch the interval: a publisher may ask for fewer polls, not more.
    let hinted = [
        ttl_mins.map(|m| Duration::from_secs(u64::from(m) * 60)),
        hints.max_age,
        hints.expires_in,
    ]
    .into_iter()
    .flatten()
    .fold(interval, Duration::max);
    let base = hinted.clamp(min, max.max(min));
    jitter(base, cfg.jitter_ratio, rng).max(min)
}

/// Delay until the next poll after the `streak`-th consecutive failure (1 = first failure).
///
/// Full jitter over an exponentially growing, capped window, floored at the minimum
/// interval; a server's `Retry-After` is honoured when it asks for longer.
pub fn after_error(
    cfg: &ScheduleConfig,
    streak: u32,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    let cap = Duration::from_secs(cfg.max_backoff_secs);
    let window = backoff_window(cfg, streak);
    let drawn = Duration::from_secs_f64(window.as_secs_f64() * rng.random::<f64>());
    let floor = Duration::from_secs(cfg.min_interval_secs).min(cap);
    let wait = drawn.max(floor);
    match retry_after {
        Some(ra) => wait.max(ra.min(cap)),
        None => wait,
    }
}

/// Upper bound of the backoff draw after `streak` failures: base × 2^(streak-1), capped.
pub fn backoff_window(cfg: &ScheduleConfig, streak: u32) -> Duration {
    let exp = streak.saturating_sub(1).min(30);
    let secs = cfg.backoff_base_secs.saturating_mul(1u64 << exp);
    Duration::from_secs(secs.min(cfg.max_backoff_secs))
}

fn jitter(base: Duration, ratio: f64, rng: &mut impl Rng) -> Duration {
    if ratio <= 0.0 {
        return base;
    }
    let factor = 1.0 + rng.random_range(-ratio..=ratio);
    Duration::from_secs_f64(base.as_secs_f64() * factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn cfg() -> ScheduleConfig {
        ScheduleConfig::default()
    }

    #[test]
    fn interval_is_jittered_within_bounds() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let d = after_success(
                &cfg(),
                Duration::from_secs(900),
                None,
                CacheHints::default(),
                &mut rng,
            );
            assert!(
                d >= Duration::from_secs(810) && d <= Duration::from_secs(990),
                "{d:?}"
            );
        }
    }

    #[test]
    fn hints_stretch_but_never_shrink_and_are_clamped() {
        let c = ScheduleConfig {
            jitter_ratio: 0.0,
            ..cfg()
        };
        let mut rng = StdRng::seed_from_u64(1);
        let i = Duration::from_secs(900);
        // ttl of 30 minutes stretches 15 min to 30.
        assert_eq!(
            after_success(&c, i, Some(30), CacheHints::default(), &mut rng),
            Duration::from_secs(1800)
        );
        // A tiny max-age does not make polling more frequent.
        let short = CacheHints {
            max_age: Some(Duration::from_secs(5)),
            expires_in: None,
        };
        assert_eq!(after_success(&c, i, None, short, &mut rng), i);
        // Expires a week out is clamped to max_interval.
        let long = CacheHints {
            max_age: None,
            expires_in: Some(Duration::from_secs(7 * 86400)),
        };
        assert_eq!(
            after_success(&c, i, None, long, &mut rng),
            Duration::from_secs(c.max_interval_secs)
        );
        // A per-feed interval below the minimum is raised to it.
        assert_eq!(
            after_success(
                &c,
                Duration::from_secs(1),
                None,
                CacheHints::default(),
                &mut rng
            ),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn backoff_window_doubles_up_to_the_cap_and_never_stops() {
        let c = cfg();
        let windows: Vec<u64> = (1..=12).map(|s| backoff_window(&c, s).as_secs()).collect();
        assert_eq!(
            windows,
            [
                60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600, 21600
            ]
        );
        assert_eq!(backoff_window(&c, u32::MAX).as_secs(), 21600);
    }

    #[test]
    fn backoff_draws_stay_in_the_window_and_honour_retry_after() {
        let c = cfg();
        let mut rng = StdRng::seed_from_u64(3);
        for streak in 1..20 {
            for _ in 0..200 {
                let d = after_error(&c, streak, None, &mut rng);
                assert!(d >= Duration::from_secs(60));
                assert!(d <= backoff_window(&c, streak).max(Duration::from_secs(60)));
            }
        }
        let d = after_error(&c, 1, Some(Duration::from_secs(3600)), &mut rng);
        assert!(d >= Duration::from_secs(3600));
        // A Retry-After of a year is capped.
        let d = after_error(&c, 1, Some(Duration::from_secs(365 * 86400)), &mut rng);
        assert_eq!(d, Duration::from_secs(c.max_backoff_secs));
    }

    #[test]
    fn disabled_feeds_are_never_due() {
        let now = Utc::now();
        let mut s = FeedState::default();
        assert!(s.is_due(now));
        s.next_poll = Some(now + chrono::Duration::seconds(10));
        assert!(!s.is_due(now));
        s.next_poll = None;
        s.disabled = Some("410 Gone".into());
        assert!(!s.is_due(now));
    }
}
