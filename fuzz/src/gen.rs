//! Random input: a seeded PRNG ([`fastrand`]) and the pieces of the grammars
//! the targets read (hosts, URLs, paths, dates, numbers), each mostly
//! well-formed and now and then broken in the ways real input is: control
//! characters, unicode, over-long values, edge numbers.

use std::fmt::Write as _;

/// Characters that change how a header or a file is split, and the
/// escapes that may confuse a decoder.
pub const GRAMMAR: &[&str] = &[
    ";", "=", ",", " ", "\t", "\r", "\n", "\r\n", "\"", "\\", "%", "%00", "%0A", "%ZZ", "%25",
    "%2F", "%ff", "/", "//", "\\\\", "..", ".", ":", "::", "@", "#", "?", "&", "[", "]", "*", "-",
    "_", "+", "'", "(", ")", "<", ">", "{", "}",
];

/// Non-ASCII text: case-folding traps, look-alike dots, invisible and
/// bidirectional marks, unicode whitespace, astral-plane characters.
pub const UNICODE: &[&str] = &[
    "é",
    "ü",
    "ß",
    "İ",
    "ı",
    "\u{212A}",
    "ﬀ",
    "𝄞",
    "\u{FFFD}",
    "\u{200B}",
    "\u{202E}",
    "\u{0085}",
    "\u{00A0}",
    "\u{2028}",
    "\u{3000}",
    "\u{FEFF}",
    "日本",
    "😀",
    "e\u{0301}",
    "Ａ",
    "。",
    "．",
    "ｅｘａｍｐｌｅ",
    "bücher",
    "\u{10FFFF}",
];

/// Control bytes (tab included).
pub const CONTROL: &[u8] = &[
    0x00, 0x01, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B, 0x1F, 0x7F,
];

/// Domain labels: registrable names, public suffixes (with the list's
/// wildcard and exception rules: `*.ck`, `!www.ck`), IDNA forms.
const LABELS: &[&str] = &[
    "example",
    "com",
    "co",
    "uk",
    "www",
    "a",
    "b",
    "sub",
    "shop",
    "test",
    "localhost",
    "github",
    "io",
    "appspot",
    "blogspot",
    "xn--bcher-kva",
    "xn--",
    "internal",
    "corp",
    "local",
    "org",
    "jp",
    "kyoto",
    "ck",
    "bd",
    "s3",
    "amazonaws",
    "x",
    "123",
    "0",
    "-a",
    "a-",
    "_srv",
    "EXAMPLE",
];

const IPS: &[&str] = &[
    "127.0.0.1",
    "127.0.0.2",
    "10.0.0.1",
    "192.168.1.1",
    "0.0.0.0",
    "255.255.255.255",
    "127.1",
    "0x7f.0.0.1",
    "017700000001",
    "2130706433",
    "256.0.0.1",
    "1.2.3.4.5",
    "[::1]",
    "[::]",
    "[2001:db8::1]",
    "[::ffff:127.0.0.1]",
    "[fe80::1%25eth0]",
    "[1:2:3:4:5:6:7:8]",
    "[::1",
    "::1",
];

const SCHEMES: &[&str] = &[
    "http",
    "https",
    "ws",
    "wss",
    "HTTP",
    "hTTpS",
    "ftp",
    "file",
    "data",
    "javascript",
    "socks5",
    "socks5h",
    "h",
];

const SEGMENTS: &[&str] = &[
    "",
    "a",
    "b",
    "dir",
    "page",
    "login",
    "..",
    ".",
    "%2e%2e",
    "%2F",
    "x y",
    "ü",
    "a;b",
    "a=b",
    "index.html",
    "~user",
    "%",
];

const MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "jan",
    "FEB", "March", "Sept", "Foo",
];

const DAYS: &[&str] = &[
    "Mon",
    "Tue",
    "Wed",
    "Thu",
    "Fri",
    "Sat",
    "Sun",
    "Monday",
    "Wednesday",
    "sun",
    "Xyz",
];

/// A seeded source of random input.
#[derive(Debug, Clone)]
pub struct Gen {
    rng: fastrand::Rng,
}

