"""Graph shapes that stress how the scheduler reads a client's graph: tuple keys, futures passed as
arguments (an Alias node in 2024 graphs), a large numpy array embedded in the graph (out-of-band
pickle buffers in 2024), and a closure over a local variable (cloudpickle by value)."""
import numpy as np

from interop_common import CALL_TIMEOUT, connect, emit, part


def add(a, b):
    return a + b


def total(xs):
    return float(np.sum(xs))


def main():
    results = {}
    with connect() as client:

        def tuple_key():
            f = client.submit(add, 1, 2, key=("x", 0, 1))
            # 2022.12 stringifies tuple keys, 2024.12 keeps the tuple; both print the same
            return {"value": f.result(timeout=CALL_TIMEOUT), "key": str(f.key)}

        part(results, "tuple_key", tuple_key)

        def future_args():
            a = client.submit(add, 10, 5)
            b = client.submit(add, a, a)            # the same future twice
            c = client.submit(add, b, 1, key=("y", 2))
            return c.result(timeout=CALL_TIMEOUT)

        part(results, "future_args", future_args)

        def big_array():
            arr = np.arange(200_000, dtype="float64")  # 1.6 MB, travels as an out-of-band buffer
            return client.submit(total, arr).result(timeout=CALL_TIMEOUT)

        part(results, "big_array", big_array)

        def closure():
            factor = 7
            return client.submit(lambda v: v * factor, 6).result(timeout=CALL_TIMEOUT)

        part(results, "closure", closure)
    emit(results)


if __name__ == "__main__":
    main()
