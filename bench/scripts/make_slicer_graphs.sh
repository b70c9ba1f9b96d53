#!/usr/bin/env bash
# Writes the real Dask 2024.12.1 graphs SlicerBenchmark reads: make_corpus.py --large N, run by the
# trixie root's python, into bench/target/slicer-graphs/N/{large_map,large_tasks,large_delayed}
# (graph.pkl + meta.json each; not committed: 2.7, 4.3 and 10.6 MB for N = 100,000).
#
#   bench/scripts/make_slicer_graphs.sh [N]        (default 100000; from any directory)
#
# DASK_TRIXIE_ROOT: the built root of scripts/dask-trixie.sh (default /work/main/.cache/dask-trixie).
# The scratch directory inside the root is removed afterwards, also on failure.
set -euo pipefail
n="${1:-100000}"
here=$(cd "$(dirname "$0")/../.." && pwd)
# The shared root of /work/main is the default: building a root takes minutes and ~1 GB.
root="${DASK_TRIXIE_ROOT:-/work/main/.cache/dask-trixie}"
[ -f "$root/.cloudviper-ready" ] || { echo "no trixie root at $root (set DASK_TRIXIE_ROOT or run scripts/dask-trixie.sh ensure)" >&2; exit 2; }
export DASK_TRIXIE_ROOT="$root"
bash "$here/scripts/dask-trixie.sh" ensure
inside="/tmp/cloudviper-slicer-graphs-$$"
scratch="$root$inside"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch"
cp "$here/protocol/src/test/resources/pickles/make_corpus.py" "$scratch/"
chroot "$root" /usr/bin/python3 "$inside/make_corpus.py" "$inside/out" --large "$n"
out="$here/bench/target/slicer-graphs/$n"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
cp -r "$scratch/out" "$out"
ls -l "$out"/*/graph.pkl
