//! Proxies: parsing proxy URLs, choosing a proxy for a URL, the environment
//! variables, and the per-request override [`RequestProxy`].
//!
//! # Which proxy a request uses
//!
//! The first row that has an answer wins:
//!
//! | precedence | source | how it is set |
//! |---|---|---|
//! | 1 | the request | a [`RequestProxy`] extension (`RequestProxy::new(url)` or `RequestProxy::direct()`); `no_proxy` does not apply |
//! | 2 | the transport | [`proxy(key, url)`](crate::HyperTransportBuilder::proxy), keys most specific first: `scheme://host` > `scheme` > `all://host` > `all`; hosts listed in [`no_proxy`](crate::HyperTransportBuilder::no_proxy) go direct |
//! | 3 | the environment | only with [`trust_env(true)`](crate::HyperTransportBuilder::trust_env) (the default): `http_proxy`, `https_proxy`, `all_proxy`, lowercase first, then uppercase; hosts in `no_proxy`/`NO_PROXY` or the builder's `no_proxy` go direct |
//! | 4 | none | direct connection |
//!
//! requests lets the environment beat the session's own `proxies`; we don't:
//! what the program says beats what the environment says.
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

use session_core::BoxError;

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

/// One `no_proxy` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum NoProxyEntry {
    /// `*`: every host.
    All,
    /// A domain and its subdomains (`example.com`, `.example.com`).
    Domain(String),
    /// One IP address.
    Ip(IpAddr),
    /// An address range, `10.0.0.0/8`.
    Net(IpAddr, u8),
}

/// A `no_proxy` list: hosts that are reached directly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct NoProxy(Vec<NoProxyEntry>);

impl NoProxy {
    /// Parses a comma-separated list (`localhost, .internal.test,
    /// 10.0.0.0/8, ::1, *`). A `:port` suffix is ignored, as curl does.
    pub(crate) fn parse(list: &str) -> Result<NoProxy, InvalidProxy> {
        let mut entries = Vec::new();
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
                entries.push(NoProxyEntry::All);
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
                entries.push(NoProxyEntry::Net(ip, bits));
                continue;
            }
            let unbracketed = entry.trim_start_matches('[');
            if let Some(end) = unbracketed.find(']') {
                let ip = unbracketed[..end]
                    .parse()
                    .map_err(|_| bad("not an IPv6 address"))?;
                entries.push(NoProxyEntry::Ip(ip));
                continue;
            }
            if let Ok(ip) = entry.parse::<IpAddr>() {
                entries.push(NoProxyEntry::Ip(ip));
                continue;
            }
            let host = match entry.rsplit_once(':') {
                Some((host, port)) if port.parse::<u16>().is_ok() => host,
                Some(_) => return Err(bad("not a host name")),
                None => entry,
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                entries.push(NoProxyEntry::Ip(ip));
                continue;
            }
            let domain = host.trim_start_matches("*.").trim_start_matches('.');
            let valid = !domain.is_empty()
                && domain
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            if !valid {
                return Err(bad("not a host name"));
            }
            entries.push(NoProxyEntry::Domain(domain.to_ascii_lowercase()));
        }
        Ok(NoProxy(entries))
    }

    pub(crate) fn extend(&mut self, other: NoProxy) {
        self.0.extend(other.0);
    }

    /// Is `host` (as in a URI: IPv6 in brackets) on the list?
    pub(crate) fn matches(&self, host: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: Option<IpAddr> = host.parse().ok();
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.0.iter().any(|entry| match entry {
            NoProxyEntry::All => true,
            NoProxyEntry::Ip(want) => ip == Some(*want),
            NoProxyEntry::Net(net, bits) => ip.is_some_and(|ip| in_net(ip, *net, *bits)),
            NoProxyEntry::Domain(domain) => {
                host == *domain
                    || (host.len() > domain.len()
                        && host.ends_with(domain.as_str())
                        && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
            }
        })
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// One `proxy(key, url)` rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Rule {
    /// `None` for `all`.
    scheme: Option<String>,
    /// `None` for every host.
    host: Option<String>,
    proxy: Proxy,
}

impl Rule {
    /// 3 for `scheme://host`, 2 for `scheme`, 1 for `all://host`, 0 for `all`.
    fn rank(&self) -> u8 {
        u8::from(self.scheme.is_some()) * 2 + u8::from(self.host.is_some())
    }
}

/// Every proxy rule of a transport: its own, then the environment's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct ProxyRules {
    rules: Vec<Rule>,
    no_proxy: NoProxy,
    env_rules: Vec<Rule>,
    env_no_proxy: NoProxy,
}

