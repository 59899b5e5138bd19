//! The loop that runs a [`Target`]: replay its corpus, then generate and
//! mutate inputs until the time (or case) budget is spent, catching every
//! panic.
//!
//! - Each case runs under [`std::panic::catch_unwind`], and a panic hook
//!   records every panic while a case runs, also one that a runtime or a
//!   spawned task swallowed.
//! - Inputs come from the target's generator (from scratch) or from
//!   mutating a pool that starts as the corpus. An input whose outcome
//!   label is new joins the pool, so the loop keeps exploring from inputs
//!   that reached somewhere new (outcome-guided, not coverage-guided).
//! - A new panic site is minimized (chunks removed while the input still
//!   panics at the same place) and written to `corpus/<target>/crash-<hash>`.
//! - A watchdog thread ends the process when one case runs longer than
//!   the case timeout, after writing the input as `hang-<hash>`.

use std::backtrace::Backtrace;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::time::{Duration, Instant};

use crate::gen::{Gen, GRAMMAR, UNICODE};
use crate::targets::Target;

/// How long and how a target runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time budget for generated cases (the corpus replay comes first,
    /// outside it).
    pub time: Duration,
    /// Stop after this many generated cases, whatever the time left.
    pub max_cases: Option<u64>,
    /// The PRNG seed.
    pub seed: u64,
    /// The corpus root: `<corpus>/<target>/` holds the target's inputs.
    pub corpus: PathBuf,
    /// Write new crashes (and hangs) to the corpus.
    pub write_crashes: bool,
    /// Write up to [`MAX_SAVED`] inputs with outcomes the corpus did not
    /// reach, as `found-<hash>`.
    pub save_new: bool,
    /// One case running longer than this ends the process.
    pub case_timeout: Duration,
    /// Print each new outcome label (to tune generators).
    pub verbose: bool,
}

/// The most inputs with new outcomes [`Options::save_new`] writes per target.
pub const MAX_SAVED: usize = 8;

/// The largest pool of inputs kept for mutation.
const MAX_POOL: usize = 512;

impl Options {
    /// `time` per target, the default corpus, crashes written, a seed from
    /// the clock.
    pub fn new(time: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Options {
            time,
            max_cases: None,
            seed,
            corpus: default_corpus(),
            write_crashes: true,
            save_new: false,
            case_timeout: Duration::from_secs(10),
            verbose: false,
        }
    }
}

/// `fuzz/corpus` of this package.
pub fn default_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// A panic caught while a case ran.
#[derive(Debug, Clone)]
pub struct Panic {
    /// `file:line:column` of the panic, or `unknown`.
    pub location: String,
    /// The panic message.
    pub message: String,
    /// The backtrace, captured when the panic happened (resolved only when
    /// shown, by [`Panic::frames`]).
    pub backtrace: Option<Arc<Backtrace>>,
}

impl Panic {
    /// The frames of the backtrace that are in this workspace, up to 12
    /// (none when the binary has no symbols).
    pub fn frames(&self) -> Vec<String> {
        self.backtrace
            .as_deref()
            .map_or_else(Vec::new, workspace_frames)
    }
}

/// A crash found by a run: a distinct panic site.
#[derive(Debug, Clone)]
pub struct Crash {
    /// What panicked, and where.
    pub panic: Panic,
    /// The (minimized) input.
    pub input: Vec<u8>,
    /// The size of the input before minimizing.
    pub original_len: usize,
    /// Where the input is in the corpus (`None` when not written).
    pub file: Option<PathBuf>,
    /// The input came from the corpus (a known crash replayed).
    pub from_corpus: bool,
}

/// What a run of one target did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target's name.
    pub target: &'static str,
    /// Corpus files replayed.
    pub replayed: usize,
    /// Generated cases run.
    pub cases: u64,
    /// Distinct outcome labels seen.
    pub outcomes: usize,
    /// Inputs written with [`Options::save_new`].
    pub saved: usize,
    /// Distinct panic sites.
    pub crashes: Vec<Crash>,
    /// Time spent on generated cases.
    pub elapsed: Duration,
}

