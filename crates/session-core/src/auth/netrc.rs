//! A `.netrc` file: credentials per host, for the per-hop auth layer.
//!
//! The format (as curl and Python's `netrc` read it): whitespace-separated
//! tokens; `machine NAME` starts an entry, followed by `login`, `password`
//! and `account` with their values; `default` starts the entry for every
//! other host; `macdef NAME` starts a macro that runs to the next empty line;
//! `#` starts a comment to the end of the line. A value may be quoted with
//! `"`, inside which `\` escapes the next character.
//!
//! ```
//! use session_core::auth::Netrc;
//!
//! let netrc = Netrc::parse(
//!     "machine api.test login alice password \"s3cr et\"\n\
//!      default login anonymous password guest\n",
//! )?;
//! let entry = netrc.lookup("API.test").expect("host is known");
//! assert_eq!((entry.login(), entry.password()), ("alice", Some("s3cr et")));
//! // `default` is never used: it would hand credentials to any host.
//! assert!(netrc.lookup("other.test").is_none());
//! # Ok::<(), session_core::auth::NetrcError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed `.netrc` file. See the [module docs](self) for the format.
#[derive(Clone, Default)]
pub struct Netrc {
    entries: Vec<NetrcEntry>,
    has_default: bool,
}

/// The credentials of one `machine`.
#[derive(Clone)]
pub struct NetrcEntry {
    machine: String,
    login: String,
    password: Option<String>,
    account: Option<String>,
}

impl NetrcEntry {
    /// The host name the entry is for.
    pub fn machine(&self) -> &str {
        &self.machine
    }

    /// The user name (empty when the entry has none).
    pub fn login(&self) -> &str {
        &self.login
    }

    /// The password, if given.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// The account, if given (not used for HTTP).
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }
}

impl fmt::Debug for NetrcEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetrcEntry")
            .field("machine", &self.machine)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Netrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Netrc")
            .field("entries", &self.entries)
            .field("has_default", &self.has_default)
            .finish()
    }
}

/// A `.netrc` file could not be read or parsed.
#[derive(Debug)]
pub struct NetrcError {
    path: Option<PathBuf>,
    line: usize,
    reason: String,
    io: Option<std::io::Error>,
}

impl NetrcError {
    fn syntax(line: usize, reason: impl Into<String>) -> Self {
        NetrcError {
            path: None,
            line,
            reason: reason.into(),
            io: None,
        }
    }

    /// The line the problem is on (1-based; 0 when the file could not be read).
    pub fn line(&self) -> usize {
        self.line
    }

    /// The file, when it was read from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for NetrcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("malformed netrc")?;
        if let Some(path) = &self.path {
            write!(f, " file {}", path.display())?;
        }
        if self.line > 0 {
            write!(f, " at line {}", self.line)?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for NetrcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_ref().map(|e| e as _)
    }
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
}

impl Lexer<'_> {
    /// The next token and the line it starts on; `None` at the end.
    fn next(&mut self) -> Result<Option<(String, usize)>, NetrcError> {
        loop {
            match self.chars.peek() {
                None => return Ok(None),
                Some('\n') => {
                    self.line += 1;
                    self.chars.next();
                }
                Some(c) if c.is_whitespace() => {
                    self.chars.next();
                }
                Some('#') => {
                    while let Some(&c) = self.chars.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.chars.next();
                    }
                }
                Some(_) => break,
            }
        }
        let line = self.line;
        let mut token = String::new();
        if self.chars.peek() == Some(&'"') {
            self.chars.next();
            loop {
                match self.chars.next() {
                    None => return Err(NetrcError::syntax(line, "unterminated quoted value")),
                    Some('"') => break,
                    Some('\\') => match self.chars.next() {
                        Some(c) => {
                            if c == '\n' {
                                self.line += 1;
                            }
                            token.push(c);
                        }
                        None => return Err(NetrcError::syntax(line, "unterminated quoted value")),
                    },
                    Some(c) => {
                        if c == '\n' {
                            self.line += 1;
                        }
                        token.push(c);
                    }
                }
            }
        } else {
            while let Some(&c) = self.chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                if c == '"' {
                    return Err(NetrcError::syntax(line, "a quote inside an unquoted value"));
                }
                token.push(c);
                self.chars.next();
            }
        }
        Ok(Some((token, line)))
    }

    /// Skips a macro body: the rest of the `macdef` line, then every line
    /// up to the first blank one.
    fn skip_macro(&mut self) {
        let mut line_blank = false;
        for c in self.chars.by_ref() {
            if c == '\n' {
                self.line += 1;
                if line_blank {
                    return;
                }
                line_blank = true;
            } else if !c.is_whitespace() {
                line_blank = false;
            }
        }
    }
}

