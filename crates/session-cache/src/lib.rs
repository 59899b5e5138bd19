//! `Service<http::Request<B>>` that answers from a cache: an RFC 9111 HTTP
//! cache as a tower layer (work in progress: the storage trait first).

#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod store;
