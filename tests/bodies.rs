//! Request bodies over real sockets.