impl Gen {
    /// A generator whose whole sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Gen {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.rng.usize(..n)
        }
    }

    /// `true` once in `n` times.
    pub fn one_in(&mut self, n: u32) -> bool {
        n <= 1 || self.rng.u32(..n) == 0
    }

    /// One of `items`.
    ///
    /// # Panics
    /// When `items` is empty.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.usize(..items.len())]
    }

    /// One of `items`, for string tables.
    ///
    /// # Panics
    /// When `items` is empty.
    pub fn choose(&mut self, items: &[&'static str]) -> &'static str {
        items[self.rng.usize(..items.len())]
    }

    /// A random `u64`.
    pub fn u64(&mut self) -> u64 {
        self.rng.u64(..)
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.rng.u8(..)
    }

    /// A size up to `max`: mostly small, sometimes near `max`.
    pub fn size(&mut self, max: usize) -> usize {
        match self.below(10) {
            0..=5 => self.below(max.min(8) + 1),
            6..=8 => self.below(max.min(64) + 1),
            _ => self.below(max + 1),
        }
    }

    /// A token of RFC 9110 `tchar`s.
    pub fn token(&mut self) -> String {
        const TCHAR: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
        let n = 1 + self.size(16);
        (0..n).map(|_| char::from(*self.pick(TCHAR))).collect()
    }

    /// Anything: printable ASCII, grammar characters, control bytes,
    /// unicode, invalid UTF-8, up to about `max` bytes.
    pub fn junk(&mut self, max: usize) -> Vec<u8> {
        let n = self.size(max);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.below(12) {
                0..=5 => out.push(b' ' + self.rng.u8(..95)),
                6 => out.extend_from_slice(self.pick(GRAMMAR).as_bytes()),
                7 => out.push(*self.pick(CONTROL)),
                8 => out.extend_from_slice(self.pick(UNICODE).as_bytes()),
                9 => out.push(0x80 + self.rng.u8(..0x80)),
                10 => out.extend_from_slice(self.token().as_bytes()),
                _ => out.push(self.byte()),
            }
        }
        out
    }

    /// Like [`junk`](Self::junk), always valid UTF-8.
    pub fn junk_str(&mut self, max: usize) -> String {
        String::from_utf8_lossy(&self.junk(max)).into_owned()
    }

    /// One of [`UNICODE`].
    pub fn unicode(&mut self) -> &'static str {
        self.choose(UNICODE)
    }

    /// `unit` repeated up to `max` bytes: an over-long value.
    pub fn long(&mut self, unit: &str, max: usize) -> String {
        let n = max / unit.len().max(1);
        unit.repeat(n / 2 + self.below(n / 2 + 1))
    }

    /// A decimal number written the ways servers write them, right and
    /// wrong: zero, signs, the edges of `i32`, `i64` and `u64`, more digits
    /// than fit, fractions, exponents, padding, non-ASCII digits.
    pub fn number(&mut self) -> String {
        match self.below(24) {
            0 => "0".into(),
            1 => "1".into(),
            2 => "-1".into(),
            3 => "2147483647".into(),
            4 => "2147483648".into(),
            5 => "4294967296".into(),
            6 => "9223372036854775807".into(),
            7 => "9223372036854775808".into(),
            8 => "-9223372036854775808".into(),
            9 => "-9223372036854775809".into(),
            10 => "18446744073709551615".into(),
            11 => "18446744073709551616".into(),
            12 => self.long("9", 80),
            13 => "+5".into(),
            14 => "1.5".into(),
            15 => "1e3".into(),
            16 => " 7 ".into(),
            17 => "007".into(),
            18 => "٣".into(),
            19 => "１２".into(),
            20 => "-0".into(),
            21 => format!("-{}", self.below(100_000)),
            22 => self.u64().to_string(),
            _ => self.below(100_000).to_string(),
        }
    }

    fn field(&mut self, valid: std::ops::RangeInclusive<u64>, edges: &[u64]) -> u64 {
        if self.one_in(5) {
            *self.pick(edges)
        } else {
            let (lo, hi) = (*valid.start(), *valid.end());
            lo + self.rng.u64(..=hi - lo)
        }
    }

    /// A date as `Expires` or `Retry-After` may carry it: IMF-fixdate,
    /// RFC 850, asctime, and looser or broken forms (fields out of range,
    /// out of order, missing, two-digit years, years before 1601 or after
    /// 9999).
    pub fn date(&mut self) -> String {
        let day = self.field(1..=28, &[0, 29, 30, 31, 32, 99, 100, 4_294_967_296]);
        let year = self.field(
            1970..=2100,
            &[
                0,
                1,
                69,
                70,
                99,
                100,
                1600,
                1601,
                1969,
                9999,
                10_000,
                99_999,
                4_294_967_295,
            ],
        );
        let (h, m, s) = (
            self.field(0..=23, &[24, 25, 99, 100]),
            self.field(0..=59, &[60, 61, 99]),
            self.field(0..=59, &[60, 61, 99]),
        );
        let mon = self.choose(MONTHS);
        let wd = self.choose(DAYS);
        let zone = self.choose(&["GMT", "GMT", "UTC", "gmt", "+0000", "PST", ""]);
        match self.below(8) {
            0 | 1 => format!("{wd}, {day:02} {mon} {year:04} {h:02}:{m:02}:{s:02} {zone}"),
            2 => format!(
                "{wd}, {day:02}-{mon}-{:02} {h:02}:{m:02}:{s:02} {zone}",
                year % 100
            ),
            3 => format!("{wd} {mon} {day:>2} {h:02}:{m:02}:{s:02} {year}"),
            4 => format!("{year}-{mon}-{day} {h}:{m}:{s}"),
            5 => {
                // The fields in any order, with any delimiters.
                let mut parts = vec![
                    format!("{h}:{m}:{s}"),
                    day.to_string(),
                    mon.to_string(),
                    year.to_string(),
                ];
                self.rng.shuffle(&mut parts);
                if self.one_in(3) {
                    parts.remove(self.below(parts.len()));
                }
                let sep = self.choose(&[" ", "-", ",", "/", ";", "\t", "  ", "."]);
                parts.join(sep)
            }
            6 => format!("{wd}, {day} {mon} {year} {h}:{m}:{s}{}", self.junk_str(8)),
            _ => format!("{h}:{m}:{s}:{} {day} {mon} {year}", self.below(100)),
        }
    }

    /// A host: domain names (public suffixes, IDNA, uppercase, trailing
    /// dots, empty labels), IPv4 forms, IPv6 literals, and junk.
    pub fn host(&mut self) -> String {
        match self.below(12) {
            0 | 1 => self.pick(IPS).to_string(),
            2 => "localhost".into(),
            3 => format!("{}.localhost", self.pick(LABELS)),
            4 => self.junk_str(12).replace(['/', '?', '#', '@'], ""),
            _ => {
                let n = 1 + self.below(4);
                let mut labels: Vec<String> = (0..n)
                    .map(|_| match self.below(10) {
                        0 => self.token().to_ascii_lowercase(),
                        1 => self.unicode().to_owned(),
                        2 => String::new(),
                        _ => self.pick(LABELS).to_string(),
                    })
                    .collect();
                if self.one_in(2) {
                    labels.push((self.choose(&["com", "co.uk", "test", "io", "jp", "ck"])).into());
                }
                let mut host = labels.join(".");
                if self.one_in(8) {
                    host.push('.');
                }
                if self.one_in(8) {
                    host = host.to_ascii_uppercase();
                }
                host
            }
        }
    }

    /// A suffix of `host` at a label boundary (what a `Domain` attribute
    /// usually names), sometimes with a leading dot, other case or a
    /// trailing dot; or some other host.
    pub fn domain_for(&mut self, host: &str) -> String {
        if self.one_in(4) {
            return self.host();
        }
        let labels: Vec<&str> = host.split('.').collect();
        let from = self.below(labels.len());
        let mut d = labels[from..].join(".");
        match self.below(8) {
            0 => d.insert(0, '.'),
            1 => d = d.to_ascii_uppercase(),
            2 => d.push('.'),
            3 => d = format!("x{d}"),
            _ => {}
        }
        d
    }

    /// A URL path (starting with `/` or not), with dot segments, encoded
    /// and unicode segments.
    pub fn path(&mut self) -> String {
        let n = self.below(5);
        let mut p = String::new();
        for _ in 0..n {
            p.push('/');
            if self.one_in(6) {
                p.push_str(&self.token());
            } else {
                p.push_str(self.choose(SEGMENTS));
            }
        }
        match self.below(8) {
            0 => p.push('/'),
            1 if !p.is_empty() => {
                p.remove(0);
            }
            2 => p.push_str(&self.long("/a", 600)),
            _ => {}
        }
        p
    }

    /// A URL, mostly `http(s)://host[:port]/path[?query][#fragment]`.
    pub fn url(&mut self) -> String {
        let mut u = String::new();
        let scheme = if self.one_in(4) {
            self.choose(SCHEMES)
        } else {
            self.choose(&["http", "https"])
        };
        u.push_str(scheme);
        u.push_str(if self.one_in(12) { ":/" } else { "://" });
        if self.one_in(8) {
            u.push_str("user:pw@");
        }
        u.push_str(&self.host());
        if self.one_in(5) {
            let port = self.choose(&["0", "80", "443", "8080", "65535", "65536", "99999", ""]);
            let _ = write!(u, ":{port}");
        }
        let path = self.path();
        if !path.is_empty() && !path.starts_with('/') {
            u.push('/');
        }
        u.push_str(&path);
        if self.one_in(5) {
            let _ = write!(u, "?q={}", self.token());
        }
        if self.one_in(6) {
            let _ = write!(u, "#{}", self.token());
        }
        u
    }
}
