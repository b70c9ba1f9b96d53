"""Graphs large enough to be read while they arrive (a frame 0 over 1 MiB): 30,000 mapped tasks,
then 30,000 more, each depending on one of the first; prints the sum of the second."""
from interop_common import connect, emit, part

N = 30_000


def inc(x):
    return x + 1


def add(x, y):
    return x + y


def main():
    results = {}
    with connect() as client:
        def mapped():
            xs = client.map(inc, range(N))
            ys = client.map(add, xs, range(N))
            return sum(client.gather(ys))

        part(results, "sum", mapped)
    emit(results)


if __name__ == "__main__":
    main()
