//! Deterministic fault injection at the warehouse's commit points, for crash-recovery tests.
//!
//! `PIPELAKE_FAULT=<point>` ends the process at once (as a kill would) the first time execution reaches
//! `<point>`; `PIPELAKE_FAULT=<point>:<n>` on the n-th time. The points are listed in [`POINTS`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Every commit point a run passes through, in order within one transaction.
pub const POINTS: &[&str] = &[
    // a transaction's files written, its log entry not yet: the files belong to no version
    "written",
    // the log entry written: the commit point; the catalog not yet published
    "committed",
    // a table's Delta log entry of the version written, other tables' not yet
    "delta",
    // the catalog published
    "catalog",
    // raw objects deleted by prune, partially
    "pruning",
    // files deleted by vacuum, the commit that forgets them not yet made
    "vacuuming",
];

static HITS: AtomicUsize = AtomicUsize::new(0);
static STOPPED: AtomicBool = AtomicBool::new(false);

/// End the process here if `PIPELAKE_FAULT` names this point (and this is the n-th time it is
/// reached); stop it here (SIGSTOP, as a GC pause or a suspended VM would) the first time if
/// `PIPELAKE_STOP_AT` names it, until someone sends SIGCONT.
pub fn point(name: &str) {
    if std::env::var("PIPELAKE_STOP_AT").is_ok_and(|p| p == name) && !STOPPED.swap(true, Ordering::SeqCst) {
        eprintln!("pipelake: stopping at {name}");
        // SAFETY: raise only sends a signal to this process.
        unsafe { libc::raise(libc::SIGSTOP) };
    }
    let Ok(spec) = std::env::var("PIPELAKE_FAULT") else { return };
    let (target, nth) = match spec.split_once(':') {
        Some((t, n)) => (t, n.parse::<usize>().unwrap_or(1)),
        None => (spec.as_str(), 1),
    };
    if target == name && HITS.fetch_add(1, Ordering::SeqCst) + 1 == nth {
        eprintln!("pipelake: injected fault at {name}");
        // As abrupt as a kill: no destructors, no cleanup, no core dump.
        std::process::exit(137);
    }
}

/// Hold the warehouse for `PIPELAKE_HOLD` seconds once the writer lock is taken, so that tests
/// can run a second job against a busy warehouse deterministically.
pub fn hold() {
    if let Some(seconds) = std::env::var("PIPELAKE_HOLD").ok().and_then(|s| s.parse::<f64>().ok()) {
        std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
    }
}

/// Panic while decoding an object whose key contains `PIPELAKE_PANIC_ON`, standing in for a
/// decoder bug that some input reaches: tests check that it costs that object alone.
pub fn panic_on(key: &str) {
    if let Ok(marker) = std::env::var("PIPELAKE_PANIC_ON") {
        if !marker.is_empty() && key.contains(&marker) {
            panic!("injected panic decoding {key}");
        }
    }
}
