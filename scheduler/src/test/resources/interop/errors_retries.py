"""Test 4: a task's exception and traceback reach the client; retries=2 survives two failures.

argv: SCHEDULER_ADDR COUNTER_DIR
"""
import os
import sys
import traceback

from interop_common import CALL_TIMEOUT, connect, emit, part


def divide_by_zero(x):
    return x / 0  # interop-marker: the line the traceback must show


def flaky(counter_file):
    # Attempts are counted in a file because each retry may run in a fresh thread or worker.
    attempts = 1
    if os.path.exists(counter_file):
        with open(counter_file) as f:
            attempts = int(f.read()) + 1
    with open(counter_file, "w") as f:
        f.write(str(attempts))
    if attempts <= 2:
        raise RuntimeError(f"flaky failure on attempt {attempts}")
    return {"attempts": attempts}


def main():
    counter_dir = sys.argv[2]
    results = {}
    with connect() as client:

        def error():
            future = client.submit(divide_by_zero, 1)
            try:
                future.result(timeout=CALL_TIMEOUT)
            except ZeroDivisionError as e:
                raised = type(e).__name__
                message = str(e)
            else:
                raise AssertionError("no exception was raised")
            return {
                "raised": raised,
                "message": message,
                "status": future.status,
                "exception_type": type(future.exception(timeout=CALL_TIMEOUT)).__name__,
                "traceback": "".join(traceback.format_tb(future.traceback(timeout=CALL_TIMEOUT))),
            }

        part(results, "error", error)

        def retries():
            counter = os.path.join(counter_dir, "flaky-attempts")
            future = client.submit(flaky, counter, retries=2, pure=False)
            value = future.result(timeout=CALL_TIMEOUT)
            with open(counter) as f:
                value["counted"] = int(f.read())
            return value

        part(results, "retries", retries)
    emit(results)


if __name__ == "__main__":
    main()
