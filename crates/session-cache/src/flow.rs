//! The cache's work for one request: look up, serve, revalidate, fetch,
//! store. RFC 9111 judgements come from `http-cache-semantics`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::header::{self, HeaderMap, HeaderValue};
use http::{request, response, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use tokio::sync::mpsc;
use tower_service::Service;

use crate::body::{CacheBody, CacheKeyBody, Msg};
use crate::config::{Cache, Expiry, Mode};
use crate::control::{CacheControl, CachePartition, CacheStatus};
use crate::flight::{Join, Leader, Outcome};
use crate::key::{has_any, primary_key, variant_key, vary_names, Directives, Judged, Seen, View};
use crate::service::Shared;
use crate::store::{BoxError, Key, Meta, Store, Stored, TooLarge, VariantKey};

/// Headers never stored (they describe one connection).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// "Never" in an expiry: a hundred years.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A stored variant that matches the request.
#[derive(Clone)]
struct Candidate {
    stored: Stored,
    /// The headers to serve it with, when it is fresh for this request.
    fresh: Option<HeaderMap>,
}

fn options(config: &Cache) -> CacheOptions {
    CacheOptions {
        shared: config.mode == Mode::Shared,
        ..CacheOptions::default()
    }
}

fn finish(leader: Option<Leader>, outcome: Outcome) {
    if let Some(leader) = leader {
        leader.finish(outcome);
    }
}

fn mark<B>(mut res: Response<B>, status: CacheStatus) -> Response<B> {
    res.extensions_mut().insert(status);
    res
}

fn store_failed(what: &str, err: &BoxError) {
    if err.is::<TooLarge>() {
        tracing::debug!("session-cache: {what}: {err}; not stored");
    } else {
        tracing::warn!(error = %err, "session-cache: store {what} failed; going on without the cache");
    }
}

/// What [`start`] learned of a cacheable request, for [`handle`] when the
/// request needs more than a quick miss.
pub(crate) struct Prepared {
    judged: Judged,
    key: Key,
    req_cc: Directives,
    control: Option<CacheControl>,
    /// The store's answer, when it gave it at once ([`Store::lookup_now`]).
    entries: Option<Vec<Stored>>,
}

/// A miss sent to the origin with no boxed future of the cache's own: what
/// [`fetched`] needs to deal with the answer.
pub(crate) struct Miss {
    shared: Arc<Shared>,
    key: Key,
    judged: Judged,
    /// A copy of the request's headers, as they were sent (the policy
    /// keeps them with an entry; `Vary` may name any of them).
    headers: HeaderMap,
    leader: Leader,
    head: bool,
}

/// How a cacheable request goes on.
// Made and matched at once in `CacheService::call`: a box for the bigger
// variant would only add an allocation to every hit.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Start {
    /// Nothing stored, no flight under way: to the origin, leading the
    /// flight (see [`fetched`]).
    Miss(Box<Miss>),
    /// Anything else: [`handle`].
    Handle(Prepared),
}

/// Judges a cacheable request, keys it and, when the store answers at once
/// that nothing is stored for it, leads its flight: the common miss then
/// needs no future of the cache's own.
///
/// `seen`: what `service::classify` found of its header names.
pub(crate) fn start<B: CacheKeyBody>(shared: &Arc<Shared>, req: &Request<B>, seen: Seen) -> Start {
    let config = &shared.config;
    let control = req.extensions().get::<CacheControl>().copied();
    let req_cc = Directives::of_request(req.headers(), seen);
    let judged = Judged::new(config, req.method(), req.uri(), seen.credentials);
    let key = {
        let body = if req.method() == Method::POST {
            req.body().key_bytes()
        } else {
            None
        };
        let partition = req.extensions().get::<CachePartition>();
        primary_key(req.method(), &judged.uri, body, partition, config.mode)
    };
    let entries = if control == Some(CacheControl::Reload) {
        Some(Vec::new())
    } else {
        config.store.lookup_now(&key).map(|found| {
            found.unwrap_or_else(|err| {
                store_failed("lookup", &err);
                Vec::new()
            })
        })
    };
    let only_if_cached = control == Some(CacheControl::OnlyIfCached) || req_cc.only_if_cached;
    if !only_if_cached && entries.as_ref().is_some_and(Vec::is_empty) {
        if let Some(leader) = shared.flights.try_lead(&key) {
            return Start::Miss(Box::new(Miss {
                shared: shared.clone(),
                key,
                judged,
                headers: req.headers().clone(),
                leader,
                head: req.method() == Method::HEAD,
            }));
        }
    }
    Start::Handle(Prepared {
        judged,
        key,
        req_cc,
        control,
        entries,
    })
}

