//! The server side of the official [Socket.IO Admin UI](https://github.com/socketio/socket.io-admin-ui)
//! (the `@socket.io/admin-ui` npm package): opt in with [`Io::admin_ui`], then open the UI,
//! give it the server's URL and the credentials, and watch and steer the server's sockets.
//!
//! ```
//! use ferrio::admin::AdminUi;
//! use ferrio::{Ferrio, Socket};
//!
//! let (layer, io) = Ferrio::builder().build_layer();
//! io.ns("/", |socket: Socket| async move { socket.join("lobby") });
//! // "changeit", hashed with bcrypt (`ferrio::admin::hash_password`, `htpasswd -bnBC 10 "" …`,
//! // or Node's `bcryptjs`).
//! io.admin_ui(AdminUi::new().auth("admin", "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS"))?;
//! let app: axum::Router = axum::Router::new().layer(layer);
//! # Ok::<(), ferrio::admin::AdminUiError>(())
//! ```
//!
//! The UI is a static web application, served by whoever wants to: host the package's
//! `ui/dist` folder (`npm i @socket.io/admin-ui`) on any origin, or use the hosted one at
//! `https://admin.socket.io`. It connects with socket.io-client to `{server}/admin` (path
//! `/socket.io`, websocket or polling): from another origin, let that origin in with
//! [`Cors`](crate::Cors) and credentials, as the UI sends cookies.
//!
//! # What the UI gets
//!
//! ferrio speaks the official server's protocol (version 0.5 of the package) on the admin
//! namespace:
//!
//! - **Authentication**, required unless [`AdminUi::no_auth`] says otherwise: a username and
//!   a bcrypt hash of the password, checked against the CONNECT's `{username, password}`;
//!   a wrong one gets a CONNECT_ERROR `invalid credentials`. A successful login is sent a
//!   `session` id, which the UI stores and presents (`{sessionId}`) when it reconnects; ferrio
//!   keeps up to 1024 of them for 24 hours, in memory.
//! - **`config`**: the supported features (`EMIT`, `JOIN`, `LEAVE`, `DISCONNECT`, `MJOIN`,
//!   `MLEAVE`, `MDISCONNECT`, `AGGREGATED_EVENTS`, `ALL_EVENTS`): none of the actions in
//!   [read-only mode](AdminUi::read_only), no `ALL_EVENTS` in [production
//!   mode](AdminMode::Production).
//! - **`server_stats`** every 2 seconds: server id, host name, process id, uptime (since the
//!   admin UI was installed), Engine.IO connections and how many of them are on an HTTP
//!   transport (polling, or ferrio's streaming), each namespace's socket count, and the counts
//!   of connections, disconnections (by reason), and messages and bytes received, per second.
//! - In **development mode** (the default), every socket of every namespace: `all_sockets` when
//!   an admin connects, then `socket_connected`, `socket_updated` (the transport, after an
//!   upgrade), `socket_disconnected`, `room_joined`, `room_left`, `event_received` and
//!   `event_sent` (what `socket.emit` sends; broadcasts are not reported, as in Socket.IO).
//!   Each socket comes with its handshake (address, headers, query, time, URL…), its rooms and
//!   its transport. Its `data` is `{}`: a ferrio socket's extensions are typed Rust values.
//! - **Actions** (unless read-only): `emit` an event, make sockets `join` or `leave` a room,
//!   `_disconnect` them (with `close`, their whole connection), each on a socket, a room, or a
//!   whole namespace.
//!
//! Nothing of this costs anything while no admin is connected (each hook is one atomic load,
//! and an atomic counter read), and nothing at all without [`Io::admin_ui`].
//!
//! The admin namespace is a namespace like the others: add connect middleware to the
//! [`NamespaceRef`] `admin_ui` returns (to check an IP range, say). The admin sockets are
//! listed by the UI too, as the official server lists them.

mod actions;
mod auth;
mod date;
mod instrument;
mod serialize;
mod stats;

use std::sync::Arc;
use std::time::Instant;

use crate::{Io, NamespaceRef, Socket};

use auth::BasicAuth;
use instrument::Admin;
use stats::ServerInfo;

/// How much the admin UI is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AdminMode {
    /// Every socket, room change and event is reported (the official server's default).
    #[default]
    Development,
    /// Only the server's statistics: the sockets, their rooms and events are not sent, which
    /// keeps the cost of an admin connected low on a busy server.
    Production,
}

/// Who may use the admin namespace.
#[derive(Debug, Clone)]
enum Auth {
    /// Not chosen yet: [`Io::admin_ui`] refuses to install without a choice.
    Unset,
    /// Anyone who reaches the namespace.
    Disabled,
    /// A username and a bcrypt hash of the password.
    Basic { username: String, hash: String },
}

/// The options of the admin UI's server side, for [`Io::admin_ui`]. Authentication must be
/// chosen: [`auth`](Self::auth), or [`no_auth`](Self::no_auth) explicitly.
///
/// ```
/// use ferrio::admin::{AdminMode, AdminUi};
///
/// let options = AdminUi::new()
///     .auth("admin", "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS")
///     .read_only(true)
///     .mode(AdminMode::Production)
///     .server_id("eu-1");
/// ```
#[derive(Debug, Clone)]
#[must_use = "pass the options to Io::admin_ui"]
pub struct AdminUi {
    auth: Auth,
    read_only: bool,
    namespace: String,
    server_id: Option<String>,
    mode: AdminMode,
}

impl Default for AdminUi {
    fn default() -> Self {
        AdminUi::new()
    }
}

