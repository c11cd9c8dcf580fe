//! The `pipelake` binary: a thin command line over the library.

mod cli;

/// polars allocates and frees many short-lived buffers; mimalloc serves that pattern far better
/// than the system allocator (measured in bench/run.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc v3's `mi_option_t`; the Rust bindings have no
/// constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // Batches allocate and free the same few hundred MB over and over. By default mimalloc gives
    // freed memory back to the OS after 10 ms and asks for transparent huge pages, so every
    // batch faults its memory in again, 2 MB zeroed per fault: up to a quarter of a telemetry
    // run's CPU went to clearing pages. Keeping freed memory (a batch job's footprint is its peak
    // anyway) and plain 4 KB pages measured 3.2 s instead of 3.9 s on the telemetry benchmark,
    // sys time 0.9 s instead of 2.3 s, peak RSS within 5%. MIMALLOC_PURGE_DELAY and
    // MIMALLOC_ALLOW_THP, when set, still win.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads it on each purge decision.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    // mimalloc decides on huge pages when it starts, before main: turn them off for the process.
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: prctl with plain integer arguments; it only sets a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
    cli::main()
}
