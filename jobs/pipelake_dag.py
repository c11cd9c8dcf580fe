"""Airflow DAG: the pipelake nightly job, one run per day.

`pipelake run --date {{ ds }}` ingests whatever raw objects are new, re-summarises every day
they touched plus the run's own day, prunes raw data past retention and vacuums files out of
the warehouse for longer than vacuum_retention_days. A backfill is
`airflow dags backfill pipelake_nightly -s 2026-10-01 -e 2026-10-31` (one run per day) or one
`pipelake run --from 2026-10-01 --to 2026-10-31`.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

PIPELAKE = "pipelake --config /etc/pipelake/pipelake.toml --log-format json"

with DAG(
    dag_id="pipelake_nightly",
    schedule="30 2 * * *",
    start_date=datetime(2026, 10, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=10)},
    tags=["pipelake"],
) as dag:
    BashOperator(task_id="run", bash_command=f"{PIPELAKE} run --date {{{{ ds }}}}")
