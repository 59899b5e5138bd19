//! Saving and loading: JSON with every attribute, Netscape cookies.txt,
//! atomic writes, and corrupt files.

use std::time::{Duration, UNIX_EPOCH};

use session_cookies::persist::{Format, SaveOptions};
use session_cookies::{Jar, ManualClock, SameSite, Url};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("session-cookies-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn filled(clock: &ManualClock) -> Jar {
    let jar = Jar::builder().clock(clock.clone()).build();
    let url = Url::parse("https://www.example.com/app/page").unwrap();
    jar.store_set_cookie(&url, "host=1; Max-Age=3600; SameSite=Lax; HttpOnly")
        .unwrap();
    clock.advance(Duration::from_secs(1));
    jar.store_set_cookie(
        &url,
        "dom=2; Domain=example.com; Path=/; Secure; Max-Age=7200",
    )
    .unwrap();
    jar.store_set_cookie(&url, "session=3; Path=/").unwrap();
    jar
}

#[test]
fn json_round_trip_keeps_every_attribute() {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let jar = filled(&clock);
    jar.cookie_header(&Url::parse("https://www.example.com/app/x").unwrap());
    let dir = temp_dir("json");
    let path = dir.join("jar.json");

    let n = jar
        .save(&path, &SaveOptions::new(Format::Json).include_session(true))
        .unwrap();
    assert_eq!(n, 3);
    let restored = Jar::builder().clock(clock.clone()).build();
    let report = restored.load(&path, Format::Json).unwrap();
    assert_eq!((report.loaded, report.rejected, report.expired), (3, 0, 0));
    assert_eq!(
        restored.cookies(),
        jar.cookies(),
        "identical, times included"
    );
    let host = restored
        .cookies()
        .into_iter()
        .find(|c| c.name() == "host")
        .unwrap();
    assert!(host.host_only() && host.http_only() && !host.secure());
    assert_eq!(host.same_site(), SameSite::Lax);
    assert_eq!(host.path(), "/app");

    // Session cookies are saved only when asked.
    assert_eq!(jar.save(&path, &SaveOptions::new(Format::Json)).unwrap(), 2);
    let again = Jar::builder().clock(clock.clone()).build();
    assert_eq!(again.load(&path, Format::Json).unwrap().loaded, 2);

    // Expired records are skipped on load.
    clock.advance(Duration::from_secs(5000));
    let later = Jar::builder().clock(clock.clone()).build();
    let report = later.load(&path, Format::Json).unwrap();
    assert_eq!((report.loaded, report.expired), (1, 1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn netscape_round_trip() {
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let jar = filled(&clock);
    let mut out = Vec::new();
    let options = SaveOptions::new(Format::Netscape).include_session(true);
    assert_eq!(jar.save_to(&mut out, &options).unwrap(), 3);
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("# Netscape HTTP Cookie File"));
    assert!(text.contains("#HttpOnly_www.example.com\tFALSE\t/app\tFALSE\t1700003600\thost\t1\n"));
    assert!(text.contains("\n.example.com\tTRUE\t/\tTRUE\t1700007201\tdom\t2\n"));
    assert!(text.contains("\nwww.example.com\tFALSE\t/\tFALSE\t0\tsession\t3\n"));

    let restored = Jar::builder().clock(clock.clone()).build();
    let report = restored
        .load_from(text.as_bytes(), Format::Netscape)
        .unwrap();
    assert_eq!(report.loaded, 3);
    let url = Url::parse("https://www.example.com/app/page").unwrap();
    assert_eq!(
        restored.cookie_header(&url).unwrap(),
        jar.cookie_header(&url).unwrap()
    );
}

#[test]
fn loaded_records_pass_the_same_checks() {
    let jar = Jar::new();
    let file = "\
# Netscape HTTP Cookie File
.co.uk\tTRUE\t/\tFALSE\t0\tpsl\t1
good.example\tFALSE\t/\tFALSE\t0\tok\t1
bad host!\tFALSE\t/\tFALSE\t0\tdomain\t1
good.example\tFALSE\tnoslash\tFALSE\t0\tpath\t1
good.example\tFALSE\t/\tFALSE\t0\t__Host-x\t1
good.example\tFALSE\t/\tFALSE\t0\tctl\ta\x01b
good.example\tFALSE\t/\tFALSE\t1\told\t1
good.example\tFALSE\t/\tFALSE\t0\tempty
";
    let report = jar.load_from(file.as_bytes(), Format::Netscape).unwrap();
    assert_eq!((report.loaded, report.rejected, report.expired), (2, 5, 1));
    let url = Url::parse("http://good.example/").unwrap();
    assert_eq!(jar.cookie_header(&url).unwrap(), "ok=1; empty=");

    let big = format!(
        r#"{{"version":1,"cookies":[{{"name":"{}","value":"v","domain":"example.com","path":"/","host_only":true,"secure":false,"http_only":false,"expires":null,"creation_us":0,"last_access_us":0}}]}}"#,
        "n".repeat(5000)
    );
    let report = jar.load_from(big.as_bytes(), Format::Json).unwrap();
    assert_eq!((report.loaded, report.rejected), (0, 1));
}

#[test]
fn corrupt_files_give_typed_errors() {
    let jar = Jar::new();
    let truncated = "{\n  \"version\": 1,\n  \"cookies\": [\n    {\"name\": \"a\", \"val";
    let err = jar
        .load_from(truncated.as_bytes(), Format::Json)
        .unwrap_err();
    assert!(err.is_parse(), "{err}");
    assert_eq!(err.line(), Some(4));
    assert!(err.to_string().contains("line 4"), "{err}");

    let bad_flag = "# Netscape HTTP Cookie File\nexample.com\tMAYBE\t/\tFALSE\t0\ta\t1\n";
    let err = jar
        .load_from(bad_flag.as_bytes(), Format::Netscape)
        .unwrap_err();
    assert_eq!((err.line(), err.column()), (Some(2), Some(13)));

    let cut = "example.com\tFALSE\t/\tFALSE\t0\ta\t1\nexample.com\tFALSE\t/\tFA";
    let err = jar.load_from(cut.as_bytes(), Format::Netscape).unwrap_err();
    assert!(err.is_parse());
    assert_eq!(err.line(), Some(2));

    let not_number = "example.com\tFALSE\t/\tFALSE\tsoon\ta\t1\n";
    let err = jar
        .load_from(not_number.as_bytes(), Format::Netscape)
        .unwrap_err();
    assert_eq!(err.line(), Some(1));

    let binary = b"example.com\tFALSE\t/\tFALSE\t0\ta\t\xff\xfe\n";
    assert!(jar
        .load_from(&binary[..], Format::Netscape)
        .unwrap_err()
        .is_parse());
    assert!(jar.is_empty(), "nothing added on error");

    let missing = std::env::temp_dir().join("session-cookies-does-not-exist.json");
    assert!(jar.load(&missing, Format::Json).unwrap_err().is_io());
}

#[cfg(unix)]
#[test]
fn save_is_atomic_and_private() {
    use std::os::unix::fs::PermissionsExt;

    let dir = temp_dir("atomic");
    let jar = Jar::new();
    let url = Url::parse("https://example.com/").unwrap();
    jar.store_set_cookie(&url, "a=1; Max-Age=60").unwrap();

    // The target is a symlink to another file: saving replaces the link and
    // never writes through it.
    let victim = dir.join("victim");
    std::fs::write(&victim, "untouched").unwrap();
    let path = dir.join("cookies.txt");
    std::os::unix::fs::symlink(&victim, &path).unwrap();
    jar.save(&path, &SaveOptions::new(Format::Netscape))
        .unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);

    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A folder that does not exist: an I/O error, nothing created.
    let err = jar
        .save(
            dir.join("missing/cookies.txt"),
            &SaveOptions::new(Format::Json),
        )
        .unwrap_err();
    assert!(err.is_io());
    std::fs::remove_dir_all(&dir).unwrap();
}
