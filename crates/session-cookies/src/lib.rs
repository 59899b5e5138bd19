//! session-cookies
