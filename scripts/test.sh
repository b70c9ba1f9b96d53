#!/usr/bin/env bash
# The project's test command: installs the Python Dask referees, then builds and runs every test
# (unit, codec, and interop tests against real Dask 2022.12.1 and 2024.12.1 peers, and 2024.1.1 peers
# for the tests that ask for them where scripts/dask-2024.1.sh could build that referee).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup-peers.sh
trap "scripts/dask-trixie.sh umount >/dev/null 2>&1 || true" EXIT
mvn -B -ntp verify "$@"