impl ProxyRules {
    /// Adds a rule: `key` is `http`, `https`, `all`, or one of those with
    /// `://host`.
    pub(crate) fn add(&mut self, key: &str, url: &str) -> Result<(), InvalidProxy> {
        let rule = parse_rule(key, Proxy::new(url)?)?;
        self.rules
            .retain(|r| r.scheme != rule.scheme || r.host != rule.host);
        self.rules.push(rule);
        self.rules.sort_by_key(|r| std::cmp::Reverse(r.rank()));
        Ok(())
    }

    /// Rules for a request's own choice: every URL through `proxy`, or
    /// none.
    pub(crate) fn single(proxy: Option<Proxy>) -> ProxyRules {
        ProxyRules {
            rules: proxy
                .into_iter()
                .map(|proxy| Rule {
                    scheme: None,
                    host: None,
                    proxy,
                })
                .collect(),
            ..ProxyRules::default()
        }
    }

    pub(crate) fn add_no_proxy(&mut self, list: &str) -> Result<(), InvalidProxy> {
        self.no_proxy.extend(NoProxy::parse(list)?);
        Ok(())
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
        let cgi = var("REQUEST_METHOD").is_some();
        let http = if cgi {
            var("http_proxy").filter(|v| !v.trim().is_empty())
        } else {
            get("http_proxy", "HTTP_PROXY")
        };
        let mut rules = Vec::new();
        for (scheme, value) in [
            (Some("http"), http),
            (Some("https"), get("https_proxy", "HTTPS_PROXY")),
            (None, get("all_proxy", "ALL_PROXY")),
        ] {
            if let Some(url) = value {
                rules.push(Rule {
                    scheme: scheme.map(str::to_owned),
                    host: None,
                    proxy: Proxy::new(&url)?,
                });
            }
        }
        rules.sort_by_key(|r| std::cmp::Reverse(r.rank()));
        self.env_rules = rules;
        self.env_no_proxy = match get("no_proxy", "NO_PROXY") {
            Some(list) => NoProxy::parse(&list)?,
            None => NoProxy::default(),
        };
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.env_rules.is_empty()
    }

    /// The proxy for `uri`, or `None` to connect directly.
    pub(crate) fn select(&self, uri: &Uri) -> Option<&Proxy> {
        if self.is_empty() {
            return None;
        }
        let scheme = uri.scheme_str().unwrap_or("http");
        let host = uri.host().unwrap_or("");
        let find = |rules: &'_ [Rule]| -> Option<usize> {
            rules.iter().position(|r| {
                r.scheme.as_deref().is_none_or(|s| s == scheme)
                    && r.host
                        .as_deref()
                        .is_none_or(|h| host.eq_ignore_ascii_case(h))
            })
        };
        if let Some(i) = find(&self.rules) {
            return (!self.no_proxy.matches(host)).then_some(&self.rules[i].proxy);
        }
        let i = find(&self.env_rules)?;
        (!self.no_proxy.matches(host) && !self.env_no_proxy.matches(host))
            .then_some(&self.env_rules[i].proxy)
    }
}

fn parse_rule(key: &str, proxy: Proxy) -> Result<Rule, InvalidProxy> {
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

/// A proxy refused or broke a tunnel: the `CONNECT` got a non-2xx answer or
/// no answer, or the SOCKS handshake failed.
#[derive(Debug)]
pub struct ProxyError {
    proxy: String,
    status: Option<http::StatusCode>,
    what: String,
    source: Option<BoxError>,
}

impl ProxyError {
    pub(crate) fn new(proxy: &Proxy, what: impl Into<String>) -> ProxyError {
        ProxyError {
            proxy: proxy.to_string(),
            status: None,
            what: what.into(),
            source: None,
        }
    }

    pub(crate) fn status(mut self, status: http::StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub(crate) fn source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The proxy's URL, without credentials.
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    /// The status the proxy answered `CONNECT` with, if it answered.
    pub fn connect_status(&self) -> Option<http::StatusCode> {
        self.status
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.what)?;
        if let Some(status) = self.status {
            write!(f, " ({status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

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
