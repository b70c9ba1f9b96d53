"""Sends every operation name of the scheduler of this client's generation and records each answer.

The names are read from this generation's own distributed/scheduler.py (Scheduler.handlers and the
worker and client stream handlers) and distributed/core.py (Server's own handlers), so a newer
generation's additions are tried without editing this script. Request/reply ops are sent on one
connection without their arguments; the connection must answer each one (a value or an error)
within ANSWER_TIMEOUT and still answer "identity" after it. Stream ops are sent on a registered
client's stream and on a registered (fake) worker's stream with plausible fields; the stream must
still answer a probe afterwards.

argv: SCHEDULER_ADDR
"""
import asyncio
import inspect
import re
import time

import distributed
from distributed.comm import connect
from distributed.core import Server
from distributed.versions import get_versions

from interop_common import emit, scheduler_address

ANSWER_TIMEOUT = 10


def dict_names(source, start):
    """The quoted keys of the dict literal that begins at ``start`` in ``source``."""
    body = source[source.index(start):]
    body = body[:body.index("}")]
    return re.findall(r'"([^"]+)":', body)


def handler_names():
    src = inspect.getsource(distributed.scheduler)
    requests = dict_names(src, "self.handlers = {")
    core = re.findall(r'"([^"]+)":', inspect.getsource(Server.__init__).split("self.handlers = {")[1].split("}")[0])
    return (sorted(set(requests) | set(core)), dict_names(src, "worker_handlers = {"),
            dict_names(src, "client_handlers = {"))


async def read_until(comm, op, timeout):
    """Reads stream batches until a message with ``op`` arrives; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        msgs = await asyncio.wait_for(comm.read(), max(0.1, deadline - time.monotonic()))
        for m in msgs if isinstance(msgs, (list, tuple)) else [msgs]:
            if isinstance(m, dict) and m.get("op") == op:
                return m


async def requests(addr, ops):
    answers = {}
    comm = await connect(addr)
    for op in ops:
        started = time.monotonic()
        try:
            await comm.write({"op": op, "reply": True})
            answer = await asyncio.wait_for(comm.read(), ANSWER_TIMEOUT)
            if isinstance(answer, dict) and answer.get("status") == "uncaught-error":
                kind, text = "error", str(answer.get("exception_text"))
            else:
                kind, text = "value", repr(answer)[:200]
        except asyncio.TimeoutError:
            kind, text = "hang", "no answer in %s s" % ANSWER_TIMEOUT
        except Exception as e:  # noqa: B902 - a dropped connection is the finding
            kind, text = "dropped", "%s: %s" % (type(e).__name__, e)
        alive = False
        if kind not in ("hang", "dropped"):
            try:
                await comm.write({"op": "identity", "reply": True})
                alive = (await asyncio.wait_for(comm.read(), ANSWER_TIMEOUT)).get("type") == "Scheduler"
            except Exception:  # noqa: B902
                alive = False
        if not alive and not comm.closed():
            comm.abort()
        if not alive:
            comm = await connect(addr)
        answers[op] = {"kind": kind, "text": text, "alive": alive,
                       "seconds": round(time.monotonic() - started, 3)}
    await comm.close()
    return answers


STREAM_FIELDS = {
    # client stream
    "update-graph": {"keys": []},
    "update-graph-hlg": {"keys": [], "hlg": {"layers": [], "dependencies": {}}},
    "client-desires-keys": {"keys": ["never-computed"]},
    "client-releases-keys": {"keys": ["never-computed"]},
    "update-data": {"who_has": {}, "nbytes": {}},
    "report-key": {"key": "never-computed"},
    "heartbeat-client": {},
    "subscribe-topic": {"topic": "t"},
    "unsubscribe-topic": {"topic": "t"},
    "cancel-keys": {"keys": ["never-computed"], "force": False},
    # worker stream
    "task-finished": {"key": "never-computed", "nbytes": 8, "type": None, "typename": "int", "metadata": {},
                      "thread": 1, "startstops": [], "status": "OK", "run_id": 1},
    "task-erred": {"key": "never-computed", "exception": "x", "traceback": None, "exception_text": "x",
                   "traceback_text": "", "thread": 1, "startstops": [], "status": "error", "run_id": 1},
    "release-worker-data": {"key": "never-computed"},
    "add-keys": {"keys": []},
    "long-running": {"key": "never-computed", "compute_duration": 0.1},
    "reschedule": {"key": "never-computed"},
    "keep-alive": {},
    "log-event": {"topic": "t", "msg": {"a": 1}},
    "worker-status-change": {"status": "running"},
    "request-refresh-who-has": {"keys": ["never-computed"]},
    "steal-response": {"key": "never-computed", "state": None},
}


async def client_stream(addr, ops):
    comm = await connect(addr)
    await comm.write({"op": "register-client", "client": "every-handler-client", "reply": False,
                      "versions": get_versions()})
    await read_until(comm, "stream-start", ANSWER_TIMEOUT)
    sent = []
    for op in ops:
        if op == "close-client":
            continue  # ends the stream by design; sent last below
        await comm.write([dict(STREAM_FIELDS.get(op, {}), op=op, stimulus_id="every-handler")])
        sent.append(op)
    # the stream still works: a key the scheduler does not know is reported cancelled
    await comm.write([{"op": "report-key", "key": "probe-key"}])
    probe = await read_until(comm, "cancelled-keys" if "cancel-keys" in ops else "cancelled-key", ANSWER_TIMEOUT)
    await comm.write([{"op": "close-client"}, {"op": "close-stream"}])
    await comm.close()
    return {"sent": sent, "alive": bool(probe)}


async def worker_stream(addr, ops):
    comm = await connect(addr)
    await comm.write({"op": "register-worker", "reply": False, "address": "tcp://127.0.0.1:9", "status": "init",
                      "keys": [], "nthreads": 1, "name": "every-handler-worker", "nbytes": {}, "types": {},
                      "now": time.time(), "resources": {}, "memory_limit": 0, "local_directory": "/tmp",
                      "services": {}, "nanny": None, "pid": 0, "versions": get_versions(), "metrics": {},
                      "extra": {}, "stimulus_id": "every-handler", "server_id": "Worker-every-handler"})
    registered = await asyncio.wait_for(comm.read(), ANSWER_TIMEOUT)
    sent = []
    for op in ops:
        await comm.write([dict(STREAM_FIELDS.get(op, {}), op=op, stimulus_id="every-handler")])
        sent.append(op)
    await comm.write([{"op": "request-refresh-who-has", "keys": ["probe-key"], "stimulus_id": "probe"}])
    probe = await read_until(comm, "refresh-who-has", ANSWER_TIMEOUT)
    await comm.write({"op": "close-stream"})
    await comm.close()
    return {"registered": registered.get("status"), "sent": sent, "alive": bool(probe)}


async def main():
    addr = scheduler_address()
    request_ops, worker_ops, client_ops = handler_names()
    # restart, terminate and the ops that register a stream come last: they change the scheduler or
    # the connection on purpose, and must still answer
    last = ["register-client", "register-worker", "restart", "terminate"]
    ordered = [op for op in request_ops if op not in last] + [op for op in last if op in request_ops]
    results = {"version": distributed.__version__,
               "requests": await requests(addr, ordered),
               "client_stream": await client_stream(addr, client_ops),
               "worker_stream": await worker_stream(addr, worker_ops)}
    emit(results)


if __name__ == "__main__":
    asyncio.run(main())
