"""Runs after coordination_holder.py's client and its worker were killed: what a second client
finds of the primitives the dead holder held.

argv: SCHEDULER_ADDR
"""
import time

from distributed import Event, Lock, MultiLock, Pub, Queue, Semaphore, Sub, Variable

from interop_common import CALL_TIMEOUT, connect, emit, part, raised

# a lapsing lease takes the scheduler's lease timeout (30 s for 2022 clients) and its check interval
LEASE_WAIT = 60


def publish(topic, n):
    pub = Pub(topic)
    time.sleep(1.0)
    for i in range(n):
        pub.put(i)
    return n


class Counter:
    n = 0

    def increment(self, by=1):
        self.n += by
        return self.n


def timed(fn):
    start = time.monotonic()
    value = fn()
    return {"value": value, "seconds": round(time.monotonic() - start, 3)}


def main():
    results = {}
    with connect() as c:
        part(results, "variable", lambda: Variable("held-var").get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT))

        def queue():
            q = Queue("held-queue")
            return [q.get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT), q.get(timeout=CALL_TIMEOUT)]

        part(results, "queue", queue)
        part(results, "event", lambda: Event("held-event").wait(timeout=CALL_TIMEOUT))
        # Dask's MultiLock has no lease: what a dead client holds stays held
        part(results, "multilock", lambda: MultiLock(["held-m1"]).acquire(timeout=0.5))

        def pubsub():
            sub = Sub("held-topic")
            time.sleep(0.3)
            c.submit(publish, "held-topic", 2, pure=False).result(timeout=CALL_TIMEOUT)
            return [sub.get(timeout=CALL_TIMEOUT) for _ in range(2)]

        part(results, "pubsub", pubsub)

        def actor():
            # Dask does not make an actor again when its worker died: the future errs
            lost = raised(lambda: Variable("held-actor").get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT))
            counter = c.submit(Counter, actor=True).result(timeout=CALL_TIMEOUT)
            return {"lost": lost, "new": counter.increment().result(timeout=CALL_TIMEOUT)}

        part(results, "actor", actor)
        part(results, "semaphore", lambda: timed(
            lambda: Semaphore(max_leases=1, name="held-sem").acquire(timeout=LEASE_WAIT)))
        part(results, "task_semaphore", lambda: timed(
            lambda: Semaphore(max_leases=1, name="task-sem").acquire(timeout=LEASE_WAIT)))
        # Before 2024.7.1 Lock has no lease (stays held); since, it is a semaphore of one lease (lapses)
        lock_wait = LEASE_WAIT if issubclass(Lock, Semaphore) else 2
        part(results, "lock", lambda: timed(lambda: Lock("held-lock").acquire(timeout=lock_wait)))
    emit(results)


if __name__ == "__main__":
    main()
