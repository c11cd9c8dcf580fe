-- commits
-- One row per project and commit hash (the first delivery); partitioned by the UTC day of authored_at.
-- Files: under <warehouse>/commits/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE commits (
    project VARCHAR,  -- project: the JSON's name, or the git log file's name without extensions
    hash VARCHAR,  -- commit hash as sent, lower case (full, or git's short %h)
    author VARCHAR,  -- author name
    authored_at TIMESTAMP,  -- author date, UTC (git prints it with the author's offset)
    message VARCHAR,  -- subject line
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
