//! The fuzz targets of `protocol/fuzz/` on stable Rust, for a bounded time.
//!
//! libFuzzer (`cargo fuzz`) needs a nightly toolchain and sanitizer builds, which the test
//! command's machine does not have; this runner calls the SAME target bodies
//! (`protocol/fuzz/src/lib.rs`, included below) with inputs from proptest: each seed of
//! `protocol/fuzz/seeds/<target>/` as is, then a mix of seeds mutated by random edits (bit
//! flips, byte and token insertions, removals, copies, splices of two seeds), token strings
//! built from a small dictionary per target, and raw random bytes. It has no coverage
//! feedback, so it finds less than libFuzzer per case; it is a regression net that runs
//! everywhere, not a replacement for long `cargo fuzz` runs.
//!
//! Every target runs on its own thread for `FERRIO_FUZZ_SECONDS` (default 1) of wall time,
//! or until `FERRIO_FUZZ_CASES` inputs (default: no cap). A panic in a body fails the test
//! after proptest has shrunk the input; the input is written to
//! `target/tmp/fuzz/<target>/crash-…` and printed. `FERRIO_FUZZ_SEED` replays a run's
//! random choices (each run prints its seed).
//!
//! `scripts/fuzz.sh` runs this with a longer budget and the figures shown.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};

#[allow(
    unreachable_pub,
    reason = "the bodies are `pub` for the cargo-fuzz binaries that use the same file as a library"
)]
#[path = "../../fuzz/src/lib.rs"]
mod targets;

/// Inputs are cut to this length: longer ones only make a case slower.
const MAX_LEN: usize = 16 * 1024;

/// Token strings that mean something to each target's decoder.
#[rustfmt::skip]
fn dictionary(target: &str) -> &'static [&'static [u8]] {
    match target {
        "payload_decode" => &[
            b"\x1e", b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"b", b"probe", b"2probe",
            b"3probe", b"{", b"}", b"[", b"]", b"\"", b":", b",", b"\"sid\":\"a\"",
            b"\"upgrades\":[\"websocket\"]", b"\"pingInterval\":", b"\"maxPayload\":", b"25000",
            b"18446744073709551616", b"-1", b"1e400", b"=", b"==", b"AQID", b"/+", b"\x00",
            b"\xc3\xa9", b"\xf0\x9f\x98\x80", b"\xed\xa0\x80", b"\xff",
        ],
        "sse_parser" => &[
            b"data:", b"data: ", b"\n", b"\r", b"\r\n", b"\n\n", b"\r\n\r\n", b":", b": pad",
            b"id:", b"id: 7", b"event:", b"event: message", b"retry: 10", b"\xef\xbb\xbf",
            b" ", b"4", b"4hello", b"b", b"bAQID", b"b====", b"0{\"sid\":\"a\"}", b"2", b"3",
            b"6", b"\x00", b"\xc3\xa9", b"\xff",
        ],
        "socket_decoder" => &[
            b"\xff", b"\xfe", b"\xff\xfe", b"0", b"1", b"2", b"3", b"4", b"5", b"6", b"-",
            b"51-", b"/", b"/admin,", b",", b"[", b"]", b"{", b"}", b"\"", b"\"ev\"",
            b"\"connect\"", b"\"_placeholder\"", b"{\"_placeholder\":true,\"num\":0}", b"\"num\":",
            b"true", b"null", b"1e5", b"-0", b"0.25", b"18446744073709551616", b"\\u0000",
            b"\\ud800", b"\xc3\xa9", b"\xf0\x9f\x98\x80",
        ],
        "payload_v3" => &[
            b"\x00", b"\x01", b"\xff", b":", b"1:", b"2:", b"10:", b"0", b"2", b"3", b"4", b"6",
            b"b4", b"b4AQID", b"probe", b"0{\"sid\":\"a\"}", b"\xc3\xa9", b"\xf0\x9f\xa6\x80",
        ],
        _ => &[],
    }
}

/// The seed corpus of `target`, in file-name order.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("no seed corpus for {target} in {}: {e}", dir.display()),
    };
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display())))
        .collect();
    assert!(!seeds.is_empty(), "the seed corpus {} is empty", dir.display());
    seeds
}

