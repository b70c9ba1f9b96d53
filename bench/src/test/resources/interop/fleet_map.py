"""Maps tasks onto a fleet of fake workers and waits for them without gathering (fake workers
serve no data): the number of futures finished, and the workers the scheduler lists."""
import sys

from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit, part


def inc(x):
    return x + 1


def main():
    n = int(sys.argv[2])
    results = {}
    with connect() as client:
        part(results, "workers", lambda: len(client.scheduler_info()["workers"]))

        def mapped():
            futures = client.map(inc, range(n))
            wait(futures, timeout=CALL_TIMEOUT)
            return sum(f.status == "finished" for f in futures)

        part(results, "map", mapped)
    emit(results)


if __name__ == "__main__":
    main()
