"""Test 5: scatter, cancel of a running task, and a published dataset shared by two clients.

argv: SCHEDULER_ADDR SCRATCH_DIR
"""
import os
import sys
import time

from interop_common import CALL_TIMEOUT, connect, emit, part


def inc(x):
    return x + 1


def slow(started_file, seconds):
    with open(started_file, "w"):
        pass
    time.sleep(seconds)
    return seconds


def main():
    scratch = sys.argv[2]
    results = {}
    with connect() as client:

        def scatter():
            data = client.scatter(41)
            list_data = client.scatter([1, 2, 3])
            total = client.submit(sum, list_data)  # a list of futures as an argument
            return {"inc": client.submit(inc, data).result(timeout=CALL_TIMEOUT),
                    "sum": total.result(timeout=CALL_TIMEOUT)}

        part(results, "scatter", scatter)

        def cancel():
            started_file = os.path.join(scratch, "slow-started")
            future = client.submit(slow, started_file, 60, pure=False)
            deadline = time.monotonic() + 30
            # Wait until a worker thread really runs it.
            while not os.path.exists(started_file):
                if time.monotonic() > deadline:
                    raise TimeoutError("the long task never started")
                time.sleep(0.05)
            started = time.monotonic()
            client.cancel(future)
            while future.status != "cancelled" and time.monotonic() - started < 30:
                time.sleep(0.05)
            cancel_seconds = time.monotonic() - started
            # The worker has 2 threads: one is still asleep in the cancelled task (Python cannot
            # interrupt it), the other must take new work.
            after = client.gather(client.map(inc, range(10), pure=False))
            return {"status": future.status, "cancelled": future.cancelled(),
                    "cancel_seconds": round(cancel_seconds, 3), "after": after}

        part(results, "cancel", cancel)

        def publish():
            with connect(set_as_default=False) as other:
                values = [1, "two", {"three": 3.0}]
                computed = client.submit(inc, 99)
                client.publish_dataset(values=values, computed=computed)
                listed = sorted(other.list_datasets())
                got_values = other.get_dataset("values")
                got_computed = other.get_dataset("computed").result(timeout=CALL_TIMEOUT)
                client.unpublish_dataset("values")
                client.unpublish_dataset("computed")
                return {"listed": listed, "values_equal": got_values == values,
                        "computed": got_computed,
                        "after_unpublish": list(other.list_datasets()),
                        "after_unpublish_a": list(client.list_datasets())}

        part(results, "publish", publish)

        def story():
            future = client.submit(inc, 1000, key="story-key")
            future.result(timeout=CALL_TIMEOUT)
            entries = client.story("story-key")
            # (where, key, start, finish, ...) from the scheduler and from every worker that holds it
            scheduler = [(e[2], e[3]) for e in entries if e[0] == "scheduler" and e[1] == "story-key"]
            by_worker = [e for e in entries if e[0] != "scheduler"]
            return {"scheduler": [list(t) for t in scheduler], "workers_told": len(by_worker) > 0}

        part(results, "story", story)
    emit(results)


if __name__ == "__main__":
    main()
