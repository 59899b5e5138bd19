//! The `Set-Cookie` parsing algorithm of RFC 6265bis §5.6 and the cookie-date
//! algorithm of RFC 6265 §5.1.1.
//!
//! The parser is lenient the way browsers are: it never fails on odd
//! attributes, it only says "ignore this header" (`None`) for the cases the
//! RFC lists (control characters, an oversized name/value pair).

use std::borrow::Cow;

use crate::stored::SameSite;

/// Largest `name` + `value` size accepted, in bytes (RFC 6265bis §5.6 step 5).
pub(crate) const MAX_NAME_VALUE: usize = 4096;
/// Largest attribute value accepted, in bytes (RFC 6265bis §5.6).
pub(crate) const MAX_ATTRIBUTE: usize = 1024;

/// The expiry requested by a `Set-Cookie` header, before the clock is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiry {
    /// `Max-Age` in seconds; values ≤ 0 mean "already expired".
    MaxAge(i64),
    /// `Expires`, as Unix seconds.
    At(i64),
}

/// A parsed `Set-Cookie` header or a hand-built cookie, before storage rules.
/// Its text borrows from the header where it can: a cookie that replaces
/// one the jar holds is stored without copying its name or path again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed<'a> {
    pub(crate) name: Cow<'a, str>,
    pub(crate) value: Cow<'a, str>,
    /// Last `Max-Age` attribute, if any.
    pub(crate) max_age: Option<i64>,
    /// Last valid `Expires` attribute, as Unix seconds.
    pub(crate) expires: Option<i64>,
    /// Last `Domain` attribute (leading dot removed, lower-cased); `Some("")`
    /// when the last one was empty.
    pub(crate) domain: Option<Cow<'a, str>>,
    /// Last `Path` attribute, when it starts with `/`; `Some("")` means "use the
    /// default path" (a Path attribute whose value does not start with `/`,
    /// which RFC 6265bis §5.6.4 still lists, with the default path as its
    /// value); `None` means no Path attribute, which a `__Host-` cookie
    /// needs.
    pub(crate) path: Option<Cow<'a, str>>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
}

impl Parsed<'_> {
    /// The effective expiry: `Max-Age` wins over `Expires` (RFC 6265bis §5.7 step 3).
    pub(crate) fn expiry(&self) -> Option<Expiry> {
        match (self.max_age, self.expires) {
            (Some(secs), _) => Some(Expiry::MaxAge(secs)),
            (None, Some(at)) => Some(Expiry::At(at)),
            (None, None) => None,
        }
    }
}

/// `true` for the control characters that make RFC 6265bis reject a header:
/// %x00-08 / %x0A-1F / %x7F (horizontal tab is allowed).
pub(crate) const fn is_forbidden_ctl(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0A..=0x1F | 0x7F)
}

/// `s` without leading and trailing spaces and horizontal tabs.
#[inline]
fn trim_wsp(s: &str) -> &str {
    let bytes = s.as_bytes();
    let (mut start, mut end) = (0, bytes.len());
    while start < end && matches!(bytes[start], b' ' | b'\t') {
        start += 1;
    }
    while end > start && matches!(bytes[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    &s[start..end]
}

/// How the one pass over a `Set-Cookie` line tells its bytes apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Plain,
    /// `;` ends a part.
    Semicolon,
    /// `=` splits a part (its first one).
    Equals,
    /// A control character RFC 6265bis rejects (see [`is_forbidden_ctl`]).
    Forbidden,
}

/// The class of every byte, looked up once per byte.
static CLASSES: [Class; 256] = {
    let mut table = [Class::Plain; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = if is_forbidden_ctl(b as u8) {
            Class::Forbidden
        } else if b == b';' as usize {
            Class::Semicolon
        } else if b == b'=' as usize {
            Class::Equals
        } else {
            Class::Plain
        };
        b += 1;
    }
    table
};

/// Parses one `Set-Cookie` header value (RFC 6265bis §5.6).
///
/// Returns the reason when the RFC says to ignore the whole header. One
/// pass over the bytes finds the `;` that end the parts, the first `=` of
/// each and any forbidden control character (which rejects the line
/// whatever else it holds).
pub(crate) fn parse_set_cookie(line: &str) -> Result<Parsed<'_>, &'static str> {
    let bytes = line.as_bytes();
    // The first part is the name-value pair; without `=` it is a value
    // with an empty name.
    let (end, equals) = scan_part(bytes, 0)?;
    let (name, value) = match equals {
        Some(e) => (trim_wsp(&line[..e]), trim_wsp(&line[e + 1..end])),
        None => ("", trim_wsp(&line[..end])),
    };
    let mut parsed = Parsed {
        name: Cow::Borrowed(name),
        value: Cow::Borrowed(value),
        ..Parsed::default()
    };
    // Then the attributes, each after a `;`.
    let mut end = end;
    while end < bytes.len() {
        let start = end + 1;
        let equals;
        (end, equals) = scan_part(bytes, start)?;
        let (key, value) = match equals {
            Some(e) => (&line[start..e], trim_wsp(&line[e + 1..end])),
            None => (&line[start..end], ""),
        };
        if value.len() <= MAX_ATTRIBUTE {
            apply_attribute(&mut parsed, trim_wsp(key), value);
        }
    }
    if name.len() + value.len() > MAX_NAME_VALUE {
        return Err("name and value longer than 4096 bytes");
    }
    if name.is_empty() && value.is_empty() {
        return Err("empty name and value");
    }
    Ok(parsed)
}

/// Scans the part of a line that starts at `start`: where it ends (at the
/// next `;` or the end) and where its first `=` is.
#[inline]
fn scan_part(bytes: &[u8], start: usize) -> Result<(usize, Option<usize>), &'static str> {
    let mut equals = None;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match CLASSES[usize::from(b)] {
            Class::Plain => {}
            Class::Equals => {
                equals.get_or_insert(i);
            }
            Class::Semicolon => return Ok((i, equals)),
            Class::Forbidden => return Err("control character in Set-Cookie"),
        }
    }
    Ok((bytes.len(), equals))
}

