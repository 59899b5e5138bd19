//! Request bodies over real sockets: multipart forms read by a real parser
//! (`multer`) on the server, file uploads sent again by a 307 and by a retry
//! (the file opened again, not kept in memory), one-shot streams refused a
//! 307, and upload and download progress.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http_body_util::BodyExt;
use http_session::body::SizeChanged;
use http_session::multipart::{Form, Part};
use http_session::progress::Progress;
use http_session::redirect::BodyNotReplayable;
use http_session::retry::Retry;
use http_session::{Body, Session};
use sha2::{Digest, Sha256};
use support::server::{self, response, ResBody};

/// A directory of its own for each test, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("http-session-bodies-{}-{test}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `len` bytes that are not all alike.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// One field as `multer` parsed it.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl Field {
    fn new(name: &str, file_name: Option<&str>, content_type: Option<&str>, bytes: &[u8]) -> Self {
        Field {
            name: name.to_owned(),
            file_name: file_name.map(str::to_owned),
            content_type: content_type.map(str::to_owned),
            bytes: bytes.to_vec(),
        }
    }
}

/// What a server read of one multipart upload.
#[derive(Debug, Default)]
struct Upload {
    content_length: Option<u64>,
    /// The body's length as it arrived.
    received: u64,
    fields: Vec<Field>,
}

/// Reads a `multipart/form-data` request with `multer`, streaming.
async fn parse(req: http::Request<hyper::body::Incoming>) -> Result<Upload, multer::Error> {
    let content_type = req.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
    let content_length = req
        .headers()
        .get(CONTENT_LENGTH)
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let boundary = multer::parse_boundary(&content_type)?;
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let stream = req.into_body().into_data_stream().inspect_ok(move |chunk| {
        counter.fetch_add(chunk.len(), Ordering::SeqCst);
    });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|m| m.to_string());
        let bytes = field.bytes().await?.to_vec();
        fields.push(Field {
            name,
            file_name,
            content_type,
            bytes,
        });
    }
    Ok(Upload {
        content_length,
        received: received.load(Ordering::SeqCst) as u64,
        fields,
    })
}

/// Reads a request's body to its end: its bytes, or `None` when it broke off.
async fn read_all(req: http::Request<hyper::body::Incoming>) -> Option<Bytes> {
    req.into_body().collect().await.ok().map(|c| c.to_bytes())
}

fn redirect(status: u16, location: &str) -> http::Response<ResBody> {
    let mut res = response(status, "");
    res.headers_mut()
        .insert(LOCATION, location.parse().unwrap());
    res
}

