//! Proxies: parsing proxy URLs, choosing a proxy for a URL, the environment
//! variables, and the per-request override [`RequestProxy`].
//!
//! # Which proxy a request uses
//!
//! The first row that has an answer wins:
//!
//! | precedence | source | how it is set |
//! |---|---|---|
//! | 1 | the request | a [`RequestProxy`] extension (`RequestProxy::new(url)` or `RequestProxy::direct()`), else a [`RequestProxies`] map's most specific key for the URL; `no_proxy` does not apply |
//! | 2 | the transport | [`proxy(key, url)`](crate::HyperTransportBuilder::proxy) and [`direct(key)`](crate::HyperTransportBuilder::direct), keys most specific first: `scheme://host` > `scheme` > `all://host` > `all`; hosts listed in [`no_proxy`](crate::HyperTransportBuilder::no_proxy) go direct |
//! | 3 | the environment | only with [`trust_env(true)`](crate::HyperTransportBuilder::trust_env) (the default): `http_proxy`, `https_proxy`, `all_proxy`, lowercase first, then uppercase; hosts in `no_proxy`/`NO_PROXY` or the builder's `no_proxy` go direct |
//! | 4 | none | direct connection |
//!
//! `no_proxy` lists (the builder's and the environment's) are matched by
//! hyper-util's [`Matcher`] with curl's rules; which proxy a URL gets is
//! this table's.
//!
//! requests lets the environment beat the session's own `proxies`; we don't:
//! what the program says beats what the environment says. The proxy is
//! chosen for each URL a request goes to: a redirect to another host or
//! scheme is chosen again, from the same request's map.
//!
//! # What a proxy sees
//!
//! - `http://` URL through an HTTP proxy: the request goes to the proxy in
//!   absolute form, with `Proxy-Authorization` from the proxy URL's
//!   credentials. The proxy sees the whole request (it is plain HTTP).
//! - `https://` URL through an HTTP proxy: a `CONNECT host:port` tunnel,
//!   carrying only `Host` and `Proxy-Authorization`; the origin's headers,
//!   cookies and auth travel inside TLS. The proxy credentials never reach
//!   the origin.
//! - an `https://` proxy URL: the same, over TLS to the proxy, whose
//!   certificate is checked with the transport's roots and settings (ALPN
//!   offers only HTTP/1.1 to it; the client certificate, if any, is the
//!   origin's and is not offered to the proxy). An `https://` origin is then TLS inside
//!   TLS: the proxy sees neither the origin's traffic nor its certificate.
//! - `socks5://` (names resolved here, by the transport's resolver, so
//!   `resolve` overrides hold) and `socks5h://` (names resolved by the
//!   proxy): a SOCKS5 tunnel, with username/password authentication when the
//!   URL has credentials.

use std::fmt;
use std::net::IpAddr;

use base64::Engine as _;
use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

/// The kind of a proxy, from its URL scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ProxyKind {
    /// `http://`: forward proxy for `http`, `CONNECT` tunnel for `https`.
    Http,
    /// `https://`: as `Http`, over TLS to the proxy (its certificate checked
    /// like an origin's).
    Https,
    /// `socks5://`: names resolved locally.
    Socks5,
    /// `socks5h://`: names resolved by the proxy.
    Socks5h,
}

/// A proxy: where it is and its credentials.
///
/// ```
/// use session_hyper::Proxy;
///
/// let proxy = Proxy::new("http://user:secret@proxy.test:3128").unwrap();
/// assert_eq!(proxy.to_string(), "http://proxy.test:3128"); // no credentials
/// assert!(Proxy::new("ftp://proxy.test").is_err());
/// assert!(Proxy::new("http://").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Proxy {
    pub(crate) kind: ProxyKind,
    /// `scheme://host:port` with the port always present.
    pub(crate) uri: Uri,
    pub(crate) auth: Option<(String, String)>,
}

