//! `pipelake report`: one self-contained HTML file (inline SVG, no network) with what people look
//! at: pipelines, DORA metrics, telemetry and perf. Every figure comes from SQL over the same
//! DuckDB views analysts use; a source without data in the range says so instead of drawing
//! empty axes.

mod svg;

use std::fmt::Write;

use chrono::NaiveDate;
use duckdb::types::Value;
use duckdb::Connection;

use self::svg::{bars, esc, lines, Series};
use crate::error::Result;
use crate::query;
use crate::warehouse::Warehouse;

/// The report for event days `from..=to` (all days when not given), as HTML.
pub fn render(warehouse: &Warehouse, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<String> {
    let conn = query::connect(warehouse, None)?;
    let range = Range {
        from: from.unwrap_or(NaiveDate::from_ymd_opt(1, 1, 1).expect("a date")),
        to: to.unwrap_or(NaiveDate::from_ymd_opt(9999, 12, 31).expect("a date")),
    };
    let mut body = String::new();
    for section in [pipelines, ci_health, dora_keys, dora, telemetry, perf] {
        body.push_str(&section(&conn, &range)?);
    }
    let span = match (from, to) {
        (Some(f), Some(t)) => format!("{f} to {t}"),
        (Some(f), None) => format!("from {f}"),
        (None, Some(t)) => format!("up to {t}"),
        (None, None) => "all days".to_string(),
    };
    Ok(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pipelake report</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 780px; color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 18px; border-bottom: 1px solid #ccc; margin-top: 32px; }} h3 {{ font-size: 14px; }}
svg.chart {{ width: 100%; height: auto; background: #fafafa; }}
.legend span {{ margin-right: 12px; font-size: 12px; }} .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
table {{ border-collapse: collapse; font-size: 12px; }} td, th {{ border: 1px solid #ddd; padding: 2px 6px; text-align: right; }}
.empty {{ color: #777; font-style: italic; }}
</style></head>
<body>
<h1>pipelake report</h1>
<p>Warehouse {}, event days: {}.</p>
{body}
<script>
// Check that every chart holds the points it announces; the result is on the body for tests.
var charts = document.querySelectorAll("svg.chart"), bad = 0;
charts.forEach(function (c) {{
  if (c.querySelectorAll(".pt, .bar").length !== Number(c.dataset.points)) bad++;
}});
document.body.dataset.charts = String(charts.length);
document.body.dataset.bad = String(bad);
</script>
</body></html>
"#,
        esc(&crate::redact::redact(warehouse.location().url())),
        esc(&span)
    ))
}

struct Range {
    from: NaiveDate,
    to: NaiveDate,
}

impl Range {
    fn sql(&self) -> String {
        format!("date BETWEEN DATE '{}' AND DATE '{}'", self.from, self.to)
    }
}

fn rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<Value>>> {
    Ok(query::run(conn, sql)?.1)
}

/// [`rows`] with one text value bound to `?`: names from the data never become SQL.
fn rows_with(conn: &Connection, sql: &str, value: &str) -> Result<Vec<Vec<Value>>> {
    Ok(query::run_with(conn, sql, &[&value])?.1)
}

/// A value to draw: numbers only, and finite ones (an `inf` or `NaN` has no place on an axis).
fn f64_of(v: &Value) -> Option<f64> {
    finite_f64(v).filter(|f| f.is_finite())
}

fn finite_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Float(f) => Some(f64::from(*f)),
        Value::BigInt(i) => Some(*i as f64),
        Value::Int(i) => Some(f64::from(*i)),
        Value::HugeInt(i) => Some(*i as f64),
        Value::UBigInt(i) => Some(*i as f64),
        Value::Decimal(d) => d.to_string().parse().ok(),
        _ => None,
    }
}

fn text_of(v: &Value) -> String {
    query::text(v)
}

/// (label, value) pairs from the first two columns, rows with a NULL value left out.
fn pairs(rows: &[Vec<Value>]) -> Vec<(String, f64)> {
    rows.iter().filter_map(|r| Some((text_of(&r[0]), f64_of(&r[1])?))).collect()
}

/// Series keyed by the first column, (label, value) from the second and third.
fn series_by(rows: &[Vec<Value>]) -> Vec<Series> {
    let mut out: Vec<Series> = Vec::new();
    for r in rows {
        let Some(v) = f64_of(&r[2]) else { continue };
        let name = text_of(&r[0]);
        match out.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push((text_of(&r[1]), v)),
            None => out.push(Series { name, points: vec![(text_of(&r[1]), v)] }),
        }
    }
    out
}

fn table(header: &[&str], rows: &[Vec<Value>]) -> String {
    let mut out = String::from("<table><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for v in r {
            let _ = write!(out, "<td>{}</td>", esc(&text_of(v)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    out
}

fn section(title: &str, source: &str, parts: Vec<String>) -> String {
    let parts: Vec<String> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    if parts.is_empty() {
        return format!(r#"<section><h2>{}</h2><p class="empty">No {} data in this range.</p></section>"#, esc(title), esc(source));
    }
    format!("<section><h2>{}</h2>{}</section>", esc(title), parts.join("\n"))
}

fn pipelines(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let per_day = pairs(&rows(conn, &format!("SELECT date, sum(pipelines) FROM pipeline_daily WHERE {r} GROUP BY date ORDER BY date"))?);
    let mut parts = Vec::new();
    if !per_day.is_empty() {
        parts.push(format!("<h3>Pipelines per day</h3>{}", bars("pipelines per day", &per_day, "pipelines")));
        let busiest = rows(
            conn,
            &format!("SELECT project FROM pipeline_daily WHERE {r} AND default_branch GROUP BY project ORDER BY sum(pipelines) DESC, project LIMIT 3"),
        )?;
        for project in busiest.iter().map(|p| text_of(&p[0])) {
            let series = series_by(&rows_with(
                conn,
                &format!(
                    "SELECT metric, date, seconds FROM (
                        SELECT date, to_e2e_p50, to_e2e_p95, e2e_p50, e2e_p95 FROM pipeline_daily
                        WHERE {r} AND default_branch AND project = ?)
                     UNPIVOT (seconds FOR metric IN (to_e2e_p50, to_e2e_p95, e2e_p50, e2e_p95))
                     ORDER BY metric, date"
                ),
                &project,
            )?);
            parts.push(format!(
                "<h3>{} (default branch): time to e2e and e2e time, p50 and p95, seconds</h3>{}",
                esc(&project),
                lines(&format!("{project} percentiles"), &series, "s")
            ));
        }
        let restarts = pairs(&rows(
            conn,
            &format!("SELECT date, 100 * sum(restart_rate * pipelines) / sum(pipelines) FROM pipeline_daily WHERE {r} GROUP BY date ORDER BY date"),
        )?);
        parts.push(format!(
            "<h3>Restart rate, % of pipelines</h3>{}",
            lines("restart rate", &[Series { name: "all projects".into(), points: restarts }], "%")
        ));
    }
    Ok(section("Pipelines", "pipelines", parts))
}

fn dora(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let frequency =
        series_by(&rows(conn, &format!("SELECT repo, date, deploy_frequency_30d FROM dora_daily WHERE {r} ORDER BY repo, date"))?);
    let mut parts = Vec::new();
    if !frequency.is_empty() {
        parts.push(format!(
            "<h3>Deployment frequency: median weekdays with a deploy per week, last 30 days</h3>{}",
            lines("deployment frequency", &frequency, "days/week")
        ));
        let lead = series_by(&rows(
            conn,
            &format!(
                "SELECT repo, date, lead_time_median_seconds_30d / 3600 FROM dora_daily WHERE {r} AND lead_time_median_seconds_30d IS NOT NULL ORDER BY repo, date"
            ),
        )?);
        if !lead.is_empty() {
            parts.push(format!("<h3>Lead time for changes: 30-day median, hours</h3>{}", lines("lead time", &lead, "h")));
        }
        let latest = rows(
            conn,
            &format!(
                "SELECT repo, date, deploys_30d, deploy_frequency_30d, deploy_frequency_class,
                    round(lead_time_median_seconds_30d / 3600, 1), lead_time_class
                 FROM dora_daily WHERE date = (SELECT max(date) FROM dora_daily WHERE {r}) ORDER BY repo"
            ),
        )?;
        parts.push(format!(
            "<h3>DORA 2023 classes on the last day</h3>{}",
            table(&["repo", "date", "deploys (30 d)", "frequency", "class", "lead time (h)", "class"], &latest)
        ));
    }
    Ok(section("DORA: deployment frequency and lead time", "devops_events", parts))
}

/// CI health: success rate and time to green of the default branch per repository over time
/// (the busiest ones: a collector may run hundreds), the slowest and the flakiest jobs, queue
/// time against run time.
fn ci_health(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let busiest = format!(
        "{r} AND repo IN (SELECT repo FROM ci_health_daily WHERE {r} AND default_branch GROUP BY repo ORDER BY sum(runs) DESC, repo LIMIT 6)"
    );
    let mut parts = Vec::new();
    let rate = series_by(&rows(
        conn,
        &format!(
            "SELECT repo, date, 100 * sum(succeeded) / nullif(sum(runs - cancelled), 0) FROM ci_health_daily
             WHERE {busiest} AND default_branch GROUP BY repo, date ORDER BY repo, date"
        ),
    )?);
    if rate.is_empty() {
        return Ok(section("CI health", "workflow run or pipeline", parts));
    }
    parts.push(format!("<h3>Success rate of the default branch, % (cancelled runs left out)</h3>{}", lines("success rate", &rate, "%")));
    let red = series_by(&rows(
        conn,
        &format!("SELECT repo, date, sum(red_seconds) / 3600 FROM ci_health_daily WHERE {busiest} AND default_branch GROUP BY repo, date ORDER BY repo, date"),
    )?);
    parts.push(format!("<h3>Hours the default branch was red, per day</h3>{}", lines("red hours", &red, "h")));
    let green = series_by(&rows(
        conn,
        &format!(
            "SELECT repo, date, time_to_green_p50_s / 60 FROM ci_health_daily
             WHERE {busiest} AND default_branch AND time_to_green_p50_s IS NOT NULL ORDER BY repo, date"
        ),
    )?);
    if !green.is_empty() {
        parts.push(format!("<h3>Time to green: median red spell ended that day, minutes</h3>{}", lines("time to green", &green, "min")));
    }
    let jobs = |order: &str, filter: &str| {
        rows(
            conn,
            &format!(
                "SELECT repo, job, sum(runs), sum(failed), round(quantile_cont(run_p50_s, 0.5), 1), round(quantile_cont(queue_p50_s, 0.5), 1),
                    sum(flaky_runs), round(100 * sum(flaky_runs) / sum(runs), 1), round(sum(failed_attempt_s) / 60, 1)
                 FROM ci_job_daily WHERE {r} GROUP BY repo, job {filter} ORDER BY {order} LIMIT 10"
            ),
        )
    };
    let header =
        ["repo", "job", "attempts", "failed", "run p50 (s)", "queue p50 (s)", "flaky runs", "flake rate %", "lost to flakes (min)"];
    parts.push(format!(
        "<h3>Slowest jobs (median of the daily run time p50), with their queue time</h3>{}",
        table(&header, &jobs("5 DESC, 1, 2", "")?)
    ));
    parts.push(format!(
        "<h3>Flakiest jobs (failed, then passed in the same run and sha)</h3>{}",
        table(&header, &jobs("8 DESC, 7 DESC, 1, 2", "HAVING sum(flaky_runs) > 0")?)
    ));
    Ok(section("CI health", "workflow run or pipeline", parts))
}

/// The five keys from webhooks and toolkit events: per repository over time, the last day's
/// numbers with their numerators and classes, and each incident with the deployment it was
/// attributed to and how.
fn dora_keys(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let mut parts = Vec::new();
    // The busiest repositories and all of them together.
    let top = format!(
        "(repo = '*' OR repo IN (SELECT repo FROM dora_keys_daily WHERE {r} AND window_days = 30 AND repo <> '*'
            GROUP BY repo ORDER BY max(deployments) DESC, repo LIMIT 5))"
    );
    let chart = |title: &str, expr: &str, unit: &str| -> Result<Option<String>> {
        let series = series_by(&rows(
            conn,
            &format!("SELECT repo, date, {expr} FROM dora_keys_daily WHERE {r} AND window_days = 30 AND {top} ORDER BY repo, date"),
        )?);
        Ok((!series.is_empty()).then(|| format!("<h3>{}</h3>{}", esc(title), lines(title, &series, unit))))
    };
    let charts = [
        ("Deployments, last 30 days", "deployments", "deployments"),
        ("Lead time for changes: median over the 30 days, hours", "lead_time_p50_seconds / 3600", "h"),
        ("Change failure rate over the 30 days, %", "100 * change_failure_rate", "%"),
        ("Failed deployment recovery time: median over the 30 days, hours", "recovery_p50_seconds / 3600", "h"),
        ("Rework rate over the 30 days, %", "100 * rework_rate", "%"),
    ];
    for (title, expr, unit) in charts {
        parts.extend(chart(title, expr, unit)?);
    }
    if parts.is_empty() {
        return Ok(section("DORA: the five keys", "deployment or incident", parts));
    }
    let last = rows(
        conn,
        &format!(
            "SELECT k.repo, k.date, k.deployments, k.deploy_days,
                round(k.lead_time_p50_seconds / 3600, 1), k.lead_time_changes,
                k.failed_deployments || ' / ' || k.deployments, round(k.recovery_p50_seconds / 3600, 1), k.recovered_incidents,
                round(k.time_to_restore_p50_seconds / 3600, 1), k.rework_deployments || ' / ' || k.deployments,
                string_agg(c.metric || ' ' || c.class, ', ' ORDER BY c.metric)
             FROM dora_keys_daily k LEFT JOIN dora_classes_daily c
               ON c.date = k.date AND c.repo = k.repo AND c.window_days = k.window_days AND c.report_year = 2023 AND c.class IS NOT NULL
             WHERE k.window_days = 30 AND k.date = (SELECT max(date) FROM dora_keys_daily WHERE {r})
             GROUP BY ALL ORDER BY any_value(k.repo = '*'), k.repo"
        ),
    )?;
    parts.push(format!(
        "<h3>The last day, 30-day window, with the working</h3>{}",
        table(
            &[
                "repo",
                "date",
                "deployments",
                "days",
                "lead time p50 (h)",
                "of changes",
                "failed / deployments",
                "recovery p50 (h)",
                "of incidents",
                "restore p50 (h)",
                "rework / deployments",
                "DORA 2023 classes",
            ],
            &last
        )
    ));
    let incidents = rows(
        conn,
        &format!(
            "SELECT opened_at, coalesce(repo, '(service ' || service || ', not mapped)'), source, incident_id, resolved_at,
                CASE WHEN reopened THEN 'yes' ELSE '' END, coalesce(attribution, 'none'), deployment_id, deployed_at, root_cause_sha
             FROM incidents WHERE {r} ORDER BY opened_at DESC, source, incident_id LIMIT 50"
        ),
    )?;
    if !incidents.is_empty() {
        parts.push(format!(
            "<h3>Incidents (latest 50) and the deployment each was attributed to</h3>{}",
            table(
                &["opened", "repo", "source", "id", "resolved", "reopened", "attribution", "deployment", "deployed", "root cause"],
                &incidents
            )
        ));
    }
    Ok(section("DORA: the five keys", "deployment or incident", parts))
}

fn telemetry(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let last = format!("date = (SELECT max(date) FROM telemetry_age_daily WHERE {r})");
    let ages = pairs(&rows(conn, &format!("SELECT age_days, systems FROM telemetry_age_daily WHERE {last} ORDER BY age_days"))?);
    let mut parts = Vec::new();
    if !ages.is_empty() {
        parts.push(format!("<h3>Systems by age (days since first seen), last day</h3>{}", bars("age histogram", &ages, "systems")));
        let component = rows(
            conn,
            &format!(
                "SELECT component FROM telemetry_versions_daily WHERE {r} GROUP BY component ORDER BY sum(systems) DESC, component LIMIT 1"
            ),
        )?;
        if let Some(component) = component.first().map(|c| text_of(&c[0])) {
            let versions = series_by(&rows_with(
                conn,
                &format!(
                    "SELECT version, date, systems FROM telemetry_versions_daily
                     WHERE {r} AND component = ? AND granularity = 'xy' ORDER BY version, date"
                ),
                &component,
            )?);
            parts.push(format!(
                "<h3>{} versions (X.Y) over time, persistent systems</h3>{}",
                esc(&component),
                lines(&format!("{component} versions"), &versions, "systems")
            ));
        }
        let postgres = pairs(&rows(
            conn,
            &format!(
                "SELECT display, sum(systems) FROM telemetry_postgresql_daily
                 WHERE date = (SELECT max(date) FROM telemetry_postgresql_daily WHERE {r}) GROUP BY display ORDER BY display"
            ),
        )?);
        if !postgres.is_empty() {
            parts.push(format!("<h3>PostgreSQL versions, last day</h3>{}", bars("PostgreSQL versions", &postgres, "systems")));
        }
    }
    Ok(section("Telemetry", "telemetry", parts))
}

fn perf(conn: &Connection, range: &Range) -> Result<String> {
    let r = range.sql();
    let totals = pairs(&rows(conn, &format!("SELECT git_commit, total_time_s FROM perf_commits WHERE {r} ORDER BY commit_seq"))?);
    let mut parts = Vec::new();
    if !totals.is_empty() {
        parts.push(format!("<h3>Total test time per commit, seconds (landing order)</h3>{}", bars("total test time", &totals, "s")));
        let slower = rows(
            conn,
            &format!(
                "SELECT git_commit, test_name, previous_commit, round(1000 * execution_time_change_s, 3), memory_change_bytes
                 FROM perf_test_changes WHERE {r} AND execution_time_change_s > 0
                   AND git_commit = (SELECT git_commit FROM perf_commits WHERE {r} ORDER BY commit_seq DESC LIMIT 1)
                 ORDER BY execution_time_change_s DESC, test_name LIMIT 10"
            ),
        )?;
        parts.push(format!(
            "<h3>Tests that got slower in the latest commit</h3>{}",
            table(&["commit", "test", "against", "slower (ms)", "memory change (bytes)"], &slower)
        ));
    }
    Ok(section("Test performance (PerfCI)", "perf", parts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_are_never_drawn() {
        let rows = vec![
            vec![Value::Text("a".into()), Value::Double(f64::NAN)],
            vec![Value::Text("b".into()), Value::Double(f64::INFINITY)],
            vec![Value::Text("c".into()), Value::Double(2.0)],
            vec![Value::Text("d".into()), Value::Null],
        ];
        assert_eq!(pairs(&rows), vec![("c".to_string(), 2.0)]);
        let series = series_by(&[vec![Value::Text("s".into()), Value::Text("x".into()), Value::Double(f64::NEG_INFINITY)]]);
        assert!(series.is_empty());
        let svg = svg::bars("t", &pairs(&rows), "u");
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        // Names are escaped, control characters (a NUL) replaced.
        assert_eq!(esc("a\0<b>'\"&"), "a\u{FFFD}&lt;b&gt;&#39;&quot;&amp;");
    }
}