/// One random edit of an input. Positions are taken modulo the input's length when applied,
/// so every edit applies to every input (and shrinks towards the start).
#[derive(Clone, Debug)]
enum Edit {
    FlipBit { at: usize, bit: u8 },
    SetByte { at: usize, byte: u8 },
    InsertBytes { at: usize, bytes: Vec<u8> },
    InsertToken { at: usize, token: usize },
    Remove { at: usize, len: usize },
    Duplicate { from: usize, len: usize, to: usize },
    Splice { seed: usize, from: usize, len: usize, at: usize },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<usize>;
    prop_oneof![
        (at(), 0..8u8).prop_map(|(at, bit)| Edit::FlipBit { at, bit }),
        (at(), any::<u8>()).prop_map(|(at, byte)| Edit::SetByte { at, byte }),
        (at(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Edit::InsertBytes { at, bytes }),
        (at(), at()).prop_map(|(at, token)| Edit::InsertToken { at, token }),
        (at(), 1..16usize).prop_map(|(at, len)| Edit::Remove { at, len }),
        (at(), 1..64usize, at()).prop_map(|(from, len, to)| Edit::Duplicate { from, len, to }),
        (at(), at(), 1..256usize, at()).prop_map(|(seed, from, len, at)| Edit::Splice {
            seed,
            from,
            len,
            at
        }),
        at().prop_map(|at| Edit::Truncate { at }),
    ]
}

/// `data` with `edit` applied; `seeds` and `tokens` are never empty.
fn apply(mut data: Vec<u8>, edit: &Edit, seeds: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let pos = |at: usize, len: usize| at % (len + 1);
    let len = data.len();
    match edit {
        Edit::FlipBit { at, bit } if len > 0 => data[at % len] ^= 1 << bit,
        Edit::SetByte { at, byte } if len > 0 => data[at % len] = *byte,
        Edit::FlipBit { .. } | Edit::SetByte { .. } => {}
        Edit::InsertBytes { at, bytes } => {
            data.splice(pos(*at, len)..pos(*at, len), bytes.iter().copied());
        }
        Edit::InsertToken { at, token } => {
            let token = tokens[token % tokens.len()];
            data.splice(pos(*at, len)..pos(*at, len), token.iter().copied());
        }
        Edit::Remove { at, len: n } => {
            let start = pos(*at, len);
            data.drain(start..(start + n).min(len));
        }
        Edit::Duplicate { from, len: n, to } => {
            let start = pos(*from, len);
            let chunk = data[start..(start + n).min(len)].to_vec();
            data.splice(pos(*to, len)..pos(*to, len), chunk);
        }
        Edit::Splice { seed, from, len: n, at } => {
            let other = &seeds[seed % seeds.len()];
            let start = pos(*from, other.len());
            let chunk = &other[start..(start + n).min(other.len())];
            data.splice(pos(*at, len)..pos(*at, len), chunk.iter().copied());
        }
        Edit::Truncate { at } => data.truncate(pos(*at, len)),
    }
    data.truncate(MAX_LEN);
    data
}

/// The inputs of one target: mutated seeds most of the time, then strings of tokens and raw
/// bytes, then raw bytes alone.
fn inputs(seeds: Arc<Vec<Vec<u8>>>, tokens: &'static [&'static [u8]]) -> BoxedStrategy<Vec<u8>> {
    let count = seeds.len();
    let mutated = (0..count, prop::collection::vec(edit(), 1..8)).prop_map(move |(i, edits)| {
        edits.iter().fold(seeds[i].clone(), |data, e| apply(data, e, &seeds, tokens))
    });
    let piece = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        (0..tokens.len()).prop_map(move |t| tokens[t].to_vec()),
    ];
    let built = prop::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat());
    let raw = prop::collection::vec(any::<u8>(), 0..512);
    prop_oneof![6 => mutated, 3 => built, 1 => raw].boxed()
}

thread_local! {
    /// Whether panics on this thread are expected (caught and reported by the runner), so the
    /// panic hook keeps quiet about them.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with this thread's panics kept quiet by the panic hook (installed once): proptest
/// catches the panics of the bodies (while it shrinks, hundreds of them), and this runner
/// reports the one that matters.
fn quietly<R>(f: impl FnOnce() -> R) -> R {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = f();
    QUIET.with(|q| q.set(false));
    result
}

/// What a target's run did.
struct Outcome {
    target: &'static str,
    seeds: usize,
    generated: u64,
    elapsed: Duration,
    failure: Option<String>,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    let value = std::env::var(name).ok()?;
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={value:?} is not a number"),
    }
}

