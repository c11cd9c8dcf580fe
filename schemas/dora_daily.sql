-- dora_daily
-- Per day and repo (and repo '*' for all repos together), for every repo with a deploy in the weeks the frequency looks at: deploys, deployment frequency and lead time with their DORA 2023 classes.
-- Files: under <warehouse>/dora_daily/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE dora_daily (
    repo VARCHAR,  -- repository, or * for all repos together
    deploys BIGINT,  -- deploys that day
    deploys_30d BIGINT,  -- deploys in the 30 days ending that day
    deploy_days_30d BIGINT,  -- days with a deploy in the 30 days ending that day
    deploy_frequency_30d DOUBLE,  -- the toolkit's deployment frequency: over the Monday-Sunday weeks from the week of (date - 30 days) to the week of date, the median count per week of weekdays with a deploy (days after date not counted, empty weeks 0, median as pandas)
    deploy_frequency_class VARCHAR,  -- DORA 2023: elite (>= 5 deploy days a week), high (>= 1 a week), medium (>= 1 in 30 days), low
    lead_time_median_seconds_30d DOUBLE,  -- median lead_time_seconds of the deploys in the 30 days ending that day (those with a lead time); NULL when none
    lead_time_class VARCHAR,  -- DORA 2023: elite (< 1 day), high (< 7 days), medium (< 30 days), low; NULL without a lead time
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
