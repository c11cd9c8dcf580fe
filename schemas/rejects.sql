-- rejects
-- Records that could not be decoded; partitioned by landing day. At most 10,000 per object are kept; past that, one row (position 0) counts the rest.
-- Files: under <warehouse>/_rejects/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE rejects (
    source VARCHAR,  -- source folder
    raw_key VARCHAR,  -- object key relative to the raw root
    position BIGINT,  -- 1-based line (NDJSON) or message (protobuf stream) in the object; 0 for the object as a whole
    reason VARCHAR,  -- why the record was rejected
    record VARCHAR,  -- the record's text, cut at 4 KiB (NULL for binary records)
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
