//! `pipelake report` in a real browser: headless Chromium (Debian's `chromium`, installed by
//! `.ci/run`) loads the one HTML file offline, logs no console message, finds every chart's
//! points, and writes a screenshot.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{scalar, Lake};

fn chromium() -> PathBuf {
    let path = PathBuf::from(std::env::var("PIPELAKE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(path.exists(), "{} not found: the report test needs Debian's chromium (bash .ci/run installs it)", path.display());
    path
}

/// Load `page` headless; returns the DOM after its scripts ran and the console messages.
fn load(page: &Path, extra: &[&str]) -> (String, Vec<String>) {
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", "--window-size=900,5200"])
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let console = String::from_utf8_lossy(&out.stderr).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

fn attribute(dom: &str, name: &str) -> Option<String> {
    let at = dom.find(&format!("{name}=\""))? + name.len() + 2;
    Some(dom[at..].split('"').next()?.to_string())
}

#[test]
fn the_report_opens_offline_with_every_chart_drawn() {
    let lake = Lake::new();
    lake.generate(12, 120);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-12"]);
    let page = lake.dir.path().join("report.html");
    lake.ok(&["report", "--from", "2026-10-01", "--to", "2026-10-12", "--out", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    // One file: nothing fetched from anywhere.
    for fetch in ["<link", "src=", "url(", "@import"] {
        assert!(!html.contains(fetch), "the report refers to something outside itself: {fetch}");
    }

    let (dom, console) = load(&page, &["--dump-dom"]);
    assert!(console.is_empty(), "console messages: {console:?}");
    let charts = html.matches("<svg class=\"chart\"").count();
    assert!(charts >= 10, "{charts} charts");
    assert_eq!(attribute(&dom, "data-charts").as_deref(), Some(charts.to_string().as_str()), "the page's script ran over every chart");
    assert_eq!(attribute(&dom, "data-bad").as_deref(), Some("0"), "a chart lacks some of its points");
    // Spot checks against the warehouse: one bar per day with pipelines, one per perf commit.
    let db = lake.duckdb();
    let days = scalar(&db, "SELECT count(DISTINCT date) FROM pipeline_daily WHERE date BETWEEN DATE '2026-10-01' AND DATE '2026-10-12'");
    let chart = |kind: &str, points: i64, label: &str| {
        format!(r#"data-kind="{kind}" data-points="{points}" viewBox="0 0 720 240" role="img" aria-label="{label}""#)
    };
    assert!(html.contains(&chart("bars", days, "pipelines per day")), "one bar per day");
    let commits = scalar(&db, "SELECT count(*) FROM perf_commits WHERE total_time_s IS NOT NULL");
    assert!(html.contains(&chart("bars", commits, "total test time")), "one bar per perf commit");
    for section in ["Pipelines", "CI health", "DORA: the five keys", "DORA: deployment", "Telemetry", "Test performance"] {
        assert!(html.contains(&format!("<h2>{section}")), "{section}");
    }
    assert!(!html.contains("class=\"empty\""), "every source has data here");
    // The five keys with their working: the last day's failed / deployments of all repositories,
    // and the incidents with how each was attributed.
    let working = common::rows(
        &db,
        "SELECT failed_deployments || ' / ' || deployments FROM dora_keys_daily WHERE repo = '*' AND window_days = 30
         AND date = (SELECT max(date) FROM dora_keys_daily WHERE date <= DATE '2026-10-12')",
    );
    assert!(html.contains("<td>*</td><td>2026-10-12</td>") && html.contains(&format!("<td>{}</td>", working[0][0])), "{working:?}");
    for how in ["root_cause", "last_deployment"] {
        let n = scalar(&db, &format!("SELECT count(*) FROM incidents WHERE attribution = '{how}' AND date <= DATE '2026-10-12'"));
        assert!(n > 0 && html.contains(&format!("<td>{how}</td>")), "{how}: {n}");
    }

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    let _ = std::fs::remove_file(&shot);
    load(&page, &[&format!("--screenshot={}", shot.display())]);
    assert!(std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 20_000, "no screenshot at {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}

#[test]
fn sources_without_data_say_so_instead_of_drawing_empty_axes() {
    let lake = Lake::new();
    lake.ok(&["generate", "--source", "pipelines", "--days", "2", "--per-day", "50", "--start", "2026-10-01"]);
    lake.ok(&["run", "--from", "2026-10-01", "--to", "2026-10-02"]);
    let page = lake.dir.path().join("out/r.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    lake.ok(&["report", "--out", page.to_str().unwrap()]);
    let html = std::fs::read_to_string(&page).unwrap();
    for source in ["devops_events", "telemetry", "perf"] {
        assert!(html.contains(&format!("No {source} data in this range.")), "{source}");
    }
    let (dom, console) = load(&page, &["--dump-dom"]);
    assert!(console.is_empty(), "console messages: {console:?}");
    assert_eq!(attribute(&dom, "data-bad").as_deref(), Some("0"));
    // Only the pipelines charts: nothing drawn for the sources without data.
    assert!(html.split("<h2>").skip(2).all(|s| !s.contains("<svg")), "a chart in a section without data");

    // A range the other way round is bad usage.
    let out = lake.cmd(&["report", "--from", "2026-10-05", "--to", "2026-10-01", "--out", "x.html"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
