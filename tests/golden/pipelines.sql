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
build-unit,69,3805

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

# the collector's jobs_failed kept by name: failed attempts per job, and whether the job passed later in its pipeline
SELECT f.name, count(*) AS failed_attempts, count(f.started_at) AS with_times, count(*) FILTER (WHERE j.pipeline_id IS NOT NULL) AS passed_later FROM pipeline_failed_jobs f LEFT JOIN (SELECT DISTINCT pipeline_id, name FROM pipeline_jobs) j USING (pipeline_id, name) GROUP BY ALL ORDER BY ALL
----
name,failed_attempts,with_times,passed_later
e2e,1,0,1
e2e-0,81,29,81
e2e-1,3,0,0
e2e-3,2,1,0

# the collector's pipelines as CI runs: one attempt each, failed when a failed job never passed
SELECT source, workflow, default_branch, conclusion, count(*) AS runs, count(finished_at) AS finished, min(attempt) AS min_attempt, max(attempt) AS max_attempt FROM ci_runs WHERE source = 'pipelines' GROUP BY ALL ORDER BY ALL
----
source,workflow,default_branch,conclusion,runs,finished,min_attempt,max_attempt
pipelines,pipeline,false,failure,4,4,1,1
pipelines,pipeline,false,success,355,355,1,1
pipelines,pipeline,true,failure,1,1,1,1
pipelines,pipeline,true,success,243,243,1,1

# CI health of the collector's default branches, the reddest days first
SELECT date, repo, runs, succeeded, failed, success_rate, red_seconds, time_to_green_p50_s FROM ci_health_daily WHERE workflow = 'pipeline' AND default_branch AND repo LIKE 'group%' ORDER BY red_seconds DESC, date, repo LIMIT 8
----
date,repo,runs,succeeded,failed,success_rate,red_seconds,time_to_green_p50_s
2026-10-02,group6/service-19,3,2,1,0.6666666666666666,5199.68,5199.68
2026-09-30,group0/service-12,1,1,0,1,0,
2026-09-30,group0/service-14,1,1,0,1,0,
2026-09-30,group1/service-11,1,1,0,1,0,
2026-09-30,group2/service-2,1,1,0,1,0,
2026-09-30,group2/service-22,1,1,0,1,0,
2026-09-30,group3/service-14,1,1,0,1,0,
2026-09-30,group3/service-19,1,1,0,1,0,

# the collector's flaky jobs: a failed attempt, then a pass in the same pipeline
SELECT job, sum(runs) AS runs, sum(failed) AS failed, sum(flaky_runs) AS flaky_runs, round(sum(failed_attempt_s)) AS failed_attempt_s FROM ci_job_daily WHERE repo LIKE 'group%' OR repo = 'test/project' GROUP BY ALL ORDER BY ALL
----
job,runs,failed,flaky_runs,failed_attempt_s
e2e,3,1,1,30
e2e-0,681,81,66,9088
e2e-1,465,3,0,0
e2e-2,316,0,0,0
e2e-3,160,2,0,0