// ---------------------------------------------------------------------
// Panic capture.

static CAPTURING: AtomicBool = AtomicBool::new(false);
static RUNNING: Mutex<()> = Mutex::new(());
static CAUGHT: Mutex<Option<Panic>> = Mutex::new(None);
static HOOK: Once = Once::new();

fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CAPTURING.load(Ordering::SeqCst) {
                previous(info);
                return;
            }
            let location = info.location().map_or_else(
                || "unknown".to_owned(),
                |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
            );
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(non-string panic payload)".to_owned());
            let backtrace = Some(Arc::new(Backtrace::force_capture()));
            let mut caught = CAUGHT.lock().unwrap_or_else(PoisonError::into_inner);
            // The first panic of a case is the cause; later ones follow it.
            if caught.is_none() {
                *caught = Some(Panic {
                    location,
                    message,
                    backtrace,
                });
            }
        }));
    });
}

/// The backtrace lines that name this workspace's crates, up to 12.
fn workspace_frames(bt: &Backtrace) -> Vec<String> {
    let text = bt.to_string();
    let mut out: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let func = line.trim();
        let is_ours = ["session_", "http_session"]
            .iter()
            .any(|p| func.contains(p))
            && !func.contains("session_fuzz::engine");
        if !is_ours {
            continue;
        }
        let mut frame = func.split_once(": ").map_or(func, |x| x.1).to_owned();
        if let Some(at) = lines.peek().filter(|l| l.trim_start().starts_with("at ")) {
            frame.push_str(" (");
            frame.push_str(at.trim().trim_start_matches("at "));
            frame.push(')');
        }
        out.push(frame);
        if out.len() == 12 {
            break;
        }
    }
    out
}

/// Runs `target` on `input`, catching any panic. `Ok` has the outcome label.
///
/// # Errors
/// The first panic raised while the case ran, on any thread.
pub fn run_case(target: &Target, input: &[u8]) -> Result<String, Panic> {
    install_hook();
    // One case at a time in the process (tests run in parallel): the panic
    // record is global, so that panics on other threads count too.
    let _one = RUNNING.lock().unwrap_or_else(PoisonError::into_inner);
    *CAUGHT.lock().unwrap_or_else(PoisonError::into_inner) = None;
    CAPTURING.store(true, Ordering::SeqCst);
    let result = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    CAPTURING.store(false, Ordering::SeqCst);
    let caught = CAUGHT.lock().unwrap_or_else(PoisonError::into_inner).take();
    match (result, caught) {
        (Ok(label), None) => Ok(label),
        (_, Some(p)) => Err(p),
        (Err(_), None) => Err(Panic {
            location: "unknown".into(),
            message: "panic without a report".into(),
            backtrace: None,
        }),
    }
}

// ---------------------------------------------------------------------
// Watchdog.

struct Watch {
    epoch: Instant,
    /// Milliseconds since `epoch` at which the running case started, plus
    /// one; 0 when no case runs.
    started: AtomicU64,
    input: Mutex<(&'static str, Vec<u8>)>,
}

impl Watch {
    fn begin(&self, target: &'static str, input: &[u8]) {
        {
            let mut cur = self.input.lock().unwrap_or_else(PoisonError::into_inner);
            cur.0 = target;
            cur.1.clear();
            cur.1.extend_from_slice(input);
        }
        let ms = self.epoch.elapsed().as_millis() as u64 + 1;
        self.started.store(ms, Ordering::SeqCst);
    }

