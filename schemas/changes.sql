-- changes
-- One row per repo, sha: the commits pushes listed (GitHub, GitLab, DevOps toolkit pushes) and the merge commits of merged pull/merge requests; partitioned by the UTC day it was first pushed, else merged.
-- Files: under <warehouse>/changes/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE changes (
    repo VARCHAR,  -- owner/name (GitLab's path_with_namespace)
    sha VARCHAR,  -- the commit, lower case
    committed_at TIMESTAMP,  -- the commit's timestamp (the committer's offset applied), UTC; NULL for toolkit pushes and merge commits no push listed
    pushed_at TIMESTAMP,  -- the first push listing it, UTC
    merged_at TIMESTAMP,  -- when the pull/merge request whose merge commit it is was merged, UTC
    source VARCHAR,  -- github, gitlab or devops_events: who first reported it
    message VARCHAR,  -- the first line of its commit message
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
