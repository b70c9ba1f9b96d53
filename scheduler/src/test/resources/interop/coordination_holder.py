"""A client that takes every coordination primitive and then dies (the Java test kills it): a
Variable and a Queue hold its futures, it holds a Lock, a Semaphore lease, a MultiLock, it set an
Event and subscribes to a topic; a task of it on the doomed worker holds a Semaphore lease, and an
actor lives there.

argv: SCHEDULER_ADDR DOOMED_WORKER_ADDR STARTED_FILE
"""
import os
import sys
import time

import dask
from distributed import Event, Lock, MultiLock, Queue, Semaphore, Sub, Variable

from interop_common import CALL_TIMEOUT, connect, marker

# 2024 clients send their lease timeout with semaphore_register (2022 ones only refresh faster)
LEASE_TIMEOUT = "3s"


def inc(x):
    return x + 1


def hold_lease(name, started_file):
    with dask.config.set({"distributed.scheduler.locks.lease-timeout": LEASE_TIMEOUT}):
        sem = Semaphore(max_leases=1, name=name)
        assert sem.acquire(timeout=CALL_TIMEOUT)
    with open(started_file, "w"):
        pass
    time.sleep(600)


class Counter:
    n = 0

    def increment(self, by=1):
        self.n += by
        return self.n


def main():
    doomed = sys.argv[2]
    started_file = sys.argv[3]
    with dask.config.set({"distributed.scheduler.locks.lease-timeout": LEASE_TIMEOUT}):
        client = connect()
        Variable("held-var").set(client.submit(inc, 41, key="held-var-future"))
        q = Queue("held-queue")
        q.put(client.submit(inc, 9, key="held-queue-future"))
        q.put("data")
        assert Lock("held-lock").acquire(timeout=CALL_TIMEOUT)
        assert Semaphore(max_leases=1, name="held-sem").acquire(timeout=CALL_TIMEOUT)
        assert MultiLock(["held-m1", "held-m2"]).acquire(timeout=CALL_TIMEOUT)
        Event("held-event").set()
        sub = Sub("held-topic")
        counter = client.submit(Counter, actor=True, workers=[doomed], allow_other_workers=True, key="held-actor")
        assert counter.result(timeout=CALL_TIMEOUT).increment(5).result(timeout=CALL_TIMEOUT) == 5
        Variable("held-actor").set(counter)
        lease = client.submit(hold_lease, "task-sem", started_file, workers=[doomed], pure=False)
        deadline = time.monotonic() + CALL_TIMEOUT
        while not os.path.exists(started_file):
            if time.monotonic() > deadline:
                raise TimeoutError("the lease-holding task never started")
            time.sleep(0.05)
        marker("held")
        time.sleep(600)
        print(sub, lease)


if __name__ == "__main__":
    main()
