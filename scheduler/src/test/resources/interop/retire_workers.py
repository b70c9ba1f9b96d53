"""client.retire_workers moves a worker's data before it goes (argv: SCHEDULER_ADDR).

Two workers; 40 results that only worker A holds (each a fresh random value, so a recomputed result
would differ). Retiring A must copy them to B, close A, and leave every result exactly as it was.
Then names= and a retirement with nowhere to put the data (the last worker) are tried.
"""
from distributed import wait

from interop_common import CALL_TIMEOUT, connect, emit, part


def token(i):
    import uuid
    return f"{i}-{uuid.uuid4()}"


def main():
    results = {}
    with connect() as client:
        client.wait_for_workers(2, timeout=CALL_TIMEOUT)
        a, b = sorted(client.scheduler_info()["workers"])
        results["a"], results["b"] = a, b
        futures = client.map(token, range(40), workers=[a], allow_other_workers=False, pure=False)
        wait(futures, timeout=CALL_TIMEOUT)
        before = client.gather(futures)
        results["held_before"] = sorted({w for ws in client.who_has(futures).values() for w in ws})

        part(results, "retired", lambda: sorted(client.retire_workers([a], close_workers=True)))
        part(results, "held_after", lambda: sorted({w for ws in client.who_has(futures).values() for w in ws}))
        part(results, "unchanged", lambda: client.gather(futures) == before)
        part(results, "workers_after", lambda: sorted(client.scheduler_info()["workers"]))

        def both():
            try:
                client.retire_workers(workers=[b], names=["x"])
                return "accepted"
            except TypeError as e:
                return "TypeError: " + str(e)

        part(results, "workers_and_names", both)
        # the last worker: nobody can take its data, so it is not retired and keeps running
        part(results, "last_worker", lambda: client.retire_workers([b], close_workers=True))
        part(results, "still_unchanged", lambda: client.gather(futures) == before)
        part(results, "still_computes", lambda: client.submit(lambda x: x + 1, 41).result(timeout=CALL_TIMEOUT))
    emit(results)


if __name__ == "__main__":
    main()
