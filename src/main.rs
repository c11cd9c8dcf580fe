//! The `pipelake` binary: a thin command line over the library.

mod cli;

/// polars allocates and frees many short-lived buffers; mimalloc serves that pattern far better
/// than the system allocator (measured in bench/run.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