/// The origin's answer to a [`Start::Miss`]: stored while it streams when
/// it may be, else passed on.
pub(crate) fn fetched<RB>(
    miss: Box<Miss>,
    result: Result<Response<RB>, BoxError>,
) -> Result<Response<CacheBody<RB>>, BoxError>
where
    RB: http_body::Body,
{
    let Miss {
        shared,
        key,
        judged,
        headers,
        leader,
        head,
    } = *miss;
    match result {
        Ok(res) => Ok(respond(
            &shared.config,
            key,
            &View::with(judged, &headers),
            Some(leader),
            head,
            res,
            SystemTime::now(),
        )),
        Err(err) => {
            leader.finish(Outcome::NotStored);
            Err(err)
        }
    }
}

/// A cacheable request (see `service::classify`) that [`start`] did not
/// settle.
pub(crate) async fn handle<S, B, RB>(
    shared: Arc<Shared>,
    service: S,
    req: Request<B>,
    prepared: Prepared,
) -> Result<Response<CacheBody<RB>>, BoxError>
where
    S: Service<Request<B>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: CacheKeyBody + Send + 'static,
    RB: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    let (parts, body) = req.into_parts();
    let config = &shared.config;
    let store = &config.store;
    let Prepared {
        judged,
        key,
        req_cc,
        control,
        mut entries,
    } = prepared;
    let view = View::with(judged, &parts.headers);

    let mut leader = None;
    let mut candidate = None;
    let mut collapsed = false;
    for round in 0..3 {
        let now = SystemTime::now();
        candidate = if control == Some(CacheControl::Reload) {
            None
        } else {
            let found = match entries.take() {
                Some(found) => found,
                None => lookup(store, &key).await,
            };
            choose(found, &view, &req_cc, now)
        };
        if let Some(c) = &candidate {
            // A request that waited for another's answer takes it as it is.
            let headers = match (&c.fresh, collapsed) {
                (Some(fresh), _) if control != Some(CacheControl::Refresh) => Some(fresh.clone()),
                (_, true) => Some(served_headers(&c.stored.meta, now)),
                _ => None,
            };
            if let Some(headers) = headers {
                if let Some(res) = serve(store, &key, c, headers, CacheStatus::Hit).await {
                    return Ok(res);
                }
                candidate = None;
            }
        }
        if control == Some(CacheControl::OnlyIfCached) || req_cc.only_if_cached {
            let mut res = Response::new(CacheBody::empty());
            *res.status_mut() = StatusCode::GATEWAY_TIMEOUT;
            return Ok(mark(res, CacheStatus::Miss));
        }
        if let Some(c) = &candidate {
            if control.is_none() && stale_allowed(config, c, None, now, Stale::WhileRevalidate) {
                let headers = served_headers(&c.stored.meta, now);
                if let Some(res) = serve(store, &key, c, headers, CacheStatus::Stale).await {
                    if let Some(leader) = shared.flights.try_lead(&key) {
                        let view = view.into_owned();
                        let c = c.clone();
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            let fetched = fetch(
                                shared,
                                service,
                                parts,
                                body,
                                key,
                                view,
                                Some(c),
                                Some(leader),
                                req_cc,
                            )
                            .await;
                            match fetched {
                                Ok(res) => {
                                    // Read to its end: the entry commits.
                                    let mut body = std::pin::pin!(res.into_body());
                                    while let Some(Ok(_)) = body.as_mut().frame().await {}
                                }
                                Err(err) => {
                                    tracing::debug!(error = %err, "session-cache: background revalidation failed");
                                }
                            }
                        });
                    }
                    return Ok(res);
                }
            }
        }
        match shared.flights.join(&key) {
            Join::Leader(l) => {
                leader = Some(l);
                break;
            }
            Join::Waiter(waiter) => match waiter.wait(config.collapse_stall).await {
                Outcome::Stored if round < 2 => collapsed = true,
                Outcome::Aborted if round < 2 => collapsed = false,
                // Not storable, or stalled: to the origin, without leading.
                _ => break,
            },
        }
    }
    let view = view.into_owned();
    fetch(
        shared.clone(),
        service,
        parts,
        body,
        key,
        view,
        candidate,
        leader,
        req_cc,
    )
    .await
}

