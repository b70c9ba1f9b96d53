"""Tasks implemented in Java by cloudviper workers.

Use them like any function with a Dask client; they must land on a cloudviper Java worker::

    from distributed import Client
    import cloudviper.tasks as cv

    client = Client("tcp://scheduler:8786")
    a = client.submit(cv.arange_f64, 10, resources={"java": 1})
    s = client.submit(cv.sum, a, resources={"java": 1})
    s.result()   # 45.0

The functions here only identify the task: a client pickles them by reference (module and name),
and the Java worker maps that name to its implementation. If a Python worker receives one of them
(because the ``resources`` annotation was left out), it raises a RuntimeError saying so.
"""

__all__ = ["arange_f64", "scale", "sum", "echo", "noop", "arrow_range", "arrow_scale"]

_RESOURCES_HINT = "submit with resources={'java': 1}"


def _java_only(name):
    raise RuntimeError(
        f"cloudviper.tasks.{name} runs on cloudviper Java workers; {_RESOURCES_HINT}"
    )


def arange_f64(n):
    """numpy.arange(n, dtype="f8") computed by a Java worker."""
    _java_only("arange_f64")


def scale(array, factor):
    """array * factor (float32 stays float32, other dtypes give float64)."""
    _java_only("scale")


def sum(array):  # noqa: A001 - the task's name on the Java side
    """The sum of all elements of a numpy array (or a sequence of numbers), as a float."""
    _java_only("sum")


def echo(x):
    """Returns x unchanged (ints, floats, str, bytes, None, bool, tuples, lists, dicts, arrays)."""
    _java_only("echo")


def noop(*args):
    """Ignores its arguments and returns None (scheduling benchmarks)."""
    _java_only("noop")


def arrow_range(n):
    """A pyarrow Table of n rows: id (int64, 0 .. n-1), x (float64, id / 2), name (string, "row<id>")."""
    _java_only("arrow_range")


def arrow_scale(table, column, factor):
    """The pyarrow Table (or RecordBatch) with its float64/float32 column multiplied by factor.

    A pandas DataFrame is refused: send it as a pyarrow Table (pyarrow.Table.from_pandas(df)).
    """
    _java_only("arrow_scale")
