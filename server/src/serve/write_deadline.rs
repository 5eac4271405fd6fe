//! A connection whose writes fail once they have been stuck for too long.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pin_project! {
    /// Wraps a connection so that a write (or flush) that cannot make progress for `timeout`
    /// fails with [`io::ErrorKind::TimedOut`]. A peer that stops reading while its receive
    /// window is zero keeps TCP alive for ever; without this its connection, and everything
    /// the server wrote into it, would be held for ever too. The timer is allocated only while
    /// a write is stuck, so an idle connection pays nothing for it.
    #[derive(Debug)]
    pub(crate) struct WriteDeadline<T> {
        #[pin]
        io: T,
        timeout: Duration,
        stuck_since: Option<Pin<Box<Sleep>>>,
    }
}

impl<T> WriteDeadline<T> {
    pub(crate) fn new(io: T, timeout: Duration) -> Self {
        WriteDeadline { io, timeout, stuck_since: None }
    }
}

/// Passes `poll` on; while it stays pending, arms (once) and polls the deadline of the stuck
/// write, failing it when the deadline passes.
fn with_deadline<R>(
    stuck_since: &mut Option<Pin<Box<Sleep>>>,
    timeout: Duration,
    cx: &mut Context<'_>,
    poll: Poll<io::Result<R>>,
) -> Poll<io::Result<R>> {
    match poll {
        Poll::Ready(ready) => {
            *stuck_since = None;
            Poll::Ready(ready)
        }
        Poll::Pending => {
            let timer = stuck_since.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the peer stopped reading: write deadline passed",
                ))),
                Poll::Pending => Poll::Pending,
            }
        }
    }
}

impl<T: AsyncRead> AsyncRead for WriteDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write(cx, buf);
        with_deadline(this.stuck_since, *this.timeout, cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.project();
        let poll = this.io.poll_write_vectored(cx, bufs);
        with_deadline(this.stuck_since, *this.timeout, cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_flush(cx);
        with_deadline(this.stuck_since, *this.timeout, cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.project();
        let poll = this.io.poll_shutdown(cx);
        with_deadline(this.stuck_since, *this.timeout, cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_write_stuck_past_the_deadline_fails_and_progress_resets_it() {
        // A pipe with room for 4 bytes that nobody reads.
        let (client, _server) = tokio::io::duplex(4);
        let mut io = WriteDeadline::new(client, Duration::from_secs(5));
        io.write_all(b"abcd").await.expect("fits");
        let started = tokio::time::Instant::now();
        let err = io.write_all(b"e").await.expect_err("stuck");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }
}
