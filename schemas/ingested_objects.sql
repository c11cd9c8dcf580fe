-- ingested_objects
-- One row per raw object version read (an object changed after ingest is read again); partitioned by landing day. records = accepted + duplicates + rejected + skipped.
-- Files: under <warehouse>/ingested_objects/date=YYYY-MM-DD/ (Parquet, zstd), those the newest version of the commit log names;
-- read them through <warehouse>/pipelake.duckdb or `pipelake views`, never by globbing the folder.
CREATE TABLE ingested_objects (
    source VARCHAR,  -- source folder the object was found under
    raw_key VARCHAR,  -- object key relative to the raw root
    size BIGINT,  -- object size in bytes as stored (compressed)
    landed DATE,  -- landing day: the dt= folder, else the object's last-modified day (UTC)
    ingested_at TIMESTAMP,  -- when pipelake ingested it, UTC
    records BIGINT,  -- records found in the object
    accepted BIGINT,  -- records written to fact tables
    duplicates BIGINT,  -- records dropped as duplicates of an earlier delivery
    rejected BIGINT,  -- records sent to the rejects
    skipped BIGINT,  -- valid records of a kind the source does not use (a webhook event such as star); 0 in rows written before the column
    date DATE  -- Hive partition (the folder date=YYYY-MM-DD), not stored in the files
);