    fn end(&self) {
        self.started.store(0, Ordering::SeqCst);
    }
}

fn start_watchdog(limit: Duration, corpus: PathBuf, write: bool) -> Arc<Watch> {
    let watch = Arc::new(Watch {
        epoch: Instant::now(),
        started: AtomicU64::new(0),
        input: Mutex::new(("", Vec::new())),
    });
    let w = watch.clone();
    std::thread::Builder::new()
        .name("fuzz-watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(250));
            let started = w.started.load(Ordering::SeqCst);
            if started == 0 {
                continue;
            }
            let now = w.epoch.elapsed().as_millis() as u64 + 1;
            if now.saturating_sub(started) <= limit.as_millis() as u64 {
                continue;
            }
            let (target, input) = w
                .input
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            eprintln!(
                "\nHANG in target `{target}`: one case ran longer than {limit:?}\n  input ({} bytes): {}",
                input.len(),
                show(&input, 400)
            );
            if write {
                match write_input(&corpus.join(target), "hang", &input) {
                    Ok(path) => eprintln!("  saved: {}", path.display()),
                    Err(e) => eprintln!("  could not save it: {e}"),
                }
            }
            std::process::exit(3);
        })
        .expect("spawn the watchdog thread");
    watch
}

// ---------------------------------------------------------------------
// Corpus files.

/// FNV-1a, 64 bits: the name of an input in the corpus.
pub fn hash(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn write_input(dir: &Path, prefix: &str, input: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{prefix}-{:016x}", hash(input)));
    if !path.exists() {
        std::fs::write(&path, input)?;
    }
    Ok(path)
}

/// The corpus of one target: `(file name, bytes)`, sorted by name.
/// Hidden files and `*.md` are left out.
pub fn load_corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.ends_with(".md") {
                return None;
            }
            std::fs::read(e.path()).ok().map(|bytes| (name, bytes))
        })
        .collect();
    files.sort();
    files
}

/// `input` as escaped ASCII, cut after `max` characters.
pub fn show(input: &[u8], max: usize) -> String {
    let mut s = String::from("\"");
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\n' {
                s.push_str("\\n");
            } else if c.is_control() || c == '"' || c == '\\' {
                let _ = write!(s, "{}", c.escape_default());
            } else {
                s.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(s, "\\x{b:02x}");
        }
        if s.chars().count() > max {
            break;
        }
    }
    if s.chars().count() > max {
        s = s.chars().take(max).collect();
        s.push_str("...");
    } else {
        s.push('"');
    }
    s
}

// ---------------------------------------------------------------------
// Mutation.

/// Applies one to four random edits to `input`: bit flips, interesting
/// bytes, inserted tokens (the target's dictionary, the grammar's
/// delimiters, unicode), deletions, repeats (long values), splices from
/// the pool, line edits, number swaps.
pub fn mutate(g: &mut Gen, input: &mut Vec<u8>, pool: &[Vec<u8>], dict: &[&str], max_len: usize) {
    let edits = 1 + g.below(4);
    for _ in 0..edits {
        let len = input.len();
        let at = g.below(len + 1);
        match g.below(13) {
            0 if len > 0 => {
                let i = g.below(len);
                input[i] ^= 1 << g.below(8);
            }
            1 if len > 0 => {
                let i = g.below(len);
                input[i] = *g.pick(&[
                    0, 0x7f, 0xff, 0x80, b';', b'=', b'\t', b'\r', b'\n', b'%', b'"', b'\\', b' ',
                    b',', b'.', b'/', b':', b'@', b'#',
                ]);
            }
            2 => {
                let bytes = g.junk(8);
                input.splice(at..at, bytes);
            }
            3 | 4 if !dict.is_empty() => {
                let token = g.pick(dict).as_bytes().to_vec();
                input.splice(at..at, token);
            }
            5 => {
                let token = if g.one_in(3) {
                    g.pick(UNICODE)
                } else {
                    g.pick(GRAMMAR)
                };
                input.splice(at..at, token.bytes());
            }
            6 if len > 0 => {
                let end = (at + 1 + g.size(len)).min(len);
                let start = at.min(end.saturating_sub(1));
                input.drain(start..end);
            }
            7 if len > 0 => {
                // Repeat a slice: long values, many attributes.
                let start = g.below(len);
                let end = (start + 1 + g.size(16)).min(len);
                let piece = input[start..end].to_vec();
                let times = if g.one_in(4) {
                    2 + g.below(2000)
                } else {
                    2 + g.below(8)
                };
                let mut rep = Vec::with_capacity(piece.len() * times);
                for _ in 0..times {
                    rep.extend_from_slice(&piece);
                    if rep.len() > max_len {
                        break;
                    }
                }
                input.splice(end..end, rep);
            }
            8 if !pool.is_empty() => {
                let other = g.pick(pool);
                if !other.is_empty() {
                    let s = g.below(other.len());
                    let e = (s + 1 + g.size(other.len())).min(other.len());
                    input.splice(at..at, other[s..e].iter().copied());
                }
            }
            9 if !pool.is_empty() => {
                // Crossover: this input's head, another's tail.
                let other = g.pick(pool).clone();
                let cut = g.below(other.len() + 1);
                input.truncate(at);
                input.extend_from_slice(&other[cut..]);
            }
            10 => line_edit(g, input),
            11 if len > 0 => input.truncate(g.below(len)),
            _ => swap_number(g, input),
        }
    }
    input.truncate(max_len);
}

