#!/usr/bin/env bash
# Installs what the real-Dask referees need, idempotently:
#  - Dask/distributed 2022.12.1 from Debian bookworm (run with /usr/bin/python3)
#  - the Dask/distributed 2024.12.1 trixie root (scripts/dask-trixie.sh), unless SKIP_TRIXIE=1
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
need=()
/usr/bin/python3 -c 'import distributed, dask, numpy, pandas' 2>/dev/null || need+=(python3-distributed python3-dask python3-numpy python3-pandas)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi
if [ "${SKIP_TRIXIE:-0}" != 1 ]; then
  "$here/scripts/dask-trixie.sh" ensure
fi
