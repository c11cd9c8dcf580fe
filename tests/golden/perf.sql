# per commit, in landing order: tests, passes, failures, total and average time and memory
SELECT date, git_commit, tests, passed, failed, round(total_time_s, 6) AS total_time_s, round(avg_time_s, 6) AS avg_time_s, round(avg_memory_bytes) AS avg_memory_bytes FROM perf_commits ORDER BY commit_seq
----
date,git_commit,tests,passed,failed,total_time_s,avg_time_s,avg_memory_bytes
2026-10-01,15d5555e,130,125,5,2.311693,0.01792,45296090
2026-10-02,8b48ad5b,130,130,0,2.276427,0.017785,45295214
2026-10-03,514b8628,195,187,8,3.555067,0.01842,45432764

# a test missing from one side of the join keeps its other figures (NULLs on the missing side)
SELECT git_commit, test_name, execution_time_s, memory_rss_bytes, function_calls, passed FROM perf_tests WHERE execution_time_s IS NULL OR function_calls IS NULL ORDER BY ALL
----
git_commit,test_name,execution_time_s,memory_rss_bytes,function_calls,passed
15d5555e,test_050,,,10,true
514b8628,test_059,,,19,true
514b8628,test_083,,,43,true
8b48ad5b,test_065,,,25,true
8b48ad5b,test_076,,,36,true

# the tests that got slowest against the previous commit that ran them
SELECT git_commit, test_name, previous_commit, round(execution_time_change_s, 6) AS slower_s, memory_change_bytes FROM perf_test_changes ORDER BY execution_time_change_s DESC, test_name LIMIT 5
----
git_commit,test_name,previous_commit,slower_s,memory_change_bytes
8b48ad5b,test_107,15d5555e,0.011447,15296
8b48ad5b,test_070,15d5555e,0.011081,58209
8b48ad5b,test_104,15d5555e,0.009658,-29643
514b8628,test_106,8b48ad5b,0.008471,18676
514b8628,test_030,8b48ad5b,0.00812,17300

# a redelivered message counts once: records = accepted + duplicates + rejected
SELECT split_part(raw_key, '/', 3) AS object, records, accepted, duplicates, rejected FROM ingested_objects WHERE source = 'perf' ORDER BY raw_key
----
object,records,accepted,duplicates,rejected
messages.ndjson,4,4,0,0
messages.ndjson,4,4,0,0
messages.ndjson,7,6,1,0
