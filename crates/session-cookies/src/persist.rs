//! Saving and loading a [`Jar`]: JSON with every attribute, or the Netscape
//! `cookies.txt` format that curl and wget read and write.
//!
//! # Saving
//!
//! [`Jar::save`] writes atomically: the data goes to a new temporary file in
//! the same folder (created with `O_CREAT | O_EXCL`, so it never follows a
//! symlink, and mode `0600` on Unix), is flushed to disk with `fsync`, then
//! renamed over the target. A crash leaves the old file or the new one, never
//! half of one. Session cookies (no `Expires`/`Max-Age`) are left out unless
//! [`SaveOptions::include_session`] asks for them, as browsers do.
//!
//! # Loading
//!
//! [`Jar::load`] reads the whole file first: a file that is not valid JSON
//! or not valid `cookies.txt` (wrong number of fields, a flag that is not
//! `TRUE`/`FALSE`, an expiry that is not a number, a truncated line) gives an
//! error that [`is_parse`](crate::Error::is_parse) and says where with
//! [`line`](crate::Error::line) and [`column`](crate::Error::column), and the
//! jar is left unchanged. Well-formed records then pass the same checks as a
//! received cookie (public suffix, sizes, control characters, prefixes); the
//! ones that fail are counted in [`LoadReport::rejected`].
//!
//! # Example
//!
//! ```
//! use session_cookies::persist::{Format, SaveOptions};
//! use session_cookies::Jar;
//! use url::Url;
//!
//! # fn main() -> Result<(), session_cookies::Error> {
//! # let dir = std::env::temp_dir().join(format!("session-cookies-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("cookies.json");
//! let url = Url::parse("https://example.com/").unwrap();
//!
//! let jar = Jar::new();
//! jar.store_set_cookie(&url, "keep=1; Max-Age=3600")?;
//! jar.store_set_cookie(&url, "session=2")?;
//! jar.save(&path, &SaveOptions::new(Format::Json))?; // persistent cookies only
//!
//! let restored = Jar::new();
//! let report = restored.load(&path, Format::Json)?;
//! assert_eq!((report.loaded, report.rejected), (1, 0));
//! assert_eq!(restored.cookie_header(&url).unwrap(), "keep=1");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(())
//! # }
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stored::{SameSite, StoredCookie};
use crate::Jar;

/// A cookie file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// This crate's JSON: every attribute, including the host-only flag,
    /// creation and last-access times and `SameSite`.
    Json,
    /// The Netscape `cookies.txt` format of curl (`-c`/`-b`) and wget:
    /// tab-separated, `#HttpOnly_` before the domain of an HttpOnly cookie,
    /// expiry `0` for a session cookie. It has no creation time or
    /// `SameSite`.
    Netscape,
}

/// How [`Jar::save`] writes.
#[derive(Debug, Clone)]
#[must_use]
pub struct SaveOptions {
    format: Format,
    include_session: bool,
}

impl SaveOptions {
    /// Save in `format`, persistent cookies only.
    pub fn new(format: Format) -> Self {
        SaveOptions {
            format,
            include_session: false,
        }
    }

    /// Also save session cookies (off by default).
    pub fn include_session(mut self, include: bool) -> Self {
        self.include_session = include;
        self
    }
}

/// What [`Jar::load`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Records stored in the jar.
    pub loaded: usize,
    /// Records already expired, skipped.
    pub expired: usize,
    /// Records a storage rule refused (public suffix, size, control
    /// characters, prefix, bad domain or path).
    pub rejected: usize,
}

#[derive(Serialize, Deserialize)]
struct JsonFile {
    version: u32,
    cookies: Vec<Record>,
}

/// One cookie in this crate's JSON; also `StoredCookie`'s serde form.
#[derive(Serialize, Deserialize)]
pub(crate) struct Record {
    name: String,
    value: String,
    domain: String,
    path: String,
    host_only: bool,
    secure: bool,
    http_only: bool,
    #[serde(default)]
    same_site: Option<String>,
    /// Unix seconds; `null` for a session cookie.
    expires: Option<i64>,
    /// Unix microseconds.
    creation_us: i64,
    /// Unix microseconds.
    last_access_us: i64,
}

