//! The server side of Socket.IO's chat tutorial, ported to ferrio handler by handler: the same
//! events with the same payloads, so the tutorial's page (or any `socket.io-client`) works
//! unchanged.
//!
//! | the client emits | the server answers |
//! |---|---|
//! | `add user` (name), once | `login` `{numUsers}` to it; `user joined` `{username, numUsers}` to the others |
//! | `new message` (text) | `new message` `{username, message}` to the others |
//! | `typing` / `stop typing` | the same event `{username}` to the others |
//! | (leaves) | `user left` `{username, numUsers}` to the others |
//!
//! Where Node keeps `socket.username` and a module-level `numUsers`, this keeps the name as a
//! socket extension and the count as builder state; the `addedUser` flag becomes the
//! extension's presence: the handlers that need a name take `Extension<Username>` and are not
//! called before `add user` (so, unlike the tutorial, which relays them with no name, events
//! of a client that has not logged in are ignored), and `once` stands for its "already added"
//! check.
//!
//! Shared by the example's `main.rs` and the conformance server (which serves it on `/chat/`
//! for the JS tests with the official client).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ferrio::extract::{Data, Extension, State};
use ferrio::{FerrioBuilder, FerrioLayer, Io, Socket};
use serde::Serialize;

/// How many users are logged in (Node's `numUsers`).
#[derive(Clone, Default)]
struct Users(Arc<AtomicUsize>);

/// The name a socket logged in with (Node's `socket.username`).
#[derive(Clone)]
struct Username(String);

#[derive(Serialize)]
struct Login {
    #[serde(rename = "numUsers")]
    num_users: usize,
}

#[derive(Serialize)]
struct UserCount<'a> {
    username: &'a str,
    #[serde(rename = "numUsers")]
    num_users: usize,
}

#[derive(Serialize)]
struct Message<'a> {
    username: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct Who<'a> {
    username: &'a str,
}

/// Builds `builder` into the chat's layer and `Io`, its handlers on the main namespace.
pub(crate) fn build(builder: FerrioBuilder) -> (FerrioLayer, Io) {
    let (layer, io) = builder.with_state(Users::default()).build_layer();
    io.ns("/", on_connection);
    (layer, io)
}

async fn on_connection(socket: Socket) {
    socket.once("add user", add_user);
    socket.on("new message", new_message);
    socket.on("typing", |socket: Socket, Extension(user): Extension<Username>| async move {
        let _ = socket.broadcast().emit("typing", &Who { username: &user.0 });
    });
    socket.on("stop typing", |socket: Socket, Extension(user): Extension<Username>| async move {
        let _ = socket.broadcast().emit("stop typing", &Who { username: &user.0 });
    });
    // Runs only for a socket that logged in: the others have no `Username`.
    socket.on_disconnect(user_left);
}

async fn add_user(socket: Socket, Data(name): Data<String>, State(users): State<Users>) {
    let num_users = users.0.fetch_add(1, Ordering::SeqCst) + 1;
    socket.insert_extension(Username(name.clone()));
    let _ = socket.emit("login", &Login { num_users });
    let _ = socket.broadcast().emit("user joined", &UserCount { username: &name, num_users });
}

async fn new_message(
    socket: Socket,
    Data(text): Data<String>,
    Extension(user): Extension<Username>,
) {
    let _ = socket.broadcast().emit("new message", &Message { username: &user.0, message: &text });
}

async fn user_left(
    socket: Socket,
    Extension(user): Extension<Username>,
    State(users): State<Users>,
) {
    let num_users = users.0.fetch_sub(1, Ordering::SeqCst).saturating_sub(1);
    let _ = socket.broadcast().emit("user left", &UserCount { username: &user.0, num_users });
}
