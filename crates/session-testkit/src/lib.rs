//! Test support shared by the workspace's crates (a dev-dependency only,
//! never published): [`RedisServer`], a real `redis-server` (Debian's
//! package) started by a test on a free loopback port, with its own
//! temporary folder, stopped when dropped. Tests that need Redis use it; no
//! test mocks Redis.
//!
//! ```no_run
//! let redis = session_testkit::RedisServer::start();
//! let url = redis.url(); // redis://127.0.0.1:PORT/
//! redis.stop();          // a fault: the server is gone
//! redis.restart();       // back on the same port, empty
//! # let _ = url;
//! ```

#![deny(missing_docs)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A `redis-server` process of one test.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Mutex<Option<Child>>,
}

impl RedisServer {
    /// Starts `redis-server` on a free loopback port, persistence off, and
    /// waits until it answers `PING`.
    ///
    /// # Panics
    /// When `redis-server` is not installed (the message says how to install
    /// it: `.ci/run` does) or does not start within 10 s.
    pub fn start() -> RedisServer {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "session-testkit-redis-{}-{port}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder for redis-server");
        let server = RedisServer {
            port,
            dir,
            child: Mutex::new(None),
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (SIGKILL), as a crash would; clients see it gone.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port (empty: persistence is off).
    pub fn restart(&self) {
        self.stop();
        self.spawn();
    }

    /// Sends one command in the inline protocol and returns the raw reply
    /// (for a test's own checks: `DBSIZE`, `TTL key`, `FLUSHALL`).
    pub fn command(&self, line: &str) -> String {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).expect("connect to redis-server");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write to redis-server");
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).expect("read from redis-server");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    fn spawn(&self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}): install it with `apt-get install redis-server` \
                     (.ci/run does)"
                )
            });
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 16];
                if s.write_all(b"PING\r\n").is_ok()
                    && matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
                {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on now.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}
