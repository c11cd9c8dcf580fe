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