/// The variants stored under `key` (none when the store fails).
async fn lookup(store: &Arc<dyn Store>, key: &Key) -> Vec<Stored> {
    match store.lookup(key).await {
        Ok(entries) => entries,
        Err(err) => {
            store_failed("lookup", &err);
            Vec::new()
        }
    }
}

/// The newest stored variant matching the request, and whether it is fresh
/// for it.
fn choose(
    mut entries: Vec<Stored>,
    view: &View<'_>,
    req_cc: &Directives,
    now: SystemTime,
) -> Option<Candidate> {
    entries.sort_by_key(|s| std::cmp::Reverse(s.meta.stored_at()));
    for stored in entries {
        let meta = &stored.meta;
        let (matches, fresh) = match meta.policy.before_request(view, now) {
            BeforeRequest::Fresh(parts) => (true, Some(parts.headers)),
            BeforeRequest::Stale { matches, .. } => (matches, None),
        };
        if !matches {
            continue;
        }
        // An expiry rule decides freshness instead of the headers (the
        // request's own `no-cache` and `max-age=0` still revalidate).
        let fresh = if meta.overridden {
            (now < meta.fresh_until && !req_cc.no_cache && !req_cc.max_age_zero)
                .then(|| served_headers(meta, now))
        } else {
            fresh
        };
        return Some(Candidate { stored, fresh });
    }
    None
}

/// The stored headers with the `Age` of now.
fn served_headers(meta: &Meta, now: SystemTime) -> HeaderMap {
    let mut headers = meta.headers.clone();
    headers.insert(
        header::AGE,
        HeaderValue::from(meta.policy.age(now).as_secs()),
    );
    headers
}

/// A response from the store, or `None` when its body is gone.
async fn serve<RB>(
    store: &Arc<dyn Store>,
    key: &Key,
    candidate: &Candidate,
    headers: HeaderMap,
    status: CacheStatus,
) -> Option<Response<CacheBody<RB>>> {
    let stream = match store.body(key, candidate.stored.id).await {
        Ok(Some(stream)) => stream,
        Ok(None) => return None,
        Err(err) => {
            store_failed("read", &err);
            return None;
        }
    };
    let len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let mut res = Response::new(CacheBody::stored(stream, len));
    *res.status_mut() = candidate.stored.meta.status;
    *res.headers_mut() = headers;
    Some(mark(res, status))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stale {
    IfError,
    WhileRevalidate,
}

/// Whether RFC 5861 and the settings let this stale entry be served.
fn stale_allowed(
    config: &Cache,
    candidate: &Candidate,
    req_cc: Option<&Directives>,
    now: SystemTime,
    kind: Stale,
) -> bool {
    let meta = &candidate.stored.meta;
    if meta.no_stale {
        return false;
    }
    let secs = |s: Option<u64>| s.map(Duration::from_secs);
    let window = match kind {
        Stale::IfError => [
            secs(meta.stale_if_error),
            secs(req_cc.and_then(|cc| cc.stale_if_error)),
            config.stale_if_error,
        ],
        Stale::WhileRevalidate => [
            secs(meta.stale_while_revalidate),
            config.stale_while_revalidate,
            None,
        ],
    }
    .into_iter()
    .flatten()
    .max();
    let Some(window) = window else {
        return false;
    };
    let staleness = now.duration_since(meta.fresh_until).unwrap_or_default();
    staleness <= window
}

/// Sends the request (conditional when a stale entry has validators) and
/// deals with the answer: a `304` merged, a failure answered stale where
/// allowed, a new answer stored while it streams to the caller.
#[allow(clippy::too_many_arguments)]
async fn fetch<S, B, RB>(
    shared: Arc<Shared>,
    mut service: S,
    mut parts: request::Parts,
    body: B,
    key: Key,
    view: View<'static>,
    candidate: Option<Candidate>,
    leader: Option<Leader>,
    req_cc: Directives,
) -> Result<Response<CacheBody<RB>>, BoxError>
where
    S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    RB: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    let config = &shared.config;
    let store = &config.store;
    let mut revalidating = false;
    if let Some(c) = &candidate {
        let stored = &c.stored.meta.headers;
        if let Some(etag) = stored.get(header::ETAG) {
            parts.headers.insert(header::IF_NONE_MATCH, etag.clone());
            revalidating = true;
        }
        if let Some(date) = stored.get(header::LAST_MODIFIED) {
            parts
                .headers
                .insert(header::IF_MODIFIED_SINCE, date.clone());
            revalidating = true;
        }
    }
    let head = parts.method == Method::HEAD;
    // The service was made ready by the caller's `poll_ready`.
    let result = service
        .call(Request::from_parts(parts, body))
        .await
        .map_err(Into::into);
    let now = SystemTime::now();
    let stale_on_error =
        |c: &Candidate| stale_allowed(config, c, Some(&req_cc), now, Stale::IfError);
    let res = match result {
        Ok(res) => res,
        Err(err) => {
            if let Some(c) = candidate.as_ref().filter(|c| stale_on_error(c)) {
                let headers = served_headers(&c.stored.meta, now);
                if let Some(res) = serve(store, &key, c, headers, CacheStatus::Stale).await {
                    tracing::warn!(error = %err, "session-cache: the origin failed; serving a stale response (stale-if-error)");
                    finish(leader, Outcome::NotStored);
                    return Ok(res);
                }
            }
            finish(leader, Outcome::NotStored);
            return Err(err);
        }
    };
    let status = res.status();
    if matches!(status.as_u16(), 500 | 502 | 503 | 504) {
        if let Some(c) = candidate.as_ref().filter(|c| stale_on_error(c)) {
            let headers = served_headers(&c.stored.meta, now);
            if let Some(stale) = serve(store, &key, c, headers, CacheStatus::Stale).await {
                tracing::warn!(%status, "session-cache: the origin failed; serving a stale response (stale-if-error)");
                finish(leader, Outcome::NotStored);
                return Ok(stale);
            }
        }
    }
    if status == StatusCode::NOT_MODIFIED && revalidating {
        let c = candidate.expect("revalidating has a candidate");
        if let AfterResponse::NotModified(policy, merged) =
            c.stored.meta.policy.after_response(&view, &res, now)
        {
            if let Some(meta) =
                revalidated(config, &c.stored.meta, policy, merged, res.headers(), now)
            {
                let headers = served_headers(&meta, now);
                if let Err(err) = store.update(&key, c.stored.id, meta).await {
                    store_failed("update", &err);
                }
                if let Some(res) = serve(store, &key, &c, headers, CacheStatus::Revalidated).await {
                    finish(leader, Outcome::Stored);
                    return Ok(res);
                }
            }
        }
        // The 304 does not fit what is stored (or it is gone): the
        // caller gets it as it is.
        finish(leader, Outcome::NotStored);
        return Ok(mark(res.map(CacheBody::inner), CacheStatus::Miss));
    }

    Ok(respond(config, key, &view, leader, head, res, now))
}

