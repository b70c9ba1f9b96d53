"""Coordination primitives used by two clients and by tasks: Variable, Queue, Lock, MultiLock,
Semaphore, Event, Pub/Sub and actors, each part checking what a stock client gets.

argv: SCHEDULER_ADDR
"""
import time

from distributed import Event, Lock, MultiLock, Pub, Queue, Semaphore, Sub, Variable, get_client
from distributed.utils import TimeoutError as DaskTimeout

from interop_common import CALL_TIMEOUT, connect, emit, part, raised


def inc(x):
    return x + 1


def fail(x):
    raise ValueError("bad " + str(x))


def put_from_task(name, n):
    q = Queue(name, client=get_client())
    for i in range(n):
        q.put(i * 10)
    return n


def wait_for_event(name):
    return Event(name, client=get_client()).wait(timeout=CALL_TIMEOUT)


def publish_from_task(topic, n):
    pub = Pub(topic)
    # a worker Pub learns from the scheduler that clients listen; what it puts before is dropped
    time.sleep(1.0)
    for i in range(n):
        pub.put({"i": i})
    return n


def subscribe_in_task(topic, n):
    sub = Sub(topic)
    return [sub.get(timeout=CALL_TIMEOUT) for _ in range(n)]


def with_lock(name, seconds):
    lock = Lock(name, client=get_client())
    with lock:
        start = time.time()
        time.sleep(seconds)
        return (start, time.time())


def with_semaphore(name, seconds):
    sem = Semaphore(max_leases=2, name=name)
    with sem:
        start = time.time()
        time.sleep(seconds)
        return (start, time.time())


class Counter:
    n = 0

    def increment(self, by=1):
        self.n += by
        return self.n

    def fail(self):
        raise ValueError("actor says no")


def use_actor(counter, by):
    return counter.increment(by).result()


def make_actor(by):
    counter = get_client().submit(Counter, actor=True).result()
    return counter.increment(by).result()


def max_overlap(intervals):
    """How many of the (start, end) intervals overlap at most at one time."""
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = best = 0
    for _, d in events:
        now += d
        best = max(best, now)
    return best


