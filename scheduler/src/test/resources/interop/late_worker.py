"""Queues work on one worker, then lets the test start a second (argv: SCHEDULER_ADDR GO_FILE
[TASK_SECONDS]).

Prints @@queued once 40 tasks of TASK_SECONDS (default 0.1) are submitted to the one single-thread
worker, waits for the test to start another worker and create GO_FILE, and reports which worker
computed what and the seconds from GO_FILE to the last result.
"""
import sys
import time

from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit, marker, wait_for_file


def slow(i, seconds):
    time.sleep(seconds)
    return i


def main():
    results = {}
    with connect() as client:
        client.wait_for_workers(1, timeout=CALL_TIMEOUT)
        seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
        futures = client.map(slow, range(40), seconds=seconds)
        marker("queued")
        wait_for_file(sys.argv[2])
        start = time.monotonic()
        wait(futures, timeout=CALL_TIMEOUT)
        results["seconds"] = time.monotonic() - start
        results["sum"] = sum(client.gather(futures))
        per_worker = {}
        for key, workers in client.who_has(futures).items():
            for w in workers:
                per_worker[w] = per_worker.get(w, 0) + 1
        results["per_worker"] = per_worker
    emit(results)


if __name__ == "__main__":
    main()
