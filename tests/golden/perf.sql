# per commit, in landing order: tests, passes, failures, total and average time and memory
SELECT date, git_commit, tests, passed, failed, round(total_time_s, 6) AS total_time_s, round(avg_time_s, 6) AS avg_time_s, round(avg_memory_bytes) AS avg_memory_bytes FROM perf_commits ORDER BY commit_seq
----
date,git_commit,tests,passed,failed,total_time_s,avg_time_s,avg_memory_bytes
2026-10-01,622a98eb,130,124,6,2.28423,0.017846,45297974
2026-10-02,156a14d2,130,128,2,2.262153,0.017954,45302740
2026-10-03,ff384607,65,63,2,1.123,0.017277,45161209

# a test missing from one side of the join keeps its other figures (NULLs on the missing side)
SELECT git_commit, test_name, execution_time_s, memory_rss_bytes, function_calls, passed FROM perf_tests WHERE execution_time_s IS NULL OR function_calls IS NULL ORDER BY ALL
----
git_commit,test_name,execution_time_s,memory_rss_bytes,function_calls,passed
156a14d2,test_006,,,16,true
156a14d2,test_011,,,21,true
156a14d2,test_048,,,58,true
156a14d2,test_073,,,33,true
622a98eb,test_021,,,31,true
622a98eb,test_124,,,34,true

# the tests that got slowest against the previous commit that ran them
SELECT git_commit, test_name, previous_commit, round(execution_time_change_s, 6) AS slower_s, memory_change_bytes FROM perf_test_changes ORDER BY execution_time_change_s DESC, test_name LIMIT 5
----
git_commit,test_name,previous_commit,slower_s,memory_change_bytes
156a14d2,test_072,622a98eb,0.012135,26333
ff384607,test_033,156a14d2,0.01172,-20371
156a14d2,test_106,622a98eb,0.011071,37326
ff384607,test_032,156a14d2,0.009026,10595
ff384607,test_063,156a14d2,0.00864,23174

# a redelivered message counts once: records = accepted + duplicates + rejected
SELECT split_part(raw_key, '/', 3) AS object, records, accepted, duplicates, rejected FROM ingested_objects WHERE source = 'perf' ORDER BY raw_key
----
object,records,accepted,duplicates,rejected
messages.ndjson,4,4,0,0
messages.ndjson,4,4,0,0
messages.ndjson,2,2,0,0
