"""Read one Delta table with delta-rs (the `deltalake` package), as an independent reader of
what pipelake writes: print its rows as canonical JSON lines, sorted, in the form
`pipelake query --format json` gives them.

usage: delta_read.py TABLE_URI [PIPELAKE_VERSION]
       delta_read.py --check-stats TABLE_URI

--check-stats reads every file of the newest version with pyarrow and checks that the
statistics of its `add` (rows, nulls, minimum, maximum) hold for its rows; prints the number of
files and of bounds checked.

With PIPELAKE_VERSION, the table as of the newest Delta version whose `txn` of application
`pipelake` is at or before it (the Delta version that shows that pipelake version). Storage
options for s3:// come from the AWS_* variables of the environment.
"""
import datetime
import json
import os
import sys

import deltalake


def storage_options():
    keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT_URL"]
    options = {k: os.environ[k] for k in keys if k in os.environ}
    if options.get("AWS_ENDPOINT_URL", "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    return options


def value(v):
    if isinstance(v, datetime.datetime):
        # `pipelake query`'s text of a TIMESTAMP: no zone; milliseconds, or microseconds when
        # there are any.
        v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        text = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond % 1000:
            return f"{text}.{v.microsecond:06d}"
        return f"{text}.{v.microsecond // 1000:03d}" if v.microsecond else text
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, list):
        return [value(x) for x in v]
    return v


def check_stats(uri):
    import pyarrow.parquet as pq

    table = deltalake.DeltaTable(uri, storage_options=storage_options())
    import pyarrow as pa

    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    bounds = 0
    for add in actions:
        data = pq.read_table(os.path.join(uri, add["path"]))
        assert add["num_records"] == data.num_rows, (add["path"], add["num_records"], data.num_rows)
        for column in data.column_names:
            values = data[column]
            nulls = add.get(f"null_count.{column}")
            if nulls is not None:
                assert nulls == values.null_count, (add["path"], column, nulls, values.null_count)
            lo, hi = add.get(f"min.{column}"), add.get(f"max.{column}")
            if lo is None or hi is None or values.null_count == len(values):
                continue
            present = [v for v in values.to_pylist() if v is not None and v == v]
            low, high = value(min(present)), value(max(present))
            if isinstance(lo, (datetime.date, datetime.datetime)):
                lo, hi = value(lo), value(hi)
            assert lo <= low and high <= hi, (add["path"], column, lo, hi, low, high)
            bounds += 1
    print(f"{len(actions)} files, {bounds} bounds")
    os._exit(0)


def main():
    if sys.argv[1] == "--check-stats":
        return check_stats(sys.argv[2])
    uri = sys.argv[1]
    table = deltalake.DeltaTable(uri, storage_options=storage_options())
    if len(sys.argv) > 2:
        wanted = int(sys.argv[2])
        version = table.version()
        while version > 0 and (table.transaction_version("pipelake") or 0) > wanted:
            version -= 1
            table.load_as_version(version)
        if (table.transaction_version("pipelake") or 0) > wanted:
            # The table was created by a later pipelake version: it had no rows then.
            print(json.dumps({"delta_version": None, "pipelake_version": wanted}), file=sys.stderr)
            sys.stdout.flush()
            os._exit(0)
    rows = table.to_pyarrow_table().to_pylist()
    lines = sorted(json.dumps({k: value(v) for k, v in row.items()}, sort_keys=True, separators=(",", ":")) for row in rows)
    print(json.dumps({"delta_version": table.version(), "pipelake_version": table.transaction_version("pipelake")}), file=sys.stderr)
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()
    # delta-rs threads abort the interpreter's normal exit now and then; the output is complete.
    os._exit(0)


if __name__ == "__main__":
    main()
