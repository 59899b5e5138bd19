//! [`JarBuilder`]: the settings a [`Jar`] is built with, and their defaults.

use std::fmt;

use super::Jar;
use crate::time::{Clock, SystemClock};

/// Default per-domain cap (Chromium's value; RFC 6265bis asks for at least 50).
const DEFAULT_PER_DOMAIN: usize = 180;
/// Default total cap (Chromium's value; RFC 6265bis asks for at least 3000).
const DEFAULT_TOTAL: usize = 3300;

/// The settings a jar applies: what [`JarBuilder`] sets.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) public_suffix_list: bool,
    pub(crate) max_per_domain: usize,
    pub(crate) max_total: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            public_suffix_list: true,
            max_per_domain: DEFAULT_PER_DOMAIN,
            max_total: DEFAULT_TOTAL,
        }
    }
}

/// Builds a [`Jar`] with other settings than [`Jar::new`]'s.
///
/// ```
/// use session_cookies::Jar;
///
/// let jar = Jar::builder()
///     .public_suffix_list(false) // accept `Domain=co.uk` (intranets, tests)
///     .max_cookies_per_domain(50)
///     .max_cookies(3000)
///     .build();
/// # let _ = jar;
/// ```
///
/// See the [crate docs](crate) for more details.
#[must_use]
pub struct JarBuilder {
    config: Config,
    clock: Box<dyn Clock>,
}

impl fmt::Debug for JarBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JarBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for JarBuilder {
    fn default() -> Self {
        JarBuilder::new()
    }
}

impl JarBuilder {
    /// The defaults of [`Jar::new`].
    pub fn new() -> Self {
        JarBuilder {
            config: Config::default(),
            clock: Box::new(SystemClock),
        }
    }

    /// Whether to refuse `Domain` attributes that are public suffixes (`com`,
    /// `co.uk`, `github.io`, …, also written with a trailing dot: `co.uk.`)
    /// using the list bundled in the `psl` crate.
    /// On by default; turn it off only for private names the list does not
    /// know you need to share cookies across.
    pub fn public_suffix_list(mut self, enabled: bool) -> Self {
        self.config.public_suffix_list = enabled;
        self
    }

    /// Most cookies kept per site (registrable domain, or host for IP
    /// addresses); default 180, at least 1.
    pub fn max_cookies_per_domain(mut self, max: usize) -> Self {
        self.config.max_per_domain = max.max(1);
        self
    }

    /// Most cookies kept in all; default 3300, at least 1.
    pub fn max_cookies(mut self, max: usize) -> Self {
        self.config.max_total = max.max(1);
        self
    }

    /// Where the jar reads the time; the system clock by default. See
    /// [`ManualClock`](crate::ManualClock) for tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Builds the jar.
    pub fn build(self) -> Jar {
        Jar::from_parts(self.config, self.clock)
    }
}
