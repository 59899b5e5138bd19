//! [`ResponseFuture`]: the future of [`BudgetService`](crate::BudgetService).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;

use crate::error::BoxError;

/// The wait, the request and the release, for a host with limits: boxed
/// once per such request (a backend round trip costs far more).
type Limited<RB> = Pin<Box<dyn Future<Output = Result<Response<RB>, BoxError>> + Send>>;

pin_project! {
    /// The future of [`BudgetService`](crate::BudgetService): the inner
    /// service's future as it is for a host without limits, or the wait for
    /// the budget followed by the request.
    pub struct ResponseFuture<F, RB> {
        #[pin]
        kind: Kind<F, RB>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, RB> {
        Direct { #[pin] future: F },
        Limited { future: Limited<RB> },
    }
}

impl<F, RB> ResponseFuture<F, RB> {
    pub(crate) fn direct(future: F) -> Self {
        ResponseFuture {
            kind: Kind::Direct { future },
        }
    }

    pub(crate) fn limited(future: Limited<RB>) -> Self {
        ResponseFuture {
            kind: Kind::Limited { future },
        }
    }
}

impl<F, RB> fmt::Debug for ResponseFuture<F, RB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Direct { .. } => "Direct",
            Kind::Limited { .. } => "Limited",
        };
        f.debug_struct("ResponseFuture")
            .field("kind", &kind)
            .finish()
    }
}

impl<F, RB, E> Future for ResponseFuture<F, RB>
where
    F: Future<Output = Result<Response<RB>, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Response<RB>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Direct { future } => future.poll(cx).map_err(Into::into),
            KindProj::Limited { future } => future.as_mut().poll(cx),
        }
    }
}
