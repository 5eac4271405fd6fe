//! The raw engine as channels: each new session arrives with a stream of its messages, for
//! applications that prefer `while let Some(msg) = messages.recv().await` to a handler.

use std::sync::Mutex;

use tokio::sync::mpsc;

use super::lock::lock;
use super::{CloseReason, EngineHandler, EngineSocket, Message};

/// Messages a session can hold unread before it is closed as a slow consumer.
const PER_SESSION: usize = 1024;

/// One session and the stream of its messages; the stream ends when the session closes.
#[derive(Debug)]
pub struct Connection {
    /// The session.
    pub socket: EngineSocket,
    /// Its messages, in order.
    pub messages: mpsc::Receiver<Message>,
}

/// A session's end of its message stream; taken (dropped) when the session closes, which ends
/// the stream even while the application still holds the socket.
type Feed = Mutex<Option<mpsc::Sender<Message>>>;

/// The [`EngineHandler`] behind [`EngineIo::channels`](super::EngineIo::channels).
pub(crate) struct ChannelHandler {
    connections: mpsc::UnboundedSender<Connection>,
}

impl ChannelHandler {
    pub(crate) fn new() -> (Self, mpsc::UnboundedReceiver<Connection>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (ChannelHandler { connections: tx }, rx)
    }
}

impl EngineHandler for ChannelHandler {
    fn on_connect(&self, socket: EngineSocket) {
        let (tx, rx) = mpsc::channel(PER_SESSION);
        let feed: Feed = Mutex::new(Some(tx));
        if socket.set_data(feed).is_ok()
            && self.connections.send(Connection { socket: socket.clone(), messages: rx }).is_ok()
        {
            return;
        }
        // Nobody listens for connections any more.
        socket.close();
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let Some(feed) = socket.data::<Feed>() else { return };
        let full = match &*lock(feed) {
            Some(tx) => tx.try_send(message).is_err(),
            None => false,
        };
        if full {
            // The application stopped reading this session (or fell 1024 messages behind):
            // close it rather than buffer without bound.
            socket.close();
        }
    }

    fn on_disconnect(&self, socket: &EngineSocket, _reason: CloseReason) {
        // Dropping the sender ends the message stream once what is queued was read.
        if let Some(feed) = socket.data::<Feed>() {
            lock(feed).take();
        }
    }
}
