//! The `pipelake` binary: a thin command line over the library.

mod cli;

/// polars allocates and frees many short-lived buffers; mimalloc serves that pattern far better
/// than the system allocator (measured in bench/run.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its option enum has no Rust constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    // By default mimalloc gives unused memory back to the OS after 10 ms, and the next batch faults
    // the same pages in again: zeroing them took ~13% of a telemetry run. Keeping them a second
    // measured 17% faster on telemetry and 5-10% on pipelines, for ~20% more peak RSS. An explicit
    // MIMALLOC_PURGE_DELAY still wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads it on each purge decision.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
    }
    cli::main()
}
