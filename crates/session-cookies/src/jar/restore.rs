//! Saved records back into the store: each is checked for what a file can
//! get wrong, then goes through the storage algorithm with its saved times.

use std::borrow::Cow;

use super::builder::Config;
use super::origin::{is_cookie_name, is_ip_address, is_ip_literal, is_public_suffix, Origin};
use super::store::{Source, Store};
use crate::error::{Error, Result};
use crate::parse::{is_forbidden_ctl, Parsed, MAX_ATTRIBUTE};
use crate::stored::StoredCookie;

impl Store {
    /// Stores saved `records`; returns how many were stored and how many
    /// were rejected (expired ones are neither).
    pub(super) fn restore(
        &mut self,
        config: &Config,
        records: Vec<StoredCookie>,
        now_us: i64,
        now_s: i64,
    ) -> (usize, usize) {
        let (mut ok, mut rejected) = (0, 0);
        for rec in records {
            match self.restore_one(config, rec, now_us, now_s) {
                Ok(true) => ok += 1,
                Ok(false) => {}
                Err(_) => rejected += 1,
            }
        }
        (ok, rejected)
    }

    fn restore_one(
        &mut self,
        config: &Config,
        rec: StoredCookie,
        now_us: i64,
        now_s: i64,
    ) -> Result<bool> {
        if rec.expires.is_some_and(|e| e <= now_s) {
            return Ok(false);
        }
        let domain = rec.domain.to_ascii_lowercase();
        // What the jar stores, it loads back (see `is_cookie_name`).
        let valid_host = is_ip_address(&domain) || is_cookie_name(&domain);
        if !valid_host || domain.len() > MAX_ATTRIBUTE {
            return Err(Error::rejected("invalid domain"));
        }
        if !rec.path.starts_with('/') {
            return Err(Error::rejected("path does not start with '/'"));
        }
        if rec.path.bytes().any(is_forbidden_ctl) {
            return Err(Error::rejected("control character in the path"));
        }
        if !rec.host_only
            && config.public_suffix_list
            && !is_ip_literal(&domain)
            && is_public_suffix(&domain)
        {
            return Err(Error::rejected("Domain is a public suffix"));
        }
        let origin = Origin {
            is_ip: is_ip_literal(&domain),
            host: Cow::Owned(domain.clone()),
            secure: true,
            path: "/",
        };
        let parsed = Parsed {
            name: rec.name.into(),
            value: rec.value.into(),
            max_age: None,
            expires: rec.expires,
            domain: (!rec.host_only).then_some(domain.into()),
            path: Some(rec.path.into()),
            secure: rec.secure,
            http_only: rec.http_only,
            same_site: rec.same_site,
        };
        // Netscape files have no times: `i64::MIN` means "now".
        let when = |t: i64| if t == i64::MIN { now_us } else { t.min(now_us) };
        let source = Source::Loaded {
            creation: when(rec.creation),
            last_access: when(rec.last_access),
        };
        self.store_parsed(config, &origin, parsed, now_us, now_s, source)?;
        Ok(true)
    }
}
