#!/usr/bin/env bash
# The project's test command: installs the Python Dask referees, then builds and runs every test
# (unit, codec, and interop tests against real Dask 2022.12.1 and 2024.12.1 peers).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup-peers.sh
trap "scripts/dask-trixie.sh umount >/dev/null 2>&1 || true" EXIT
mvn -B -ntp verify "$@"