impl Netrc {
    /// Parses the text of a `.netrc` file.
    ///
    /// # Errors
    /// [`NetrcError`] naming the line: an unterminated quote, a keyword
    /// without its value, an unknown keyword.
    pub fn parse(text: &str) -> Result<Netrc, NetrcError> {
        let mut lexer = Lexer {
            chars: text.chars().peekable(),
            line: 1,
        };
        let mut netrc = Netrc::default();
        // The entry being filled; `None` inside `default`.
        let mut current: Option<usize> = None;
        let mut in_entry = false;
        while let Some((token, line)) = lexer.next()? {
            let mut value = |what: &str| -> Result<String, NetrcError> {
                match lexer.next()? {
                    Some((v, _)) => Ok(v),
                    None => Err(NetrcError::syntax(
                        line,
                        format!("`{what}` without a value"),
                    )),
                }
            };
            match token.as_str() {
                "machine" => {
                    let machine = value("machine")?;
                    netrc.entries.push(NetrcEntry {
                        machine,
                        login: String::new(),
                        password: None,
                        account: None,
                    });
                    current = Some(netrc.entries.len() - 1);
                    in_entry = true;
                }
                "default" => {
                    netrc.has_default = true;
                    current = None;
                    in_entry = true;
                }
                "login" | "password" | "account" if in_entry => {
                    let v = value(&token)?;
                    if let Some(i) = current {
                        let entry = &mut netrc.entries[i];
                        match token.as_str() {
                            "login" => entry.login = v,
                            "password" => entry.password = Some(v),
                            _ => entry.account = Some(v),
                        }
                    }
                }
                "login" | "password" | "account" => {
                    return Err(NetrcError::syntax(
                        line,
                        format!("`{token}` outside a machine entry"),
                    ));
                }
                "macdef" => {
                    value("macdef")?;
                    lexer.skip_macro();
                    current = None;
                    in_entry = false;
                }
                other => {
                    let shown: String = other.chars().take(40).collect();
                    return Err(NetrcError::syntax(
                        line,
                        format!("unexpected token {shown:?}"),
                    ));
                }
            }
        }
        Ok(netrc)
    }

    /// Reads and parses a file.
    ///
    /// # Errors
    /// The file cannot be read, or [`parse`](Self::parse) fails.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Netrc, NetrcError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|io| NetrcError {
            path: Some(path.to_owned()),
            line: 0,
            reason: "cannot be read".to_owned(),
            io: Some(io),
        })?;
        Netrc::parse(&text).map_err(|mut err| {
            err.path = Some(path.to_owned());
            err
        })
    }

    /// The file named by `$NETRC`, else `~/.netrc` (`%USERPROFILE%\_netrc`
    /// is not read); `None` when that file does not exist.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed.
    pub fn from_env() -> Result<Option<Netrc>, NetrcError> {
        let path = match std::env::var_os("NETRC") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => match std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) {
                Some(home) => Path::new(&home).join(".netrc"),
                None => return Ok(None),
            },
        };
        if !path.exists() {
            return Ok(None);
        }
        Netrc::from_path(path).map(Some)
    }

    /// The first entry for `host` (compared without regard to ASCII case,
    /// IPv6 brackets ignored). A `default` entry is never returned.
    pub fn lookup(&self, host: &str) -> Option<&NetrcEntry> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.entries.iter().find(|e| {
            let machine = e.machine.trim_start_matches('[').trim_end_matches(']');
            machine.eq_ignore_ascii_case(host)
        })
    }

    /// The entries, in file order.
    pub fn entries(&self) -> &[NetrcEntry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_comments_and_macros() {
        let text = "# a comment\n\
            machine a.test\n  login alice\n  password \"p w\\\"q\"\n\
            macdef init\ncd /\nls\n\n\
            machine b.test login bob password pb account acc # trailing\n\
            default login anon password x\n";
        let netrc = Netrc::parse(text).unwrap();
        assert_eq!(netrc.entries().len(), 2);
        let a = netrc.lookup("A.TEST").unwrap();
        assert_eq!(a.login(), "alice");
        assert_eq!(a.password(), Some("p w\"q"));
        let b = netrc.lookup("b.test").unwrap();
        assert_eq!(
            (b.login(), b.password(), b.account()),
            ("bob", Some("pb"), Some("acc"))
        );
        assert!(netrc.lookup("xa.test").is_none());
        assert!(netrc.lookup("sub.a.test").is_none());
        assert!(netrc.lookup("c.test").is_none());
        assert!(!format!("{netrc:?}").contains("pb"));
    }

    #[test]
    fn malformed_files_name_the_line() {
        let err = Netrc::parse("machine a.test\nlogin u\npassword \"open").unwrap_err();
        assert_eq!(err.line(), 3);
        assert!(err.to_string().contains("unterminated"), "{err}");
        let err = Netrc::parse("machine a.test login").unwrap_err();
        assert!(err.to_string().contains("`login` without a value"), "{err}");
        let err = Netrc::parse("machine a.test\nfrobnicate x").unwrap_err();
        assert_eq!(err.line(), 2);
        let err = Netrc::parse("login u").unwrap_err();
        assert!(err.to_string().contains("outside"), "{err}");
        let err = Netrc::parse("machine a.test login a\"b").unwrap_err();
        assert!(err.to_string().contains("quote"), "{err}");
        let err = Netrc::from_path("/nonexistent/netrc-file").unwrap_err();
        assert!(err.path().is_some() && err.line() == 0);
    }

    #[test]
    fn empty_file_has_no_entries() {
        assert!(Netrc::parse("").unwrap().entries().is_empty());
        assert!(Netrc::parse("  \n# only a comment\n")
            .unwrap()
            .lookup("a")
            .is_none());
    }
}
