# every delivery accounted for, per sender: records = accepted + duplicates + rejected + skipped
SELECT source, sum(records) AS records, sum(accepted) AS accepted, sum(duplicates) AS duplicates, sum(rejected) AS rejected, sum(skipped) AS skipped FROM ingested_objects WHERE source IN ('github', 'gitlab', 'pagerduty') GROUP BY ALL ORDER BY ALL
----
source,records,accepted,duplicates,rejected,skipped
github,170,153,11,0,6
gitlab,152,135,11,0,6
pagerduty,13,6,1,0,6

# deliveries kept per event table and kind
SELECT 'deployment_events' AS t, source, kind, count(*) AS n FROM deployment_events GROUP BY ALL UNION ALL SELECT 'change_events', source, kind, count(*) FROM change_events GROUP BY ALL UNION ALL SELECT 'incident_events', source, kind, count(*) FROM incident_events GROUP BY ALL UNION ALL SELECT 'ci_events', source, kind, count(*) FROM ci_events GROUP BY ALL ORDER BY ALL
----
t,source,kind,n
change_events,github,pull_request,10
change_events,github,push,19
change_events,gitlab,merge_request,13
change_events,gitlab,push,18
ci_events,github,workflow_job,22
ci_events,github,workflow_run,25
ci_events,gitlab,build,34
ci_events,gitlab,pipeline,42
deployment_events,github,deployment,20
deployment_events,github,deployment_status,54
deployment_events,gitlab,deployment,23
incident_events,github,issues,3
incident_events,gitlab,issue,5
incident_events,pagerduty,incident.acknowledged,2
incident_events,pagerduty,incident.resolved,2
incident_events,pagerduty,incident.triggered,2

# deployments by how their newly deployed commits were found, rework and final state
SELECT source, production, final_state, history, rework, count(*) AS n, sum(len(new_commits)) AS new_commits, sum(len(lead_times_s)) AS lead_times FROM deployments WHERE source <> 'devops_events' GROUP BY ALL ORDER BY ALL
----
source,production,final_state,history,rework,n,new_commits,lead_times
github,false,success,,,7,0,0
github,true,success,first_deployment,,2,0,0
github,true,success,previous_deployment,,11,33,33
gitlab,false,success,,,3,0,0
gitlab,true,failure,,,2,0,0
gitlab,true,running,,,1,0,0
gitlab,true,success,first_deployment,,2,0,0
gitlab,true,success,previous_deployment,revert,1,7,7
gitlab,true,success,previous_deployment,,4,16,16

# incidents and how each was attributed (the unmapped PagerDuty service kept with a NULL repo)
SELECT date, source, repo, service, reopened, attribution, deployment_id, epoch(resolved_at - opened_at) AS restore_seconds FROM incidents ORDER BY ALL
----
date,source,repo,service,reopened,attribution,deployment_id,restore_seconds
2026-10-02,github,acme/api,,false,last_deployment,1001,28380
2026-10-02,pagerduty,,PAPI001,false,,,3900
2026-10-03,gitlab,acme/platform/billing,,false,last_deployment,2000,
2026-10-03,gitlab,acme/platform/infra,,false,root_cause,2102,
2026-10-03,pagerduty,,PUNMAP9,false,,,9720

# the five keys of all repositories over 7 days
SELECT date, deployments, deploy_days, lead_time_changes, lead_time_p50_seconds, failed_deployments, change_failure_rate, recovered_incidents, recovery_p50_seconds, time_to_restore_p50_seconds, rework_deployments, rework_rate FROM dora_keys_daily WHERE repo = '*' AND window_days = 7 ORDER BY ALL
----
date,deployments,deploy_days,lead_time_changes,lead_time_p50_seconds,failed_deployments,change_failure_rate,recovered_incidents,recovery_p50_seconds,time_to_restore_p50_seconds,rework_deployments,rework_rate
2026-10-01,41,1,88,5160,0,0,0,,,0,0
2026-10-02,89,2,212,6012,1,0.011235955056179775,0,,3900,0,0
2026-10-03,137,3,315,6450,3,0.021897810218978103,1,57358,9720,1,0.0072992700729927005

# classes of the last day, all repositories, 30 days
SELECT report_year, metric, value, class FROM dora_classes_daily WHERE repo = '*' AND window_days = 30 AND date = '2026-10-03' ORDER BY ALL
----
report_year,metric,value,class
2023,change_failure_rate,0.021897810218978103,elite
2023,deployment_frequency,0.7,medium
2023,lead_time,6450,elite
2023,recovery_time,57358,high
2025,change_failure_rate,0.021897810218978103,
2025,deployment_frequency,18919.70802919708,lt_1d
2025,lead_time,6450,lt_1d
2025,recovery_time,57358,lt_1d
2025,rework_rate,0.0072992700729927005,

# CI health of the default branch per repository and day
SELECT date, repo, workflow, runs, succeeded, failed, cancelled, success_rate, duration_p50_s, red_seconds, time_to_green_p50_s FROM ci_health_daily WHERE default_branch AND repo LIKE 'acme/%' ORDER BY ALL
----
date,repo,workflow,runs,succeeded,failed,cancelled,success_rate,duration_p50_s,red_seconds,time_to_green_p50_s
2026-10-01,acme/api,CI,3,1,0,2,1,331,0,
2026-10-01,acme/platform/billing,pipeline,3,3,0,0,1,430,0,
2026-10-01,acme/platform/infra,pipeline,3,3,0,0,1,318,0,
2026-10-01,acme/web,CI,4,1,1,2,0.5,319,1116,1116
2026-10-02,acme/platform/billing,pipeline,3,3,0,0,1,303,0,
2026-10-02,acme/platform/infra,pipeline,1,1,0,0,1,549,0,
2026-10-02,acme/web,CI,5,3,1,1,0.75,205,471,471
2026-10-03,acme/api,CI,5,3,2,0,0.6,453,1568,784
2026-10-03,acme/platform/billing,pipeline,2,1,1,0,0.5,204,406,
2026-10-03,acme/platform/infra,pipeline,5,4,1,0,0.8,530,850,850
2026-10-03,acme/web,CI,4,3,1,0,0.75,297.5,939,939
2026-10-04,acme/platform/billing,pipeline,1,1,0,0,1,538,868,1274

# flaky jobs: failed, then passed in the same run and sha
SELECT date, repo, job, runs, failed, flaky_runs, flake_rate, failed_attempt_s FROM ci_job_daily WHERE flaky_runs > 0 AND repo LIKE 'acme/%' ORDER BY ALL
----
date,repo,job,runs,failed,flaky_runs,flake_rate,failed_attempt_s
2026-10-01,acme/platform/billing,lint,6,4,2,0.3333333333333333,240
2026-10-01,acme/platform/infra,lint,3,2,1,0.3333333333333333,120
2026-10-01,acme/web,test,4,1,1,0.25,154
2026-10-02,acme/platform/infra,lint,3,2,1,0.3333333333333333,120
2026-10-02,acme/web,test,6,1,1,0.16666666666666666,531
2026-10-03,acme/api,test,5,2,2,0.4,750
2026-10-03,acme/platform/infra,test,5,1,1,0.2,565
2026-10-03,acme/web,test,4,1,1,0.25,267
2026-10-04,acme/platform/billing,test,1,0,1,1,144