/// Duplicates, deletes or swaps whole lines (most targets read scripts).
fn line_edit(g: &mut Gen, input: &mut Vec<u8>) {
    let mut lines: Vec<Vec<u8>> = input.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    let n = lines.len();
    match g.below(3) {
        0 => {
            let i = g.below(n);
            let copy = lines[i].clone();
            lines.insert(g.below(n + 1), copy);
        }
        1 if n > 1 => {
            lines.remove(g.below(n));
        }
        _ => {
            let (a, b) = (g.below(n), g.below(n));
            lines.swap(a, b);
        }
    }
    *input = lines.join(&b'\n');
}

/// Replaces a run of ASCII digits with an edge number.
fn swap_number(g: &mut Gen, input: &mut Vec<u8>) {
    let starts: Vec<usize> = (0..input.len())
        .filter(|&i| input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        let at = g.below(input.len() + 1);
        let n = g.number();
        input.splice(at..at, n.bytes());
        return;
    }
    let start = *g.pick(&starts);
    let end = start
        + input[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let n = g.number();
    input.splice(start..end, n.bytes());
}

// ---------------------------------------------------------------------
// Minimizing.

/// Removes chunks of `input` while it still panics at `location`, for at
/// most about a second.
fn minimize(target: &Target, watch: &Watch, input: &[u8], location: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut best = input.to_vec();
    let mut chunk = best.len() / 2;
    while chunk > 0 && Instant::now() < deadline {
        let mut i = 0;
        while i < best.len() && Instant::now() < deadline {
            let end = (i + chunk).min(best.len());
            let mut candidate = best.clone();
            candidate.drain(i..end);
            watch.begin(target.name, &candidate);
            let still = matches!(run_case(target, &candidate), Err(p) if p.location == location);
            watch.end();
            if still {
                best = candidate;
            } else {
                i += chunk;
            }
        }
        chunk /= 2;
    }
    best
}

// ---------------------------------------------------------------------
// The loop.

static WATCH: Mutex<Option<Arc<Watch>>> = Mutex::new(None);

fn watch(opts: &Options) -> Arc<Watch> {
    let mut w = WATCH.lock().unwrap_or_else(PoisonError::into_inner);
    w.get_or_insert_with(|| {
        start_watchdog(opts.case_timeout, opts.corpus.clone(), opts.write_crashes)
    })
    .clone()
}

/// Replays the corpus of `target`, then fuzzes it for the budget of `opts`.
pub fn fuzz(target: &Target, opts: &Options) -> Report {
    let watch = watch(opts);
    let dir = opts.corpus.join(target.name);
    let mut g = Gen::new(opts.seed ^ hash(target.name.as_bytes()));
    let mut report = Report {
        target: target.name,
        replayed: 0,
        cases: 0,
        outcomes: 0,
        saved: 0,
        crashes: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let mut outcomes: HashSet<String> = HashSet::new();
    let mut sites: HashSet<String> = HashSet::new();
    let mut pool: Vec<Vec<u8>> = Vec::new();

    for (name, input) in load_corpus(&dir) {
        report.replayed += 1;
        watch.begin(target.name, &input);
        let result = run_case(target, &input);
        watch.end();
        match result {
            Ok(label) => {
                outcomes.insert(label);
                pool.push(input);
            }
            Err(p) => {
                if sites.insert(p.location.clone()) {
                    report.crashes.push(Crash {
                        panic: p,
                        original_len: input.len(),
                        input,
                        file: Some(dir.join(name)),
                        from_corpus: true,
                    });
                }
            }
        }
    }

    let start = Instant::now();
    loop {
        if start.elapsed() >= opts.time || opts.max_cases.is_some_and(|m| report.cases >= m) {
            break;
        }
        // Three in ten from scratch (one of them mutated too), the rest a
        // mutated input of the pool.
        let r = g.below(10);
        let mut input = if pool.is_empty() || r < 3 {
            (target.generate)(&mut g)
        } else {
            g.pick(&pool).clone()
        };
        if r == 0 || (r >= 3 && !pool.is_empty()) {
            mutate(&mut g, &mut input, &pool, target.dictionary, target.max_len);
        }
        input.truncate(target.max_len);
        report.cases += 1;
        watch.begin(target.name, &input);
        let result = run_case(target, &input);
        watch.end();
        match result {
            Ok(label) => {
                if opts.verbose && !outcomes.contains(&label) {
                    eprintln!("   new outcome: {label}");
                }
                if outcomes.insert(label) {
                    if opts.save_new
                        && report.saved < MAX_SAVED
                        && !input.is_empty()
                        && write_input(&dir, "found", &input).is_ok()
                    {
                        report.saved += 1;
                    }
                    if pool.len() < MAX_POOL {
                        pool.push(input);
                    } else {
                        let i = g.below(pool.len());
                        pool[i] = input;
                    }
                }
            }
            Err(p) => {
                if !sites.insert(p.location.clone()) {
                    continue;
                }
                let small = minimize(target, &watch, &input, &p.location);
                // The minimized input's own report (its message may be
                // shorter); fall back to the original's.
                let panic = match run_case(target, &small) {
                    Err(q) if q.location == p.location => q,
                    _ => p,
                };
                let file = if opts.write_crashes {
                    write_input(&dir, "crash", &small).ok()
                } else {
                    None
                };
                report.crashes.push(Crash {
                    panic,
                    original_len: input.len(),
                    input: small,
                    file,
                    from_corpus: false,
                });
            }
        }
    }
    report.elapsed = start.elapsed();
    report.outcomes = outcomes.len();
    report
}

/// A human-readable account of a crash.
pub fn describe(target: &str, crash: &Crash) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "CRASH in target `{target}`{}: panicked at {}: {}",
        if crash.from_corpus {
            " (corpus file)"
        } else {
            ""
        },
        crash.panic.location,
        crash.panic.message.lines().next().unwrap_or("")
    );
    let _ = writeln!(
        s,
        "  input ({} bytes{}): {}",
        crash.input.len(),
        if crash.original_len != crash.input.len() {
            format!(", minimized from {}", crash.original_len)
        } else {
            String::new()
        },
        show(&crash.input, 600)
    );
    if let Some(file) = &crash.file {
        let _ = writeln!(s, "  file: {}", file.display());
    }
    for frame in crash.panic.frames() {
        let _ = writeln!(s, "    in {frame}");
    }
    s
}
