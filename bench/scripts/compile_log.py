"""Summarises a HotSpot compilation log: how long the C2 compiler worked, on which methods, how much
of it went to methods compiled more than once (recompiled after a deoptimization), and why the
compiled code was thrown away (uncommon-trap reasons).

Make the log with side_by_side.py, e.g.

  /usr/bin/python3 bench/scripts/side_by_side.py --schedulers cloudviper --extras --runs 2 \\
      --jvm-arg=-XX:+UnlockDiagnosticVMOptions --jvm-arg=-XX:+LogCompilation \\
      --jvm-arg=-XX:LogFile=/tmp/comp.log
  python3 bench/scripts/compile_log.py /tmp/comp.log [--top 25] [--from 10 --to 17]

Durations are wall-clock seconds between a compile task's start and end stamps (seconds since JVM
start); on two cores the compiler thread shares a core, so they bound its CPU from above.
--from/--to keep only the tasks that started in that window (e.g. one measured run).
"""
import argparse
import collections
import re

TASK = re.compile(r"<task (?P<attrs>[^>]*)>.*?<task_done (?P<done>[^>]*)>", re.S)
TRAP = re.compile(r"<uncommon_trap thread='\d+' reason='([^']*)' action='([^']*)'")


def attr(text, name):
    m = re.search(name + r"='([^']*)'", text)
    return m.group(1) if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--from", dest="start", type=float, default=0.0)
    ap.add_argument("--to", dest="end", type=float, default=float("inf"))
    args = ap.parse_args()
    with open(args.log, errors="replace") as f:
        text = f.read()
    per_method = collections.defaultdict(lambda: [0, 0.0, []])
    c1 = c2 = 0.0
    for m in TASK.finditer(text):
        a, d = m.group("attrs"), m.group("done")
        start = float(attr(a, "stamp"))
        if not args.start <= start < args.end:
            continue
        took = float(attr(d, "stamp")) - start
        if attr(a, "level") is not None:  # tiers 1-3 are C1; C2 tasks carry no level
            c1 += took
            continue
        c2 += took
        entry = per_method[attr(a, "method").split(" (")[0].replace(" ", ".")]
        entry[0] += 1
        entry[1] += took
        entry[2].append(start)
    again = sum(v[1] for v in per_method.values() if v[0] > 1)
    print(f"C2: {sum(v[0] for v in per_method.values())} compilations of {len(per_method)} methods, "
          f"{c2:.2f} s; methods compiled more than once: {again:.2f} s of it. C1: {c1:.2f} s")
    print(f"{'seconds':>8} {'times':>5}  method (start stamps, s)")
    for name, (n, took, stamps) in sorted(per_method.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{took:8.2f} {n:5d}  {name} ({', '.join(f'{s:.1f}' for s in stamps[:6])})")
    traps = collections.Counter(TRAP.findall(text))
    print("uncommon traps (reason, action): " + ", ".join(f"{r}/{a} {n}" for (r, a), n in traps.most_common()))


if __name__ == "__main__":
    main()