def main():
    results = {}
    with connect() as a, connect(set_as_default=False) as b:

        def variable():
            va, vb = Variable("var", client=a), Variable("var", client=b)
            timed_out = raised(lambda: vb.get(timeout=0.2))
            va.set({"x": [1, 2]})
            data = vb.get(timeout=CALL_TIMEOUT)
            future = a.submit(inc, 41, key="var-future")
            va.set(future)
            del future
            got = vb.get(timeout=CALL_TIMEOUT)
            value = got.result(timeout=CALL_TIMEOUT)
            # the variable alone keeps the key: a's future is gone, b's too
            del got
            time.sleep(0.5)
            again = vb.get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT)
            erred = a.submit(fail, 1, key="var-erred")
            va.set(erred)
            del erred
            err = raised(lambda: vb.get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT))
            vb.delete()  # on b's stream: a's get may overtake it, with Dask's scheduler too
            time.sleep(0.5)
            after_delete = raised(lambda: va.get(timeout=0.2))
            return {"timed_out": timed_out["type"], "data": data, "future": value, "kept": again,
                    "erred": err, "after_delete": after_delete["type"]}

        part(results, "variable", variable)

        def queue():
            qa, qb = Queue("queue", client=a), Queue("queue", client=b)
            empty = raised(lambda: qb.get(timeout=0.2))
            qa.put(1)
            qa.put("two")
            future = a.submit(inc, 2, key="queue-future")
            qa.put(future)
            del future
            size = qb.qsize()
            first = [qb.get(timeout=CALL_TIMEOUT), qb.get(timeout=CALL_TIMEOUT)]
            third = qb.get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT)
            produced = a.submit(put_from_task, "queue", 3, pure=False).result(timeout=CALL_TIMEOUT)
            batch = qb.get(batch=True)
            qa.put(7)
            qa.put(8)
            two = qb.get(batch=2)
            bounded = Queue("bounded", client=a, maxsize=1)
            bounded.put(1)
            full = raised(lambda: bounded.put(2, timeout=0.2))
            return {"empty": empty["type"], "size": size, "first": first, "future": third,
                    "produced": produced, "batch": batch, "two": two, "full": full["type"],
                    "size_after": qa.qsize()}

        part(results, "queue", queue)

        def lock():
            la, lb = Lock("lock", client=a), Lock("lock", client=b)
            got_a = la.acquire()
            got_b = lb.acquire(timeout=0.2)
            locked = lb.locked() if callable(getattr(lb, "locked", None)) else None
            la.release()
            got_b_after = lb.acquire(timeout=CALL_TIMEOUT)
            lb.release()
            spans = a.gather(a.map(with_lock, ["lock-tasks"] * 4, [0.2] * 4, pure=False))
            return {"a": got_a, "b_while_held": got_b, "b_after": got_b_after,
                    "a_saw_locked": la.locked(), "b_locked_while_held": locked,
                    "task_overlap": max_overlap(spans)}

        part(results, "lock", lock)

        def multilock():
            ma = MultiLock(["m1", "m2"], client=a)
            mb = MultiLock(["m2", "m3"], client=b)
            mc = MultiLock(["m3"], client=b)
            got_a = ma.acquire()
            got_b = mb.acquire(timeout=0.2)
            got_c = mc.acquire(timeout=CALL_TIMEOUT)  # m3 is free: b's timed-out request gave it up
            mc.release()
            ma.release()
            got_b_after = mb.acquire(timeout=CALL_TIMEOUT)
            mb.release()
            some = MultiLock(["m4", "m5"], client=a)
            one = some.acquire(num_locks=1)
            some.release()
            return {"a": got_a, "b_while_held": got_b, "c_free": got_c, "b_after": got_b_after,
                    "num_locks_1": one}

        part(results, "multilock", multilock)

        def semaphore():
            sa = Semaphore(max_leases=2, name="sem", scheduler_rpc=a.scheduler, loop=a.loop)
            sb = Semaphore(max_leases=2, name="sem", scheduler_rpc=b.scheduler, loop=b.loop)
            first = sa.acquire()
            second = sb.acquire()
            third = sb.acquire(timeout=0.2)
            value = sa.get_value()
            sa.release()
            third_after = sb.acquire(timeout=CALL_TIMEOUT)
            sb.release()
            sb.release()
            # 2022 registers in the constructor, 2024 at the first acquire
            mismatch = raised(lambda: Semaphore(max_leases=3, name="sem", scheduler_rpc=b.scheduler,
                                                loop=b.loop).acquire(timeout=CALL_TIMEOUT))
            spans = a.gather(a.map(with_semaphore, ["sem-tasks"] * 6, [0.3] * 6, pure=False))
            return {"first": first, "second": second, "third_while_full": third, "value": value,
                    "third_after": third_after, "value_after": sa.get_value(),
                    "mismatch": mismatch["type"], "task_overlap": max_overlap(spans)}

        part(results, "semaphore", semaphore)

        def event():
            ea, eb = Event("event", client=a), Event("event", client=b)
            before = eb.wait(timeout=0.2)
            waiting = a.submit(wait_for_event, "event", pure=False)
            time.sleep(0.5)
            eb.set()
            task_saw = waiting.result(timeout=CALL_TIMEOUT)
            seen = ea.wait(timeout=CALL_TIMEOUT)
            is_set = ea.is_set()
            ea.clear()
            return {"before": before, "task_saw": task_saw, "a_saw": seen, "is_set": is_set,
                    "after_clear": eb.is_set(), "wait_after_clear": eb.wait(timeout=0.2)}

        part(results, "event", event)

        def pubsub():
            # a worker Pub to client Subs of two clients
            sub_a, sub_b = Sub("from-worker", client=a), Sub("from-worker", client=b)
            time.sleep(0.3)
            a.submit(publish_from_task, "from-worker", 3, pure=False).result(timeout=CALL_TIMEOUT)
            got_a = [sub_a.get(timeout=CALL_TIMEOUT) for _ in range(3)]
            got_b = [sub_b.get(timeout=CALL_TIMEOUT) for _ in range(3)]
            # a client Pub to a worker Sub (relayed by the scheduler) and to another client's Sub
            listening = a.submit(subscribe_in_task, "from-client", 2, pure=False)
            sub_c = Sub("from-client", client=b)
            pub = Pub("from-client", client=a)
            time.sleep(1.0)
            pub.put("hello")
            pub.put([1, 2])
            in_task = listening.result(timeout=CALL_TIMEOUT)
            in_client = [sub_c.get(timeout=CALL_TIMEOUT) for _ in range(2)]
            return {"worker_to_a": got_a, "worker_to_b": got_b, "client_to_task": in_task,
                    "client_to_client": in_client}

        part(results, "pubsub", pubsub)

        def actor():
            future = a.submit(Counter, actor=True)
            counter = future.result(timeout=CALL_TIMEOUT)
            first = counter.increment().result(timeout=CALL_TIMEOUT)
            second = counter.increment(5).result(timeout=CALL_TIMEOUT)
            attribute = counter.n
            from_task = a.submit(use_actor, counter, 10, pure=False).result(timeout=CALL_TIMEOUT)
            # another client gets the same actor from a Variable
            Variable("actor-var", client=a).set(future)
            other = Variable("actor-var", client=b).get(timeout=CALL_TIMEOUT).result(timeout=CALL_TIMEOUT)
            from_b = other.increment(100).result(timeout=CALL_TIMEOUT)
            err = raised(lambda: counter.fail().result(timeout=CALL_TIMEOUT))
            made_in_task = a.submit(make_actor, 3, pure=False).result(timeout=CALL_TIMEOUT)
            return {"first": first, "second": second, "attribute": attribute, "from_task": from_task,
                    "from_b": from_b, "error": err, "type": type(counter).__name__,
                    "made_in_task": made_in_task}

        part(results, "actor", actor)

    emit(results)


if __name__ == "__main__":
    main()
