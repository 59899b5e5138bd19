//! One jar shared by many tasks: nothing lost, and a panic elsewhere does not
//! break it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use session_cookies::{Jar, Url};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_tasks_lose_nothing() {
    let jar = Jar::new();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let jar = jar.clone();
        tasks.push(tokio::spawn(async move {
            let url = Url::parse(&format!("https://site{}.example/p", i % 100)).unwrap();
            jar.store_set_cookie(&url, &format!("k{i}=v{i}; Path=/"))
                .unwrap();
            tokio::task::yield_now().await;
            let header = jar.cookie_header(&url).unwrap();
            let header = header.to_str().unwrap();
            assert!(
                header.split("; ").any(|p| p == format!("k{i}=v{i}")),
                "task {i} lost its cookie: {header}"
            );
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(jar.len(), 1000);
    for site in 0..100 {
        let url = Url::parse(&format!("https://site{site}.example/")).unwrap();
        assert_eq!(jar.matching(&url).len(), 10, "site{site}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_panicking_mid_use_does_not_break_the_jar() {
    let jar = Jar::new();
    let url = Url::parse("https://example.com/").unwrap();
    let j = jar.clone();
    let u = url.clone();
    let task = tokio::spawn(async move {
        j.store_set_cookie(&u, "before=1").unwrap();
        let _header = j.cookie_header(&u);
        panic!("task dies while using the jar");
    });
    assert!(task.await.unwrap_err().is_panic());
    jar.store_set_cookie(&url, "after=1").unwrap();
    assert_eq!(jar.cookie_header(&url).unwrap(), "before=1; after=1");
}

#[test]
fn a_panicking_clock_does_not_poison_the_jar() {
    let fail = Arc::new(AtomicBool::new(false));
    let f = fail.clone();
    let jar = Jar::builder()
        .clock(move || {
            if f.load(Ordering::SeqCst) {
                panic!("clock failure");
            }
            SystemTime::now()
        })
        .build();
    let url = Url::parse("https://example.com/").unwrap();
    jar.store_set_cookie(&url, "a=1").unwrap();

    fail.store(true, Ordering::SeqCst);
    let j = jar.clone();
    let u = url.clone();
    let joined = std::thread::spawn(move || {
        let _ = j.store_set_cookie(&u, "b=1");
    })
    .join();
    assert!(joined.is_err(), "the other thread panicked");
    let caught = catch_unwind(AssertUnwindSafe(|| jar.cookie_header(&url)));
    assert!(caught.is_err());

    fail.store(false, Ordering::SeqCst);
    jar.store_set_cookie(&url, "c=1").unwrap();
    assert_eq!(jar.cookie_header(&url).unwrap(), "a=1; c=1");
    assert_eq!(jar.len(), 2);
}
