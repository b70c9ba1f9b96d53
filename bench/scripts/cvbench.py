"""Shared helpers for the side-by-side scripts: start schedulers and workers on 127.0.0.1, read a
process's CPU time and memory from /proc, and always stop what was started (by pid).

Run the scripts with /usr/bin/python3 (Debian's Dask/distributed 2022.12.1). Dask 2024.12.1
processes run in the Debian trixie root of scripts/dask-trixie.sh (class Trixie): same network and
PID namespace, so 127.0.0.1 addresses and /proc/PID work both ways.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_JAR = os.path.join(REPO, "scheduler", "target", "cloudviper-scheduler.jar")
CLK_TCK = os.sysconf("SC_CLK_TCK")
SCHEDULER_AT = re.compile(r"Scheduler at:\s+(tcp://\S+)")

# name -> (implementation, extra environment, extra scheduler arguments)
SCHEDULERS = {
    "dask": ("dask", {}, []),
    "dask-inf": ("dask", {"DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "inf"}, []),
    "cloudviper": ("cloudviper", {}, []),
    "cloudviper-inf": ("cloudviper", {}, ["--worker-saturation", "inf"]),
}


def cpu_seconds(pid):
    """utime + stime of one process (all its threads), in seconds, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid):
    """CPU seconds per thread group of a JVM: jit (C1/C2 compiler threads), gc, event-loop
    (Netty), other; for a Python process everything lands in "other". "event-loop-kernel" is the
    part of "event-loop" spent in the kernel (stime), so it is not added to the others."""
    groups = {"jit": 0.0, "gc": 0.0, "event-loop": 0.0, "other": 0.0, "event-loop-kernel": 0.0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        if "CompilerThre" in name:
            groups["jit"] += cpu
        elif name.startswith(("GC Thread", "G1 ")):
            groups["gc"] += cpu
        elif name.startswith("multiThreadIoEv"):
            groups["event-loop"] += cpu
            groups["event-loop-kernel"] += int(fields[12]) / CLK_TCK
        else:
            groups["other"] += cpu
    return groups


def status_kib(pid, name):
    """A kB field of /proc/PID/status, e.g. VmRSS or VmHWM."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


def rss_mib(pid):
    return status_kib(pid, "VmRSS") / 1024


def hwm_mib(pid):
    return status_kib(pid, "VmHWM") / 1024


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return {"nproc": os.cpu_count(), "cpu": model, "java": java[0] if java else "?",
            "loadavg": open("/proc/loadavg").read().split()[:3]}


class Proc:
    """A child process whose output goes to a log file; stop() ends it by pid."""

    def __init__(self, name, cmd, logdir, env=None):
        self.name = name
        self.log_path = os.path.join(logdir, name + ".log")
        self._log = open(self.log_path, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.popen = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=e,
                                      stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.popen.pid

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def wait_for(self, pattern, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = pattern.search(self.log())
            if m:
                return m
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: no {pattern.pattern!r} after {timeout} s:\n{self.tail()}")

    def alive(self):
        return self.popen.poll() is None

    def stop(self, grace=10):
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(10)
            except ProcessLookupError:
                pass
        self._log.close()


class Trixie:
    """The Dask 2024.12.1 root (scripts/dask-trixie.sh, default /work/main/.cache/dask-trixie or
    $DASK_TRIXIE_ROOT) and a scratch directory under its /tmp, removed by close().

    python(args) is `chroot ROOT /usr/bin/python3 ARGS`: chroot execs python in place, so the pid of
    the Popen is the python process itself (checked by start_scheduler)."""

    def __init__(self, root=None):
        self.root = root or os.environ.get("DASK_TRIXIE_ROOT", "/work/main/.cache/dask-trixie")
        if not os.path.isfile(os.path.join(self.root, ".cloudviper-ready")):
            raise RuntimeError(f"no built trixie root at {self.root}: run scripts/dask-trixie.sh ensure "
                               f"or set DASK_TRIXIE_ROOT")
        if not os.path.exists(os.path.join(self.root, "proc", "self")):  # mount /proc, /dev (no rebuild)
            subprocess.run(["bash", os.path.join(REPO, "scripts", "dask-trixie.sh"), "ensure"], check=True,
                           env={**os.environ, "DASK_TRIXIE_ROOT": self.root})
        self.inside = f"/tmp/cloudviper-bench-{os.getpid()}-{int(time.time())}"
        self.scratch = self.root + self.inside
        os.makedirs(self.scratch)

    def python(self, args):
        return ["chroot", self.root, "/usr/bin/python3", *args]

    def copy_in(self, path):
        """Copies a host file into the scratch directory; returns its path inside the root."""
        shutil.copy(path, self.scratch)
        return self.inside + "/" + os.path.basename(path)

    def close(self):
        shutil.rmtree(self.scratch, ignore_errors=True)


def process_name(pid):
    with open(f"/proc/{pid}/comm") as f:
        return f.read().strip()


def start_scheduler(kind, logdir, jar=DEFAULT_JAR, xmx="2g", jvm_args=(), extra_args=(), trixie=None,
                    launcher=False):
    """trixie: a Trixie to run Dask's scheduler from (2024.12.1) instead of /usr/bin/python3.
    launcher: start cloudviper's jar through bin/cloudviper-scheduler, as the README does (its JVM
    settings; xmx and jvm_args then go in CLOUDVIPER_JVM_OPTIONS, after the launcher's)."""
    impl, env, args = SCHEDULERS[kind]
    if impl == "dask":
        py = trixie.python if trixie else (lambda a: [PYTHON, *a])
        cmd = py(["-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                  "--dashboard-address", "127.0.0.1:0", *args, *extra_args])
    else:
        heap = [f"-Xmx{xmx}"] if xmx else []  # None: the JVM's own default
        if launcher:
            env = {**env, "CLOUDVIPER_JAR": jar}
            if heap or jvm_args:
                env["CLOUDVIPER_JVM_OPTIONS"] = " ".join([*heap, *jvm_args])
            cmd = [os.path.join(REPO, "bin", "cloudviper-scheduler"), "--host", "127.0.0.1", "--port", "0",
                   *args, *extra_args]
        else:
            cmd = ["java", *heap, *jvm_args, "-jar", jar, "--host", "127.0.0.1", "--port", "0",
                   *args, *extra_args]
    p = Proc("scheduler-" + kind, cmd, logdir, env)
    try:
        p.address = p.wait_for(SCHEDULER_AT).group(1)
        name = process_name(p.pid)  # CPU figures must be the scheduler's own, not a wrapper's
        if name != ("java" if impl == "cloudviper" else "python3"):
            raise RuntimeError(f"pid {p.pid} is {name!r}, not the scheduler process")
    except BaseException:
        p.stop()
        raise
    return p


def start_worker(address, name, logdir, nthreads=1, env=None, trixie=None):
    """trixie: run a Dask 2024.12.1 worker in that root (its local directory in the scratch)."""
    if trixie:
        space = trixie.inside + "/" + name + "-space"
        os.makedirs(trixie.root + space, exist_ok=True)
    else:
        space = os.path.join(logdir, name + "-space")
        os.makedirs(space, exist_ok=True)
    py = trixie.python if trixie else (lambda a: [PYTHON, *a])
    cmd = py(["-m", "distributed.cli.dask_worker", address, "--host", "127.0.0.1",
              "--dashboard-address", "127.0.0.1:0", "--worker-port", "0", "--nthreads", str(nthreads),
              "--no-nanny", "--name", name, "--local-directory", space])
    return Proc(name, cmd, logdir, env)


def run_dir(prefix):
    base = os.path.join(REPO, "bench", "target", "runs")
    os.makedirs(base, exist_ok=True)
    return tempfile.mkdtemp(prefix=prefix + "-" + time.strftime("%Y%m%d-%H%M%S-"), dir=base)


def log(*a):
    print(*a, file=sys.stderr, flush=True)