/// A new answer from the origin: stored while it streams to the caller
/// when it may be, else passed on as it is.
fn respond<RB: http_body::Body>(
    config: &Cache,
    key: Key,
    view: &View<'_>,
    leader: Option<Leader>,
    head: bool,
    res: Response<RB>,
    now: SystemTime,
) -> Response<CacheBody<RB>> {
    let store = &config.store;
    let (res_parts, res_body) = res.into_parts();
    let Some(meta) = storable(config, view, &res_parts, now) else {
        finish(leader, Outcome::NotStored);
        let res = Response::from_parts(res_parts, CacheBody::inner(res_body));
        return mark(res, CacheStatus::Miss);
    };
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("session-cache: no tokio runtime to write the entry; not stored");
        finish(leader, Outcome::NotStored);
        let res = Response::from_parts(res_parts, CacheBody::inner(res_body));
        return mark(res, CacheStatus::Miss);
    };
    let mut leader = leader;
    if let Some(leader) = leader.as_mut() {
        // Waiters now wait only while the body makes progress.
        leader.progress();
    }
    let (tx, rx) = mpsc::unbounded_channel();
    runtime.spawn(write_entry(store.clone(), key, meta, rx, leader));
    let ended = head || res_body.is_end_stream();
    let body = if ended {
        let _ = tx.send(Msg::End);
        CacheBody::inner(res_body)
    } else {
        CacheBody::tee(res_body, tx, config.max_entry_size)
    };
    mark(Response::from_parts(res_parts, body), CacheStatus::Miss)
}