/// Applies one attribute; names are told apart by length first.
fn apply_attribute<'a>(parsed: &mut Parsed<'a>, key: &str, val: &'a str) {
    let is = |name: &str| key.eq_ignore_ascii_case(name);
    match key.len() {
        4 if is("path") => {
            parsed.path = Some(Cow::Borrowed(if val.starts_with('/') { val } else { "" }));
        }
        6 if is("domain") => {
            let d = val.strip_prefix('.').unwrap_or(val);
            parsed.domain = Some(if d.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(d.to_ascii_lowercase())
            } else {
                Cow::Borrowed(d)
            });
        }
        6 if is("secure") => parsed.secure = true,
        7 if is("expires") => {
            if let Some(t) = parse_cookie_date(val) {
                parsed.expires = Some(t);
            }
        }
        7 if is("max-age") => {
            if let Some(secs) = parse_max_age(val) {
                parsed.max_age = Some(secs);
            }
        }
        8 if is("httponly") => parsed.http_only = true,
        8 if is("samesite") => parsed.same_site = SameSite::from_attribute(val),
        _ => {}
    }
}

/// `Max-Age` (RFC 6265bis §5.6.2): an optional `-` and digits; huge values
/// saturate, so `18446744073709551616` is "as late as possible" and `-1` is
/// "already expired".
pub(crate) fn parse_max_age(val: &str) -> Option<i64> {
    let (negative, digits) = match val.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, val),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if negative {
        return Some(0);
    }
    Some(digits.parse::<i64>().unwrap_or(i64::MAX))
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, 0x09 | 0x20..=0x2F | 0x3B..=0x40 | 0x5B..=0x60 | 0x7B..=0x7E)
}

/// Reads 1 to `max` leading ASCII digits; requires at least `min`, and the
/// next byte (if any) must not be a digit.
fn leading_digits(tok: &[u8], min: usize, max: usize) -> Option<(u32, &[u8])> {
    let n = tok.iter().take_while(|b| b.is_ascii_digit()).count();
    if n < min || n > max {
        return None;
    }
    let value = tok[..n]
        .iter()
        .fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'));
    Some((value, &tok[n..]))
}

fn parse_time(tok: &[u8]) -> Option<(u32, u32, u32)> {
    let (h, rest) = leading_digits(tok, 1, 2)?;
    let rest = rest.strip_prefix(b":")?;
    let (m, rest) = leading_digits(rest, 1, 2)?;
    let rest = rest.strip_prefix(b":")?;
    let (s, _) = leading_digits(rest, 1, 2)?;
    Some((h, m, s))
}

fn parse_month(tok: &[u8]) -> Option<u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let head = tok.get(..3)?;
    MONTHS
        .iter()
        .position(|m| head.eq_ignore_ascii_case(&m[..]))
        .map(|i| i as u32 + 1)
}