impl From<StoredCookie> for Record {
    fn from(c: StoredCookie) -> Self {
        Record {
            same_site: match c.same_site {
                SameSite::Default => None,
                s => Some(s.as_str().to_owned()),
            },
            name: c.name,
            value: c.value,
            domain: c.domain,
            path: c.path,
            host_only: c.host_only,
            secure: c.secure,
            http_only: c.http_only,
            expires: c.expires,
            creation_us: c.creation,
            last_access_us: c.last_access,
        }
    }
}

impl From<Record> for StoredCookie {
    fn from(r: Record) -> Self {
        StoredCookie {
            name: r.name,
            value: r.value,
            domain: r.domain,
            path: r.path,
            host_only: r.host_only,
            secure: r.secure,
            http_only: r.http_only,
            same_site: r
                .same_site
                .as_deref()
                .map_or(SameSite::Default, SameSite::from_attribute),
            expires: r.expires,
            creation: r.creation_us,
            last_access: r.last_access_us,
        }
    }
}

impl Jar {
    /// Saves the jar to `path` atomically (see the [module docs](crate::persist));
    /// returns how many cookies were written.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when the temporary file cannot be created, written,
    /// synced or renamed; the target is then unchanged.
    pub fn save(&self, path: impl AsRef<Path>, options: &SaveOptions) -> Result<usize> {
        let mut data = Vec::new();
        let n = self.save_to(&mut data, options)?;
        write_atomic(path.as_ref(), &data).map_err(Error::io)?;
        Ok(n)
    }

    /// Writes the jar to `writer`; returns how many cookies were written.
    /// In the Netscape format, cookies whose value holds a tab are skipped.
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when `writer` fails.
    pub fn save_to<W: Write>(&self, mut writer: W, options: &SaveOptions) -> Result<usize> {
        let cookies = self.all_for_save(options.include_session);
        match options.format {
            Format::Json => {
                let n = cookies.len();
                let file = JsonFile {
                    version: 1,
                    cookies: cookies.into_iter().map(Record::from).collect(),
                };
                serde_json::to_writer_pretty(&mut writer, &file)
                    .map_err(|e| Error::io(io::Error::other(e)))?;
                writer.write_all(b"\n").map_err(Error::io)?;
                Ok(n)
            }
            Format::Netscape => {
                let mut out =
                    String::from("# Netscape HTTP Cookie File\n# Written by session-cookies.\n\n");
                let mut n = 0;
                // A field with a tab or a line break cannot be written in
                // this format: such a cookie is left out (the count says how
                // many were written), never written to break the file.
                let writable = |c: &&StoredCookie| {
                    [&c.name, &c.value, &c.path, &c.domain]
                        .iter()
                        .all(|f| !f.contains(['\t', '\r', '\n']))
                };
                for c in cookies.iter().filter(writable) {
                    n += 1;
                    if c.http_only {
                        out.push_str("#HttpOnly_");
                    }
                    if !c.host_only {
                        out.push('.');
                    }
                    let flag = |b: bool| if b { "TRUE" } else { "FALSE" };
                    out.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                        c.domain,
                        flag(!c.host_only),
                        c.path,
                        flag(c.secure),
                        c.expires.map_or(0, |e| e.max(1)),
                        c.name,
                        c.value
                    ));
                }
                writer.write_all(out.as_bytes()).map_err(Error::io)?;
                Ok(n)
            }
        }
    }

    /// Loads cookies from the file at `path` into the jar (see the
    /// [module docs](crate::persist)).
    ///
    /// # Errors
    ///
    /// [`Error::is_io`] when the file cannot be read; [`Error::is_parse`]
    /// (with [`Error::line`]) when it is corrupt or truncated. On error no
    /// cookie is added.
    pub fn load(&self, path: impl AsRef<Path>, format: Format) -> Result<LoadReport> {
        let file = File::open(path.as_ref()).map_err(Error::io)?;
        self.load_from(file, format)
    }

    /// Loads cookies from `reader`; see [`load`](Self::load).
    ///
    /// # Errors
    ///
    /// As for [`load`](Self::load).
    pub fn load_from<R: Read>(&self, mut reader: R, format: Format) -> Result<LoadReport> {
        let mut data = Vec::new();
        reader.read_to_end(&mut data).map_err(Error::io)?;
        let records = match format {
            Format::Json => parse_json(&data)?,
            Format::Netscape => parse_netscape(&data)?,
        };
        Ok(self.restore_cookies(records))
    }
}

