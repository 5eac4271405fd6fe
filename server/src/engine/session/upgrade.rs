//! The upgrade to websocket as a sync state machine: the probe's steps go in as calls with the
//! time as an argument, so the rules are unit-tested without sockets or sleeping, and the
//! websocket task only drives it.
//!
//! A websocket for a polling or streaming session connects ([`Upgrade::begin`]), the client
//! sends `2probe` and the server answers `3probe` ([`Upgrade::probe`]), the client pauses its
//! old transport and sends `5` ([`Upgrade::complete`]). Each step must come before the
//! deadline set when the websocket connected; past it, the upgrade is abandoned and the session
//! stays where it was.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No upgrade under way.
    Idle,
    /// A websocket for this session is connected and waits for `2probe`.
    Connected { deadline: Instant },
    /// `3probe` was sent; the client pauses its old transport and then sends `5`.
    Probed { deadline: Instant },
}

/// Where an upgrade to websocket stands.
#[derive(Debug, Clone)]
pub(crate) struct Upgrade {
    phase: Phase,
}

impl Upgrade {
    /// No upgrade under way.
    pub(crate) fn idle() -> Self {
        Upgrade { phase: Phase::Idle }
    }

    /// A websocket connected at `now` for the session; it has `timeout` to finish. `false`
    /// when another upgrade is under way (the new websocket is refused).
    pub(crate) fn begin(&mut self, now: Instant, timeout: Duration) -> bool {
        if self.phase != Phase::Idle {
            return false;
        }
        self.phase = Phase::Connected { deadline: now + timeout };
        true
    }

    /// The client sent `2probe` at `now`: `true` when `3probe` must be answered and the old
    /// transport told to pause. A probe outside a connected upgrade, a second one, or one past
    /// the deadline is refused (and abandons the upgrade).
    pub(crate) fn probe(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Connected { deadline } if now < deadline => {
                self.phase = Phase::Probed { deadline };
                true
            }
            _ => {
                self.abandon();
                false
            }
        }
    }

    /// The client sent `5` at `now`: `true` when the session now runs on the websocket. A `5`
    /// before the probe, or past the deadline, is refused (and abandons the upgrade).
    pub(crate) fn complete(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Probed { deadline } if now < deadline => {
                self.phase = Phase::Idle;
                true
            }
            _ => {
                self.abandon();
                false
            }
        }
    }

    /// Gives the upgrade up; the session stays on its transport.
    pub(crate) fn abandon(&mut self) {
        self.phase = Phase::Idle;
    }

    /// Whether the probe was answered and the old transport must pause.
    pub(crate) fn is_probed(&self) -> bool {
        matches!(self.phase, Phase::Probed { .. })
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, if an upgrade is
    /// under way.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Idle => None,
            Phase::Connected { deadline } | Phase::Probed { deadline } => Some(deadline),
        }
    }

    /// Advances the clock: abandons an upgrade whose deadline passed and returns `true` then.
    /// Calling it early is harmless.
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.poll_timeout() {
            Some(deadline) if now >= deadline => {
                self.abandon();
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(1000);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn probe_then_upgrade_within_the_deadline_completes() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        assert!(u.begin(t0, TIMEOUT));
        assert_eq!(u.poll_timeout(), Some(t0 + TIMEOUT));
        assert!(!u.is_probed());
        assert!(u.probe(t0 + ms(10)));
        assert!(u.is_probed());
        assert!(u.complete(t0 + ms(20)));
        assert!(u.poll_timeout().is_none());
        assert_eq!(u.poll_timeout(), None);
    }

    #[test]
    fn one_upgrade_at_a_time() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        assert!(u.begin(t0, TIMEOUT));
        assert!(!u.begin(t0 + ms(1), TIMEOUT), "a second websocket is refused");
        assert!(u.probe(t0 + ms(2)));
        assert!(!u.begin(t0 + ms(3), TIMEOUT), "also while probed");
        assert!(u.is_probed(), "the refused one changed nothing");
    }

    #[test]
    fn an_upgrade_packet_before_the_probe_is_refused() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        assert!(!u.complete(t0), "no upgrade under way");
        assert!(u.begin(t0, TIMEOUT));
        assert!(!u.complete(t0 + ms(1)), "5 before 2probe");
        assert!(u.poll_timeout().is_none(), "and the upgrade is given up");
    }

    #[test]
    fn a_probe_outside_an_upgrade_or_twice_is_refused() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        assert!(!u.probe(t0));
        assert!(u.begin(t0, TIMEOUT));
        assert!(u.probe(t0));
        assert!(!u.probe(t0 + ms(1)));
        assert!(u.poll_timeout().is_none());
    }

    #[test]
    fn the_deadline_abandons_the_upgrade_at_any_step() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        u.begin(t0, TIMEOUT);
        assert!(!u.handle_timeout(t0 + TIMEOUT - ms(1)), "early calls do nothing");
        assert!(u.handle_timeout(t0 + TIMEOUT));
        assert!(u.poll_timeout().is_none());

        let mut u = Upgrade::idle();
        u.begin(t0, TIMEOUT);
        u.probe(t0 + ms(1));
        assert!(!u.complete(t0 + TIMEOUT), "5 after the deadline");
        assert!(u.poll_timeout().is_none());

        let mut u = Upgrade::idle();
        u.begin(t0, TIMEOUT);
        assert!(!u.probe(t0 + TIMEOUT), "2probe after the deadline");
    }

    #[test]
    fn a_new_upgrade_may_follow_an_abandoned_one() {
        let t0 = Instant::now();
        let mut u = Upgrade::idle();
        u.begin(t0, TIMEOUT);
        u.abandon();
        assert!(u.begin(t0 + ms(1), TIMEOUT));
        assert_eq!(u.poll_timeout(), Some(t0 + ms(1) + TIMEOUT));
    }
}