impl AdminUi {
    /// The defaults of the official server: namespace `/admin`, development mode, actions
    /// allowed, the host name as server id; authentication still to choose.
    pub fn new() -> Self {
        AdminUi {
            auth: Auth::Unset,
            read_only: false,
            namespace: "/admin".to_owned(),
            server_id: None,
            mode: AdminMode::Development,
        }
    }

    /// Requires `username` and the password whose bcrypt hash is `bcrypt_hash` (`$2a$`, `$2b$`,
    /// `$2x$` or `$2y$`, as `htpasswd -bnBC 10 "" password`, Node's `bcrypt` or
    /// [`hash_password`] make them). [`Io::admin_ui`] refuses a hash that does not parse.
    pub fn auth(mut self, username: impl Into<String>, bcrypt_hash: impl Into<String>) -> Self {
        self.auth = Auth::Basic { username: username.into(), hash: bcrypt_hash.into() };
        self
    }

    /// Lets anyone who reaches the admin namespace in: they see every client's handshake,
    /// headers and cookies included, and can disconnect them. For development only.
    ///
    /// ```
    /// # let (_layer, io) = ferrio::Ferrio::builder().build_layer();
    /// io.admin_ui(ferrio::admin::AdminUi::new().no_auth())?;
    /// # Ok::<(), ferrio::admin::AdminUiError>(())
    /// ```
    pub fn no_auth(mut self) -> Self {
        self.auth = Auth::Disabled;
        self
    }

    /// Read-only: the UI can watch but not act (no emit, join, leave or disconnect). Default
    /// off.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// The admin namespace. Default `/admin` (the UI's default too).
    pub fn namespace(mut self, path: impl Into<String>) -> Self {
        self.namespace = crate::namespace::normalize(&path.into());
        self
    }

    /// The id the UI shows for this server (its servers page tells several apart by it).
    /// Default: the host name.
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// How much the UI is told. Default [`AdminMode::Development`].
    pub fn mode(mut self, mode: AdminMode) -> Self {
        self.mode = mode;
        self
    }
}

/// Why [`Io::admin_ui`] did not install the admin UI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminUiError {
    /// Neither [`AdminUi::auth`] nor [`AdminUi::no_auth`] was chosen: choose one.
    #[error("the admin UI needs credentials: call AdminUi::auth(username, bcrypt_hash), or no_auth() explicitly")]
    NoAuth,
    /// The password given to [`AdminUi::auth`] is not a bcrypt hash: hash it first (see
    /// [`hash_password`]).
    #[error("the admin UI password must be a bcrypt hash: {0}")]
    InvalidHash(String),
    /// This server has an admin UI already: install it once.
    #[error("the admin UI is already installed on this server")]
    AlreadyInstalled,
    /// Hashing a password failed (see [`hash_password`]).
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

/// Hashes `password` with bcrypt (cost 10, as the official examples), for
/// [`AdminUi::auth`]. Takes tens of milliseconds on purpose: call it once, at start-up (or
/// keep the hash in the configuration instead of the password).
///
/// ```
/// let hash = ferrio::admin::hash_password("changeit")?;
/// assert!(hash.starts_with("$2b$10$"));
/// # Ok::<(), ferrio::admin::AdminUiError>(())
/// ```
pub fn hash_password(password: &str) -> Result<String, AdminUiError> {
    bcrypt::hash(password, 10).map_err(|e| AdminUiError::Hash(e.to_string()))
}

impl Io {
    /// Installs the server side of the official Socket.IO Admin UI on namespace `/admin`
    /// (see [`AdminUi::namespace`]), and returns that namespace. See the [`admin`](crate::admin)
    /// module for what the UI gets. Once per server; the namespace replaces one the
    /// application registered at the same path.
    ///
    /// ```
    /// use ferrio::admin::{hash_password, AdminUi};
    /// use ferrio::Ferrio;
    ///
    /// let (_layer, io) = Ferrio::builder().build_layer();
    /// let password = std::env::var("ADMIN_PASSWORD").unwrap_or_else(|_| "changeit".into());
    /// let admin = io.admin_ui(AdminUi::new().auth("admin", hash_password(&password)?))?;
    /// assert_eq!(admin.path(), "/admin");
    /// assert!(io.admin_ui(AdminUi::new().no_auth()).is_err(), "once per server");
    /// # Ok::<(), ferrio::admin::AdminUiError>(())
    /// ```
    pub fn admin_ui(&self, options: AdminUi) -> Result<NamespaceRef, AdminUiError> {
        let AdminUi { auth, read_only, namespace, server_id, mode } = options;
        let auth = match auth {
            Auth::Unset => return Err(AdminUiError::NoAuth),
            Auth::Disabled => {
                tracing::warn!(ns = namespace, "admin UI without authentication");
                None
            }
            Auth::Basic { username, hash } => Some(Arc::new(
                BasicAuth::new(username, &hash)
                    .map_err(|e| AdminUiError::InvalidHash(e.to_string()))?,
            )),
        };
        let hostname = stats::hostname();
        let info = ServerInfo {
            server_id: server_id.unwrap_or_else(|| hostname.clone()),
            hostname,
            started: Instant::now(),
        };
        let registry = self.registry();
        let admin = Arc::new(Admin::new(
            namespace.clone(),
            (mode, read_only),
            info,
            Arc::downgrade(registry),
        ));
        if registry.observer.set(admin.clone()).is_err() {
            return Err(AdminUiError::AlreadyInstalled);
        }
        let ns = self.ns(&namespace, move |socket: Socket| {
            admin.admitted(socket);
            std::future::ready(())
        });
        if let Some(auth) = auth {
            ns.middleware(move |socket: Socket| {
                let auth = auth.clone();
                async move { auth.check(&socket).await }
            });
        }
        Ok(ns)
    }
}
