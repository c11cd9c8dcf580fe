# commits per project and day, both forms: git-monitoring-server JSON (full hashes) and git log text (short)
SELECT date, project, count(*) AS commits, min(len(hash)) AS shortest_hash, max(len(hash)) AS longest_hash FROM commits GROUP BY ALL ORDER BY ALL
----
date,project,commits,shortest_hash,longest_hash
2026-09-29,api,5,40,40
2026-09-29,billing,7,8,8
2026-09-29,web,7,8,8
2026-09-29,worker,6,8,8
2026-09-30,api,25,40,40
2026-09-30,billing,23,8,8
2026-09-30,web,17,8,8
2026-09-30,worker,15,8,8
2026-10-01,api,30,40,40
2026-10-01,billing,20,8,8
2026-10-01,web,26,8,8
2026-10-01,worker,15,8,8
2026-10-02,api,31,40,40
2026-10-02,billing,18,8,8
2026-10-02,web,14,8,8
2026-10-02,worker,14,8,8
2026-10-03,api,6,40,40
2026-10-03,billing,5,8,8
2026-10-03,web,7,8,8
2026-10-03,worker,6,8,8

# names with " - " and ", ", messages with " : ", times in several offsets, all stored in UTC
SELECT project, hash, author, authored_at, message FROM commits WHERE project = 'web' ORDER BY authored_at LIMIT 5
----
project,hash,author,authored_at,message
web,5f0e4273,"Smith - Jones, Anna",2026-09-29 12:08:13,Fix flaky test
web,be6869ed,Bob,2026-09-29 16:15:20,Bump deps - security
web,7cabeabb,"Smith - Jones, Anna",2026-09-29 17:53:27,Bump deps - security
web,c3435165,Li Wei,2026-09-29 17:54:14,docs: usage
web,6ae6e7ce,Jane Doe,2026-09-29 19:54:20,Fix flaky test

# overlapping logs count once; a cut line is rejected with its line number
SELECT split_part(raw_key, '/', 2) AS day, split_part(raw_key, '/', 3) AS object, records, accepted, duplicates, rejected FROM ingested_objects WHERE source = 'commits' ORDER BY raw_key
----
day,object,records,accepted,duplicates,rejected
dt=2026-10-01,api.json,25,25,0,0
dt=2026-10-01,billing.log,28,28,0,0
dt=2026-10-01,web.log,25,24,0,1
dt=2026-10-01,worker.log,25,25,0,0
dt=2026-10-02,api.json,38,38,0,0
dt=2026-10-02,billing.log,27,25,2,0
dt=2026-10-02,web.log,26,24,2,0
dt=2026-10-02,worker.log,17,15,2,0
dt=2026-10-03,api.json,34,34,0,0
dt=2026-10-03,billing.log,23,20,2,1
dt=2026-10-03,web.log,25,23,2,0
dt=2026-10-03,worker.log,19,16,2,1

# deploys whose commits the history knows get the Four Keys lead time (from the commit's own time) too
SELECT date, repo, count(*) AS deploys, sum(commits_known) AS commits_known, median(commit_lead_time_seconds) AS median_commit_lead_time_seconds FROM dora_deployments GROUP BY ALL ORDER BY ALL
----
date,repo,deploys,commits_known,median_commit_lead_time_seconds
2026-10-01,api,11,20,68280.5
2026-10-01,billing,9,22,84282.5
2026-10-01,web,4,14,113162
2026-10-01,worker,10,23,99708
2026-10-02,api,10,38,97971.25
2026-10-02,billing,9,25,84837
2026-10-02,web,10,23,101296
2026-10-02,worker,13,14,88016.5
2026-10-03,api,11,32,83693
2026-10-03,billing,12,17,56692
2026-10-03,web,7,21,75876.5
2026-10-03,worker,13,15,79253
