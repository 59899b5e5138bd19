//! The cookie jar against the `cookie_store` crate: building the `Cookie`
//! header for one URL with 10,000 cookies over 1,000 sites (registrable
//! domains), storing
//! `Set-Cookie`, and lookup time as cookies of other domains grow.

use std::hint::black_box;
use std::time::{Duration, Instant};

use http_session::cookies::Jar;
use url::Url;

fn domain(i: usize) -> String {
    format!("site{i}.com")
}

fn url_of(i: usize) -> Url {
    Url::parse(&format!("https://{}/app/page", domain(i))).expect("url")
}

fn set_cookie(i: usize, j: usize) -> String {
    format!("c{j}=value{i}x{j}; Path=/; Max-Age=86400")
}

/// A jar limited high enough to hold every cookie of the benchmark.
fn big_jar() -> Jar {
    Jar::builder()
        .max_cookies(1_000_000)
        .max_cookies_per_domain(1000)
        .build()
}

fn fill_ours(domains: usize, per: usize) -> (Jar, Duration) {
    let jar = big_jar();
    let start = Instant::now();
    for i in 0..domains {
        let url = url_of(i);
        for j in 0..per {
            jar.store_set_cookie(&url, &set_cookie(i, j))
                .expect("stored");
        }
    }
    (jar, start.elapsed() / (domains * per) as u32)
}

fn fill_theirs(domains: usize, per: usize) -> (cookie_store::CookieStore, Duration) {
    let mut store = cookie_store::CookieStore::default();
    let start = Instant::now();
    for i in 0..domains {
        let url = url_of(i);
        for j in 0..per {
            store.parse(&set_cookie(i, j), &url).expect("stored");
        }
    }
    (store, start.elapsed() / (domains * per) as u32)
}

fn time_lookups(n: u32, f: impl Fn(&Url) -> usize) -> Duration {
    let urls: Vec<Url> = (0..50).map(url_of).collect();
    let start = Instant::now();
    for k in 0..n as usize {
        black_box(f(&urls[k % urls.len()]));
    }
    start.elapsed() / n
}

fn theirs_header(store: &cookie_store::CookieStore, url: &Url) -> usize {
    let header = store
        .get_request_values(url)
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("; ");
    header.len()
}

pub fn run(quick: bool) -> String {
    let lookups = if quick { 2_000 } else { 20_000 };
    let (jar, ours_store) = fill_ours(1_000, 10);
    let (store, theirs_store) = fill_theirs(1_000, 10);
    let ours = time_lookups(lookups, |u| jar.cookie_header(u).map_or(0, |h| h.len()));
    let theirs = time_lookups(lookups, |u| theirs_header(&store, u));

    let mut out =
        String::from("== cookie jar: 10,000 cookies over 1,000 domains (10 per domain)\n");
    out += &format!(
        "{:<30} {:>12} {:>12} {:>8}\n",
        "operation", "ours", "cookie_store", "speed-up"
    );
    out += &format!(
        "{:<30} {:>12.2?} {:>12.2?} {:>7.1}x\n",
        "Cookie header for one URL",
        ours,
        theirs,
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
    out += &format!(
        "{:<30} {:>12.2?} {:>12.2?} {:>7.1}x\n",
        "store one Set-Cookie",
        ours_store,
        theirs_store,
        theirs_store.as_secs_f64() / ours_store.as_secs_f64()
    );

    out += "\n== lookup time as other domains' cookies grow (10 cookies on the looked-up site)\n";
    for domains in [100usize, 10_000] {
        let (jar, _) = fill_ours(domains, 10);
        let t = time_lookups(lookups, |u| jar.cookie_header(u).map_or(0, |h| h.len()));
        let (store, _) = fill_theirs(domains, 10);
        let c = time_lookups(lookups.min(2_000), |u| theirs_header(&store, u));
        out += &format!(
            "{:>7} cookies in total: ours {:>10.2?}   cookie_store {:>10.2?}\n",
            domains * 10,
            t,
            c
        );
    }
    out
}

/// Stores 10,000 cookies over 1,000 domains, many times (for `perf record`).
pub fn profile_store() {
    let start = Instant::now();
    let mut n = 0;
    for _ in 0..20 {
        let (jar, _) = fill_ours(1_000, 10);
        n += jar.len();
    }
    println!("stored {n} cookies, {:?} each", start.elapsed() / n as u32);
}
