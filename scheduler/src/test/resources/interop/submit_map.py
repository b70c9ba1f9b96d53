"""Test 1: submit one task, then map 1,000 tasks and gather them."""
from interop_common import CALL_TIMEOUT, connect, emit, part


def inc(x):
    return x + 1


def main():
    results = {}
    with connect() as client:
        part(results, "submit", lambda: client.submit(inc, 1).result(timeout=CALL_TIMEOUT))

        def mapped():
            futures = client.map(inc, range(1000))
            return client.gather(futures)

        part(results, "map", mapped)
    emit(results)


if __name__ == "__main__":
    main()
