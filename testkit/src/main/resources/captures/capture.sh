#!/usr/bin/env bash
# Captures the messages between real Dask peers of one generation, byte for byte, through the
# project's logging proxy (/work/shared/tools/dask-wire-proxy.py): a stock scheduler, one stock
# worker and capture_client.py, all on 127.0.0.1, the worker and the client connected through the
# proxy. Usage (from the repository root):
#   testkit/src/main/resources/captures/capture.sh 2024 OUT_DIR
# 2022 runs /usr/bin/python3 (Debian bookworm); 2024 the trixie root (scripts/dask-trixie.sh);
# 2024.1 the Dask 2024.1.1 venv (scripts/dask-2024.1.sh).
# The raw messages land in OUT_DIR/wire.jsonl.raw/, one file per message, named by connection and
# sequence; the README next to each captures folder says which became which fixture.
set -euo pipefail
gen=$1; out=$(realpath -m "$2"); here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../../../../.." && pwd)
mkdir -p "$out"
proxy_py=/usr/bin/python3
if [ "$gen" = 2024.1 ]; then
  "$root/scripts/dask-2024.1.sh" ensure
  work=$out; cp "$here/capture_client.py" "$work/"
  py() { "$root/scripts/dask-2024.1.sh" python "$@"; }
elif [ "$gen" = 2024 ]; then
  "$root/scripts/dask-trixie.sh" ensure
  trixie="${DASK_TRIXIE_ROOT:-$root/.cache/dask-trixie}"
  work=/tmp/cloudviper-capture; mkdir -p "$trixie$work"; cp "$here/capture_client.py" "$trixie$work/"
  py() { chroot "$trixie" /usr/bin/python3 "$@"; }
else
  work=$out; cp "$here/capture_client.py" "$work/"
  py() { /usr/bin/python3 "$@"; }
fi
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
sport=$(free_port); pport=$(free_port)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
py -m distributed.cli.dask_scheduler --host 127.0.0.1 --port "$sport" --dashboard-address 127.0.0.1:0 \
  > "$out/scheduler.log" 2>&1 & pids+=($!)
sleep 4
"$proxy_py" /work/shared/tools/dask-wire-proxy.py --listen "$pport" --target "$sport" --log "$out/wire.jsonl" & pids+=($!)
sleep 1
py -m distributed.cli.dask_worker "tcp://127.0.0.1:$pport" --host 127.0.0.1 --nthreads 1 --no-nanny \
  --dashboard-address 127.0.0.1:0 > "$out/worker.log" 2>&1 & pids+=($!)
sleep 5
py "$work/capture_client.py" "tcp://127.0.0.1:$pport" > "$out/client.log" 2>&1
sleep 1
echo "captured $(ls "$out/wire.jsonl.raw" | wc -l) messages into $out/wire.jsonl.raw"
