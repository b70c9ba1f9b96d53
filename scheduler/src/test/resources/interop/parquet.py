"""dask.dataframe.read_parquet and to_parquet (pyarrow) through the scheduler under test, against
pandas. to_parquet's write layer takes a BlockIndex IO input; both run optimized and not."""
import os
import sys

import dask.dataframe as dd
import numpy as np
import pandas as pd

from interop_common import connect, emit, part


def main():
    scratch = sys.argv[2]
    pdf = pd.DataFrame({"k": np.arange(300) % 11, "x": np.arange(300) * 0.25})
    for i in range(3):
        pdf.iloc[i * 100:(i + 1) * 100].to_parquet(os.path.join(scratch, f"part{i}.parquet"), index=False)
    results = {}
    with connect() as client:
        def read():
            got = dd.read_parquet(os.path.join(scratch, "*.parquet")).groupby("k").x.sum().compute().sort_index()
            want = pdf.groupby("k").x.sum().sort_index()
            return {"equal": bool(got.equals(want)), "rows": len(want)}

        part(results, "read_parquet", read)
        for optimize in (True, False):
            def write(optimize=optimize):
                out = os.path.join(scratch, f"written-{optimize}")
                dd.from_pandas(pdf, npartitions=4).to_parquet(out, write_index=False,
                                                               compute_kwargs={"optimize_graph": optimize})
                got = pd.read_parquet(out).sort_values("x").reset_index(drop=True)
                return {"equal": bool(got.equals(pdf)), "rows": len(got)}

            part(results, "to_parquet" + ("" if optimize else "_unopt"), write)
    emit(results)


if __name__ == "__main__":
    main()
