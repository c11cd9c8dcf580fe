//! The Parquet pipelake writes, held against `schemas/<table>.sql`, so that a column cannot
//! change by accident. `PIPELAKE_BLESS=1 cargo test --test schemas` rewrites the files after an
//! intended change.

mod common;

use common::{rows, Lake};

#[test]
fn written_parquet_matches_schemas_folder() {
    let lake = Lake::new();
    lake.generate(2, 300);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let db = lake.duckdb();
    let schemas = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let bless = std::env::var_os("PIPELAKE_BLESS").is_some();
    // The views as an analyst gets them, the files of the version (new names each run) left out.
    let views = committed_files_left_out(&lake.ok(&["views"]));
    assert!(views.contains("CREATE OR REPLACE VIEW pipelake_version AS SELECT"), "{views}");
    let views_path = schemas.join("views.sql");
    if bless {
        std::fs::write(&views_path, &views).unwrap();
    } else {
        assert_eq!(
            std::fs::read_to_string(&views_path).unwrap_or_default(),
            views,
            "{} differs from `pipelake views`",
            views_path.display()
        );
    }
    for table in pipelake::query::all_tables() {
        let described = rows(&db, &format!("SELECT column_name, column_type FROM (DESCRIBE {})", table.name));
        assert!(common::scalar(&db, &format!("SELECT count(*) FROM {}", table.name)) > 0, "{} has no rows to describe", table.name);
        // The code's own column list agrees with what the files hold.
        let declared: Vec<Vec<String>> = table
            .columns
            .iter()
            .map(|c| vec![c.name.to_string(), c.sql_type.to_string()])
            .chain([vec!["date".to_string(), "DATE".to_string()]])
            .collect();
        assert_eq!(described, declared, "columns of {}", table.name);

        let mut text = format!(
            "-- {}\n-- {}\n-- Files: under <warehouse>/{}/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;\n-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.\nCREATE TABLE {} (\n",
            table.name, table.doc, table.dir, table.name
        );
        for c in table.columns {
            text += &format!("    {} {},  -- {}\n", c.name, c.sql_type, c.doc);
        }
        text += "    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files\n);\n";
        let path = schemas.join(format!("{}.sql", table.name));
        if bless {
            std::fs::write(&path, &text).unwrap();
        } else {
            let golden =
                std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} is missing: run with PIPELAKE_BLESS=1", path.display()));
            assert_eq!(golden, text, "{} differs from what pipelake writes", path.display());
        }
    }
}

/// `pipelake views` with each view's list of files, and the version it reads, put as words.
fn committed_files_left_out(views: &str) -> String {
    views
        .lines()
        .map(|line| {
            if let (Some(start), Some(end)) = (line.find("read_parquet("), line.find(", hive_partitioning")) {
                format!("{}read_parquet(<the files of the version>{}", &line[..start], &line[end..])
            } else if line.starts_with("CREATE OR REPLACE VIEW pipelake_version") {
                "CREATE OR REPLACE VIEW pipelake_version AS SELECT <version>::UBIGINT AS version, <time of its commit> AS committed_at;"
                    .into()
            } else {
                line.to_string()
            }
        })
        .map(|line| line + "\n")
        .collect()
}
