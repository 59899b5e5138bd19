//! [`Policy`]: decides whether to follow each redirect, and may edit the
//! next request.
//!
//! The rules every redirect obeys (methods, bodies, credentials, schemes,
//! the hop limit) are enforced by the layer itself, around the policy: a
//! policy can stop a chain or edit the next request, but it cannot follow a
//! redirect to a non-HTTP scheme, and it cannot put credentials back onto
//! another origin (they are removed after `on_request` runs).
//!
//! ```
//! use session_core::redirect::policy::{redirect_fn, Action, PolicyExt, Standard};
//!
//! // Follow redirects only within example.test.
//! let policy = Standard.and(redirect_fn(|attempt| {
//!     Ok(if attempt.location().host_str() == Some("example.test") {
//!         Action::Follow
//!     } else {
//!         Action::Stop
//!     })
//! }));
//! # let _ = policy;
//! ```

use std::fmt;

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::body::Body;
use crate::error::BoxError;

/// What to do with a redirect response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send the next request.
    Follow,
    /// Return the redirect response as it is (its `next_request()` tells
    /// where it pointed).
    Stop,
}

/// A redirect about to be followed, as a [`Policy`] sees it.
#[derive(Debug)]
pub struct Attempt<'a> {
    pub(crate) status: StatusCode,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) location: &'a Url,
    pub(crate) previous: &'a Url,
    pub(crate) method: &'a Method,
    pub(crate) hops: usize,
}

impl<'a> Attempt<'a> {
    /// The status of the redirect response.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers of the redirect response.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }

    /// Where the redirect points (resolved against [`previous`](Self::previous)).
    pub fn location(&self) -> &'a Url {
        self.location
    }

    /// The URL that answered with the redirect.
    pub fn previous(&self) -> &'a Url {
        self.previous
    }

    /// The method the next request will use.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// How many redirects were followed before this one.
    pub fn hops(&self) -> usize {
        self.hops
    }
}

/// Decides, for each redirect of one logical request, whether to follow
/// it, and may edit the next request. A policy is cloned for every logical
/// request, so it may count or remember what it saw.
///
/// Both hooks have default bodies: an empty `impl Policy for T {}` follows
/// every redirect.
///
/// See the [module docs](self) for more details.
pub trait Policy {
    /// Follow or stop. An error ends the chain with that error, wrapped in a
    /// [`crate::Error`] whose `is_redirect()` is true.
    ///
    /// # Errors
    /// Whatever the policy wants to report.
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        let _ = attempt;
        Ok(Action::Follow)
    }

    /// Edits the next request before it is sent (add a header, change the
    /// URL). The credential rules are applied after this hook.
    fn on_request(&mut self, request: &mut http::Request<Body>) {
        let _ = request;
    }
}

impl<P: Policy + ?Sized> Policy for &mut P {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        (**self).redirect(attempt)
    }

    fn on_request(&mut self, request: &mut http::Request<Body>) {
        (**self).on_request(request);
    }
}

impl<P: Policy + ?Sized> Policy for Box<P> {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        (**self).redirect(attempt)
    }

    fn on_request(&mut self, request: &mut http::Request<Body>) {
        (**self).on_request(request);
    }
}

/// The default policy: follow every redirect the layer's rules allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Standard;

impl Policy for Standard {}

/// Combinators for policies.
pub trait PolicyExt: Sized {
    /// Follows only if both `self` and `other` follow (`other` is asked only
    /// when `self` follows); `on_request` runs both, `self` first.
    fn and<B>(self, other: B) -> And<Self, B> {
        And { a: self, b: other }
    }

    /// Follows if either follows (`other` is asked only when `self` stops);
    /// `on_request` runs both, `self` first.
    fn or<B>(self, other: B) -> Or<Self, B> {
        Or { a: self, b: other }
    }
}

impl<P: Policy> PolicyExt for P {}

/// See [`PolicyExt::and`].
#[derive(Debug, Clone, Copy, Default)]
pub struct And<A, B> {
    a: A,
    b: B,
}

impl<A: Policy, B: Policy> Policy for And<A, B> {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        match self.a.redirect(attempt)? {
            Action::Follow => self.b.redirect(attempt),
            Action::Stop => Ok(Action::Stop),
        }
    }

    fn on_request(&mut self, request: &mut http::Request<Body>) {
        self.a.on_request(request);
        self.b.on_request(request);
    }
}

/// See [`PolicyExt::or`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Or<A, B> {
    a: A,
    b: B,
}

impl<A: Policy, B: Policy> Policy for Or<A, B> {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        match self.a.redirect(attempt)? {
            Action::Follow => Ok(Action::Follow),
            Action::Stop => self.b.redirect(attempt),
        }
    }

    fn on_request(&mut self, request: &mut http::Request<Body>) {
        self.a.on_request(request);
        self.b.on_request(request);
    }
}

