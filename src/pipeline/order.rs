//! `newsd once`'s list order, kept while its polls run side by side.
//!
//! A poll at a [`Place`] registers the pages it will fetch only after the poll before it has
//! registered its own, and hands articles to the writer only after the poll before it has
//! ended. So a page two feeds list is fetched once, by the earlier feed (the later one looks
//! at it again when the earlier has ended: stored by then, or it fetches the page itself),
//! and which copy of a story is the original follows the list, whatever arrives first.
//! `newsd run` polls with no place: every wait is a no-op.
//!
//! Every poll passes both signals on only after receiving them (`Turn::finish` on every way
//! out), so the order holds across polls that end early (a 304, an error, nothing new).
//!
//! Owns: the waits, and how long a poll spent in them, which the poll timeout leaves out (it
//! is the earlier polls' time, not this one's). The credit is whole even when the poll's own
//! pages are still loading meanwhile; each page fetch has its own timeout
//! (`fetch.request_timeout_secs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

/// Pages claimed in a pass → the list position of the poll that fetches each.
type Claims = Arc<Mutex<HashMap<String, usize>>>;

/// Hands out places in list order.
#[derive(Default)]
pub struct Line {
    next: usize,
    claims: Claims,
    /// The last place's "registered" and "ended" signals (their senders dropped then).
    registered: Option<oneshot::Receiver<()>>,
    ended: Option<oneshot::Receiver<()>>,
}

impl Line {
    pub fn new() -> Line {
        Line::default()
    }

    /// The next place. The poll that takes it ends when its `Turn` is dropped (or the
    /// place itself, unused).
    pub fn next_place(&mut self) -> Place {
        let (registering, registered) = oneshot::channel();
        let (ending, ended) = oneshot::channel();
        let place = Place {
            index: self.next,
            claims: self.claims.clone(),
            registered: self.registered.replace(registered),
            registering,
            ended: self.ended.replace(ended),
            ending,
        };
        self.next += 1;
        place
    }
}

/// A poll's place in the line (see the module doc).
pub struct Place {
    index: usize,
    claims: Claims,
    /// The poll before has registered its pages (None: first in line).
    registered: Option<oneshot::Receiver<()>>,
    /// Dropped when this poll has registered its pages.
    registering: oneshot::Sender<()>,
    /// The poll before has ended (None: first in line).
    ended: Option<oneshot::Receiver<()>>,
    /// Dropped when this poll has ended.
    ending: oneshot::Sender<()>,
}

/// What a poll does with its place while it runs.
pub(super) struct Turn {
    state: Mutex<TurnState>,
    claims: Option<(usize, Claims)>,
    /// Dropped with the turn, when the poll has ended: the next poll may commit.
    _ending: Option<oneshot::Sender<()>>,
}

struct TurnState {
    registered: Option<oneshot::Receiver<()>>,
    registering: Option<oneshot::Sender<()>>,
    ended: Option<oneshot::Receiver<()>>,
    waited: Duration,
    /// A wait under way, since then.
    since: Option<Instant>,
}

impl Turn {
    pub(super) fn new(place: Option<Place>) -> Turn {
        let (claims, registered, registering, ended, ending) = match place {
            Some(p) => (
                Some((p.index, p.claims)),
                p.registered,
                Some(p.registering),
                p.ended,
                Some(p.ending),
            ),
            None => (None, None, None, None, None),
        };
        Turn {
            state: Mutex::new(TurnState {
                registered,
                registering,
                ended,
                waited: Duration::ZERO,
                since: None,
            }),
            claims,
            _ending: ending,
        }
    }

    fn state(&self) -> MutexGuard<'_, TurnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the poll before has registered its pages (at once the second time).
    pub(super) async fn wait_to_register(&self) {
        self.wait(Signal::Registered).await;
    }

    /// Registers `pages` as this poll's to fetch; false when an earlier poll of the pass
    /// fetches one of them.
    pub(super) fn claim(&self, pages: &[&str]) -> bool {
        let Some((me, claims)) = &self.claims else {
            return true;
        };
        let mut claims = claims.lock().unwrap_or_else(|p| p.into_inner());
        if pages
            .iter()
            .any(|p| claims.get(*p).is_some_and(|owner| owner < me))
        {
            return false;
        }
        for p in pages {
            claims.entry((*p).to_string()).or_insert(*me);
        }
        true
    }

    /// This poll has registered every page it fetches: the next may register its own.
    pub(super) fn registered(&self) {
        self.state().registering.take();
    }

    /// Waits until the poll before has ended (at once the second time); what it stored is
    /// then known.
    pub(super) async fn wait_to_commit(&self) {
        self.wait(Signal::Ended).await;
    }

    /// Waits for the signal once. A wait cut short (the poll timed out in it) puts the
    /// signal back, so [`Turn::finish`] still waits for it.
    async fn wait(&self, which: Signal) {
        let Some(signal) = which.slot(&mut self.state()).take() else {
            return;
        };
        let mut held = Held {
            turn: self,
            which,
            signal: Some(signal),
        };
        self.state().since = Some(Instant::now());
        if let Some(signal) = held.signal.as_mut() {
            // Resolves, or errs when the sender is dropped: both mean "go".
            let _ = signal.await;
        }
        held.signal = None;
    }

    /// On every way out of a poll: passes both signals on only once the poll before has
    /// given them, so a poll that ended early (a 304, an error, nothing new) never lets a
    /// later one register or commit ahead of an earlier one.
    pub(super) async fn finish(&self) {
        self.wait_to_register().await;
        self.registered();
        self.wait_to_commit().await;
    }

