# events per day and kind; exact duplicates once; a missing Time takes the landing time
SELECT date, event, count(*) AS events, count(*) FILTER (WHERE time_from_landing) AS from_landing, sum(len(commit_ids)) AS commits FROM devops_events GROUP BY ALL ORDER BY ALL
----
date,event,events,from_landing,commits
2026-10-01,deploy,34,3,84
2026-10-01,push,103,10,103
2026-10-01,test_pass,33,3,0
2026-10-01,test_run,25,2,0
2026-10-02,deploy,42,1,104
2026-10-02,push,102,9,102
2026-10-02,test_pass,29,2,0
2026-10-02,test_run,25,2,0
2026-10-03,deploy,43,5,89
2026-10-03,push,95,10,95
2026-10-03,test_pass,45,3,0
2026-10-03,test_run,16,2,0

# derived calc_* rows and unknown events are rejected with a reason, never silently dropped
SELECT split_part(raw_key, '/', 3) AS object, position, reason FROM rejects WHERE source = 'devops_events' ORDER BY ALL
----
object,position,reason
events.ndjson,184,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,185,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,186,"unknown event ""build"""
events.ndjson,192,"derived_event: calc_deploy_frequency is computed by the service, not an input"
events.ndjson,193,"unknown event ""build"""

# one row per deploy with the toolkit's lead time: median over its commits matched to a push
SELECT date, repo, count(*) AS deploys, sum(commits) AS commits, sum(commits_matched) AS matched, count(lead_time_seconds) AS with_lead_time, median(lead_time_seconds) AS median_lead_time_seconds FROM dora_deployments GROUP BY ALL ORDER BY ALL
----
date,repo,deploys,commits,matched,with_lead_time,median_lead_time_seconds
2026-10-01,api,11,21,18,6,3440
2026-10-01,billing,9,23,21,7,2365
2026-10-01,web,4,16,14,3,5375
2026-10-01,worker,10,24,23,9,5160
2026-10-02,api,10,38,38,8,7095
2026-10-02,billing,9,26,25,7,6020
2026-10-02,web,10,24,24,8,6127.5
2026-10-02,worker,13,16,14,8,4300
2026-10-03,api,11,33,32,7,2580
2026-10-03,billing,12,18,16,4,8707.5
2026-10-03,web,7,21,21,5,4300
2026-10-03,worker,13,17,16,6,8815

# per repo and for all repos ('*'): deploys, the toolkit's deploy frequency, 30-day lead time and DORA classes
SELECT date, repo, deploys, deploys_30d, deploy_days_30d, deploy_frequency_30d, deploy_frequency_class, lead_time_median_seconds_30d, lead_time_class FROM dora_daily ORDER BY ALL
----
date,repo,deploys,deploys_30d,deploy_days_30d,deploy_frequency_30d,deploy_frequency_class,lead_time_median_seconds_30d,lead_time_class
2026-10-01,*,34,34,1,0,medium,4300,elite
2026-10-01,api,11,11,1,0,medium,3440,elite
2026-10-01,billing,9,9,1,0,medium,2365,elite
2026-10-01,web,4,4,1,0,medium,5375,elite
2026-10-01,worker,10,10,1,0,medium,5160,elite
2026-10-02,*,42,76,2,0,medium,5590,elite
2026-10-02,api,10,21,2,0,medium,4300,elite
2026-10-02,billing,9,18,2,0,medium,5590,elite
2026-10-02,web,10,14,2,0,medium,6020,elite
2026-10-02,worker,13,23,2,0,medium,5160,elite
2026-10-03,*,43,119,3,0,medium,5267.5,elite
2026-10-03,api,11,32,3,0,medium,3655,elite
2026-10-03,billing,12,30,3,0,medium,5805,elite
2026-10-03,web,7,21,3,0,medium,5805,elite
2026-10-03,worker,13,36,3,0,medium,5160,elite