/// Writes an entry as the tee hands over its chunks; commits at the end,
/// aborts if the body stops early, fails or grows past the cap.
async fn write_entry(
    store: Arc<dyn Store>,
    key: Key,
    meta: Meta,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    mut leader: Option<Leader>,
) {
    let mut writer = match store.begin(&key, meta).await {
        Ok(writer) => writer,
        Err(err) => {
            store_failed("write", &err);
            finish(leader, Outcome::NotStored);
            return;
        }
    };
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Chunk(chunk) => {
                if let Err(err) = writer.write(chunk).await {
                    store_failed("write", &err);
                    finish(leader, Outcome::NotStored);
                    return;
                }
                if let Some(leader) = leader.as_mut() {
                    leader.progress();
                }
            }
            Msg::TooLarge => {
                tracing::debug!("session-cache: body larger than max_entry_size; not stored");
                finish(leader, Outcome::NotStored);
                return;
            }
            Msg::End => {
                match writer.commit().await {
                    Ok(()) => finish(leader, Outcome::Stored),
                    Err(err) => {
                        store_failed("commit", &err);
                        finish(leader, Outcome::NotStored);
                    }
                }
                return;
            }
        }
    }
    // The body was dropped or failed before its end: the writer is dropped,
    // which aborts the entry.
    finish(leader, Outcome::Aborted);
}

/// Freshness and lifetime of an entry, from the policy, the response's
/// directives and the settings.
struct Lifetimes {
    fresh_until: SystemTime,
    expires_at: SystemTime,
    overridden: bool,
    no_stale: bool,
}

impl Lifetimes {
    /// The entry of a head stored `now` with these lifetimes and the
    /// response's stale directives.
    fn entry(
        self,
        variant: VariantKey,
        url: String,
        (status, headers): (StatusCode, HeaderMap),
        policy: CachePolicy,
        cc: &Directives,
        now: SystemTime,
    ) -> Meta {
        Meta {
            variant,
            url,
            status,
            headers,
            policy,
            stored_at: now,
            fresh_until: self.fresh_until,
            expires_at: self.expires_at,
            stale_if_error: cc.stale_if_error,
            stale_while_revalidate: cc.stale_while_revalidate,
            no_stale: self.no_stale,
            overridden: self.overridden,
        }
    }
}

