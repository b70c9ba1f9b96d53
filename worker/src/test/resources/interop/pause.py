"""A Java worker that cannot spill (argv: SCHEDULER JAVA_WORKER; the test made its spill folder
unwritable) pauses above 0.8 of its memory limit: it tells the scheduler "paused", starts no new task,
still serves what it holds, and once the client releases results it tells "running" again and runs
the rest. Every value is exact; nothing is lost.
"""
import sys
import time

from distributed import Client, wait

import cloudviper.tasks as cv
from interop_common import emit, part

JAVA = {"java": 1}
TIMEOUT = 60
N = 1_000_000  # float64: 8 MB per result
COUNT = 10     # 80 MB against a 64 MiB limit: the worker pauses after 7 (0.8 * 64 MiB = 53.7 MB)


def exact(x, i):
    n = N + i
    return x.shape == (n,) and x[0] == 0.0 and x[-1] == n - 1 and float(x.sum()) == n * (n - 1) / 2


def main():
    results = {}
    java = sys.argv[2]
    with Client(sys.argv[1], timeout=30) as client:
        def status():
            return client.scheduler_info()["workers"][java].get("status")

        def until(cond, what, timeout=TIMEOUT):
            deadline = time.monotonic() + timeout
            while not cond():
                if time.monotonic() > deadline:
                    raise TimeoutError(what)
                time.sleep(0.1)

        xs = [client.submit(cv.arange_f64, N + i, workers=[java], resources=JAVA) for i in range(COUNT)]

        def paused():
            until(lambda: status() == "paused", "the scheduler never saw the worker paused")
            time.sleep(1)  # a task started just before the pause may finish
            done = sum(f.done() for f in xs)
            time.sleep(2)  # a paused worker starts nothing new
            later = sum(f.done() for f in xs)
            return {"done": done, "done_2s_later": later}

        part(results, "paused", paused)

        def served_while_paused():
            held = [i for i, f in enumerate(xs) if f.done()]
            return [i for i, x in zip(held, client.gather([xs[i] for i in held])) if not exact(x, i)]

        part(results, "wrong_while_paused", served_while_paused)

        def resumed():
            # releasing the first four results brings the worker below the pause fraction
            for i in range(4):
                xs[i].release()
            until(lambda: status() == "running", "the worker never said running again")
            wait(xs[4:], timeout=TIMEOUT)
            return status()

        part(results, "resumed", resumed)

        def gathered():
            wrong = [i + 4 for i, x in enumerate(client.gather(xs[4:])) if not exact(x, i + 4)]
            return {"count": len(xs) - 4, "wrong": wrong}

        part(results, "gathered", gathered)
    emit(results)


if __name__ == "__main__":
    main()
