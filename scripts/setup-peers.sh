#!/usr/bin/env bash
# Installs what the real-Dask referees need, idempotently:
#  - Dask/distributed 2022.12.1 from Debian bookworm (run with /usr/bin/python3)
#  - the Dask/distributed 2024.12.1 trixie root (scripts/dask-trixie.sh), unless SKIP_TRIXIE=1
#  - prometheus_client for both (Dask serves /metrics only with it; the HTTP tests compare with it)
#  - Debian's chromium, which loads the scheduler's status page in the dashboard test
#  - .cache/py22: a venv over the Debian Python (--system-site-packages: the same Dask 2022.12.1, numpy
#    and pandas) plus pyarrow, which bookworm lacks; the worker's Arrow interop tests run their Python
#    peers with it
#  - .cache/dask-2024.1: the Dask/distributed 2024.1.1 referee (scripts/dask-2024.1.sh), where git
#    repositories of dask and distributed are at hand; without them its interop runs are skipped,
#    saying why
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
need=()
/usr/bin/python3 -c 'import distributed, dask, numpy, pandas' 2>/dev/null || need+=(python3-distributed python3-dask python3-numpy python3-pandas)
command -v debootstrap >/dev/null || need+=(debootstrap)
dpkg -s python3-venv >/dev/null 2>&1 || need+=(python3-venv)
command -v mvn >/dev/null || need+=(maven)
dpkg -s python3-prometheus-client >/dev/null 2>&1 || need+=(python3-prometheus-client)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
py22="$here/.cache/py22"
if ! "$py22/bin/python" -c 'import pyarrow, distributed' 2>/dev/null; then
  # a venv made before python3-venv was installed has no pip: make it anew
  "$py22/bin/python" -m pip --version >/dev/null 2>&1 || /usr/bin/python3 -m venv --clear --system-site-packages "$py22"
  # --no-deps: pyarrow must use Debian's numpy (the one Dask 2022.12.1 was built against), never a newer wheel.
  "$py22/bin/python" -m pip install -q --no-deps pyarrow
  "$py22/bin/python" -c 'import numpy, pyarrow, distributed
assert numpy.__file__.startswith("/usr/lib/python3/dist-packages/"), numpy.__file__
print("py22: pyarrow", pyarrow.__version__, "numpy", numpy.__version__, "distributed", distributed.__version__)'
fi
if [ "${SKIP_TRIXIE:-0}" != 1 ]; then
  "$here/scripts/dask-trixie.sh" ensure
  trixie="${DASK_TRIXIE_ROOT:-$here/.cache/dask-trixie}"
  if ! chroot "$trixie" /usr/bin/python3 -c 'import prometheus_client' 2>/dev/null; then
    chroot "$trixie" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      python3-prometheus-client \
      || { chroot "$trixie" apt-get update -q && chroot "$trixie" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends python3-prometheus-client; }
  fi
fi
if [ "${SKIP_TRIXIE:-0}" != 1 ]; then
  # exit 3: no sources for it here, which the tests report as a skip; any other failure is a broken build
  rc=0; "$here/scripts/dask-2024.1.sh" ensure || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || exit "$rc"
fi
