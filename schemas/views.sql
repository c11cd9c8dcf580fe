-- One row per CI pipeline (first delivery of each pipeline_id); partitioned by the UTC day of created_at.
CREATE OR REPLACE VIEW pipelines AS SELECT * FROM read_parquet('lake/warehouse/pipelines/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- One row per job of a pipeline in `pipelines`; partitioned like its pipeline.
CREATE OR REPLACE VIEW pipeline_jobs AS SELECT * FROM read_parquet('lake/warehouse/pipeline_jobs/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- One row per build of a pipeline in `pipelines` (a lone `build` total is one build named build-e2e); partitioned like its pipeline.
CREATE OR REPLACE VIEW pipeline_builds AS SELECT * FROM read_parquet('lake/warehouse/pipeline_builds/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- One check-in per system and day (the first in landing order); partitioned by the day it was received.
CREATE OR REPLACE VIEW telemetry_checkins AS SELECT * FROM read_parquet('lake/warehouse/telemetry_checkins/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- One row per installed component of a check-in in telemetry_checkins; partitioned like it.
CREATE OR REPLACE VIEW telemetry_components AS SELECT * FROM read_parquet('lake/warehouse/telemetry_components/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- Per UTC day, project and default_branch: pipeline count and PERCENTILE_CONT (linear) percentiles.
CREATE OR REPLACE VIEW pipeline_daily AS SELECT * FROM read_parquet('lake/warehouse/pipeline_daily/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- One row per raw object ingested; partitioned by landing day. records = accepted + duplicates + rejected.
CREATE OR REPLACE VIEW ingested_objects AS SELECT * FROM read_parquet('lake/warehouse/ingested_objects/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
-- Records that could not be decoded; partitioned by landing day.
CREATE OR REPLACE VIEW rejects AS SELECT * FROM read_parquet('lake/warehouse/_rejects/*/*.parquet', hive_partitioning = true, hive_types = {'date': DATE});
