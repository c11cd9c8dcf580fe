# one check-in per system and day; ages grow as systems come back
SELECT date, count(*) AS checkins, count(DISTINCT system_id) AS systems, max(age_days) AS oldest, count(*) FILTER (WHERE age_days >= 1) AS persistent FROM telemetry_checkins GROUP BY date ORDER BY date
----
date,checkins,systems,oldest,persistent
2026-10-01,193,193,0,0
2026-10-02,189,189,1,89
2026-10-03,189,189,2,134

# unset fields stay NULL; rbac_stats present with an unset field counts 0
SELECT count(*) AS checkins, count(workers_processes) AS with_workers, count(workers_hosts) AS with_worker_hosts, count(rbac_users) AS with_rbac, sum(rbac_custom_access_policies) AS custom_access_policies FROM telemetry_checkins
----
checkins,with_workers,with_worker_hosts,with_rbac,custom_access_policies
571,520,469,395,0

# why check-ins were rejected
SELECT split_part(reason, ':', 1) AS reason, count(*) AS checkins FROM rejects WHERE source = 'telemetry' GROUP BY 1 ORDER BY 1
----
reason,checkins
non_ga_version,29

# components installed, by name
SELECT name, count(*) AS systems FROM telemetry_components GROUP BY name ORDER BY name
----
name,systems
container,134
core,571
file,415
rpm,278

# averages over persistent systems: every day summarised has a row
SELECT date, persistent_systems, round(avg_workers_processes, 4) AS workers, round(avg_content_apps_hosts, 4) AS content_hosts FROM telemetry_averages_daily ORDER BY date
----
date,persistent_systems,workers,content_hosts
2026-10-01,0,,
2026-10-02,89,8.5556,2.0125
2026-10-03,134,8.2269,2.0726

# core adoption by X.Y among persistent systems
SELECT date, version, systems FROM telemetry_versions_daily WHERE component = 'core' AND granularity = 'xy' AND date = DATE '2026-10-03' ORDER BY version
----
date,version,systems
2026-10-03,3.40,10
2026-10-03,3.41,7
2026-10-03,3.42,20
2026-10-03,3.43,19
2026-10-03,3.44,10
2026-10-03,3.45,16
2026-10-03,3.46,13
2026-10-03,3.47,17
2026-10-03,3.48,10
2026-10-03,3.49,10
2026-10-03,3.50,2

# PostgreSQL versions as people read them
SELECT postgresql_version, display, systems FROM telemetry_postgresql_daily WHERE date = DATE '2026-10-03' ORDER BY postgresql_version
----
postgresql_version,display,systems
0,Unknown,32
90624,9.6.24,30
100023,10.23,10
130012,13.12,18
150004,15.4,18
160002,16.2,26

# RBAC custom roles histogram
SELECT value, systems FROM telemetry_rbac_daily WHERE metric = 'custom_roles' AND date = DATE '2026-10-03' ORDER BY value
----
value,systems
0,20
1,19
2,23
3,23
4,10
