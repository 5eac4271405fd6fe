//! The connect timeout: an Engine.IO session that joins no namespace in time is closed; one
//! that joined stays, even after leaving its last namespace.

use std::time::{Duration, Instant};

use ferrio::{ConnectError, Ferrio, FerrioBuilder};

use super::{echo_ns, serve};
use crate::support::MARGIN;

const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

fn builder() -> FerrioBuilder {
    Ferrio::builder().connect_timeout(CONNECT_TIMEOUT)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_joins_no_namespace_is_closed() {
    let (server, io) = serve(builder()).await;
    let _sockets = echo_ns(&io, "/");
    let start = Instant::now();
    let mut idle = server.open().await;
    idle.expect_closed().await;
    let elapsed = start.elapsed();
    assert!(elapsed >= CONNECT_TIMEOUT - Duration::from_millis(50), "closed early: {elapsed:?}");
    assert!(elapsed <= CONNECT_TIMEOUT + MARGIN, "closed late: {elapsed:?}");
    assert_eq!(io.engine().session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_joined_stays_open() {
    let (server, io) = serve(builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    client.expect_silence(CONNECT_TIMEOUT + Duration::from_millis(300)).await;
    client.assert_echo("still open").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_last_namespace_does_not_close_the_session() {
    let (server, io) = serve(builder()).await;
    let _sockets = echo_ns(&io, "/");
    let (mut client, _) = server.connect().await;
    client.send("41").await;
    client.expect_silence(CONNECT_TIMEOUT + Duration::from_millis(300)).await;
    assert_eq!(io.engine().session_count(), 1);
    client.join("/", None).await;
    client.assert_echo("joined again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_connects_were_all_refused_is_closed() {
    let (server, io) = serve(builder()).await;
    let _sockets = echo_ns(&io, "/");
    io.of("/").unwrap().middleware(|| async { Err::<(), _>(ConnectError::new("no")) });
    let mut client = server.open().await;
    client.send("40").await;
    client.expect(r#"44{"message":"no"}"#).await;
    client.send("40/unknown,").await;
    client.expect(r#"44/unknown,{"message":"Invalid namespace"}"#).await;
    client.expect_closed().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_a_while_after_the_open_keeps_the_session() {
    // A longer timeout than the other tests: the join must land within it even on a busy
    // machine.
    let timeout = Duration::from_secs(1);
    let (server, io) = serve(Ferrio::builder().connect_timeout(timeout)).await;
    let _sockets = echo_ns(&io, "/");
    let mut client = server.open().await;
    client.expect_silence(Duration::from_millis(100)).await;
    client.join("/", None).await;
    client.expect_silence(timeout + Duration::from_millis(200)).await;
    client.assert_echo("kept").await;
}