fn source<T: std::error::Error + 'static>(err: &http_session::Error) -> Option<&T> {
    let mut next = std::error::Error::source(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// A server that parses each upload with `multer` and keeps what it read.
fn multipart_server() -> (server::Server, Arc<Mutex<Vec<Upload>>>) {
    let uploads: Arc<Mutex<Vec<Upload>>> = Arc::default();
    let kept = uploads.clone();
    let srv = server::http_raw(move |req| {
        let kept = kept.clone();
        async move {
            match parse(req).await {
                Ok(upload) => {
                    kept.lock().unwrap().push(upload);
                    response(200, "parsed")
                }
                Err(err) => response(400, err.to_string()),
            }
        }
    });
    (srv, uploads)
}

#[tokio::test]
async fn text_bytes_and_file_parts_reach_a_multipart_parser_as_sent() {
    let dir = TempDir::new("parts");
    let photo = pattern(300_000, 1);
    let photo_path = dir.file("beach.png", &photo);
    let odd_path = dir.file("data.unknownext", b"raw");
    let (srv, uploads) = multipart_server();

    let form = Form::new()
        .text("title", "holiday")
        .text("a\"b\r\nc", "escaped name")
        .file("photo", &photo_path)
        .unwrap()
        .file("odd", &odd_path)
        .unwrap()
        .part(
            "cv",
            Part::bytes(&b"curriculum"[..])
                .file_name("r\u{e9}sum\u{e9} \"v2\".txt")
                .mime_str("text/plain; charset=utf-8")
                .unwrap(),
        )
        .part(
            "renamed",
            Part::file(&photo_path)
                .unwrap()
                .file_name("other.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let announced = form.content_length().unwrap();
    let res = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{:?}", res.text().await);

    let uploads = uploads.lock().unwrap();
    let upload = &uploads[0];
    assert_eq!(upload.content_length, Some(announced));
    assert_eq!(
        upload.received, announced,
        "the body is the length announced"
    );
    assert_eq!(
        upload.fields,
        [
            Field::new("title", None, None, b"holiday"),
            // Escaped as browsers do; a parser gives the escapes back as they are.
            Field::new("a%22b%0D%0Ac", None, None, b"escaped name"),
            Field::new("photo", Some("beach.png"), Some("image/png"), &photo),
            Field::new(
                "odd",
                Some("data.unknownext"),
                Some("application/octet-stream"),
                b"raw"
            ),
            Field::new(
                "cv",
                Some("r\u{e9}sum\u{e9} %22v2%22.txt"),
                Some("text/plain; charset=utf-8"),
                b"curriculum"
            ),
            Field::new("renamed", Some("other.jpg"), Some("image/jpeg"), &photo),
        ]
    );
}

#[tokio::test]
async fn a_307_sends_a_file_upload_again_by_opening_the_file_again() {
    let dir = TempDir::new("redirect");
    let first = pattern(3 << 20, 7);
    let second = pattern(3 << 20, 8);
    let path = dir.file("big.bin", &first);
    let (target, uploads) = multipart_server();
    let location = target.url("/store");

    // The first server reads the whole upload, then rewrites the file (same
    // length, other bytes) before it redirects: a body kept in memory would
    // send the old bytes again, a file opened again sends the new ones.
    let seen_first = Arc::new(Mutex::new(None));
    let seen = seen_first.clone();
    let rewrite = path.clone();
    let rewritten = second.clone();
    let origin = server::http_raw(move |req| {
        let (seen, rewrite, rewritten, location) = (
            seen.clone(),
            rewrite.clone(),
            rewritten.clone(),
            location.clone(),
        );
        async move {
            *seen.lock().unwrap() = Some(parse(req).await.unwrap());
            std::fs::write(&rewrite, &rewritten).unwrap();
            redirect(307, &location)
        }
    });

    let session = Session::new();
    let form = Form::new()
        .text("kind", "backup")
        .file("blob", &path)
        .unwrap();
    let request = session
        .post(origin.url("/upload"))
        .multipart(form)
        .build()
        .unwrap();
    assert!(request.body().is_replayable());
    assert!(request.body().as_bytes().is_none(), "not read into memory");

    let form = Form::new()
        .text("kind", "backup")
        .file("blob", &path)
        .unwrap();
    let res = session
        .post(origin.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.history()[0].status, 307);

    let at_origin = seen_first.lock().unwrap().take().unwrap();
    assert_eq!(sha(&at_origin.fields[1].bytes), sha(&first));
    let uploads = uploads.lock().unwrap();
    let again = &uploads[0];
    assert_eq!(again.received, at_origin.received, "the whole form again");
    assert_eq!(again.fields[0], Field::new("kind", None, None, b"backup"));
    assert_eq!(again.fields[1].file_name.as_deref(), Some("big.bin"));
    assert_eq!(
        sha(&again.fields[1].bytes),
        sha(&second),
        "the file was read again from disk"
    );
}

#[tokio::test]
async fn a_file_that_changed_size_before_a_308_fails_rather_than_send_a_wrong_length() {
    let dir = TempDir::new("resized");
    let path = dir.file("log.txt", &pattern(100_000, 3));
    let completed = Arc::new(AtomicUsize::new(0));
    let done = completed.clone();
    let target = server::http_raw(move |req| {
        let done = done.clone();
        async move {
            if read_all(req).await.is_some() {
                done.fetch_add(1, Ordering::SeqCst);
            }
            response(200, "stored")
        }
    });
    let location = target.url("/store");
    let grow = path.clone();
    let origin = server::http_raw(move |req| {
        let (grow, location) = (grow.clone(), location.clone());
        async move {
            assert_eq!(read_all(req).await.unwrap().len(), 100_000);
            std::fs::write(&grow, pattern(100_001, 3)).unwrap();
            redirect(308, &location)
        }
    });

    let err = Session::new()
        .put(origin.url("/upload"))
        .body(Body::from_file(&path).unwrap())
        .send()
        .await
        .unwrap_err();
    let changed = source::<SizeChanged>(&err).unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!((changed.expected(), changed.found()), (100_000, 100_001));
    assert_eq!(changed.path(), path);
    assert_eq!(completed.load(Ordering::SeqCst), 0, "no whole body arrived");
}

#[tokio::test]
async fn a_form_with_a_one_shot_stream_part_stops_at_a_307() {
    let (target, uploads) = multipart_server();
    let location = target.url("/store");
    let origin = server::http_raw(move |req| {
        let location = location.clone();
        async move {
            let upload = parse(req).await.unwrap();
            assert_eq!(upload.fields[1].bytes, b"one shot");
            assert_eq!(upload.content_length, None, "sent chunked");
            redirect(307, &location)
        }
    });
    let chunks = ["one ", "shot"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
    let form = Form::new().text("a", "1").part(
        "s",
        Part::stream(Body::from_stream(futures_util::stream::iter(chunks))),
    );
    assert!(!form.is_replayable());
    let err = Session::new()
        .post(origin.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert_eq!(source::<BodyNotReplayable>(&err).unwrap().status(), 307);
    assert!(uploads.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_one_shot_stream_part_of_known_length_is_sent_with_a_content_length() {
    let (srv, uploads) = multipart_server();
    let chunks = ["eight ", "by"].map(|c| Ok::<_, std::io::Error>(Bytes::from(c)));
    let stream = Body::from_stream(futures_util::stream::iter(chunks));
    let form = Form::new().part("s", Part::stream_with_length(stream, 8).file_name("s.bin"));
    let announced = form.content_length().unwrap();
    let res = Session::new()
        .post(srv.url("/upload"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let uploads = uploads.lock().unwrap();
    assert_eq!(uploads[0].content_length, Some(announced), "not chunked");
    assert_eq!(uploads[0].received, announced);
    assert_eq!(uploads[0].fields[0].bytes, b"eight by");
}

#[tokio::test]
async fn a_retry_sends_a_file_again_from_disk() {
    let dir = TempDir::new("retry");
    let data = pattern(1 << 20, 9);
    let path = dir.file("upload.bin", &data);
    let bodies: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let kept = bodies.clone();
    let srv = server::http_raw(move |req| {
        let kept = kept.clone();
        async move {
            let body = read_all(req).await.unwrap();
            let mut kept = kept.lock().unwrap();
            kept.push(body);
            if kept.len() == 1 {
                response(503, "busy")
            } else {
                response(201, "stored")
            }
        }
    });
    let session = Session::builder()
        .retry(
            Retry::new()
                .total(2)
                .backoff_factor(0.0)
                .status_forcelist([503]),
        )
        .build()
        .unwrap();
    let res = session
        .put(srv.url("/upload"))
        .body(Body::from_file(&path).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 2);
    for body in bodies.iter() {
        assert_eq!(sha(body), sha(&data));
    }
}

/// Splits the reports into sends (a count that goes back marks a new one),
/// checking each send counts up.
fn sends(reports: &[Progress]) -> Vec<Vec<Progress>> {
    let mut sends: Vec<Vec<Progress>> = Vec::new();
    for report in reports {
        match sends.last_mut() {
            Some(send) if send.last().unwrap().done < report.done => send.push(*report),
            _ => sends.push(vec![*report]),
        }
    }
    sends
}

#[tokio::test]
async fn upload_progress_counts_up_to_the_total_on_each_send() {
    let dir = TempDir::new("upload-progress");
    let len = 1_000_000u64;
    let path = dir.file("up.bin", &pattern(len as usize, 2));
    let target = server::http_raw(|req| async move {
        assert_eq!(read_all(req).await.unwrap().len(), 1_000_000);
        response(200, "stored")
    });
    let location = target.url("/store");
    let origin = server::http_raw(move |req| {
        let location = location.clone();
        async move {
            assert_eq!(read_all(req).await.unwrap().len(), 1_000_000);
            redirect(307, &location)
        }
    });
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = reports.clone();
    let res = Session::new()
        .put(origin.url("/upload"))
        .body(Body::from_file(&path).unwrap())
        .upload_progress(move |p| log.lock().unwrap().push(p))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let reports = reports.lock().unwrap();
    let sends = sends(&reports);
    assert_eq!(sends.len(), 2, "the first send and the one after the 307");
    for send in &sends {
        assert!(send.len() > 1, "reported chunk by chunk");
        assert!(send.iter().all(|p| p.total == Some(len)));
        assert_eq!(send.last().unwrap().done, len);
    }
}

#[tokio::test]
async fn download_progress_counts_up_to_the_content_length() {
    let data = Bytes::from(pattern(5 << 20, 4));
    let served = data.clone();
    let srv = server::http(move |_| {
        let served = served.clone();
        async move { response(200, served) }
    });
    let reports: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = reports.clone();
    let res = Session::new().get(srv.url("/big")).send().await.unwrap();
    assert_eq!(res.content_length(), Some(5 << 20));
    let body = res
        .download_progress(move |p| log.lock().unwrap().push(p))
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha(&body), sha(&data));
    let reports = reports.lock().unwrap();
    let sends = sends(&reports);
    assert_eq!(sends.len(), 1, "counts only go up");
    assert!(reports.len() > 1, "reported chunk by chunk");
    assert!(reports.iter().all(|p| p.total == Some(5 << 20)));
    assert_eq!(reports.last().unwrap().done, 5 << 20);
}

#[tokio::test]
async fn no_hook_no_wrapper_an_in_memory_body_stays_bytes() {
    let session = Session::new();
    let plain = session
        .put("http://127.0.0.1:9/")
        .body("abc")
        .build()
        .unwrap();
    assert_eq!(plain.body().as_bytes(), Some(&b"abc"[..]));
    let hooked = session
        .put("http://127.0.0.1:9/")
        .body("abc")
        .upload_progress(|_| {})
        .build()
        .unwrap();
    assert!(
        hooked.body().as_bytes().is_none(),
        "wrapped only when a hook is set"
    );
    assert!(hooked.body().is_replayable());
    assert_eq!(hooked.body().content_length(), Some(3));
}
