# every delivery accounted for, per sender: records = accepted + duplicates + rejected + skipped
SELECT source, sum(records) AS records, sum(accepted) AS accepted, sum(duplicates) AS duplicates, sum(rejected) AS rejected, sum(skipped) AS skipped FROM ingested_objects WHERE source IN ('github', 'gitlab', 'pagerduty') GROUP BY ALL ORDER BY ALL
----
source,records,accepted,duplicates,rejected,skipped
github,145,128,11,0,6
gitlab,120,107,7,0,6
pagerduty,13,6,1,0,6

# deliveries kept per event table and kind
SELECT 'deployment_events' AS t, source, kind, count(*) AS n FROM deployment_events GROUP BY ALL UNION ALL SELECT 'change_events', source, kind, count(*) FROM change_events GROUP BY ALL UNION ALL SELECT 'incident_events', source, kind, count(*) FROM incident_events GROUP BY ALL UNION ALL SELECT 'ci_events', source, kind, count(*) FROM ci_events GROUP BY ALL ORDER BY ALL
----
t,source,kind,n
change_events,github,pull_request,13
change_events,github,push,19
change_events,gitlab,merge_request,13
change_events,gitlab,push,18
ci_events,github,workflow_job,19
ci_events,github,workflow_run,19
ci_events,gitlab,build,20
ci_events,gitlab,pipeline,20
deployment_events,github,deployment,13
deployment_events,github,deployment_status,39
deployment_events,gitlab,deployment,22
incident_events,github,issues,6
incident_events,gitlab,issue,14
incident_events,pagerduty,incident.acknowledged,2
incident_events,pagerduty,incident.resolved,2
incident_events,pagerduty,incident.triggered,2

# deployments by how their newly deployed commits were found, rework and final state
SELECT source, production, final_state, history, rework, count(*) AS n, sum(len(new_commits)) AS new_commits, sum(len(lead_times_s)) AS lead_times FROM deployments WHERE source <> 'devops_events' GROUP BY ALL ORDER BY ALL
----
source,production,final_state,history,rework,n,new_commits,lead_times
github,false,success,,,3,0,0
github,true,in_progress,,,1,0,0
github,true,success,first_deployment,,2,0,0
github,true,success,previous_deployment,revert,1,3,3
github,true,success,previous_deployment,,6,26,26
gitlab,false,success,,,1,0,0
gitlab,true,running,,,1,0,0
gitlab,true,success,first_deployment,,2,0,0
gitlab,true,success,previous_deployment,revert,1,1,1
gitlab,true,success,previous_deployment,,6,20,20

# incidents and how each was attributed (the unmapped PagerDuty service kept with a NULL repo)
SELECT date, source, repo, service, reopened, attribution, deployment_id, epoch(resolved_at - opened_at) AS restore_seconds FROM incidents ORDER BY ALL
----
date,source,repo,service,reopened,attribution,deployment_id,restore_seconds
2026-10-01,github,acme/web,,false,root_cause,100,32520
2026-10-02,github,acme/web,,false,last_deployment,1103,14280
2026-10-02,gitlab,acme/platform/billing,,true,root_cause,1000,9060
2026-10-02,gitlab,acme/platform/infra,,true,root_cause,1101,24600
2026-10-02,pagerduty,,PAPI001,false,,,3900
2026-10-03,gitlab,acme/platform/billing,,true,last_deployment,2001,39540
2026-10-03,pagerduty,,PUNMAP9,false,,,9720

# the five keys of all repositories over 7 days
SELECT date, deployments, deploy_days, lead_time_changes, lead_time_p50_seconds, failed_deployments, change_failure_rate, recovered_incidents, recovery_p50_seconds, time_to_restore_p50_seconds, rework_deployments, rework_rate FROM dora_keys_daily WHERE repo = '*' AND window_days = 7 ORDER BY ALL
----
date,deployments,deploy_days,lead_time_changes,lead_time_p50_seconds,failed_deployments,change_failure_rate,recovered_incidents,recovery_p50_seconds,time_to_restore_p50_seconds,rework_deployments,rework_rate
2026-10-01,42,1,87,4730,1,0.023809523809523808,0,,,2,0.047619047619047616
2026-10-02,89,2,210,6011,4,0.0449438202247191,3,46558,11670,2,0.02247191011235955
2026-10-03,135,3,309,6450,5,0.037037037037037035,4,49948,12000,2,0.014814814814814815
2026-10-04,135,3,309,6450,5,0.037037037037037035,5,53338,14280,2,0.014814814814814815

# classes of the last day, all repositories, 30 days
SELECT report_year, metric, value, class FROM dora_classes_daily WHERE repo = '*' AND window_days = 30 AND date = '2026-10-03' ORDER BY ALL
----
report_year,metric,value,class
2023,change_failure_rate,0.037037037037037035,elite
2023,deployment_frequency,0.7,medium
2023,lead_time,6450,elite
2023,recovery_time,49948,high
2025,change_failure_rate,0.037037037037037035,
2025,deployment_frequency,19200,lt_1d
2025,lead_time,6450,lt_1d
2025,recovery_time,49948,lt_1d
2025,rework_rate,0.014814814814814815,

# CI health of the default branch per repository and day
SELECT date, repo, workflow, runs, succeeded, failed, cancelled, success_rate, duration_p50_s, red_seconds, time_to_green_p50_s FROM ci_health_daily WHERE default_branch ORDER BY ALL
----
date,repo,workflow,runs,succeeded,failed,cancelled,success_rate,duration_p50_s,red_seconds,time_to_green_p50_s
2026-10-01,acme/api,CI,3,2,0,1,1,504,0,
2026-10-01,acme/platform/billing,pipeline,4,3,0,1,1,297,0,
2026-10-01,acme/platform/infra,pipeline,4,2,1,1,0.6666666666666666,339,925,925
2026-10-01,acme/web,CI,4,4,0,0,1,386,0,
2026-10-02,acme/api,CI,2,2,0,0,1,281.5,0,
2026-10-02,acme/platform/billing,pipeline,4,4,0,0,1,282,0,
2026-10-02,acme/platform/infra,pipeline,3,2,1,0,0.6666666666666666,309,540,540
2026-10-02,acme/web,CI,4,3,0,1,1,305.5,0,
2026-10-03,acme/api,CI,3,3,0,0,1,539,0,
2026-10-03,acme/platform/billing,pipeline,2,2,0,0,1,394.5,0,
2026-10-03,acme/platform/infra,pipeline,3,2,0,1,1,176,0,
2026-10-03,acme/web,CI,3,3,0,0,1,284,0,

# flaky jobs: failed, then passed in the same run and sha
SELECT date, repo, job, runs, failed, flaky_runs, flake_rate, failed_attempt_s FROM ci_job_daily WHERE flaky_runs > 0 ORDER BY ALL
----
date,repo,job,runs,failed,flaky_runs,flake_rate,failed_attempt_s
2026-10-01,acme/platform/infra,test,4,1,1,0.25,273
2026-10-02,acme/platform/infra,test,3,1,1,0.3333333333333333,476
