//! [`ResponseFuture`]: the future of [`CacheService`](crate::CacheService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::body::CacheBody;
use crate::control::CacheStatus;
use crate::flow::{self, Miss};
use crate::store::{BoxError, BoxFuture};

pin_project! {
    /// The future of [`CacheService`](crate::CacheService): the inner
    /// service's own future for a request the cache does not handle (its
    /// response marked [`CacheStatus::Miss`]) or for a plain miss (its
    /// answer then stored as it streams, when it may be), else the cache's
    /// work, boxed.
    pub struct ResponseFuture<F, RB> {
        #[pin]
        kind: Kind<F, RB>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, RB> {
        Pass { #[pin] future: F },
        Miss { #[pin] future: F, miss: Option<Box<Miss>> },
        Cache { future: BoxFuture<'static, Result<Response<CacheBody<RB>>, BoxError>> },
    }
}

impl<F, RB> ResponseFuture<F, RB> {
    pub(crate) fn pass(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Pass { future },
        }
    }

    pub(crate) fn miss(future: F, miss: Box<Miss>) -> Self {
        ResponseFuture {
            kind: Kind::Miss {
                future,
                miss: Some(miss),
            },
        }
    }

    pub(crate) fn cache(
        future: BoxFuture<'static, Result<Response<CacheBody<RB>>, BoxError>>,
    ) -> Self {
        ResponseFuture {
            kind: Kind::Cache { future },
        }
    }
}

impl<F, RB> fmt::Debug for ResponseFuture<F, RB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, E, RB> Future for ResponseFuture<F, RB>
where
    F: Future<Output = Result<Response<RB>, E>>,
    E: Into<BoxError>,
    RB: http_body::Body,
{
    type Output = Result<Response<CacheBody<RB>>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Pass { future } => {
                let res = ready!(future.poll(cx)).map_err(Into::into)?;
                let mut res = res.map(CacheBody::inner);
                res.extensions_mut().insert(CacheStatus::Miss);
                Poll::Ready(Ok(res))
            }
            KindProj::Miss { future, miss } => {
                let result = ready!(future.poll(cx)).map_err(Into::into);
                let miss = miss.take().expect("ResponseFuture polled after its end");
                Poll::Ready(flow::fetched(miss, result))
            }
            KindProj::Cache { future } => future.as_mut().poll(cx),
        }
    }
}
