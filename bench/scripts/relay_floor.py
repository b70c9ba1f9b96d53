#!/usr/bin/python3
"""The CPU floor of relaying bytes through a process on this machine (see RelayFloorMain.java).

A Python sender writes GIB GiB from one 64 MiB buffer (as a Dask worker writes a large frame); a
Python receiver reads them into one 64 MiB buffer (as a Dask client reads it); the Java process in
between relays with splice(2) or with Netty buffers. Prints the relay's CPU per GiB and the
receiver's MiB/s. Every process started here is stopped before it exits.

    /usr/bin/python3 bench/scripts/relay_floor.py [--gib 4] [--modes splice copy]
"""
import argparse
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JAR = os.path.join(HERE, "..", "target", "benchmarks.jar")


def sender(listener, total, cpu):
    conn, _ = listener.accept()
    buf = memoryview(bytearray(64 << 20))
    with conn:
        t0 = time.thread_time()
        for _ in range(total // len(buf)):
            conn.sendall(buf)
        cpu.append(time.thread_time() - t0)
        conn.recv(1)  # until the relay closes


def receive(port, total):
    with socket.create_connection(("127.0.0.1", port)) as c:
        buf = memoryview(bytearray(64 << 20))
        got, t0, c0 = 0, None, time.thread_time()
        while got < total:
            n = c.recv_into(buf, min(len(buf), total - got))
            if n == 0:
                raise RuntimeError(f"relay closed after {got} of {total} bytes")
            if t0 is None:
                t0 = time.perf_counter()
            got += n
        return got / (time.perf_counter() - t0) / 2**20, time.thread_time() - c0


def run(mode, gib):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    total = gib << 30
    sender_cpu = []
    t = threading.Thread(target=sender, args=(listener, total, sender_cpu), daemon=True)
    t.start()
    relay = subprocess.Popen(["java", "-cp", JAR, "org.cloudviper.bench.RelayFloorMain",
                              str(listener.getsockname()[1]), str(gib), mode],
                             stdout=subprocess.PIPE, text=True)
    try:
        first = relay.stdout.readline()
        if not first.strip().isdigit():
            raise SystemExit(f"the relay did not start (exit code {relay.wait(timeout=60)}); see its stderr above")
        port = int(first)
        mib_s, receiver_cpu = receive(port, total)
        lines = relay.stdout.read().strip().splitlines()
        relay.wait(timeout=60)
        for line in lines:
            print(line)
        t.join(timeout=60)
        print(f"{mode}: receiver got {gib} GiB at {mib_s:.0f} MiB/s; CPU per GiB: Python sender thread "
              f"{sender_cpu[0] / gib if sender_cpu else float('nan'):.3f} s, receiver thread {receiver_cpu / gib:.3f} s")
    finally:
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        listener.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=int, default=4, help="GiB relayed per mode (the first one warms the JIT up)")
    ap.add_argument("--modes", nargs="+", default=["splice", "copy"], choices=["splice", "copy"])
    args = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit(f"missing {JAR}: build with mvn -q -B package -DskipTests")
    print(f"load average {os.getloadavg()}")
    for mode in args.modes:
        run(mode, args.gib)


if __name__ == "__main__":
    main()