fn parse_json(data: &[u8]) -> Result<Vec<StoredCookie>> {
    let file: JsonFile = serde_json::from_slice(data).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON"
        } else {
            "invalid JSON"
        };
        Error::parse(e.line(), e.column(), what, Some(Box::new(e)))
    })?;
    if file.version != 1 {
        return Err(Error::parse(1, 0, "unknown version", None));
    }
    Ok(file.cookies.into_iter().map(StoredCookie::from).collect())
}

fn parse_flag(field: &str, line: usize, column: usize) -> Result<bool> {
    if field.eq_ignore_ascii_case("TRUE") {
        Ok(true)
    } else if field.eq_ignore_ascii_case("FALSE") {
        Ok(false)
    } else {
        Err(Error::parse(line, column, "expected TRUE or FALSE", None))
    }
}

fn parse_netscape(data: &[u8]) -> Result<Vec<StoredCookie>> {
    let mut out = Vec::new();
    for (i, raw) in data.split(|b| *b == b'\n').enumerate() {
        let line_no = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw)
            .map_err(|e| Error::parse(line_no, e.valid_up_to() + 1, "invalid UTF-8", None))?;
        let (http_only, line) = match line.strip_prefix("#HttpOnly_") {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        if line.trim().is_empty() || (!http_only && line.starts_with('#')) {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 7 && fields.len() != 6 {
            return Err(Error::parse(
                line_no,
                0,
                "expected 7 tab-separated fields",
                None,
            ));
        }
        // 1-based column of field `k`.
        let col = |k: usize| {
            1 + fields[..k].iter().map(|f| f.len() + 1).sum::<usize>()
                + if http_only { 10 } else { 0 }
        };
        let include_subdomains = parse_flag(fields[1], line_no, col(1))?;
        let secure = parse_flag(fields[3], line_no, col(3))?;
        let expires: i64 = fields[4]
            .parse()
            .map_err(|_| Error::parse(line_no, col(4), "expiry is not a number", None))?;
        let domain = fields[0];
        out.push(StoredCookie {
            name: fields[5].to_owned(),
            value: fields.get(6).copied().unwrap_or("").to_owned(),
            // The leading dot goes with "include subdomains"; a host-only
            // domain is read as written.
            domain: match include_subdomains {
                true => domain.strip_prefix('.').unwrap_or(domain).to_owned(),
                false => domain.to_owned(),
            },
            path: fields[2].to_owned(),
            host_only: !include_subdomains,
            secure,
            http_only,
            same_site: SameSite::Default,
            expires: (expires != 0).then_some(expires),
            creation: i64::MIN,
            last_access: i64::MIN,
        });
    }
    Ok(out)
}

/// Writes `data` to `path` as [`Jar::save`] does: through a new temporary
/// file in the same folder (created exclusively, mode `0600` on Unix),
/// synced, then renamed over `path`. A crash leaves the old file or the new
/// one, never half of one; on error the target is unchanged.
///
/// # Errors
/// The temporary file cannot be created, written, synced or renamed.
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut attempt = 0;
    let (tmp, mut file) = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{}.{}-{}-{}.tmp",
            name.to_string_lossy(),
            std::process::id(),
            nanos,
            n
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let result = file
        .write_all(data)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path)
        });
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // Make the rename itself durable (best effort; not possible everywhere).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