    fn waiting(&self) -> bool {
        self.state().since.is_some()
    }

    /// Time spent waiting so far, a wait under way included.
    pub(super) fn waited(&self) -> Duration {
        let s = self.state();
        s.waited + s.since.map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// The two signals a poll waits for.
#[derive(Clone, Copy)]
enum Signal {
    Registered,
    Ended,
}

impl Signal {
    fn slot(self, s: &mut TurnState) -> &mut Option<oneshot::Receiver<()>> {
        match self {
            Signal::Registered => &mut s.registered,
            Signal::Ended => &mut s.ended,
        }
    }
}

/// A signal being waited for: on drop the wait's time is counted, and a signal not yet
/// received goes back to its slot.
struct Held<'a> {
    turn: &'a Turn,
    which: Signal,
    signal: Option<oneshot::Receiver<()>>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mut s = self.turn.state();
        if let Some(t) = s.since.take() {
            s.waited += t.elapsed();
        }
        if let Some(signal) = self.signal.take() {
            *self.which.slot(&mut s) = Some(signal);
        }
    }
}

/// Runs `fut` for at most `limit` of its own time (time not spent waiting for its turn);
/// None when it ran out. While a wait is under way the timer looks again at most once a
/// second, so a poll may overrun its budget by under a second.
pub(super) async fn within<F: Future>(limit: Duration, turn: &Turn, fut: F) -> Option<F::Output> {
    // A limit past any real poll (the config only says "> 0") must not overflow the clock.
    let limit = limit.min(Duration::from_secs(100 * 365 * 86_400));
    tokio::pin!(fut);
    let start = Instant::now();
    let mut deadline = start + limit;
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                let own = now.duration_since(start).saturating_sub(turn.waited());
                let left = limit.saturating_sub(own);
                if left.is_zero() {
                    return None;
                }
                deadline = now + if turn.waiting() { left.max(Duration::from_secs(1)) } else { left };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The second poll's turn in a line whose first poll ends after `first_for`.
    fn second_in_line(first_for: Duration) -> Turn {
        let mut line = Line::new();
        let first = Turn::new(Some(line.next_place()));
        let second = Turn::new(Some(line.next_place()));
        first.registered();
        tokio::spawn(async move {
            tokio::time::sleep(first_for).await;
            drop(first);
        });
        second
    }

    /// The poll timeout leaves out the time a poll waited for its turn, and only that.
    #[tokio::test(start_paused = true)]
    async fn the_poll_timeout_does_not_count_the_waits_for_the_turn() {
        let limit = Duration::from_secs(3);
        let turn = second_in_line(Duration::from_secs(5));
        // Waits 5 s for its turn, then works 2 s: 7 s in all, 2 s of its own.
        let t0 = Instant::now();
        let work = async {
            turn.wait_to_commit().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            "done"
        };
        assert_eq!(within(limit, &turn, work).await, Some("done"));
        assert_eq!(t0.elapsed(), Duration::from_secs(7));
        assert_eq!(turn.waited(), Duration::from_secs(5));

        // Its own work past the limit still times out, wait or no wait.
        let turn = second_in_line(Duration::from_secs(1));
        let t0 = Instant::now();
        let work = async {
            turn.wait_to_commit().await;
            tokio::time::sleep(Duration::from_secs(4)).await;
        };
        assert_eq!(within(limit, &turn, work).await, None);
        assert_eq!(
            t0.elapsed(),
            Duration::from_secs(4),
            "3 s of its own + 1 s waited"
        );
        let free = Turn::new(None);
        let work = tokio::time::sleep(Duration::from_secs(4));
        assert_eq!(within(limit, &free, work).await, None);
        // A huge limit is no limit, not a panic.
        let work = tokio::time::sleep(Duration::from_secs(4));
        assert_eq!(within(Duration::MAX, &free, work).await, Some(()));
    }

    /// A poll that runs out of time just as it starts to wait still passes its turn on only
    /// after the poll before it has ended (the timer and the wait race; tried many times).
    #[tokio::test(start_paused = true)]
    async fn a_poll_that_times_out_while_waiting_still_keeps_its_place() {
        for _ in 0..40 {
            let turn = second_in_line(Duration::from_secs(10));
            let t0 = Instant::now();
            let work = async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                turn.wait_to_commit().await;
            };
            assert_eq!(within(Duration::from_secs(3), &turn, work).await, None);
            turn.finish().await;
            assert_eq!(
                t0.elapsed(),
                Duration::from_secs(10),
                "finished before its turn"
            );
        }
    }

    /// A page is fetched by the first poll in line that lists it; a later one waits for it,
    /// and a poll never defers to itself or to a later poll.
    #[tokio::test]
    async fn a_page_is_claimed_by_the_earliest_poll_that_lists_it() {
        let mut line = Line::new();
        let (first, second) = (line.next_place(), line.next_place());
        let (first, second) = (Turn::new(Some(first)), Turn::new(Some(second)));
        first.wait_to_register().await;
        assert!(first.claim(&["http://a.test/x", "http://a.test/x?utm=1"]));
        assert!(first.claim(&["http://a.test/x"]), "its own page twice");
        first.registered();
        second.wait_to_register().await;
        assert!(!second.claim(&["http://a.test/y", "http://a.test/x?utm=1"]));
        assert!(second.claim(&["http://a.test/z"]));
        assert!(Turn::new(None).claim(&["http://a.test/x"]), "run: no line");
    }
}
