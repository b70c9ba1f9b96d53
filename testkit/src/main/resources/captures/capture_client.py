"""The client side of a wire capture (see capture.sh): one of each operation whose messages the
captures hold. Runs with the Dask generation under capture; connects through the logging proxy."""
import sys, time

import dask
import dask.array as da
from distributed import Client


def inc(x):
    return x + 1


def div(x):
    return 1 / x


def add(x, y=0):
    return x + y


c = Client(sys.argv[1], timeout=30)
print(c.submit(inc, 1).result())
print(c.gather(c.map(inc, range(5))))
print(da.ones((4, 4), chunks=2).sum().compute())
try:
    c.submit(div, 0).result()
except ZeroDivisionError:
    print("ZeroDivisionError")
[x] = c.scatter([41])
c.publish_dataset(mydata=x)
print(c.get_dataset("mydata").result())
c.unpublish_dataset("mydata")
f = c.submit(time.sleep, 5)
time.sleep(0.5)
c.cancel(f)
print(c.who_has(), c.has_what(), c.ncores())
# Task shapes a worker runs (added after the 2024.12.1 and 2022.12.1 captures were taken): a future
# as an argument, keyword arguments (apply), and a task nested in another's arguments.
[y] = c.scatter([1])
print(c.submit(add, y, 2).result(), c.submit(add, 3, y=4).result())
print(c.get({"a": 1, "b": (inc, "a"), "c": (sum, [(inc, "a"), "b"])}, "c"))
time.sleep(1)
c.close()
