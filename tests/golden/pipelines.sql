# pipelines kept per day: first delivery of each pipeline_id
SELECT date, count(*) AS pipelines, count(DISTINCT pipeline_id) AS ids FROM pipelines GROUP BY date ORDER BY date
----
date,pipelines,ids
2026-09-30,29,29
2026-10-01,184,184
2026-10-02,212,212
2026-10-03,169,169
2026-10-04,7,7

# every record of every raw object accounted for
SELECT source, count(*) AS objects, sum(records) AS records, sum(accepted) AS accepted, sum(duplicates) AS duplicates, sum(rejected) AS rejected FROM ingested_objects GROUP BY source ORDER BY source
----
source,objects,records,accepted,duplicates,rejected
devops_events,6,627,589,33,5
perf,3,15,14,1,0
pipelines,12,630,601,25,4
telemetry,10,614,574,14,26

# reasons records were rejected
SELECT raw_key, position, reason FROM rejects WHERE source = 'pipelines' ORDER BY raw_key, position
----
raw_key,position,reason
pipelines/dt=2026-10-02/legacy-sender.ndjson,5,"created_at ""02/10/2026 16:00"" is not an RFC 3339 timestamp"
pipelines/dt=2026-10-02/legacy-sender.ndjson,6,invalid payload: EOF while parsing at line 1 column 136
pipelines/dt=2026-10-02/part-2.jsonl.zst,28,"created_at ""13/06/2023 14:11"" is not an RFC 3339 timestamp"
pipelines/dt=2026-10-03/part-1.ndjson.gz,62,"invalid payload: invalid type: string ""97s"", expected whole seconds at line 1 column 101"

# builds: a lone build total stands for one build named build-e2e
SELECT build_name, count(*) AS builds, sum(seconds) AS seconds FROM pipeline_builds GROUP BY ALL ORDER BY ALL
----
build_name,builds,seconds
build-e2e,600,126256
build-unit,70,4100

# p50/p95 of time to e2e and e2e time, default branch, busiest projects
SELECT date, project, pipelines, to_e2e_p50, to_e2e_p95, e2e_p50, e2e_p95, round(restart_rate, 4) AS restart_rate FROM pipeline_daily WHERE default_branch ORDER BY pipelines DESC, date, project LIMIT 8
----
date,project,pipelines,to_e2e_p50,to_e2e_p95,e2e_p50,e2e_p95,restart_rate
2026-10-01,group2/service-6,3,421,423.7,597,1264.8,0
2026-10-01,group3/service-8,3,352,517.6,393,1229.9999999999998,0
2026-10-01,group7/service-4,3,383,496.4,1482,1631.3999999999999,0
2026-10-02,group0/service-10,3,156,594.3,439,439,0.6667
2026-10-03,group0/service-10,3,331,420.09999999999997,803,1478,0
2026-10-01,group1/service-1,2,234,309.59999999999997,625.5,725.85,0
2026-10-01,group2/service-1,2,286,299.5,875,1445.6,0
2026-10-01,group4/service-8,2,213,340.8,747,1115.1000000000001,0

# jobs with null pull times are kept as NULL, not 0
SELECT count(*) AS jobs, count(pull) AS with_pull, count(up_without_pull) AS with_up_without_pull FROM pipeline_jobs
----
jobs,with_pull,with_up_without_pull
1544,385,385

# timestamps are UTC; offsets move pipelines to their UTC day
SELECT min(created_at) AS first, max(created_at) AS last FROM pipelines
----
first,last
2026-09-30 17:55:32.243,2026-10-04 03:45:32.458
