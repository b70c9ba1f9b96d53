"""Leaves one result on one of two workers and prints which (argv: SCHEDULER_ADDR).

The dataset keeps the result alive after this client leaves, so the Java side sees a worker that
holds data and one that holds none.
"""
from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit


def make():
    return list(range(1000))


def main():
    results = {}
    with connect() as client:
        client.wait_for_workers(2, timeout=CALL_TIMEOUT)
        holder = sorted(client.scheduler_info()["workers"])[0]
        f = client.submit(make, workers=[holder], allow_other_workers=False, pure=False)
        wait(f, timeout=CALL_TIMEOUT)
        client.publish_dataset(kept=f)
        results["holder"] = holder
    emit(results)


if __name__ == "__main__":
    main()