/// The cookie-date algorithm of RFC 6265 §5.1.1, returning Unix seconds.
///
/// Accepts every format browsers accept (`Wed, 09 Jun 2021 10:18:14 GMT`,
/// `Wednesday, 09-Jun-21 10:18:14 GMT`, `Wed Jun  9 10:18:14 2021`, …).
pub(crate) fn parse_cookie_date(input: &str) -> Option<i64> {
    let mut time = None;
    let mut day = None;
    let mut month = None;
    let mut year = None;
    for tok in input.as_bytes().split(|b| is_delimiter(*b)) {
        if tok.is_empty() {
            continue;
        }
        if time.is_none() {
            if let Some(t) = parse_time(tok) {
                time = Some(t);
                continue;
            }
        }
        if day.is_none() {
            if let Some((d, _)) = leading_digits(tok, 1, 2) {
                day = Some(d);
                continue;
            }
        }
        if month.is_none() {
            if let Some(m) = parse_month(tok) {
                month = Some(m);
                continue;
            }
        }
        if year.is_none() {
            if let Some((y, _)) = leading_digits(tok, 2, 4) {
                year = Some(y);
                continue;
            }
        }
    }
    let (hour, minute, second) = time?;
    let (day, month, mut year) = (day?, month?, year?);
    if (70..=99).contains(&year) {
        year += 1900;
    } else if year <= 69 {
        year += 2000;
    }
    if !(1..=31).contains(&day) || year < 1601 || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    Some(days * 86_400 + i64::from(hour * 3600 + minute * 60 + second))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let t = parse_cookie_date("Wed, 09 Jun 2021 10:18:14 GMT").unwrap();
        assert_eq!(t, 1_623_233_894);
        assert_eq!(
            parse_cookie_date("Wednesday, 09-Jun-21 10:18:14 GMT"),
            Some(t)
        );
        assert_eq!(parse_cookie_date("Wed Jun  9 10:18:14 2021"), Some(t));
        assert_eq!(parse_cookie_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert!(parse_cookie_date("Mon, 01 Jan 1601 00:00:00 GMT").unwrap() < 0);
        assert!(parse_cookie_date("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
        assert_eq!(parse_cookie_date("Fri, 31 Dec 1600 23:59:59 GMT"), None);
        assert_eq!(parse_cookie_date("garbage"), None);
        assert_eq!(parse_cookie_date("30 Feb 2021 00:00:00"), None);
        assert_eq!(
            parse_cookie_date("29 Feb 2020 00:00:00"),
            Some(1_582_934_400)
        );
        assert_eq!(parse_cookie_date("01 Jan 2020 24:00:00"), None);
    }

    #[test]
    fn max_age() {
        assert_eq!(parse_max_age("18446744073709551616"), Some(i64::MAX));
        assert_eq!(parse_max_age("-1"), Some(0));
        assert_eq!(parse_max_age("10"), Some(10));
        assert_eq!(parse_max_age("1x"), None);
        assert_eq!(parse_max_age(""), None);
        assert_eq!(parse_max_age("-"), None);
    }

    #[test]
    fn set_cookie_lines() {
        let p = parse_set_cookie("foo").unwrap();
        assert_eq!((&*p.name, &*p.value), ("", "foo"));
        assert!(parse_set_cookie("a=b\x01").is_err());
        assert!(parse_set_cookie("=").is_err());
        let p =
            parse_set_cookie(" a = b ; Domain=.Example.COM; path=/x; secure; max-age=5").unwrap();
        assert_eq!(p.name, "a");
        assert_eq!(p.value, "b");
        assert_eq!(p.domain.as_deref(), Some("example.com"));
        assert_eq!(p.path.as_deref(), Some("/x"));
        assert!(p.secure);
        assert_eq!(p.expiry(), Some(Expiry::MaxAge(5)));
    }

    /// RFC 6265bis §5.6 written the plain way, split by split: what the
    /// one-pass parser must agree with.
    fn parse_by_splits(line: &str) -> Result<Parsed<'_>, &'static str> {
        let trim = |s: &'_ str| s.trim_matches([' ', '\t']).to_owned();
        if line.bytes().any(is_forbidden_ctl) {
            return Err("control character in Set-Cookie");
        }
        let mut parts = line.split(';');
        let pair = parts.next().unwrap_or("");
        let (name, value) = match pair.split_once('=') {
            Some((n, v)) => (trim(n), trim(v)),
            None => (String::new(), trim(pair)),
        };
        if name.len() + value.len() > MAX_NAME_VALUE {
            return Err("name and value longer than 4096 bytes");
        }
        if name.is_empty() && value.is_empty() {
            return Err("empty name and value");
        }
        let mut parsed = Parsed {
            name: Cow::Owned(name),
            value: Cow::Owned(value),
            ..Parsed::default()
        };
        for av in parts {
            let (key, val) = av.split_once('=').unwrap_or((av, ""));
            let val = val.trim_matches([' ', '\t']);
            if val.len() <= MAX_ATTRIBUTE {
                apply_attribute(&mut parsed, &trim(key), val);
            }
        }
        Ok(parsed)
    }

    #[test]
    fn the_one_pass_parser_agrees_with_the_splits() {
        let tokens = [
            "a",
            "=",
            ";",
            " ",
            "\t",
            "b=c",
            "Path",
            "path=/p",
            "Domain=.X.test",
            "Secure",
            "max-age=-1",
            "SameSite=lax",
            "HttpOnly",
            "\x01",
            "\x7f",
            "é",
            "==",
            ";;",
        ];
        let mut checked = 0;
        let mut line = String::new();
        // Every sequence of up to four tokens.
        let n = tokens.len();
        for len in 1..=4u32 {
            for mut code in 0..n.pow(len) {
                line.clear();
                for _ in 0..len {
                    line.push_str(tokens[code % n]);
                    code /= n;
                }
                assert_eq!(parse_set_cookie(&line), parse_by_splits(&line), "{line:?}");
                checked += 1;
            }
        }
        assert!(checked > 100_000);
        let long = format!(
            "{}=v; Path=/{}",
            "n".repeat(MAX_NAME_VALUE),
            "p".repeat(2000)
        );
        assert_eq!(parse_set_cookie(&long), parse_by_splits(&long));
    }
}
