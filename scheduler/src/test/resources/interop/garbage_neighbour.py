"""Test 8: a client that keeps working while raw sockets send garbage to the scheduler.

argv: SCHEDULER_ADDR GO_FILE. Prints @@connected after a first round trip, waits for GO_FILE (the
garbage has been sent), then maps 100 tasks.
"""
import sys

from interop_common import CALL_TIMEOUT, connect, emit, marker, part, wait_for_file


def inc(x):
    return x + 1


def main():
    go_file = sys.argv[2]
    results = {}
    with connect() as client:
        part(results, "before", lambda: client.submit(inc, 1).result(timeout=CALL_TIMEOUT))
        marker("connected")
        wait_for_file(go_file)
        part(results, "map", lambda: client.gather(client.map(inc, range(100))))
        part(results, "workers", lambda: len(client.scheduler_info()["workers"]))
    emit(results)


if __name__ == "__main__":
    main()
