//! A CONNECT for a namespace the client is already joining — its first CONNECT still in the
//! middleware — is ignored: the middleware runs once, one socket is made, one reply is sent.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ferrio::{Ferrio, Socket};
use tokio::sync::Semaphore;

use super::{channel, echo_ns, next, serve, Client};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_repeated_while_the_middleware_runs_runs_it_once() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let (sockets_tx, mut sockets) = channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Semaphore::new(0));
    io.ns("/x", move |socket: Socket| {
        let _ = sockets_tx.send(socket);
        async {}
    })
    .middleware({
        let (calls, release) = (calls.clone(), release.clone());
        move || {
            let (calls, release) = (calls.clone(), release.clone());
            async move {
                calls.fetch_add(1, Ordering::SeqCst);
                release.acquire().await.expect("open").forget();
                Ok::<(), ferrio::ConnectError>(())
            }
        }
    });

    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    client.send("40/x,").await;
    client.send("40/x,").await;
    // Packets of a connection are handled in order: once this echo is back, both CONNECTs
    // were dispatched.
    client.assert_echo("both dispatched").await;
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the middleware ran for each CONNECT");

    release.add_permits(2);
    let reply = client.recv_text().await;
    assert!(reply.starts_with(r#"40/x,{"sid":""#), "expected the CONNECT reply, got {reply:?}");
    let socket = next(&mut sockets).await;
    assert!(reply.contains(socket.id().as_str()), "{reply:?} is for {socket:?}");
    // No second reply, and one socket in the namespace.
    client.assert_echo("after the reply").await;
    client.expect_silence(Duration::from_millis(100)).await;
    assert_eq!(io.of("/x").expect("registered").sockets().len(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// Once the socket is connected, a CONNECT for its namespace is ignored as before; once it
/// left, a CONNECT joins again (the middleware runs again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_namespace_can_be_joined_again_after_leaving_it() {
    let (server, io) = serve(Ferrio::builder()).await;
    let _root = echo_ns(&io, "/");
    let _x = echo_ns(&io, "/x");
    let calls = Arc::new(AtomicUsize::new(0));
    io.of("/x").expect("registered").middleware({
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Ok::<(), ferrio::ConnectError>(()) }
        }
    });
    let mut client = Client::open(server.addr).await;
    client.join("/", None).await;
    let first = client.join("/x", None).await;
    client.send("40/x,").await;
    client.assert_echo("ignored").await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    client.send("41/x,").await;
    let second = client.join("/x", None).await;
    assert_ne!(first, second);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
