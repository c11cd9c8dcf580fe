-- perf_commits
-- One row per commit: tests run, passed, failed, total and average execution time, average memory.
-- Files: under <warehouse>/perf_commits/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE perf_commits (
    git_commit VARCHAR,  -- short commit hash
    tests BIGINT,  -- tests with a figure for this commit
    passed BIGINT,  -- tests whose trace result was 0
    failed BIGINT,  -- tests whose trace result was not 0 (tests without a trace are neither)
    total_time_s DOUBLE,  -- sum of execution times, seconds (NULL when no test has one)
    avg_time_s DOUBLE,  -- average execution time per test, seconds
    avg_memory_bytes DOUBLE,  -- average RSS after a test, bytes
    commit_seq BIGINT,  -- the commit's place in landing order
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
