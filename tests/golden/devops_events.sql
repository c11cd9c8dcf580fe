# events per day and kind; exact duplicates once; a missing Time takes the landing time
SELECT date, event, count(*) AS events, count(*) FILTER (WHERE time_from_landing) AS from_landing, sum(len(commit_ids)) AS commits FROM devops_events GROUP BY ALL ORDER BY ALL
----
date,event,events,from_landing,commits
2026-10-01,deploy,32,3,92
2026-10-01,push,102,9,102
2026-10-01,test_pass,41,3,0
2026-10-01,test_run,22,2,0
2026-10-02,deploy,42,5,102
2026-10-02,push,103,12,103
2026-10-02,test_pass,34,4,0
2026-10-02,test_run,17,4,0
2026-10-03,deploy,49,4,86
2026-10-03,push,89,10,89
2026-10-03,test_pass,37,3,0
2026-10-03,test_run,21,0,0

# derived calc_* rows and unknown events are rejected with a reason, never silently dropped
SELECT split_part(raw_key, '/', 3) AS object, position, reason FROM rejects WHERE source = 'devops_events' ORDER BY ALL
----
object,position,reason
events.ndjson,176,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,177,"unknown event ""build"""
events.ndjson,186,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,193,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,194,"unknown event ""build"""

# one row per deploy with the toolkit's lead time: median over its commits matched to a push
SELECT date, repo, count(*) AS deploys, sum(commits) AS commits, sum(commits_matched) AS matched, count(lead_time_seconds) AS with_lead_time, median(lead_time_seconds) AS median_lead_time_seconds FROM dora_deployments GROUP BY ALL ORDER BY ALL
----
date,repo,deploys,commits,matched,with_lead_time,median_lead_time_seconds
2026-10-01,api,9,26,25,8,4945
2026-10-01,billing,7,26,20,3,7955
2026-10-01,web,7,15,15,5,7525
2026-10-01,worker,9,25,24,7,3870
2026-10-02,api,12,26,26,9,7095
2026-10-02,billing,16,32,28,10,3762.5
2026-10-02,web,8,26,25,5,8385
2026-10-02,worker,6,18,7,3,1720
2026-10-03,api,10,20,20,5,5590
2026-10-03,billing,10,17,16,7,3870
2026-10-03,web,16,18,12,6,2795
2026-10-03,worker,13,31,24,9,2795

# per repo and for all repos ('*'): deploys, the toolkit's deploy frequency, 30-day lead time and DORA classes
SELECT date, repo, deploys, deploys_30d, deploy_days_30d, deploy_frequency_30d, deploy_frequency_class, lead_time_median_seconds_30d, lead_time_class FROM dora_daily ORDER BY ALL
----
date,repo,deploys,deploys_30d,deploy_days_30d,deploy_frequency_30d,deploy_frequency_class,lead_time_median_seconds_30d,lead_time_class
2026-10-01,*,32,32,1,0,medium,4730,elite
2026-10-01,api,9,9,1,0,medium,4945,elite
2026-10-01,billing,7,7,1,0,medium,7955,elite
2026-10-01,web,7,7,1,0,medium,7525,elite
2026-10-01,worker,9,9,1,0,medium,3870,elite
2026-10-02,*,42,74,2,0,medium,4300,elite
2026-10-02,api,12,21,2,0,medium,5590,elite
2026-10-02,billing,16,23,2,0,medium,4085,elite
2026-10-02,web,8,15,2,0,medium,7955,elite
2026-10-02,worker,6,15,2,0,medium,3225,elite
2026-10-03,*,49,123,3,0,medium,3870,elite
2026-10-03,api,10,31,3,0,medium,5590,elite
2026-10-03,billing,10,33,3,0,medium,3977.5,elite
2026-10-03,web,16,31,3,0,medium,5697.5,elite
2026-10-03,worker,13,28,3,0,medium,2795,elite
