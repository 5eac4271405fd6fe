//! Shared pieces of ferrio's end-to-end tests: the conformance server's application, reused by
//! the `conformance` binary and by the in-process black-box tests.

pub mod admin_ui;
pub mod conformance;

/// Listens on `127.0.0.1:port` with a backlog of 1024: a burst of hundreds of clients must not
/// overflow the accept queue (tokio's default is smaller), or their retries add a second.
pub fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(1024)
}
