"""Stock peers announcing distributed releases outside every line the scheduler speaks are refused
at connect: a Client raises the scheduler's message as ImportError (client.py _ensure_connected), a
Worker logs "Unable to connect to scheduler: <message>" and fails to start (worker.py
_register_with_scheduler). A client of the real release, connected before them, computes before
and after.

The announced release is what distributed.versions.get_versions reads when the peer registers,
distributed.__version__, set around each attempt.

argv: SCHEDULER_ADDR VERSION...
"""
import asyncio
import logging
import sys

import distributed
from distributed import Client, Worker

from interop_common import CALL_TIMEOUT, connect, emit, part, scheduler_address


def inc(x):
    return x + 1


def announcing(version, fn):
    real = distributed.__version__
    distributed.__version__ = version
    try:
        return fn()
    finally:
        distributed.__version__ = real


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def refused_client():
    try:
        c = Client(scheduler_address(), timeout=30)
    except ImportError as e:
        return {"type": "ImportError", "text": str(e)}
    except Exception as e:  # noqa: B902 - the error is the result
        return {"type": type(e).__name__, "text": str(e)}
    c.close()
    return {"type": None, "text": "connected"}


def refused_worker():
    records = Records()
    log = logging.getLogger("distributed.worker")
    log.addHandler(records)

    async def start():
        try:
            w = await Worker(scheduler_address(), nthreads=1, memory_limit=0, dashboard=False)
        except Exception as e:  # noqa: B902 - the error is the result
            cause = e.__cause__ or e
            return {"type": type(e).__name__, "text": str(cause)}
        await w.close()
        return {"type": None, "text": "registered"}

    try:
        result = asyncio.run(asyncio.wait_for(start(), CALL_TIMEOUT))
    finally:
        log.removeHandler(records)
    result["logged"] = [m for m in records.messages if "Unable to connect to scheduler" in m]
    return result


def main():
    versions = sys.argv[2:]
    results = {}
    with connect() as client:
        part(results, "before", lambda: client.submit(inc, 1).result(timeout=CALL_TIMEOUT))
        for v in versions:
            part(results, "client " + v, lambda: announcing(v, refused_client))
            part(results, "worker " + v, lambda: announcing(v, refused_worker))
        part(results, "after", lambda: sum(f.result(timeout=CALL_TIMEOUT) for f in client.map(inc, range(10))))
    emit(results)


if __name__ == "__main__":
    main()
