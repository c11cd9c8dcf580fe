"""Airflow DAG: the pipelake nightly job, one run per day, fanned out over the workers.

`pipelake plan` says how the job splits: one ingest per source, mapped at run time (dynamic task
mapping), so that any executor (Celery, Kubernetes) spreads them over machines; then the summary
tables level by level (a level reads only the levels before it), one mapped task per table; then
prune and vacuum. The tasks commit to one warehouse at the same time: pipelake takes per source
and per table, and a commit that finds another job's commit before it goes after it (README, How
runs stay correct). The warehouse ends as `pipelake run --date {{ ds }}` leaves it.

Set PIPELAKE to the command and its global options, e.g.
`pipelake --config /etc/pipelake/pipelake.toml`. A backfill is
`airflow dags backfill pipelake_nightly -s 2026-10-01 -e 2026-10-31` (one run per day) or one
`pipelake run --from 2026-10-01 --to 2026-10-31`.
"""
import json
import os
import shlex
import subprocess
from datetime import datetime, timedelta

try:  # Airflow 3
    from airflow.sdk import DAG, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task

# How many levels of summaries the DAG has room for; `plan` fails loudly if pipelake has more.
MAX_LEVELS = 6
# After a level with nothing to do (a mapped task over no table is skipped), go on.
GO_ON = "none_failed"


def pipelake(*args):
    """Run pipelake with the DAG's options; its JSON log goes to the task log."""
    command = shlex.split(os.environ.get("PIPELAKE", "pipelake --config /etc/pipelake/pipelake.toml"))
    done = subprocess.run(command + ["--log-format", "json", *args], check=True, stdout=subprocess.PIPE, text=True)
    return done.stdout


with DAG(
    dag_id="pipelake_nightly",
    schedule="30 2 * * *",
    start_date=datetime(2026, 10, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=10)},
    tags=["pipelake"],
) as dag:

    @task
    def plan():
        plan = json.loads(pipelake("plan"))
        if len(plan["summary_levels"]) > MAX_LEVELS:
            raise ValueError(f"pipelake has {len(plan['summary_levels'])} summary levels; raise MAX_LEVELS")
        return plan

    @task
    def sources(plan):
        return plan["sources"]

    @task
    def ingest(source):
        pipelake("ingest", "--source", source)

    @task(trigger_rule=GO_ON)
    def tables(plan, level):
        levels = plan["summary_levels"]
        return levels[level] if level < len(levels) else []

    @task(trigger_rule=GO_ON)
    def summarize(table, ds=None):
        # The run's day and every day whose facts changed, as `pipelake run --date {{ ds }}`.
        pipelake("summarize", "--table", table, "--date", ds, "--pending")

    @task(trigger_rule=GO_ON)
    def prune():
        pipelake("prune")

    @task(trigger_rule=GO_ON)
    def vacuum():
        pipelake("vacuum")

    the_plan = plan()
    previous = ingest.expand(source=sources(the_plan))
    for level in range(MAX_LEVELS):
        level_tables = tables.override(task_id=f"level_{level}_tables")(the_plan, level)
        previous >> level_tables
        previous = summarize.override(task_id=f"level_{level}_summarize").expand(table=level_tables)
    previous >> prune() >> vacuum()