fn lifetimes(
    config: &Cache,
    uri: &http::Uri,
    policy: &CachePolicy,
    cc: &Directives,
    headers: &HeaderMap,
    now: SystemTime,
) -> Option<Lifetimes> {
    let shared = config.mode == Mode::Shared;
    let no_stale =
        cc.must_revalidate || cc.no_cache || (shared && (cc.proxy_revalidate || cc.s_maxage));
    // An expiry rule never extends what must be revalidated.
    let pinned = cc.must_revalidate || cc.no_cache || (shared && cc.proxy_revalidate);
    let (fresh_for, overridden) = match config.expiry_for(uri) {
        Expiry::DoNotCache => return None,
        Expiry::Headers => (policy.time_to_live(now), false),
        _ if pinned => (policy.time_to_live(now), false),
        Expiry::After(d) => (d, true),
        Expiry::Never => (FOREVER, true),
    };
    let validators =
        headers.contains_key(header::ETAG) || headers.contains_key(header::LAST_MODIFIED);
    let stale = if no_stale {
        Duration::ZERO
    } else {
        [
            cc.stale_if_error.map(Duration::from_secs),
            cc.stale_while_revalidate.map(Duration::from_secs),
            config.stale_if_error,
            config.stale_while_revalidate,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or_default()
    };
    let keep = if validators {
        stale.max(config.keep_stale)
    } else {
        stale
    };
    if fresh_for.is_zero() && keep.is_zero() {
        // Stale at once, and nothing to revalidate with: of no use.
        return None;
    }
    let fresh_until = now.checked_add(fresh_for).unwrap_or(now + FOREVER);
    let expires_at = fresh_until.checked_add(keep).unwrap_or(fresh_until);
    Some(Lifetimes {
        fresh_until,
        expires_at,
        overridden,
        no_stale,
    })
}

/// Does a response give a cache nothing to keep: no freshness (`Cache-Control`,
/// `Expires`), no validator for a heuristic or a revalidation (`Last-Modified`,
/// `ETag`), and no setting of ours that would keep it anyway (an expiry rule,
/// a stale window)? Such a response is not stored, decided from one pass over
/// its header names before the RFC's policy is built: a cache may always choose not
/// to store (RFC 9111 §3), and the policy would find no lifetime in it.
fn says_nothing(config: &Cache, uri: &http::Uri, headers: &HeaderMap) -> bool {
    let silent = !has_any(
        headers,
        &[
            header::CACHE_CONTROL,
            header::EXPIRES,
            header::LAST_MODIFIED,
            header::ETAG,
        ],
    );
    silent
        && config.stale_if_error.is_none()
        && config.stale_while_revalidate.is_none()
        && matches!(config.expiry_for(uri), Expiry::Headers)
}

/// The entry to store for a response, or `None` when it must not (or need
/// not) be stored.
fn storable(
    config: &Cache,
    view: &View<'_>,
    res: &response::Parts,
    now: SystemTime,
) -> Option<Meta> {
    if says_nothing(config, view.uri(), &res.headers) {
        return None;
    }
    let names = vary_names(&res.headers)?;
    let opts = options(config);
    let policy = CachePolicy::new_options(view, res, now, opts);
    if !policy.is_storable() {
        return None;
    }
    let cc = Directives::of(&res.headers);
    let shared = config.mode == Mode::Shared;
    if shared {
        // RFC 9111 §3.5 covers `Authorization` (the policy applies it);
        // cookies are credentials as well, and a `Set-Cookie` must never
        // reach another identity.
        if res.headers.contains_key(header::SET_COOKIE) && !cc.public {
            return None;
        }
        if view.has_cookie() && !(cc.public || cc.s_maxage) {
            return None;
        }
    }
    let lifetimes = lifetimes(config, view.uri(), &policy, &cc, &res.headers, now)?;
    let mut headers = res.headers.clone();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    let policy = if shared && headers.contains_key(header::SET_COOKIE) {
        headers.remove(header::SET_COOKIE);
        let mut stored = Response::new(());
        *stored.status_mut() = res.status;
        *stored.headers_mut() = headers.clone();
        CachePolicy::new_options(view, &stored, now, opts)
    } else {
        policy
    };
    Some(lifetimes.entry(
        variant_key(&names, view.headers()),
        view.uri().to_string(),
        (res.status, headers),
        policy,
        &cc,
        now,
    ))
}

/// The entry after a `304`: the merged headers and a new policy.
///
/// `http-cache-semantics` replaces the stored fields the `304` names; RFC
/// 9111 §3.2 also adds the ones the stored response lacked, except
/// `Content-Length` (and what is never stored: hop-by-hop fields, `Age`, a
/// shared cache's `Set-Cookie`, removed below).
fn revalidated(
    config: &Cache,
    old: &Meta,
    policy: CachePolicy,
    merged: response::Parts,
    not_modified: &HeaderMap,
    now: SystemTime,
) -> Option<Meta> {
    let mut headers = merged.headers;
    for name in not_modified.keys() {
        if name != header::CONTENT_LENGTH && !headers.contains_key(name) {
            for value in not_modified.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
    }
    headers.remove(header::AGE);
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    if config.mode == Mode::Shared {
        headers.remove(header::SET_COOKIE);
    }
    let cc = Directives::of(&headers);
    let uri: http::Uri = old.url.parse().ok()?;
    let lifetimes = lifetimes(config, &uri, &policy, &cc, &headers, now)?;
    Some(lifetimes.entry(
        old.variant,
        old.url.clone(),
        (old.status, headers),
        policy,
        &cc,
        now,
    ))
}

/// An unsafe method: sent as it is; on success the URL's `GET` and `HEAD`
/// entries are removed (RFC 9111 §4.4).
pub(crate) async fn invalidate<S, B, RB>(
    shared: Arc<Shared>,
    mut service: S,
    req: Request<B>,
) -> Result<Response<CacheBody<RB>>, BoxError>
where
    S: Service<Request<B>, Response = Response<RB>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Send + 'static,
    RB: Send + 'static,
{
    let config = &shared.config;
    let keys: Vec<Key> = {
        let view = View::new(config, &Method::GET, req.uri(), req.headers());
        let partition = req.extensions().get::<CachePartition>();
        [Method::GET, Method::HEAD]
            .iter()
            .map(|m| primary_key(m, view.uri(), None, partition, config.mode))
            .collect()
    };
    let res = service.call(req).await.map_err(Into::into)?;
    if res.status().is_success() || res.status().is_redirection() {
        for key in &keys {
            if let Err(err) = config.store.remove(key).await {
                store_failed("remove", &err);
            }
        }
    }
    Ok(mark(res.map(CacheBody::inner), CacheStatus::Miss))
}
