-- pipeline_builds
-- One row per build of a pipeline in `pipelines` (a lone `build` total is one build named build-e2e); partitioned like its pipeline.
-- Files: under <warehouse>/pipeline_builds/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE pipeline_builds (
    pipeline_id BIGINT,  -- the pipeline the build belongs to
    build_name VARCHAR,  -- build name
    seconds BIGINT,  -- build seconds
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
