//! A long-polling client that behaves like a real one: one GET always pending (on its own
//! kept-alive connection), outgoing packets batched into one POST at a time (another
//! connection), pings answered with pongs. Every packet received is handed to the test as is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::http::{HttpConn, Request};
use super::{within, TestServer, STEP};

/// A polling session driven in the background.
#[derive(Debug)]
pub(crate) struct PollingClient {
    pub(crate) sid: String,
    out: Option<mpsc::UnboundedSender<String>>,
    inbox: mpsc::UnboundedReceiver<String>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<Result<(), String>>>,
    writer: Option<JoinHandle<Result<(), String>>>,
}

impl PollingClient {
    /// Handshakes over polling and starts the GET loop and the POST loop.
    pub(crate) async fn open(server: &TestServer) -> (Self, serde_json::Value) {
        let (sid, open) = server.handshake_polling().await;
        (Self::attach(server, &sid).await, open)
    }

    /// Starts driving an existing polling session.
    pub(crate) async fn attach(server: &TestServer, sid: &str) -> Self {
        let target = server.target(&format!("EIO=4&transport=polling&sid={sid}"));
        let (out_tx, out_rx) = mpsc::unbounded_channel::<String>();
        let (in_tx, inbox) = mpsc::unbounded_channel::<String>();
        let stop = Arc::new(AtomicBool::new(false));

        let get_conn = HttpConn::connect(server.addr).await;
        let reader =
            tokio::spawn(read_loop(get_conn, target.clone(), in_tx, out_tx.clone(), stop.clone()));
        let post_conn = HttpConn::connect(server.addr).await;
        let writer = tokio::spawn(write_loop(post_conn, target, out_rx));
        Self {
            sid: sid.to_owned(),
            out: Some(out_tx),
            inbox,
            stop,
            reader: Some(reader),
            writer: Some(writer),
        }
    }

    /// Queues one packet for the next POST.
    pub(crate) fn send(&self, packet: impl Into<String>) {
        self.out
            .as_ref()
            .expect("polling client paused")
            .send(packet.into())
            .expect("polling writer ended");
    }

    /// The next packet received, whatever it is.
    pub(crate) async fn recv(&mut self) -> String {
        match within("next polling packet", STEP, self.inbox.recv()).await {
            Some(packet) => packet,
            None => {
                let error = self.join_reader().await;
                panic!("the polling GET loop ended: {error:?}")
            }
        }
    }

    /// The next packet that is neither a ping `2` nor a noop `6`.
    pub(crate) async fn recv_message(&mut self) -> String {
        loop {
            let packet = self.recv().await;
            if packet != "2" && packet != "6" {
                return packet;
            }
        }
    }

    /// The packets received so far and not yet read, without waiting.
    pub(crate) fn drain(&mut self) -> Vec<String> {
        let mut packets = Vec::new();
        while let Ok(packet) = self.inbox.try_recv() {
            packets.push(packet);
        }
        packets
    }

    /// Stops issuing GETs once the pending one returns, flushes every queued packet, waits for
    /// both loops to finish and returns the packets received meanwhile (as a client pausing the
    /// polling transport before `5` does). Panics if a request failed.
    pub(crate) async fn pause(&mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        if let Err(error) = self.join_reader().await {
            panic!("polling GET loop failed: {error}");
        }
        self.out = None;
        if let Some(writer) = self.writer.take() {
            let result = within("polling POST loop to drain", STEP, writer)
                .await
                .expect("polling writer panicked");
            if let Err(error) = result {
                panic!("polling POST loop failed: {error}");
            }
        }
        self.drain()
    }

    async fn join_reader(&mut self) -> Result<(), String> {
        match self.reader.take() {
            Some(reader) => within("polling GET loop to stop", STEP, reader)
                .await
                .expect("polling reader panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for PollingClient {
    fn drop(&mut self) {
        if let Some(reader) = &self.reader {
            reader.abort();
        }
        if let Some(writer) = &self.writer {
            writer.abort();
        }
    }
}

/// Longest a single GET may stay pending: the server pings every `pingInterval`.
const LONG_POLL: Duration = Duration::from_secs(5);

async fn read_loop(
    mut conn: HttpConn,
    target: String,
    inbox: mpsc::UnboundedSender<String>,
    out: mpsc::UnboundedSender<String>,
    stop: Arc<AtomicBool>,
) -> Result<(), String> {
    let request = Request::new("GET", &target);
    while !stop.load(Ordering::SeqCst) {
        let response = tokio::time::timeout(LONG_POLL, conn.send(&request))
            .await
            .map_err(|_| format!("GET {target} pending for more than {LONG_POLL:?}"))?
            .map_err(|e| format!("GET {target}: {e}"))?;
        if response.status != 200 {
            return Err(format!(
                "GET {target}: {} {:?}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
        }
        let mut closed = false;
        for packet in response.packets() {
            if packet == "2" {
                // The writer may have been told to stop already; the pong then simply isn't sent.
                let _ = out.send("3".to_owned());
            }
            closed |= packet == "1";
            let _ = inbox.send(packet);
        }
        if closed {
            break;
        }
    }
    Ok(())
}

async fn write_loop(
    mut conn: HttpConn,
    target: String,
    mut out: mpsc::UnboundedReceiver<String>,
) -> Result<(), String> {
    while let Some(first) = out.recv().await {
        let mut packets = vec![first];
        while let Ok(more) = out.try_recv() {
            packets.push(more);
        }
        let request = Request::new("POST", &target)
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(packets.join("\x1e"));
        let response = tokio::time::timeout(STEP, conn.send(&request))
            .await
            .map_err(|_| format!("POST {target} unanswered for {STEP:?}"))?
            .map_err(|e| format!("POST {target}: {e}"))?;
        if response.status != 200 || response.body != b"ok" {
            return Err(format!(
                "POST {target}: {} {:?}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
        }
    }
    Ok(())
}
