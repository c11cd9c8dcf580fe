# pipelines kept per day: first delivery of each pipeline_id
SELECT date, count(*) AS pipelines, count(DISTINCT pipeline_id) AS ids FROM pipelines GROUP BY date ORDER BY date
----
date,pipelines,ids
2026-09-30,22,22
2026-10-01,199,199
2026-10-02,199,199
2026-10-03,175,175
2026-10-04,8,8

# every record of every raw object accounted for
SELECT source, count(*) AS objects, sum(records) AS records, sum(accepted) AS accepted, sum(duplicates) AS duplicates, sum(rejected) AS rejected, sum(skipped) AS skipped FROM ingested_objects GROUP BY source ORDER BY source
----
source,objects,records,accepted,duplicates,rejected,skipped
commits,12,312,297,12,3,0
devops_events,6,623,592,26,5,0
github,6,170,153,11,0,6
gitlab,6,152,135,11,0,6
pagerduty,4,13,6,1,0,6
perf,3,10,10,0,0,0
pipelines,12,626,603,21,2,0
telemetry,11,614,571,14,29,0

# reasons records were rejected
SELECT raw_key, position, reason FROM rejects WHERE source = 'pipelines' ORDER BY raw_key, position
----
raw_key,position,reason
pipelines/dt=2026-10-02/legacy-sender.ndjson,5,"created_at ""02/10/2026 16:00"" is not an RFC 3339 timestamp"
pipelines/dt=2026-10-02/legacy-sender.ndjson,6,invalid payload: EOF while parsing at line 1 column 136

# builds: a lone build total stands for one build named build-e2e
SELECT build_name, count(*) AS builds, sum(seconds) AS seconds FROM pipeline_builds GROUP BY ALL ORDER BY ALL
----
build_name,builds,seconds
build-e2e,602,130638
build-unit,78,4227

# p50/p95 of time to e2e and e2e time, default branch, busiest projects
SELECT date, project, pipelines, to_e2e_p50, to_e2e_p95, e2e_p50, e2e_p95, round(restart_rate, 4) AS restart_rate FROM pipeline_daily WHERE default_branch ORDER BY pipelines DESC, date, project LIMIT 8
----
date,project,pipelines,to_e2e_p50,to_e2e_p95,e2e_p50,e2e_p95,restart_rate
2026-10-01,group6/service-20,3,387,393.3,333,1646.9999999999998,0
2026-10-01,group7/service-22,3,231,445.2,904,952.6,0
2026-10-02,group5/service-18,3,427,534.1,1026,1422.9,0
2026-10-02,group6/service-19,3,354,467.4,1572,1707.9,0.3333
2026-10-02,group7/service-16,3,249,420,600,1670.9999999999998,0
2026-10-01,group0/service-1,2,294,442.49999999999994,618.5,985.2499999999999,0
2026-10-01,group0/service-21,2,255.5,273.95,565.5,886.35,0
2026-10-01,group2/service-0,2,475.5,613.65,1242.5,1341.95,0

# jobs with null pull times are kept as NULL, not 0
SELECT count(*) AS jobs, count(pull) AS with_pull, count(up_without_pull) AS with_up_without_pull FROM pipeline_jobs
----
jobs,with_pull,with_up_without_pull
1538,397,397

# timestamps are UTC; offsets move pipelines to their UTC day
SELECT min(created_at) AS first, max(created_at) AS last FROM pipelines
----
first,last
2026-09-30 17:16:15.113,2026-10-04 03:45:31.364
