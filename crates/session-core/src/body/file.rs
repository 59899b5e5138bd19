//! A file read in chunks, as a body: [`FileBody`], and the [`SizeChanged`]
//! error it gives when the file is not the length it was.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::BoxError;

/// The most bytes read from a file at once: what a file upload holds in
/// memory at a time.
const CHUNK: u64 = 64 * 1024;

/// The length of the regular file at `path`.
pub(super) fn regular_file_len(path: &Path) -> io::Result<u64> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(meta.len())
}

type Opening = Pin<Box<dyn Future<Output = io::Result<(tokio::fs::File, u64)>> + Send>>;

/// The file at a path, opened on the first poll and read to its end, which
/// must come after exactly `expected` bytes.
pub(super) struct FileBody {
    path: Arc<Path>,
    expected: u64,
    read: u64,
    state: State,
    /// The chunk being read into, kept while a read is pending.
    chunk: Vec<u8>,
}

enum State {
    Idle,
    Opening(Opening),
    Reading(tokio::fs::File),
    Done,
}

impl FileBody {
    pub(super) fn new(path: Arc<Path>, expected: u64) -> Self {
        FileBody {
            path,
            expected,
            read: 0,
            state: State::Idle,
            chunk: Vec::new(),
        }
    }

    fn changed(&mut self, found: u64) -> BoxError {
        self.state = State::Done;
        Box::new(SizeChanged {
            path: self.path.to_path_buf(),
            expected: self.expected,
            found,
        })
    }
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Idle => {
                    let path = this.path.clone();
                    this.state = State::Opening(Box::pin(async move {
                        let file = tokio::fs::File::open(&*path).await?;
                        let len = file.metadata().await?.len();
                        Ok((file, len))
                    }));
                }
                State::Opening(opening) => match ready!(opening.as_mut().poll(cx)) {
                    Ok((_, len)) if len != this.expected => {
                        return Poll::Ready(Some(Err(this.changed(len))));
                    }
                    Ok((file, _)) => this.state = State::Reading(file),
                    Err(err) => {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(Box::new(err))));
                    }
                },
                State::Reading(file) => {
                    // One byte more than is left: a file that grew says so
                    // here, before a byte over its announced length is sent.
                    let left = this.expected - this.read;
                    let want = (left + 1).min(CHUNK) as usize;
                    this.chunk.resize(want, 0);
                    let mut buf = ReadBuf::new(&mut this.chunk);
                    if let Err(err) = ready!(Pin::new(file).poll_read(cx, &mut buf)) {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(Box::new(err))));
                    }
                    let n = buf.filled().len() as u64;
                    if n > left {
                        let found = this.read + n;
                        return Poll::Ready(Some(Err(this.changed(found))));
                    }
                    if n == 0 {
                        if left > 0 {
                            let found = this.read;
                            return Poll::Ready(Some(Err(this.changed(found))));
                        }
                        this.state = State::Done;
                        return Poll::Ready(None);
                    }
                    this.read += n;
                    let mut chunk = std::mem::take(&mut this.chunk);
                    chunk.truncate(n as usize);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))));
                }
                State::Done => return Poll::Ready(None),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.expected - self.read)
    }
}

/// A file sent as a body ([`Body::from_file`](crate::Body::from_file), a
/// multipart file part) was not the length it had when the body was made,
/// when it was opened or while it was read; the request failed rather than
/// send a body that does not match its `Content-Length`.
#[derive(Debug, Clone)]
pub struct SizeChanged {
    path: PathBuf,
    expected: u64,
    found: u64,
}

impl SizeChanged {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its length when the body was made: the `Content-Length` sent.
    pub fn expected(&self) -> u64 {
        self.expected
    }

    /// Its length when opened, or the bytes read when the file ended early
    /// or went on past `expected` (then at least that many).
    pub fn found(&self) -> u64 {
        self.found
    }
}

impl fmt::Display for SizeChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "file {} changed size since the body was made: {} bytes expected, {} found",
            self.path.display(),
            self.expected,
            self.found
        )
    }
}

impl std::error::Error for SizeChanged {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Body;
    use http_body_util::BodyExt;

    fn temp(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("session-core-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[tokio::test]
    async fn a_copy_opens_the_file_again() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let path = temp("reopen", &data);
        let body = Body::from_file(&path).unwrap();
        assert_eq!(body.content_length(), Some(200_000));
        let copy = body.try_clone().unwrap();
        assert_eq!(body.collect_limited(1 << 20).await.unwrap(), data);
        // Same length, new contents: the copy reads the file as it is now,
        // so it was not kept in memory.
        let changed: Vec<u8> = data.iter().map(|b| b ^ 0xff).collect();
        std::fs::write(&path, &changed).unwrap();
        let mut copy = copy;
        let mut chunks = 0;
        let mut read = Vec::new();
        while let Some(frame) = copy.frame().await {
            read.extend_from_slice(&frame.unwrap().into_data().unwrap());
            chunks += 1;
        }
        assert_eq!(read, changed);
        assert!(chunks >= 4, "read in chunks of at most 64 KiB: {chunks}");
    }

    #[tokio::test]
    async fn a_file_that_grew_or_shrank_fails() {
        let path = temp("resized", b"12345");
        let body = Body::from_file(&path).unwrap();
        let shrunk = body.try_clone().unwrap();
        std::fs::write(&path, b"123456").unwrap();
        let err = body.collect_limited(100).await.unwrap_err();
        let changed = err.downcast_ref::<SizeChanged>().unwrap();
        assert_eq!((changed.expected(), changed.found()), (5, 6));
        std::fs::write(&path, b"123").unwrap();
        let err = shrunk.collect_limited(100).await.unwrap_err();
        assert_eq!(err.downcast_ref::<SizeChanged>().unwrap().found(), 3);
    }

    #[tokio::test]
    async fn growth_while_reading_is_caught_before_it_is_sent() {
        let path = temp("growing", b"abc");
        let mut body = FileBody::new(Arc::from(path.as_path()), 2);
        // Opened as 2 bytes long, then found longer while reading.
        body.state = State::Reading(tokio::fs::File::open(&path).await.unwrap());
        let err = body.frame().await.unwrap().unwrap_err();
        assert_eq!(err.downcast_ref::<SizeChanged>().unwrap().found(), 3);
        assert!(body.frame().await.is_none());
    }

    #[test]
    fn a_directory_or_a_missing_file_is_refused_at_once() {
        let dir = std::env::temp_dir();
        assert_eq!(
            Body::from_file(&dir).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        let missing = dir.join("session-core-no-such-file");
        assert_eq!(
            Body::from_file(missing).unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
