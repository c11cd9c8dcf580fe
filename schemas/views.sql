-- One row per CI pipeline (first delivery of each pipeline_id); partitioned by the UTC day of created_at.
CREATE OR REPLACE VIEW pipelines AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per job of a pipeline in `pipelines`; partitioned like its pipeline.
CREATE OR REPLACE VIEW pipeline_jobs AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per build of a pipeline in `pipelines` (a lone `build` total is one build named build-e2e); partitioned like its pipeline.
CREATE OR REPLACE VIEW pipeline_builds AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per entry of jobs_failed (a failed attempt of a job) of a pipeline in `pipelines`, in the order sent; partitioned like its pipeline.
CREATE OR REPLACE VIEW pipeline_failed_jobs AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One check-in per system and day (the first in landing order); partitioned by the day it was received.
CREATE OR REPLACE VIEW telemetry_checkins AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per installed component of a check-in in telemetry_checkins; partitioned like it.
CREATE OR REPLACE VIEW telemetry_components AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per DevOps event (exact duplicates once); partitioned by the UTC day of time.
CREATE OR REPLACE VIEW devops_events AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per test of a resource or trace message (redelivered messages once); partitioned by the day the commit's first message landed.
CREATE OR REPLACE VIEW perf_samples AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per project and commit hash (the first delivery); partitioned by the UTC day of authored_at.
CREATE OR REPLACE VIEW commits AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per distinct deployment or deployment status delivery (GitHub, GitLab); partitioned by the UTC day of occurred_at.
CREATE OR REPLACE VIEW deployment_events AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per distinct push or pull/merge request delivery (GitHub, GitLab); partitioned by the UTC day of occurred_at.
CREATE OR REPLACE VIEW change_events AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per distinct issue delivery (GitHub, GitLab) or PagerDuty incident event; partitioned by the UTC day of occurred_at.
CREATE OR REPLACE VIEW incident_events AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per distinct workflow run or job (GitHub), pipeline or job (GitLab) delivery; partitioned by the UTC day of occurred_at.
CREATE OR REPLACE VIEW ci_events AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per UTC day, project and default_branch: pipeline count and PERCENTILE_CONT (linear) percentiles.
CREATE OR REPLACE VIEW pipeline_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day: the age histogram of all systems that checked in.
CREATE OR REPLACE VIEW telemetry_age_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day, over persistent systems: averages of workers and content apps (unset fields left out, not counted as 0).
CREATE OR REPLACE VIEW telemetry_averages_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day and component, over persistent systems: systems per X.Y version (xy) and per full version (xyz).
CREATE OR REPLACE VIEW telemetry_versions_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day, over persistent systems: systems per PostgreSQL server_version_num.
CREATE OR REPLACE VIEW telemetry_postgresql_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day and RBAC metric, over persistent systems with rbac_stats: how many systems have each value.
CREATE OR REPLACE VIEW telemetry_rbac_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per deploy event, partitioned by the UTC day of deploy_time, with its lead time for changes.
CREATE OR REPLACE VIEW dora_deployments AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per day and repo (and repo '*' for all repos together), for every repo with a deploy in the weeks the frequency looks at: deploys, deployment frequency and lead time with their DORA 2023 classes.
CREATE OR REPLACE VIEW dora_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per commit and test: resource and trace figures joined; partitioned by the day the commit's first message landed.
CREATE OR REPLACE VIEW perf_tests AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per commit: tests run, passed, failed, total and average execution time, average memory.
CREATE OR REPLACE VIEW perf_commits AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per commit and test that an earlier commit (landing order, within 30 days) also ran: time and memory against that run.
CREATE OR REPLACE VIEW perf_test_changes AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per repo, source, deployment_id, folded from its deliveries by their own times; partitioned by the UTC day of the first success, else of creation. DevOps toolkit deploys appear with source devops_events.
CREATE OR REPLACE VIEW deployments AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per repo, sha: the commits pushes listed (GitHub, GitLab, DevOps toolkit pushes) and the merge commits of merged pull/merge requests; partitioned by the UTC day it was first pushed, else merged.
CREATE OR REPLACE VIEW changes AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per source, incident_id (GitHub issues labelled incident, GitLab incidents, PagerDuty incidents), folded from its deliveries by their own times; partitioned by the UTC day it opened.
CREATE OR REPLACE VIEW incidents AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- The five DORA keys (METRICS.md) per date, repo and window_days (7, 30, 90; repo * pools all repositories), over the window ending that date; partitioned by that date. A rate is its numerator over its denominator, NULL when the denominator is 0.
CREATE OR REPLACE VIEW dora_keys_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per date, repo, window_days, report_year and metric of dora_keys_daily: the metric's value and its class (2023: elite, high, medium, low; 2025: the answer band); partitioned by date.
CREATE OR REPLACE VIEW dora_classes_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per source, repo, run_id, attempt: GitHub workflow runs, GitLab pipelines (a retry after a failure is a new attempt), folded from their deliveries by their own times; the collector's pipelines with [sources.pipelines] ci_health = true (one attempt each); partitioned by the UTC day the attempt finished, else was created.
CREATE OR REPLACE VIEW ci_runs AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per source, repo, job_id (one per attempt): GitHub workflow jobs, GitLab jobs, folded from their deliveries by their own times; the collector's jobs (passed) and jobs_failed (failed) with [sources.pipelines] ci_health = true; partitioned by the UTC day the attempt finished, else was created.
CREATE OR REPLACE VIEW ci_jobs AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per date, repo, workflow and default branch or not: the run attempts that finished that day (GitHub workflow runs, GitLab pipelines, the collector's pipelines when on), their outcomes, success rate without the cancelled, duration percentiles, and for the default branch the time it spent red and took to turn green; partitioned by date.
CREATE OR REPLACE VIEW ci_health_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Per date, repo and job name: the job's attempts that finished that day, failures, run and queue time percentiles, and flakes (an attempt failed and a later attempt of the same run and sha passed, counted the day it passed); partitioned by date.
CREATE OR REPLACE VIEW ci_job_daily AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- One row per raw object version read (an object changed after ingest is read again); partitioned by landing day. records = accepted + duplicates + rejected + skipped.
CREATE OR REPLACE VIEW ingested_objects AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- Records that could not be decoded; partitioned by landing day. At most 10,000 per object are kept; past that, one row (position 0) counts the rest.
CREATE OR REPLACE VIEW rejects AS SELECT * FROM read_parquet(<the files of the version>, hive_partitioning = true, hive_types = {'date': DATE});
-- The committed version these views read.
CREATE OR REPLACE VIEW pipelake_version AS SELECT <version>::UBIGINT AS version, <time of its commit> AS committed_at;
