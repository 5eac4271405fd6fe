//! The Engine.IO heartbeat as a sync state machine: time goes in as an argument, so the timing
//! rules are unit-tested without sleeping and the session task only drives it.

use std::time::{Duration, Instant};

/// What the driver must do when [`Heartbeat::handle_timeout`] fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeartbeatAction {
    /// Queue a ping packet for the client.
    SendPing,
    /// The client did not answer the last ping in time: close the session.
    TimedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Next ping is due at the given instant.
    Idle { ping_at: Instant },
    /// A ping was queued; the pong must arrive before the given instant. It counts only once
    /// the ping was `delivered` (handed to the client's transport): a pong sent blindly, by a
    /// client that never reads, must not keep its session alive.
    AwaitingPong { deadline: Instant, delivered: bool },
    /// Engine.IO v3: the client pings; it must do so again before the given instant.
    ClientDriven { deadline: Instant },
}

/// Server-side heartbeat: first ping `interval` after open, each next ping `interval` after the
/// previous pong, and a timeout `timeout` after each ping without pong.
#[derive(Debug, Clone)]
pub(crate) struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    phase: Phase,
}

impl Heartbeat {
    /// Starts the heartbeat of a session opened at `now`.
    pub(crate) fn new(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Self { interval, timeout, phase: Phase::Idle { ping_at: now + interval } }
    }

    /// Starts the heartbeat of an Engine.IO v3 session opened at `now`, where the client pings
    /// every `interval` and the server answers: the session times out when no ping came for
    /// `interval + timeout`.
    pub(crate) fn client_driven(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Self {
            interval,
            timeout,
            phase: Phase::ClientDriven { deadline: now + interval + timeout },
        }
    }

    /// Records a ping from an Engine.IO v3 client at `now`; `false` when the session's
    /// heartbeat is not client-driven (a v4 client must not ping).
    pub(crate) fn on_client_ping(&mut self, now: Instant) -> bool {
        match &mut self.phase {
            Phase::ClientDriven { deadline } => {
                *deadline = now + self.interval + self.timeout;
                true
            }
            _ => false,
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub(crate) fn poll_timeout(&self) -> Instant {
        match self.phase {
            Phase::Idle { ping_at } => ping_at,
            Phase::AwaitingPong { deadline, .. } | Phase::ClientDriven { deadline } => deadline,
        }
    }

    /// Advances the clock; returns what to do when a deadline passed (call it when the instant
    /// from [`poll_timeout`](Self::poll_timeout) is reached; calling it early is harmless).
    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Option<HeartbeatAction> {
        match self.phase {
            Phase::Idle { ping_at } if now >= ping_at => {
                self.phase = Phase::AwaitingPong { deadline: now + self.timeout, delivered: false };
                Some(HeartbeatAction::SendPing)
            }
            Phase::AwaitingPong { deadline, .. } | Phase::ClientDriven { deadline }
                if now >= deadline =>
            {
                Some(HeartbeatAction::TimedOut)
            }
            _ => None,
        }
    }

    /// Records that the pending ping was handed to the client's transport.
    pub(crate) fn on_ping_delivered(&mut self) {
        if let Phase::AwaitingPong { delivered, .. } = &mut self.phase {
            *delivered = true;
        }
    }

    /// Records a pong from the client received at `now`. A pong nobody asked for, or one for a
    /// ping the client was not yet sent, is ignored: a client can neither push the next ping
    /// away by flooding pongs nor keep a session it never reads alive by sending them blindly.
    /// Returns whether the pong counted.
    pub(crate) fn on_pong(&mut self, now: Instant) -> bool {
        if let Phase::AwaitingPong { delivered: true, .. } = self.phase {
            self.phase = Phase::Idle { ping_at: now + self.interval };
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(300);
    const TIMEOUT: Duration = Duration::from_millis(200);

    #[test]
    fn first_ping_is_one_interval_after_open() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, INTERVAL, TIMEOUT);
        assert_eq!(hb.poll_timeout(), t0 + INTERVAL);
        assert_eq!(hb.handle_timeout(t0 + INTERVAL - Duration::from_millis(1)), None);
        assert_eq!(hb.handle_timeout(t0 + INTERVAL), Some(HeartbeatAction::SendPing));
        assert_eq!(hb.poll_timeout(), t0 + INTERVAL + TIMEOUT);
    }

    #[test]
    fn next_ping_is_one_interval_after_the_pong() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, INTERVAL, TIMEOUT);
        hb.handle_timeout(t0 + INTERVAL);
        hb.on_ping_delivered();
        let pong_at = t0 + INTERVAL + Duration::from_millis(50);
        hb.on_pong(pong_at);
        assert_eq!(hb.poll_timeout(), pong_at + INTERVAL);
        // The old pong deadline passing is no longer a timeout.
        assert_eq!(hb.handle_timeout(t0 + INTERVAL + TIMEOUT), None);
        assert_eq!(hb.handle_timeout(pong_at + INTERVAL), Some(HeartbeatAction::SendPing));
    }

    #[test]
    fn missing_pong_times_out() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, INTERVAL, TIMEOUT);
        hb.handle_timeout(t0 + INTERVAL);
        assert_eq!(hb.handle_timeout(t0 + INTERVAL + TIMEOUT), Some(HeartbeatAction::TimedOut));
    }

    #[test]
    fn a_pong_for_a_ping_not_yet_delivered_does_not_count() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, INTERVAL, TIMEOUT);
        hb.handle_timeout(t0 + INTERVAL);
        hb.on_pong(t0 + INTERVAL + Duration::from_millis(10));
        assert_eq!(hb.handle_timeout(t0 + INTERVAL + TIMEOUT), Some(HeartbeatAction::TimedOut));
    }

    #[test]
    fn a_v3_session_lives_while_its_client_pings() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::client_driven(t0, INTERVAL, TIMEOUT);
        assert_eq!(hb.poll_timeout(), t0 + INTERVAL + TIMEOUT);
        assert!(hb.on_client_ping(t0 + INTERVAL));
        assert_eq!(hb.handle_timeout(t0 + INTERVAL + TIMEOUT), None, "the ping moved it");
        assert!(!hb.on_pong(t0 + INTERVAL), "no pongs from a v3 client");
        let late = t0 + INTERVAL + INTERVAL + TIMEOUT;
        assert_eq!(hb.handle_timeout(late), Some(HeartbeatAction::TimedOut));
        assert!(!Heartbeat::new(t0, INTERVAL, TIMEOUT).on_client_ping(t0), "v4 clients never ping");
    }

    #[test]
    fn unsolicited_pong_does_not_delay_the_ping() {
        let t0 = Instant::now();
        let mut hb = Heartbeat::new(t0, INTERVAL, TIMEOUT);
        hb.on_pong(t0 + Duration::from_millis(100));
        assert_eq!(hb.poll_timeout(), t0 + INTERVAL);
    }
}
