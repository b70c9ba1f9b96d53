"""dask.bag graphs through the scheduler under test, each result against plain Python computed
locally. Unoptimized bags send Blockwise layers (Bag.map, filter, pluck are partitionwise); default
optimization sends them fused and materialized; groupby with the task shuffle sends its stages."""
import json
import os
import sys

import dask.bag as db

from interop_common import connect, emit, part


def same(got, want):
    return {"equal": got == want, "got": repr(got)[:300], "want": repr(want)[:300]}


def main():
    scratch = sys.argv[2]
    records = [{"name": f"n{i % 7}", "v": i, "tags": [i % 3, i % 5]} for i in range(300)]
    text = os.path.join(scratch, "records-*.jsonl")
    for p in range(3):
        with open(text.replace("*", str(p)), "w") as f:
            for r in records[p * 100:(p + 1) * 100]:
                f.write(json.dumps(r) + "\n")
    results = {}
    with connect() as client:
        b = db.from_sequence(records, npartitions=6)
        part(results, "map_filter_unoptimized", lambda: same(
            b.filter(lambda r: r["v"] % 2 == 0).map(lambda r: r["v"] * 3).sum().compute(optimize_graph=False),
            sum(r["v"] * 3 for r in records if r["v"] % 2 == 0)))
        part(results, "pluck_frequencies", lambda: same(
            sorted(b.pluck("name").frequencies().compute(optimize_graph=False)),
            sorted({n: sum(1 for r in records if r["name"] == n) for n in {r["name"] for r in records}}.items())))
        part(results, "flatten_distinct", lambda: same(
            sorted(b.pluck("tags").flatten().distinct().compute()), sorted({t for r in records for t in r["tags"]})))
        part(results, "foldby", lambda: same(
            sorted(b.foldby("name", lambda acc, r: acc + r["v"], 0, lambda x, y: x + y, 0).compute()),
            sorted({n: sum(r["v"] for r in records if r["name"] == n) for n in {r["name"] for r in records}}.items())))
        # Grouped by an int: a str's hash differs between worker processes without a nanny's
        # PYTHONHASHSEED, and the task shuffle hashes the group key in each of them.
        part(results, "groupby_tasks", lambda: same(
            sorted((k, sorted(r["v"] for r in g)) for k, g in
                   b.groupby(lambda r: r["v"] % 7, shuffle="tasks", npartitions=4).compute(optimize_graph=False)),
            sorted((k, sorted(r["v"] for r in records if r["v"] % 7 == k)) for k in range(7))))
        part(results, "read_text", lambda: same(
            db.read_text(text).map(json.loads).pluck("v").max().compute(optimize_graph=False),
            max(r["v"] for r in records)))
        part(results, "to_dataframe", lambda: same(
            int(b.map(lambda r: {"name": r["name"], "v": r["v"]}).to_dataframe().groupby("name").v.sum()
                .compute()["n3"]), sum(r["v"] for r in records if r["name"] == "n3")))
        part(results, "topk", lambda: same(
            b.map(lambda r: r["v"]).topk(3).compute(optimize_graph=False), [299, 298, 297]))
    emit(results)


if __name__ == "__main__":
    main()