/// A policy from a closure that decides each redirect.
///
/// ```
/// use session_core::redirect::policy::{redirect_fn, Action};
///
/// // Never leave https.
/// let policy = redirect_fn(|attempt| {
///     Ok(if attempt.location().scheme() == "https" { Action::Follow } else { Action::Stop })
/// });
/// # let _ = policy;
/// ```
pub fn redirect_fn<F>(f: F) -> RedirectFn<F>
where
    F: FnMut(&Attempt<'_>) -> Result<Action, BoxError>,
{
    RedirectFn { f }
}

/// See [`redirect_fn`].
#[derive(Clone, Copy)]
pub struct RedirectFn<F> {
    f: F,
}

impl<F> fmt::Debug for RedirectFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedirectFn").finish_non_exhaustive()
    }
}

impl<F> Policy for RedirectFn<F>
where
    F: FnMut(&Attempt<'_>) -> Result<Action, BoxError>,
{
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        (self.f)(attempt)
    }
}

trait ClonePolicy: Policy + Send + Sync {
    fn clone_box(&self) -> Box<dyn ClonePolicy>;
}

impl<P: Policy + Clone + Send + Sync + 'static> ClonePolicy for P {
    fn clone_box(&self) -> Box<dyn ClonePolicy> {
        Box::new(self.clone())
    }
}

/// A type-erased policy that can be cloned, as the session builder stores it.
pub struct BoxPolicy {
    inner: Box<dyn ClonePolicy>,
}

impl BoxPolicy {
    /// Erases the type of a policy.
    pub fn new<P: Policy + Clone + Send + Sync + 'static>(policy: P) -> Self {
        BoxPolicy {
            inner: Box::new(policy),
        }
    }
}

impl Default for BoxPolicy {
    fn default() -> Self {
        BoxPolicy::new(Standard)
    }
}

impl Clone for BoxPolicy {
    fn clone(&self) -> Self {
        BoxPolicy {
            inner: self.inner.clone_box(),
        }
    }
}

impl fmt::Debug for BoxPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxPolicy").finish_non_exhaustive()
    }
}

impl Policy for BoxPolicy {
    fn redirect(&mut self, attempt: &Attempt<'_>) -> Result<Action, BoxError> {
        self.inner.redirect(attempt)
    }

    fn on_request(&mut self, request: &mut http::Request<Body>) {
        self.inner.on_request(request);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt_to<'a>(url: &'a Url, headers: &'a HeaderMap, method: &'a Method) -> Attempt<'a> {
        Attempt {
            status: StatusCode::FOUND,
            headers,
            location: url,
            previous: url,
            method,
            hops: 0,
        }
    }

    #[test]
    fn combinators() {
        let url = Url::parse("http://a.test/").unwrap();
        let headers = HeaderMap::new();
        let attempt = attempt_to(&url, &headers, &Method::GET);
        let stop = || redirect_fn(|_| Ok(Action::Stop));
        let fail = || redirect_fn(|_| Err("vetoed".into()));
        assert_eq!(
            Standard.and(stop()).redirect(&attempt).unwrap(),
            Action::Stop
        );
        assert_eq!(stop().and(fail()).redirect(&attempt).unwrap(), Action::Stop);
        assert_eq!(
            stop().or(Standard).redirect(&attempt).unwrap(),
            Action::Follow
        );
        assert_eq!(
            Standard.or(fail()).redirect(&attempt).unwrap(),
            Action::Follow
        );
        assert!(Standard.and(fail()).redirect(&attempt).is_err());
        let mut boxed = BoxPolicy::new(stop());
        let mut copy = boxed.clone();
        assert_eq!(boxed.redirect(&attempt).unwrap(), Action::Stop);
        let by_ref: &mut BoxPolicy = &mut copy;
        assert_eq!(
            Policy::redirect(&mut { by_ref }, &attempt).unwrap(),
            Action::Stop
        );
        let mut b: Box<dyn Policy> = Box::new(Standard);
        assert_eq!(b.redirect(&attempt).unwrap(), Action::Follow);
    }

    #[test]
    fn counting_policy_keeps_state() {
        let url = Url::parse("http://a.test/").unwrap();
        let headers = HeaderMap::new();
        let attempt = attempt_to(&url, &headers, &Method::GET);
        let mut seen = 0;
        let mut two = redirect_fn(move |_| {
            seen += 1;
            Ok(if seen <= 2 {
                Action::Follow
            } else {
                Action::Stop
            })
        });
        assert_eq!(two.redirect(&attempt).unwrap(), Action::Follow);
        assert_eq!(two.redirect(&attempt).unwrap(), Action::Follow);
        assert_eq!(two.redirect(&attempt).unwrap(), Action::Stop);
    }
}
