#!/usr/bin/env bash
# Builds cloudviper and starts the scheduler in the foreground through its launcher (extra arguments go
# to the scheduler, e.g. --port 8786 --scheduler-file /tmp/scheduler.json).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v mvn >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven; }
mvn -B -q -ntp package -DskipTests
exec bin/cloudviper-scheduler --host 127.0.0.1 "$@"
