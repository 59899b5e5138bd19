//! session-retry
