//! Basic authentication of the admin namespace, as the official server does it: a username
//! and a bcrypt-hashed password in the CONNECT's auth payload (`{username, password}`), and
//! the session id it then hands out (`session` event), which the UI sends back instead when
//! it reconnects (`{sessionId}`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::engine::lock::lock;
use crate::engine::Sid;
use crate::{ConnectError, Socket};

/// How long a session id lets the UI back in without credentials (the official Redis
/// store's default).
const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// Most sessions remembered; past that, the oldest is forgotten.
const MAX_SESSIONS: usize = 1024;
/// Most bcrypt verifications running at once: each takes tens of milliseconds of CPU on
/// purpose, so a flood of logins waits here instead of taking every core.
const MAX_VERIFYING: usize = 2;

/// The error every refused login gets, as the official server words it.
pub(crate) const INVALID_CREDENTIALS: &str = "invalid credentials";

/// A session id the middleware handed out to a socket; its connect handler sends it.
#[derive(Debug, Clone)]
pub(crate) struct NewSession(pub(crate) String);

/// The credentials and sessions of one admin namespace.
pub(crate) struct BasicAuth {
    username: String,
    hash: Arc<str>,
    sessions: Mutex<HashMap<String, Instant>>,
    verifying: Semaphore,
}

impl BasicAuth {
    /// Checks `hash` is a bcrypt hash (`$2a$`, `$2b$`, `$2x$` or `$2y$`).
    pub(crate) fn new(username: String, hash: &str) -> Result<BasicAuth, bcrypt::BcryptError> {
        hash.parse::<bcrypt::HashParts>()?;
        Ok(BasicAuth {
            username,
            hash: Arc::from(hash),
            sessions: Mutex::new(HashMap::new()),
            verifying: Semaphore::new(MAX_VERIFYING),
        })
    }

    /// The connect middleware: lets `socket` in with a known session id, or with the right
    /// username and password (then gives it a new session id, which its connect handler
    /// sends); refuses it with `invalid credentials` otherwise.
    pub(crate) async fn check(&self, socket: &Socket) -> Result<(), ConnectError> {
        let auth = socket.auth();
        if let Some(Value::String(session)) = auth.get("sessionId") {
            if self.session_exists(session) {
                return Ok(());
            }
        }
        let username = auth.get("username").and_then(Value::as_str).unwrap_or("");
        let password = auth.get("password").and_then(Value::as_str);
        // The password is checked whatever the username, so the time taken does not tell
        // whether the username exists.
        let password_ok = match password {
            Some(password) => self.verify(password).await,
            None => false,
        };
        if password_ok && constant_time_eq(username.as_bytes(), self.username.as_bytes()) {
            socket.insert_extension(NewSession(self.new_session()));
            Ok(())
        } else {
            tracing::debug!(ns = socket.ns(), "admin UI login refused: invalid credentials");
            Err(ConnectError::new(INVALID_CREDENTIALS))
        }
    }

    /// Whether `password` matches the hash; bcrypt runs on the blocking pool, a few at once.
    async fn verify(&self, password: &str) -> bool {
        let Ok(_permit) = self.verifying.acquire().await else { return false };
        let (password, hash) = (password.to_owned(), self.hash.clone());
        let verified = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash)).await;
        matches!(verified, Ok(Ok(true)))
    }

    fn session_exists(&self, id: &str) -> bool {
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        sessions.retain(|_, created| now.duration_since(*created) < SESSION_LIFETIME);
        sessions.contains_key(id)
    }

    fn new_session(&self) -> String {
        let id = Sid::random().as_str().to_owned();
        let mut sessions = lock(&self.sessions);
        if sessions.len() >= MAX_SESSIONS {
            let oldest =
                sessions.iter().min_by_key(|(_, created)| **created).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), Instant::now());
        id
    }
}

/// `a == b`, taking the same time wherever they differ (for equal lengths).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bcrypt_hashes_are_accepted() {
        // "changeit", from the official package's README.
        let hash = "$2b$10$heqvAkYMez.Va6Et2uXInOnkCT6/uQj1brkrbyG3LpopDklcq7ZOS";
        assert!(BasicAuth::new("admin".into(), hash).is_ok());
        assert!(BasicAuth::new("admin".into(), "changeit").is_err());
        assert!(BasicAuth::new("admin".into(), "").is_err());
        assert!(bcrypt::verify("changeit", hash).expect("a valid hash"));
    }

    #[test]
    fn sessions_are_bounded_and_known() {
        let auth = BasicAuth::new("admin".into(), &bcrypt::hash("pw", 4).expect("hash"))
            .expect("a valid hash");
        let first = auth.new_session();
        assert!(auth.session_exists(&first));
        assert!(!auth.session_exists("1234"));
        for _ in 0..MAX_SESSIONS {
            auth.new_session();
        }
        assert_eq!(lock(&auth.sessions).len(), MAX_SESSIONS);
        assert!(!auth.session_exists(&first), "the oldest session was forgotten");
        assert!(constant_time_eq(b"admin", b"admin") && !constant_time_eq(b"admin", b"admiN"));
    }
}