/// Runs `body` on the seeds of `target`, then on generated inputs until `budget` has passed,
/// `max_cases` inputs ran or `stop` is set (another target failed; a failure sets it).
fn fuzz(
    target: &'static str,
    body: targets::Body,
    budget: Duration,
    max_cases: u64,
    seed: u64,
    stop: &AtomicBool,
) -> Outcome {
    let start = Instant::now();
    let seeds = Arc::new(seeds(target));
    let config = Config {
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 10_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let check = |input: Vec<u8>| -> Result<(), TestCaseError> {
        body(&input);
        Ok(())
    };
    let mut outcome = Outcome {
        target,
        seeds: seeds.len(),
        generated: 0,
        elapsed: Duration::ZERO,
        failure: None,
    };
    let mut failed = None;
    for seed_input in seeds.iter() {
        if let Err(failure) = quietly(|| runner.run_one(Just(seed_input.clone()), check)) {
            failed = Some(failure);
            break;
        }
    }
    let strategy = inputs(Arc::clone(&seeds), dictionary(target));
    while failed.is_none()
        && start.elapsed() < budget
        && outcome.generated < max_cases
        && !stop.load(Ordering::Relaxed)
    {
        let tree = match strategy.new_tree(&mut runner) {
            Ok(tree) => tree,
            Err(reason) => panic!("{target}: no input generated: {reason}"),
        };
        outcome.generated += 1;
        if let Err(failure) = quietly(|| runner.run_one(tree, check)) {
            failed = Some(failure);
        }
    }
    if failed.is_some() {
        stop.store(true, Ordering::Relaxed);
    }
    outcome.elapsed = start.elapsed();
    let cases = outcome.generated;
    outcome.failure = failed.map(|failure| describe(target, seed, cases, &failure));
    outcome
}

/// The report of a failure, with the (shrunk) input saved where `cargo fuzz run` can replay
/// it.
fn describe(target: &str, seed: u64, cases: u64, failure: &TestError<Vec<u8>>) -> String {
    let (reason, input) = match failure {
        TestError::Fail(reason, input) => (reason.to_string(), input),
        TestError::Abort(reason) => return format!("{target}: aborted: {reason}"),
    };
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz").join(target);
    let file = dir.join(format!("crash-{hash:016x}"));
    let saved = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&file, input));
    let saved = match saved {
        Ok(()) => format!("saved as {}", file.display()),
        Err(e) => format!("not saved ({e})"),
    };
    format!(
        "{target} panicked: {reason}\n  input ({} bytes, shrunk): {}\n  hex: {}\n  {saved}\n  \
         replay: FERRIO_FUZZ_SEED={seed} FERRIO_FUZZ_CASES={cases} bash scripts/fuzz.sh 600, \
         or `cargo fuzz run {target} <that file>` in protocol/fuzz; once fixed, keep the file \
         in protocol/fuzz/seeds/{target}/ as a regression seed",
        input.len(),
        input.escape_ascii(),
        input.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    )
}

#[test]
fn fuzz_targets_do_not_panic() {
    let seconds: f64 = env_number("FERRIO_FUZZ_SECONDS").unwrap_or(1.0);
    let budget = Duration::try_from_secs_f64(seconds)
        .unwrap_or_else(|e| panic!("FERRIO_FUZZ_SECONDS={seconds}: {e}"));
    let max_cases: u64 = env_number("FERRIO_FUZZ_CASES").unwrap_or(u64::MAX);
    let seed: u64 = env_number("FERRIO_FUZZ_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| d.as_nanos() as u64)
    });
    let stop = AtomicBool::new(false);
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets::TARGETS
            .iter()
            .map(|&(target, body)| {
                let stop = &stop;
                scope.spawn(move || fuzz(target, body, budget, max_cases, seed, stop))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| panic!("a fuzz thread panicked")))
            .collect()
    });
    let mut failures = Vec::new();
    for o in &outcomes {
        let per_second = o.generated as f64 / o.elapsed.as_secs_f64().max(1e-9);
        println!(
            "fuzz {:<15} {:>4} seeds + {:>8} generated inputs in {:>5.1} s ({:.0}/s), seed {seed}: {}",
            o.target,
            o.seeds,
            o.generated,
            o.elapsed.as_secs_f64(),
            per_second,
            match (&o.failure, stop.load(Ordering::Relaxed)) {
                (Some(_), _) => "PANIC",
                (None, false) => "no panic",
                (None, true) => "no panic (stopped early: another target failed)",
            },
        );
        failures.extend(o.failure.clone());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
