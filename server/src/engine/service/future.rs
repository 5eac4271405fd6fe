//! The future of [`EngineService`](super::EngineService) responses.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::engine::http::body::ResponseBody;

type EngineFuture<B> = Pin<Box<dyn Future<Output = Response<ResponseBody<B>>> + Send>>;

pin_project! {
    /// Response future of [`EngineService`](super::EngineService): the inner service's, or
    /// the engine's own.
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner { #[pin] future: F },
        Engine { future: EngineFuture<B> },
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn inner(future: F) -> Self {
        ResponseFuture { kind: Kind::Inner { future } }
    }

    pub(crate) fn engine(future: EngineFuture<B>) -> Self {
        ResponseFuture { kind: Kind::Engine { future } }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<ResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Inner { future } => {
                future.poll(cx).map(|r| r.map(|res| res.map(ResponseBody::inner)))
            }
            KindProj::Engine { future } => future.as_mut().poll(cx).map(Ok),
        }
    }
}
