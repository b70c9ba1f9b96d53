"""Graceful retirement: results held only on one worker survive client.retire_workers of it.

argv: SCHEDULER_ADDR COUNT_DIR [GO_FILE]. With GO_FILE the Java side retires worker a (cloudviper's
Scheduler.retireWorkers): the script writes a's address to COUNT_DIR/../retire-me, prints
@@computed and waits for GO_FILE. Needs two workers. Every task appends a line to a file in COUNT_DIR
when it runs, so the test can see that nothing was recomputed. Then retiring the last worker must
be refused (no other worker can take its data) and the data must still be there.
"""
import os
import sys
import time

from interop_common import CALL_TIMEOUT, connect, emit, marker, part, wait_for_file

N = 20


def counted_square(x, count_dir):
    with open(os.path.join(count_dir, "ran-%d" % x), "a") as f:
        f.write("x\n")
    return x * x


def runs(count_dir):
    total = 0
    for name in os.listdir(count_dir):
        with open(os.path.join(count_dir, name)) as f:
            total += len(f.read().split())
    return total


def main():
    count_dir = sys.argv[2]
    results = {}
    with connect() as client:
        info = client.scheduler_info()["workers"]
        a, b = sorted(info)
        results["retired_name"] = str(info[a]["name"])
        futures = client.map(counted_square, range(N), count_dir=count_dir, workers=[a],
                             allow_other_workers=False, pure=False)
        client.gather(futures)
        results["holders_before"] = sorted({w for ws in client.who_has(futures).values() for w in ws})
        results["expected_holders_before"] = [a]

        def retire():
            if len(sys.argv) > 3:
                with open(os.path.join(os.path.dirname(count_dir), "retire-me"), "w") as f:
                    f.write(a)
                marker("computed")
                wait_for_file(sys.argv[3])
                return [a]
            r = client.retire_workers([a])
            return sorted(r)

        part(results, "retired", retire)
        deadline = time.monotonic() + CALL_TIMEOUT
        while a in client.scheduler_info()["workers"] and time.monotonic() < deadline:
            time.sleep(0.05)
        results["a_listed_after"] = a in client.scheduler_info()["workers"]
        results["expected_retired"] = [a]
        part(results, "values", lambda: client.gather(futures))
        part(results, "holders", lambda: sorted({w for ws in client.who_has(futures).values() for w in ws}))
        results["expected_holders"] = [b]
        results["runs"] = runs(count_dir)

        # The last worker cannot go: nobody could take its data.
        part(results, "refused", lambda: sorted(client.retire_workers([b], close_workers=False)))
        results["b_listed_after_refusal"] = b in client.scheduler_info()["workers"]
        part(results, "values_after_refusal", lambda: client.gather(futures))
        deadline = time.monotonic() + CALL_TIMEOUT
        while (client.scheduler_info()["workers"][b].get("status") != "running"
               and time.monotonic() < deadline):
            time.sleep(0.05)
        results["status_after_refusal"] = client.scheduler_info()["workers"][b].get("status")
        # Running again: it takes new tasks.
        part(results, "new_task", lambda: client.submit(counted_square, 100, count_dir).result(timeout=CALL_TIMEOUT))
        results["runs_after"] = runs(count_dir)
    emit(results)


if __name__ == "__main__":
    main()
