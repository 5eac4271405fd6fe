//! The response body of the engine service: the inner service's body, or one of ours.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

/// Errors a response body can produce.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// Body of a response from the engine service: either the wrapped service's own body or
    /// a body the engine produced.
    #[project = BodyProj]
    #[derive(Debug)]
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    #[derive(Debug)]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Full { data: Option<Bytes> },
        Channel { rx: tokio::sync::mpsc::Receiver<Bytes> },
        Forwarded { #[pin] body: hyper::body::Incoming },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        ResponseBody { kind: Kind::Inner { body } }
    }

    pub(crate) fn full(data: impl Into<Bytes>) -> Self {
        let data: Bytes = data.into();
        ResponseBody { kind: Kind::Full { data: (!data.is_empty()).then_some(data) } }
    }

    /// A body streamed from a channel; it ends when every sender is dropped.
    pub(crate) fn channel(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Self {
        ResponseBody { kind: Kind::Channel { rx } }
    }

    /// The body of the response another node gave to a forwarded request, passed on as it
    /// comes.
    pub(crate) fn forwarded(body: hyper::body::Incoming) -> Self {
        ResponseBody { kind: Kind::Forwarded { body } }
    }

    pub(crate) fn empty() -> Self {
        ResponseBody { kind: Kind::Full { data: None } }
    }
}

impl<B> Body for ResponseBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx).map_err(Into::into),
            KindProj::Full { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            KindProj::Channel { rx } => rx.poll_recv(cx).map(|d| d.map(|d| Ok(Frame::data(d)))),
            KindProj::Forwarded { body } => body.poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
            Kind::Channel { .. } => false,
            Kind::Forwarded { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Channel { .. } => SizeHint::default(),
            Kind::Forwarded { body } => body.size_hint(),
        }
    }
}
