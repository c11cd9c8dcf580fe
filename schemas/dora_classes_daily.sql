-- dora_classes_daily
-- One row per date, repo, window_days, report_year and metric of dora_keys_daily: the metric's value and its class (2023: elite, high, medium, low; 2025: the answer band); partitioned by date.
-- Files: under <warehouse>/dora_classes_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE dora_classes_daily (
    repo VARCHAR,  -- owner/name, or * for all repositories
    window_days BIGINT,  -- 7, 30 or 90
    report_year BIGINT,  -- 2023 (DORA 2023 clusters as Apache DevLake reads them) or 2025 (the 2025 report's answer bands)
    metric VARCHAR,  -- deployment_frequency, lead_time, change_failure_rate, recovery_time or rework_rate
    value DOUBLE,  -- deployment_frequency: deploy days per week (2023) or seconds between deployments (2025); lead_time and recovery_time: median seconds; rates: a fraction 0-1
    class VARCHAR,  -- 2023: elite, high, medium, low; 2025: lt_1h, lt_1d, lt_1w, lt_1m, lt_6m, gte_6m (NULL for the rates); NULL where the value is NULL
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
