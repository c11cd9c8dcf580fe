# one check-in per system and day; ages grow as systems come back
SELECT date, count(*) AS checkins, count(DISTINCT system_id) AS systems, max(age_days) AS oldest, count(*) FILTER (WHERE age_days >= 1) AS persistent FROM telemetry_checkins GROUP BY date ORDER BY date
----
date,checkins,systems,oldest,persistent
2026-10-01,190,190,0,0
2026-10-02,189,189,1,99
2026-10-03,190,190,2,131

# unset fields stay NULL; rbac_stats present with an unset field counts 0
SELECT count(*) AS checkins, count(workers_processes) AS with_workers, count(workers_hosts) AS with_worker_hosts, count(rbac_users) AS with_rbac, sum(rbac_custom_access_policies) AS custom_access_policies FROM telemetry_checkins
----
checkins,with_workers,with_worker_hosts,with_rbac,custom_access_policies
569,517,467,404,0

# why check-ins were rejected
SELECT split_part(reason, ':', 1) AS reason, count(*) AS checkins FROM rejects WHERE source = 'telemetry' GROUP BY 1 ORDER BY 1
----
reason,checkins
non_ga_version,31

# components installed, by name
SELECT name, count(*) AS systems FROM telemetry_components GROUP BY name ORDER BY name
----
name,systems
container,129
core,569
file,423
rpm,277
