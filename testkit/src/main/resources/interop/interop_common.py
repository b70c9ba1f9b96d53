"""Client-side helpers shared by the interop scripts.

Contract with the Java side (the test kit's PythonPeers): a script is run as
``python3 script.py SCHEDULER_ADDR [args...]``; it prints ``@@<marker>`` lines when the test has to
act at a given point, and one final JSON line with its results. Any failure exits non-zero with the
traceback on stderr.

Nothing in this module may run inside a task: workers cannot import it (cloudpickle pickles
functions of ``__main__`` by value but functions of importable modules by reference), so the task
functions live in the scripts themselves.
"""
import faulthandler
import json
import os
import sys
import time
import traceback

from distributed import Client

# A hung script dumps every thread's stack before the Java side kills it, so a hang in cloudviper
# shows where the client was waiting (set by PythonPeers slightly below its own timeout).
_DUMP_AFTER = float(os.environ.get("INTEROP_DUMP_AFTER_S", "0"))
if _DUMP_AFTER > 0:
    faulthandler.dump_traceback_later(_DUMP_AFTER, exit=True)

# How long one blocking client call may take before the script fails with a traceback.
CALL_TIMEOUT = float(os.environ.get("INTEROP_CALL_TIMEOUT_S", "60"))


def scheduler_address():
    return sys.argv[1]


def connect(**kwargs):
    """A stock Client of the scheduler under test; fails instead of waiting forever."""
    kwargs.setdefault("timeout", 30)
    return Client(scheduler_address(), **kwargs)


def marker(name):
    """Tells the Java side that the script reached ``name`` (see Peer.awaitMarker)."""
    print("@@" + name, flush=True)


def wait_for_file(path, timeout=60.0):
    """Waits until the Java side creates ``path`` (its way of saying "go on")."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("the test never created " + path)
        time.sleep(0.05)


def part(results, name, fn):
    """Runs one independent part of a script and records its result, or its traceback, under
    ``name``, so one broken feature does not hide the state of the others."""
    started = time.monotonic()
    try:
        value = fn()
        results[name] = {"ok": True, "value": value}
    except BaseException:  # noqa: B902 - everything is reported to the Java side
        results[name] = {"ok": False, "error": traceback.format_exc()}
        traceback.print_exc()
    results[name]["seconds"] = round(time.monotonic() - started, 3)


def raised(fn):
    """The exception ``fn`` raises, as the client sees it: its type name and text."""
    try:
        fn()
    except Exception as e:  # noqa: B902 - the error is the result
        return {"type": type(e).__name__, "text": str(e)}
    return {"type": None, "text": "no error"}


def emit(results):
    """The final stdout line, parsed by the Java test."""
    print(json.dumps(results), flush=True)
