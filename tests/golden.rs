//! Golden rows: SQL over the warehouse built from `sample-data/`, with the expected output
//! beside each query in `tests/golden/*.sql` (the sqllogictest idea). A file holds blocks:
//!
//! ```text
//! # what the query pins
//! SELECT ...
//! ----
//! csv header
//! csv rows
//! ```
//!
//! `PIPELAKE_BLESS=1 cargo test --test golden` rewrites the expected output after an intended change.

mod common;

use common::Lake;

fn sample_lake() -> Lake {
    // With the collector's pipelines in CI health, so that its golden rows are pinned too.
    let lake = Lake::with_config("[sources.pipelines]\nci_health = true\n");
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/raw");
    for f in common::files(&sample) {
        lake.put(&f, std::fs::read(sample.join(&f)).unwrap());
    }
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-03"]);
    lake
}

#[test]
fn golden_queries_over_sample_data() {
    let lake = sample_lake();
    let bless = std::env::var_os("PIPELAKE_BLESS").is_some();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "sql") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut out = String::new();
        for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
            let (head, expected) = block.split_once("\n----").unwrap_or((block, ""));
            let sql: String = head.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
            let actual = lake.ok(&["query", &sql, "--format", "csv"]);
            if !bless {
                assert_eq!(actual.trim(), expected.trim(), "{}: {sql}", path.display());
            }
            out += &format!("{head}\n----\n{}\n\n", actual.trim());
            checked += 1;
        }
        if bless {
            std::fs::write(&path, out.trim_end().to_string() + "\n").unwrap();
        }
    }
    assert!(checked >= 5, "only {checked} golden queries found");
}
