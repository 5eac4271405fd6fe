//! The session's transitions driven step by step, with no sockets, tasks or sleeping: each test
//! plays the client's requests as calls and reads what the server would answer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio_protocol::engine::{Frame, Packet};
use ferrio_protocol::Str;
use futures_util::FutureExt;

use super::*;
use crate::engine::revision::Revision;
use crate::engine::{EngineConfig, EngineHandler};

#[derive(Default)]
struct Counting {
    messages: AtomicUsize,
    closes: AtomicUsize,
}

impl EngineHandler for Arc<Counting> {
    fn on_connect(&self, _: EngineSocket) {}
    fn on_message(&self, _: &EngineSocket, _: Message) {
        self.messages.fetch_add(1, Ordering::Relaxed);
    }
    fn on_disconnect(&self, _: &EngineSocket, _: CloseReason) {
        self.closes.fetch_add(1, Ordering::Relaxed);
    }
}

const MAX: usize = 1_000_000;

fn session_on(transport: TransportKind) -> (Arc<Session>, Arc<Counting>) {
    let counting = Arc::new(Counting::default());
    let config = EngineConfig::builder().upgrade_timeout(Duration::from_secs(1)).build();
    let shared = Arc::new(Shared::new(config, Arc::new(counting.clone())));
    let handshake = HandshakeRequest::bare("/engine.io/");
    let slot = shared.take_slot(&handshake).expect("a slot");
    let session = Session::new(&shared, transport, handshake, (slot, Revision::V4));
    // The open packet is the first thing every session sends; take it out of the way.
    assert_eq!(session.take_all().0.len(), 1);
    (session, counting)
}

fn message(text: &'static str) -> Frame {
    Packet::Message(Str::from_static(text)).encode()
}

/// The frames a step sends, if it sends queued ones.
fn sent(step: ReceiveStep) -> Option<Vec<Frame>> {
    match step {
        ReceiveStep::Frames(numbered) => Some(numbered.frames),
        _ => None,
    }
}

fn noop() -> ReceiveStep {
    ReceiveStep::End(Packet::Noop.encode())
}

#[test]
fn a_waiting_poll_is_answered_with_a_noop_once_the_probe_is_answered() {
    let (session, _) = session_on(TransportKind::Polling);
    let t0 = Instant::now();
    let guard = session.attach_poll(None).expect("first poll");
    let mut poll = guard.receiver;
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::Wait);
    session.begin_upgrade(t0).expect("upgradable");
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::Wait, "connected, not probed");
    let woken = session.changed();
    assert!(session.answer_probe(t0));
    assert!(woken.now_or_never().is_some(), "the waiting poll is woken");
    assert_eq!(session.poll_receive(&mut poll, MAX), noop());
}

#[test]
fn a_poll_arriving_during_the_probe_takes_what_is_queued_or_waits_for_a_noop() {
    let (session, _) = session_on(TransportKind::Polling);
    let t0 = Instant::now();
    session.begin_upgrade(t0).expect("upgradable");
    session.answer_probe(t0);
    let guard = session.attach_poll(None).expect("poll");
    let mut poll = guard.receiver;
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::WaitThenNoop);
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::WaitThenNoop, "still waiting");
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    assert_eq!(sent(session.poll_receive(&mut poll, MAX)), Some(vec![message("a")]));
}

#[test]
fn after_the_upgrade_old_receivers_end_and_the_queue_belongs_to_the_websocket() {
    let (session, _) = session_on(TransportKind::Polling);
    let t0 = Instant::now();
    let guard = session.attach_poll(None).expect("poll");
    let mut poll = guard.receiver;
    session.begin_upgrade(t0).expect("upgradable");
    session.answer_probe(t0);
    session.try_send_frames(std::iter::once(message("late"))).expect("queued");
    assert!(session.complete_upgrade(t0 + Duration::from_millis(5)));
    assert_eq!(session.transport(), TransportKind::WebSocket);
    assert_eq!(session.poll_receive(&mut poll, MAX), noop(), "not the queued message");
    let (frames, closed) = session.take_all();
    assert_eq!(frames, [message("late")]);
    assert!(!closed);
    assert!(
        session.begin_upgrade(t0).is_err_and(|e| e == UpgradeRefused::Upgraded),
        "a websocket session is not upgraded again"
    );
}

#[test]
fn a_stream_ends_at_the_probe_without_taking_frames() {
    let (session, _) = session_on(TransportKind::Streaming);
    let t0 = Instant::now();
    let guard = session.attach_stream(None).expect("a stream");
    let mut stream = guard.receiver;
    session.begin_upgrade(t0).expect("upgradable");
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    session.answer_probe(t0);
    assert_eq!(session.poll_receive(&mut stream, MAX), noop());
    assert!(session.complete_upgrade(t0));
    assert_eq!(session.take_all().0, [message("a")], "the websocket gets it");
}