impl Proxy {
    /// Parses a proxy URL: `http://`, `https://`, `socks5://` or
    /// `socks5h://`, with optional `user:password@` (percent-encoded). A URL
    /// without a scheme is taken as `http://`. The port defaults to 80 for
    /// `http`, 443 for `https` and 1080 for SOCKS.
    ///
    /// # Errors
    /// [`InvalidProxy`] when the URL has no host, an unknown scheme, a path,
    /// or does not parse.
    pub fn new(url: &str) -> Result<Proxy, InvalidProxy> {
        let bad = |why: &'static str| InvalidProxy {
            url: redact(url),
            why,
        };
        let url = url.trim();
        let full = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        let parsed = url::Url::parse(&full).map_err(|_| bad("not a URL"))?;
        let (kind, default_port) = match parsed.scheme() {
            "http" => (ProxyKind::Http, 80),
            "socks5" => (ProxyKind::Socks5, 1080),
            "socks5h" => (ProxyKind::Socks5h, 1080),
            "https" => (ProxyKind::Https, 443),
            _ => return Err(bad("unknown scheme (use http, https, socks5 or socks5h)")),
        };
        let host = match parsed.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => return Err(bad("no host")),
        };
        if !matches!(parsed.path(), "" | "/") || parsed.query().is_some() {
            return Err(bad("a proxy URL has no path or query"));
        }
        let port = parsed.port().unwrap_or(default_port);
        let uri = format!("{}://{}:{}", parsed.scheme(), host, port)
            .parse::<Uri>()
            .map_err(|_| bad("not a URL"))?;
        let auth = if parsed.username().is_empty() && parsed.password().is_none() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| bad("credentials are not UTF-8"))
            };
            Some((
                decode(parsed.username())?,
                decode(parsed.password().unwrap_or(""))?,
            ))
        };
        Ok(Proxy { kind, uri, auth })
    }

    /// The `Proxy-Authorization` value for this proxy's credentials.
    pub(crate) fn basic_auth(&self) -> Option<HeaderValue> {
        let (user, pass) = self.auth.as_ref()?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let mut value = HeaderValue::try_from(format!("Basic {token}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// `host:port` of the proxy, for messages.
    pub(crate) fn authority(&self) -> &str {
        self.uri.authority().map_or("", |a| a.as_str())
    }
}

impl fmt::Display for Proxy {
    /// The proxy URL without its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Https => "https",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.to_string())
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://<redacted>@{}", &url[..s], &url[at + 1..]),
        (None, Some(at)) => format!("<redacted>@{}", &url[at + 1..]),
        _ => url.to_owned(),
    }
}

/// A proxy URL or a `no_proxy` entry that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid proxy setting {url:?}: {why}")]
pub struct InvalidProxy {
    url: String,
    why: &'static str,
}

/// Chooses the proxy for one request, overriding the transport's and the
/// environment's choice: put it in the request's extensions.
///
/// ```
/// use session_hyper::RequestProxy;
///
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(RequestProxy::new("socks5h://127.0.0.1:1080").unwrap());
/// // or: RequestProxy::direct() to bypass every proxy for this request.
/// ```
///
/// A request with this extension uses connections made for the same proxy
/// and credentials only. See the [module docs](self) for the precedence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestProxy(pub(crate) Option<Proxy>);

impl RequestProxy {
    /// Sends this request through the proxy at `url` (see [`Proxy::new`]).
    ///
    /// # Errors
    /// [`InvalidProxy`] for a URL [`Proxy::new`] refuses.
    pub fn new(url: &str) -> Result<RequestProxy, InvalidProxy> {
        Proxy::new(url).map(|p| RequestProxy(Some(p)))
    }

    /// Sends this request through `proxy`.
    pub fn proxy(proxy: Proxy) -> RequestProxy {
        RequestProxy(Some(proxy))
    }

    /// Connects directly, ignoring every configured proxy.
    pub fn direct() -> RequestProxy {
        RequestProxy(None)
    }
}

/// The proxy a [`NoProxy`] list's matcher answers with; never connected to.
const PLACEHOLDER: &str = "http://no-proxy.invalid";

/// A `no_proxy` list: hosts that are reached directly. hyper-util's
/// [`Matcher`] does the matching, with curl's rules (a domain and its
/// subdomains, case-insensitively; an address; a range; `*`).
///
/// hyper-util keeps its no-proxy list type private: the only question a
/// `Matcher` answers is [`intercept`](Matcher::intercept). So this list's
/// matcher is built with a [`PLACEHOLDER`] proxy, and "not intercepted"
/// means "listed".
#[derive(Debug, Default)]
pub(crate) struct NoProxy {
    /// The entries as [`normalize`] wrote them, for `Matcher::builder().no()`.
    list: String,
    /// `None` while the list is empty.
    matcher: Option<Matcher>,
}

impl NoProxy {
    /// Parses a comma-separated list (`localhost, .internal.test,
    /// 10.0.0.0/8, ::1, *`). A `:port` suffix is ignored, as curl does.
    #[cfg(test)]
    fn parse(list: &str) -> Result<NoProxy, InvalidProxy> {
        let mut no_proxy = NoProxy::default();
        no_proxy.extend(list)?;
        Ok(no_proxy)
    }

    /// Adds the entries of another comma-separated list.
    pub(crate) fn extend(&mut self, list: &str) -> Result<(), InvalidProxy> {
        let more = normalize(list)?;
        if more.is_empty() {
            return Ok(());
        }
        if !self.list.is_empty() {
            self.list.push(',');
        }
        self.list.push_str(&more);
        self.matcher = Some(Matcher::builder().all(PLACEHOLDER).no(&self.list).build());
        Ok(())
    }

    /// Does the list name the host of `uri`?
    pub(crate) fn bypasses(&self, uri: &Uri) -> bool {
        // The matcher also answers "no proxy" for a URI it cannot read (no
        // host, a scheme other than `http`/`https`): that is not "listed".
        let readable = uri.host().is_some() && matches!(uri.scheme_str(), Some("http" | "https"));
        readable
            && self
                .matcher
                .as_ref()
                .is_some_and(|m| m.intercept(uri).is_none())
    }

    /// Is `host` (as in a URI: IPv6 in brackets) on the list?
    #[cfg(test)]
    fn matches(&self, host: &str) -> bool {
        self.bypasses(&format!("http://{host}/").parse().expect("a host"))
    }
}

/// Checks a `no_proxy` list and writes it as [`Matcher`]'s `no` takes it.
///
/// Kept by hand, for what the matcher lacks: it takes any text without a
/// word (so a typo would quietly send through the proxy a host meant to go
/// direct; we refuse the list instead), and it has no rule for an entry's
/// `:port` suffix (ignored, as curl does), an IPv6 address in brackets, a
/// `*.` prefix, `*` for hosts that are addresses, or a host's trailing dot.
/// Each of those is rewritten into an entry it does match.
fn normalize(list: &str) -> Result<String, InvalidProxy> {
    let mut entries: Vec<String> = Vec::new();
    for raw in list.split(',') {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        let bad = |why| InvalidProxy {
            url: entry.to_owned(),
            why,
        };
        if entry == "*" {
            // The matcher's `*` covers names only.
            entries.extend(["*", "0.0.0.0/0", "::/0"].map(str::to_owned));
            continue;
        }
        if let Some((net, bits)) = entry.split_once('/') {
            let ip: IpAddr = net
                .trim_matches(|c| c == '[' || c == ']')
                .parse()
                .map_err(|_| bad("not an address range"))?;
            let bits: u8 = bits.parse().map_err(|_| bad("not an address range"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            if bits > max {
                return Err(bad("prefix length too long"));
            }
            entries.push(format!("{ip}/{bits}"));
            continue;
        }
        let unbracketed = entry.trim_start_matches('[');
        if let Some(end) = unbracketed.find(']') {
            let ip: IpAddr = unbracketed[..end]
                .parse()
                .map_err(|_| bad("not an IPv6 address"))?;
            entries.push(ip.to_string());
            continue;
        }
        if let Ok(ip) = entry.parse::<IpAddr>() {
            entries.push(ip.to_string());
            continue;
        }
        let host = match entry.rsplit_once(':') {
            Some((host, port)) if port.parse::<u16>().is_ok() => host,
            Some(_) => return Err(bad("not a host name")),
            None => entry,
        };
        if let Ok(ip) = host.parse::<IpAddr>() {
            entries.push(ip.to_string());
            continue;
        }
        let domain = host
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.');
        let valid = !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
        if !valid {
            return Err(bad("not a host name"));
        }
        // `example.com.` is `example.com`: the matcher compares the text.
        entries.push(format!("{domain},{domain}."));
    }
    Ok(entries.join(","))
}

/// One `proxy(key, url)` (or `direct(key)`) rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Rule {
    /// `None` for `all`.
    scheme: Option<String>,
    /// `None` for every host.
    host: Option<String>,
    /// `None`: connect directly (requests' `{key: None}`).
    proxy: Option<Proxy>,
}

impl Rule {
    /// 3 for `scheme://host`, 2 for `scheme`, 1 for `all://host`, 0 for `all`.
    fn rank(&self) -> u8 {
        u8::from(self.scheme.is_some()) * 2 + u8::from(self.host.is_some())
    }

    fn applies(&self, scheme: &str, host: &str) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self
                .host
                .as_deref()
                .is_none_or(|h| host.eq_ignore_ascii_case(h))
    }
}

/// The environment's proxies, chosen by hyper-util's [`Matcher`].
///
/// The variables are read here, not by `Matcher::from_env`, which differs
/// from what this crate documents and tests: it reads `HTTP_PROXY` before
/// `http_proxy` (we read lowercase first), in a CGI script it drops every
/// proxy (we drop only `HTTP_PROXY`, the one a request header can set:
/// httpoxy), and it reads only the process's environment. Each proxy URL
/// is parsed by [`Proxy::new`] too: the matcher skips a URL it cannot parse
/// without a word (we report it), takes `socks4` (we cannot speak it), and
/// leaves out default ports.
#[derive(Debug)]
struct EnvProxies {
    /// Built from the variables: says whether a URL goes through a proxy
    /// (`no_proxy`, and a proxy for its scheme).
    matcher: Matcher,
    /// The proxy of `http://` URLs: `http_proxy`, else `all_proxy`, as the
    /// matcher picks.
    http: Option<Proxy>,
    /// The proxy of `https://` URLs: `https_proxy`, else `all_proxy`.
    https: Option<Proxy>,
}

/// Rules by key, most specific first; a key set again replaces its rule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct RuleList(Vec<Rule>);

impl RuleList {
    fn set(&mut self, key: &str, proxy: Option<Proxy>) -> Result<(), InvalidProxy> {
        let rule = parse_rule(key, proxy)?;
        self.0
            .retain(|r| r.scheme != rule.scheme || r.host != rule.host);
        self.0.push(rule);
        self.0.sort_by_key(|r| std::cmp::Reverse(r.rank()));
        Ok(())
    }

    /// The most specific rule for this scheme and host.
    fn find(&self, scheme: &str, host: &str) -> Option<&Rule> {
        self.0.iter().find(|r| r.applies(scheme, host))
    }
}

/// A request's own proxy map, as requests' `proxies=` argument: keys as the
/// transport's [`proxy`](crate::HyperTransportBuilder::proxy) takes them
/// (`http`, `https`, `all`, optionally with `://host`), each to a proxy or
/// to a direct connection. For each URL (the first request and every
/// redirect hop) its most specific key answers; a URL no key matches falls
/// back to the transport's rules and the environment. `no_proxy` does not
/// apply to the map's own keys (as in requests).
///
/// ```
/// use session_hyper::RequestProxies;
///
/// let proxies = RequestProxies::new()
///     .proxy("https", "http://proxy.test:3128").unwrap()
///     .direct("https://internal.test");
/// let mut req = http::Request::new(session_core::Body::empty());
/// req.extensions_mut().insert(proxies.unwrap());
/// ```
///
/// Requests with a map use connections made for the same map only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RequestProxies(RuleList);

impl RequestProxies {
    /// An empty map: every URL falls back to the transport's rules.
    pub fn new() -> Self {
        RequestProxies::default()
    }

    /// URLs matching `key` go through the proxy at `url`.
    ///
    /// # Errors
    /// [`InvalidProxy`] for a key or URL that is not valid.
    pub fn proxy(mut self, key: &str, url: &str) -> Result<Self, InvalidProxy> {
        self.0.set(key, Some(Proxy::new(url)?))?;
        Ok(self)
    }

    /// URLs matching `key` connect directly (requests' `{key: None}`).
    ///
    /// # Errors
    /// [`InvalidProxy`] for a key that is not valid.
    pub fn direct(mut self, key: &str) -> Result<Self, InvalidProxy> {
        self.0.set(key, None)?;
        Ok(self)
    }
}

/// Every proxy rule of a transport: its own, then the environment's; or a
/// request's own map over them.
#[derive(Debug, Default)]
pub(crate) struct ProxyRules {
    rules: RuleList,
    no_proxy: NoProxy,
    env: Option<EnvProxies>,
    /// A request's map: asked first; its rules bypass `no_proxy`.
    request: Option<(RuleList, std::sync::Arc<ProxyRules>)>,
}

impl ProxyRules {
    /// Adds a rule: `key` is `http`, `https`, `all`, or one of those with
    /// `://host`.
    pub(crate) fn add(&mut self, key: &str, url: &str) -> Result<(), InvalidProxy> {
        self.rules.set(key, Some(Proxy::new(url)?))
    }

    /// URLs matching `key` connect directly, whatever the environment says.
    pub(crate) fn add_direct(&mut self, key: &str) -> Result<(), InvalidProxy> {
        self.rules.set(key, None)
    }

    /// Rules for a request's own choice: every URL through `proxy`, or
    /// none.
    pub(crate) fn single(proxy: Option<Proxy>) -> ProxyRules {
        ProxyRules {
            rules: RuleList(vec![Rule {
                scheme: None,
                host: None,
                proxy,
            }]),
            ..ProxyRules::default()
        }
    }

    /// A request's map over the transport's rules.
    pub(crate) fn with_request(
        map: &RequestProxies,
        transport: std::sync::Arc<ProxyRules>,
    ) -> ProxyRules {
        ProxyRules {
            request: Some((map.0.clone(), transport)),
            ..ProxyRules::default()
        }
    }

    pub(crate) fn add_no_proxy(&mut self, list: &str) -> Result<(), InvalidProxy> {
        self.no_proxy.extend(list)
    }

    /// Reads `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`
    /// (lowercase first). `HTTP_PROXY` is ignored when `REQUEST_METHOD` is
    /// set (a CGI script, where it comes from a request header: httpoxy).
    pub(crate) fn load_env(&mut self) -> Result<(), InvalidProxy> {
        self.load_env_from(|name| std::env::var(name).ok())
    }

    pub(crate) fn load_env_from(
        &mut self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<(), InvalidProxy> {
        let get = |lower: &str, upper: &str| {
            var(lower)
                .or_else(|| var(upper))
                .filter(|v| !v.trim().is_empty())
        };
        let http = if var("REQUEST_METHOD").is_some() {
            var("http_proxy").filter(|v| !v.trim().is_empty())
        } else {
            get("http_proxy", "HTTP_PROXY")
        };
        let parse = |value: Option<String>| value.map(|url| Proxy::new(&url)).transpose();
        let http = parse(http)?;
        let https = parse(get("https_proxy", "HTTPS_PROXY"))?;
        let all = parse(get("all_proxy", "ALL_PROXY"))?;
        let no = normalize(&get("no_proxy", "NO_PROXY").unwrap_or_default())?;
        // The matcher gets the URLs as `Proxy` wrote them (credentials
        // stay with our `Proxy`): one it always parses.
        let url = |proxy: &Option<Proxy>| proxy.as_ref().map(Proxy::to_string).unwrap_or_default();
        let matcher = Matcher::builder()
            .http(url(&http))
            .https(url(&https))
            .all(url(&all))
            .no(no)
            .build();
        let env = EnvProxies {
            matcher,
            http: http.or_else(|| all.clone()),
            https: https.or(all),
        };
        self.env = (env.http.is_some() || env.https.is_some()).then_some(env);
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.0.is_empty() && self.env.is_none() && self.request.is_none()
    }

    /// The proxy for `uri`, or `None` to connect directly.
    pub(crate) fn select(&self, uri: &Uri) -> Option<&Proxy> {
        if self.is_empty() {
            return None;
        }
        let scheme = uri.scheme_str().unwrap_or("http");
        let host = uri.host().unwrap_or("");
        if let Some((map, transport)) = &self.request {
            return match map.find(scheme, host) {
                Some(rule) => rule.proxy.as_ref(),
                None => transport.select(uri),
            };
        }
        let proxy = match self.rules.find(scheme, host) {
            Some(rule) => rule.proxy.as_ref()?,
            None => {
                let env = self.env.as_ref()?;
                env.matcher.intercept(uri)?;
                match scheme {
                    "https" => env.https.as_ref()?,
                    _ => env.http.as_ref()?,
                }
            }
        };
        (!self.no_proxy.bypasses(uri)).then_some(proxy)
    }
}

fn parse_rule(key: &str, proxy: Option<Proxy>) -> Result<Rule, InvalidProxy> {
    let bad = |why| InvalidProxy {
        url: key.to_owned(),
        why,
    };
    let key = key.trim().to_ascii_lowercase();
    let (scheme, host) = match key.split_once("://") {
        Some((scheme, host)) => (scheme.to_owned(), Some(host.trim_end_matches('/'))),
        None => (key.clone(), None),
    };
    let scheme = match scheme.as_str() {
        "all" => None,
        "http" | "https" => Some(scheme),
        _ => {
            return Err(bad(
                "a proxy key is http, https or all, optionally with ://host",
            ))
        }
    };
    let host = match host {
        Some("") => return Err(bad("empty host in proxy key")),
        Some(h) => {
            let h = h.trim_start_matches('[').trim_end_matches(']');
            Some(h.to_owned())
        }
        None => None,
    };
    Ok(Rule {
        scheme,
        host,
        proxy,
    })
}

/// A proxy refused or broke a tunnel: session-core's
/// [`ProxyError`], which
/// `session_core::Error::is_proxy` looks for.
pub use session_core::error::ProxyError;

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_urls_parse_and_refuse_bad_ones() {
        let p = Proxy::new("http://u%40x:p%3Aw@127.0.0.1:3128").unwrap();
        assert_eq!(p.auth, Some(("u@x".into(), "p:w".into())));
        assert_eq!(p.to_string(), "http://127.0.0.1:3128");
        assert_eq!(
            Proxy::new("proxy.test").unwrap().authority(),
            "proxy.test:80"
        );
        assert_eq!(Proxy::new("socks5h://h").unwrap().authority(), "h:1080");
        let tls = Proxy::new("https://u:p@proxy.test").unwrap();
        assert_eq!(tls.authority(), "proxy.test:443");
        assert_eq!(tls.to_string(), "https://proxy.test:443");
        for bad in [
            "http://",
            "gopher://h",
            "https://",
            "http://h/path",
            "::::",
            "",
        ] {
            assert!(Proxy::new(bad).is_err(), "{bad}");
        }
        let err = Proxy::new("ftp://user:secret@h").unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn most_specific_rule_wins() {
        let mut rules = ProxyRules::default();
        rules.add("all", "http://all:1").unwrap();
        rules.add("all://special.test", "http://allhost:1").unwrap();
        rules.add("https", "http://https:1").unwrap();
        rules
            .add("https://special.test", "http://httpshost:1")
            .unwrap();
        let pick = |u: &str| rules.select(&uri(u)).map(|p| p.authority().to_owned());
        assert_eq!(
            pick("https://special.test/").as_deref(),
            Some("httpshost:1")
        );
        assert_eq!(pick("https://other.test/").as_deref(), Some("https:1"));
        assert_eq!(pick("http://special.test/").as_deref(), Some("allhost:1"));
        assert_eq!(pick("http://other.test/").as_deref(), Some("all:1"));
        assert!(rules.add("ftp", "http://x:1").is_err());
        assert!(rules.add("http://", "http://x:1").is_err());
    }

    #[test]
    fn no_proxy_matches_domains_ips_and_ranges() {
        let np =
            NoProxy::parse(" .internal.test, example.com:8080,10.0.0.0/8, ::1,[fe80::1]").unwrap();
        assert!(np.matches("a.internal.test"));
        assert!(np.matches("internal.test"));
        assert!(!np.matches("xinternal.test"));
        assert!(np.matches("EXAMPLE.com"));
        assert!(np.matches("www.example.com"));
        assert!(np.matches("10.1.2.3"));
        assert!(!np.matches("11.1.2.3"));
        assert!(np.matches("[::1]"));
        assert!(np.matches("[fe80::1]"));
        assert!(NoProxy::parse("*").unwrap().matches("anything"));
        for bad in ["a b", "10.0.0.0/99", "x/8", "http://x", "h:port", "[zz]"] {
            assert!(NoProxy::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_proxy_fills_the_matchers_gaps() {
        // hyper-util's `*` covers names only; a `*.` prefix and a trailing
        // dot are rewritten for it.
        let star = NoProxy::parse("*").unwrap();
        assert!(star.matches("127.0.0.1") && star.matches("[::1]"));
        let np = NoProxy::parse("*.corp.test, dot.test.").unwrap();
        assert!(np.matches("a.corp.test") && np.matches("corp.test"));
        assert!(np.matches("dot.test") && np.matches("www.dot.test."));
        assert!(!np.matches("other.test") && !np.matches("127.0.0.1"));
        assert!(!NoProxy::default().bypasses(&uri("http://a.test/")));
    }

    #[test]
    fn environment_lowercase_first_session_first_no_proxy() {
        let env = |name: &str| {
            match name {
                "http_proxy" => Some("http://lower:1"),
                "HTTP_PROXY" => Some("http://upper:1"),
                "ALL_PROXY" => Some("socks5h://all:1"),
                "NO_PROXY" => Some("skip.test"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let mut rules = ProxyRules::default();
        rules.load_env_from(env).unwrap();
        let pick = |r: &ProxyRules, u: &str| r.select(&uri(u)).map(|p| p.to_string());
        assert_eq!(
            pick(&rules, "http://a.test/").as_deref(),
            Some("http://lower:1")
        );
        assert_eq!(
            pick(&rules, "https://a.test/").as_deref(),
            Some("socks5h://all:1")
        );
        assert_eq!(pick(&rules, "http://skip.test/"), None);
        rules.add("http", "http://mine:1").unwrap();
        // The session's rule beats the environment and its NO_PROXY.
        assert_eq!(
            pick(&rules, "http://skip.test/").as_deref(),
            Some("http://mine:1")
        );

        let cgi = |name: &str| match name {
            "REQUEST_METHOD" => Some("GET".to_owned()),
            "HTTP_PROXY" => Some("http://evil:1".to_owned()),
            _ => None,
        };
        let mut rules = ProxyRules::default();
        rules.load_env_from(cgi).unwrap();
        assert_eq!(pick(&rules, "http://a.test/"), None);

        let garbage = |name: &str| (name == "no_proxy").then(|| "a b".to_owned());
        assert!(ProxyRules::default().load_env_from(garbage).is_err());
    }
}