#[test]
fn a_stream_attached_during_the_probe_takes_the_queue_once_then_ends() {
    let (session, _) = session_on(TransportKind::Streaming);
    let t0 = Instant::now();
    session.begin_upgrade(t0).expect("upgradable");
    session.answer_probe(t0);
    session.try_send_frames(std::iter::once(message("ping-like"))).expect("queued");
    let guard = session.attach_stream(None).expect("a stream");
    let mut stream = guard.receiver;
    assert_eq!(sent(session.poll_receive(&mut stream, MAX)), Some(vec![message("ping-like")]));
    session.try_send_frames(std::iter::once(message("b"))).expect("queued");
    assert_eq!(session.poll_receive(&mut stream, MAX), noop());
}

#[test]
fn an_abandoned_upgrade_leaves_the_old_transport_delivering() {
    let (session, _) = session_on(TransportKind::Streaming);
    let t0 = Instant::now();
    session.begin_upgrade(t0).expect("upgradable");
    session.answer_probe(t0);
    let woken = session.changed();
    session.abandon_upgrade();
    assert!(woken.now_or_never().is_some());
    let guard = session.attach_stream(None).expect("a stream");
    let mut stream = guard.receiver;
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    assert_eq!(sent(session.poll_receive(&mut stream, MAX)), Some(vec![message("a")]));
    assert!(!session.complete_upgrade(t0), "5 after giving up is refused");
    assert_eq!(session.transport(), TransportKind::Streaming);
    assert!(session.begin_upgrade(t0).is_ok(), "a new upgrade may start");
}

#[test]
fn one_websocket_upgrades_a_session_at_a_time_and_not_past_its_deadline() {
    let (session, _) = session_on(TransportKind::Polling);
    let t0 = Instant::now();
    session.begin_upgrade(t0).expect("upgradable");
    assert_eq!(session.begin_upgrade(t0), Err(UpgradeRefused::Busy));
    assert_eq!(session.upgrade_deadline(), Some(t0 + Duration::from_secs(1)));
    assert!(!session.answer_probe(t0 + Duration::from_secs(1)), "the probe came too late");
    assert_eq!(session.upgrade_deadline(), None, "and the upgrade was given up");
    assert_eq!(session.transport(), TransportKind::Polling);
}

#[test]
fn a_closed_session_is_not_upgraded_and_its_poll_gets_the_close_packet() {
    let (session, counting) = session_on(TransportKind::Polling);
    let guard = session.attach_poll(None).expect("poll");
    let mut poll = guard.receiver;
    session.close(CloseReason::ClientClose);
    assert_eq!(counting.closes.load(Ordering::Relaxed), 1);
    assert_eq!(session.begin_upgrade(Instant::now()), Err(UpgradeRefused::NotUpgradable));
    // As Engine.IO: the client closed, so its pending poll gets a noop alone.
    assert_eq!(sent(session.poll_receive(&mut poll, MAX)), Some(vec![Packet::Noop.encode()]));
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::End(Packet::Close.encode()));
    session.close(CloseReason::TransportClose);
    assert_eq!(counting.closes.load(Ordering::Relaxed), 1, "closed once");
}

#[test]
fn one_stream_at_a_time() {
    let (session, _) = session_on(TransportKind::Streaming);
    let first = session.attach_stream(None).expect("the first stream");
    assert!(session.attach_stream(None).is_err(), "a second stream is refused while one lives");
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    let mut receiver = first.receiver;
    assert_eq!(sent(session.poll_receive(&mut receiver, MAX)), Some(vec![message("a")]));
    drop(first);
    assert!(session.attach_stream(None).is_ok(), "re-attaching after it ended");
}

#[test]
fn overlapping_polls_and_posts_are_refused_until_the_first_ends() {
    let (session, _) = session_on(TransportKind::Polling);
    let poll = session.attach_poll(None).expect("first poll");
    assert!(session.attach_poll(None).is_err());
    drop(poll);
    assert!(session.attach_poll(None).is_ok());
    let post = session.accept_post().expect("first post");
    assert!(session.accept_post().is_none());
    drop(post);
    assert!(session.accept_post().is_some());
}

#[test]
fn client_packets_reach_the_handler_and_protocol_violations_close() {
    let (session, counting) = session_on(TransportKind::Polling);
    assert!(session.on_packet(Packet::Message(Str::from_static("hi"))));
    assert!(session.on_packet(Packet::Noop));
    assert_eq!(counting.messages.load(Ordering::Relaxed), 1);
    assert!(!session.on_packet(Packet::Upgrade), "5 outside an upgrade");
    assert!(session.is_closed());
    assert!(!session.on_packet(Packet::Message(Str::from_static("late"))));
    assert_eq!(counting.messages.load(Ordering::Relaxed), 1);
}

#[test]
fn polls_batch_the_queue_up_to_max_bytes() {
    let (session, _) = session_on(TransportKind::Polling);
    let frames = [message("aaaa"), message("bbbb"), message("cccc")];
    session.try_send_frames(frames.clone().into_iter()).expect("queued");
    let guard = session.attach_poll(None).expect("poll");
    let mut poll = guard.receiver;
    // "4aaaa" + "\x1e" + "4bbbb" = 11 bytes; the third does not fit.
    assert_eq!(sent(session.poll_receive(&mut poll, 11)), Some(frames[..2].to_vec()));
    assert_eq!(sent(session.poll_receive(&mut poll, 11)), Some(frames[2..].to_vec()));
}

#[test]
fn a_poll_that_says_what_it_received_gets_again_what_followed() {
    let (session, _) = session_on(TransportKind::Polling);
    session.try_send_frames([message("a"), message("b")].into_iter()).expect("queued");
    {
        // The first poll turns on retention; its answer (1 and 2: `session_on` took the open
        // packet out unnumbered) is lost with its connection after the client read 1.
        let guard = session.attach_poll(Some(0)).expect("poll");
        let mut poll = guard.receiver;
        assert_eq!(
            sent(session.poll_receive(&mut poll, MAX)),
            Some(vec![message("a"), message("b")])
        );
    }
    session.try_send_frames(std::iter::once(message("c"))).expect("queued");
    let guard = session.attach_poll(Some(1)).expect("the client got 1");
    let mut poll = guard.receiver;
    match session.poll_receive(&mut poll, MAX) {
        ReceiveStep::Frames(numbered) => {
            assert_eq!(numbered.first_seq, 2, "the same numbers again");
            assert_eq!(numbered.frames, vec![message("b"), message("c")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_poll_that_says_what_it_received_takes_over_one_the_server_still_holds() {
    let (session, _) = session_on(TransportKind::Polling);
    let stale = session.attach_poll(Some(0)).expect("poll");
    let mut stale_receiver = stale.receiver;
    assert!(session.attach_poll(None).is_err(), "without lastEventId: overlapping");
    let woken = session.changed();
    let fresh = session.attach_poll(Some(0)).expect("a takeover");
    assert!(woken.now_or_never().is_some(), "the stale poll is woken to end");
    assert_eq!(session.poll_receive(&mut stale_receiver, MAX), noop());
    drop(stale);
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    let mut receiver = fresh.receiver;
    assert_eq!(sent(session.poll_receive(&mut receiver, MAX)), Some(vec![message("a")]));
}

#[test]
fn a_stream_that_says_what_it_received_takes_over_and_resumes() {
    let (session, _) = session_on(TransportKind::Streaming);
    let old = session.attach_stream(Some(0)).expect("a stream");
    let mut old_receiver = old.receiver;
    session.try_send_frames([message("a"), message("b")].into_iter()).expect("queued");
    assert!(sent(session.poll_receive(&mut old_receiver, MAX)).is_some());
    assert!(session.attach_stream(None).is_err(), "a second stream without lastEventId");
    let new = session.attach_stream(Some(1)).expect("a takeover after 'a' (seq 1)");
    assert_eq!(session.poll_receive(&mut old_receiver, MAX), noop());
    let mut receiver = new.receiver;
    assert_eq!(sent(session.poll_receive(&mut receiver, MAX)), Some(vec![message("b")]));
    assert_eq!(
        session.attach_stream(Some(99)).map(drop),
        Err(AttachRefused::BadConfirmation),
        "never handed out"
    );
}

#[test]
fn a_counted_pong_confirms_what_came_before_its_ping() {
    let (session, _) = session_on(TransportKind::Polling);
    let guard = session.attach_poll(Some(0)).expect("poll");
    let mut poll = guard.receiver;
    session.try_send_frames(std::iter::once(message("a"))).expect("queued");
    session.lock().heartbeat.handle_timeout(Instant::now() + Duration::from_secs(60));
    session.lock().queue.push_control(Packet::Ping.encode());
    assert_eq!(
        sent(session.poll_receive(&mut poll, MAX)),
        Some(vec![message("a"), Packet::Ping.encode()])
    );
    drop(guard);
    assert!(session.on_packet(Packet::Pong));
    // The client read the ping: nothing before it is sent again.
    let guard = session.attach_poll(Some(1)).expect("poll");
    let mut poll = guard.receiver;
    assert_eq!(session.poll_receive(&mut poll, MAX), ReceiveStep::Wait);
}
