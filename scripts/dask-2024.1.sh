#!/usr/bin/env bash
# Builds (once) the Dask/distributed 2024.1.1 referee: a venv of the Python 3.11 on PATH under
# .cache/dask-2024.1 with dask and distributed installed from their 2024.1.1 git tags. Neither
# Debian nor this machine's package index carries that release, so the sources come from git
# repositories of dask and distributed (bare mirrors will do), and the dependencies from the
# package index, pinned below to releases 2024.1.1 accepts (numpy before 2.0, which it predates),
# with the optional lz4 and prometheus-client (Dask's /metrics) that a deployment's image carries.
# zict, which distributed needs and the index lacks, is Debian trixie's 3.0.0, taken from the trixie
# root (scripts/dask-trixie.sh ensure).
#
# Usage:
#   scripts/dask-2024.1.sh ensure           build if missing; exits 3, saying why, when it cannot
#   scripts/dask-2024.1.sh python ARGS...   run the venv's python (ensure first)
#   scripts/dask-2024.1.sh status           print the venv's python if it is ready, else why not (exit 3)
# Where the sources are: DASK_GIT_DIR and DISTRIBUTED_GIT_DIR (git directories holding the tag
# 2024.1.1), by default /work/.mirror/dask+dask/repo and /work/.mirror/dask+distributed/repo.
# The venv is cached: a finished build leaves .cache/dask-2024.1/.cloudviper-ready (holding the
# pins it was built with) and is reused while the pins stay the same.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv="${DASK_2024_1_VENV:-$here/.cache/dask-2024.1}"
marker="$venv/.cloudviper-ready"
tag=2024.1.1
dask_git="${DASK_GIT_DIR:-/work/.mirror/dask+dask/repo}"
distributed_git="${DISTRIBUTED_GIT_DIR:-/work/.mirror/dask+distributed/repo}"
trixie="${DASK_TRIXIE_ROOT:-$here/.cache/dask-trixie}"
python="${DASK_2024_1_PYTHON:-python3.11}"

# The releases of January 2024 where one existed, else the oldest on the index (newer tornado,
# click and msgpack keep the interfaces distributed 2024.1.1 uses).
pins="numpy==1.26.4
msgpack==1.1.2
tornado==6.5.10
cloudpickle==3.1.2
toolz==1.1.0
partd==1.4.2
locket==1.0.0
fsspec==2026.6.0
pyyaml==6.0.3
click==8.5.0
psutil==7.2.2
sortedcontainers==2.4.0
tblib==3.2.2
jinja2==3.1.6
markupsafe==3.0.3
urllib3==2.8.0
packaging==26.3
importlib-metadata==8.7.1
zipp==3.23.0
lz4==4.4.5
prometheus-client==0.26.0"

unavailable() {
  echo "Dask $tag referee unavailable: $1" >&2
  exit 3
}

check_sources() {
  command -v "$python" >/dev/null || unavailable "no $python on PATH"
  for g in "$dask_git" "$distributed_git"; do
    [ -d "$g" ] || unavailable "no git directory $g (set DASK_GIT_DIR / DISTRIBUTED_GIT_DIR to clones of dask and distributed)"
    git --git-dir="$g" rev-parse -q --verify "refs/tags/$tag^{commit}" >/dev/null \
      || unavailable "$g has no tag $tag"
  done
  [ -d "$trixie/usr/lib/python3/dist-packages/zict" ] \
    || unavailable "no zict in $trixie (scripts/dask-trixie.sh ensure builds the trixie root it comes from)"
}

# A source tree of one package at the tag, its version fixed as a release sdist fixes it (versioneer
# reads it from git otherwise, and git archive leaves it unexpanded), built without versioneer.
source_tree() {
  local gitdir=$1 name=$2 into=$3
  mkdir -p "$into"
  git --git-dir="$gitdir" archive "$tag" | tar -x -C "$into"
  local sha
  sha=$(git --git-dir="$gitdir" rev-parse "$tag^{commit}")
  cat > "$into/$name/_version.py" <<EOF
# The version of the $tag tag ($sha), fixed by scripts/dask-2024.1.sh.
def get_versions():
    return {"version": "$tag", "full-revisionid": "$sha", "dirty": False, "error": None, "date": None}
EOF
  printf 'from setuptools import setup\nsetup(version="%s")\n' "$tag" > "$into/setup.py"
  sed -i 's/^requires = .*/requires = ["setuptools"]/' "$into/pyproject.toml"
}

build() {
  check_sources
  local part="$venv.partial"
  rm -rf "$part"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "$python" -m venv "$part"
  local site
  site=$("$part/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cp -r "$trixie/usr/lib/python3/dist-packages/zict" "$trixie"/usr/lib/python3/dist-packages/zict-*-info "$site/"
  source_tree "$dask_git" dask "$work/dask"
  source_tree "$distributed_git" distributed "$work/distributed"
  printf '%s\n' "$pins" > "$work/constraints.txt"
  # An index that cannot be reached is no reason to wait through pip's retries.
  export PIP_RETRIES="${PIP_RETRIES:-0}"
  "$part/bin/python" -m pip install -q setuptools wheel
  "$part/bin/python" -m pip install -q --no-build-isolation -c "$work/constraints.txt" \
    "$work/dask" "$work/distributed" $(printf '%s\n' "$pins" | grep -E '^(numpy|lz4|prometheus-client)==')
  "$part/bin/python" - <<'EOF'
import dask, distributed, numpy, zict
assert distributed.__version__ == "2024.1.1" and dask.__version__ == "2024.1.1", (dask.__version__, distributed.__version__)
print("dask-2024.1: dask", dask.__version__, "distributed", distributed.__version__, "numpy", numpy.__version__,
      "zict", zict.__version__)
EOF
  # The venv's scripts name the .partial path; every use goes through bin/python -m, which does not care.
  printf '%s\n' "$pins" > "$part/.cloudviper-ready"
  rm -rf "$venv"
  mv "$part" "$venv"
  # A venv's python resolves its prefix from its own location, so the move keeps it working.
  "$venv/bin/python" -c 'import distributed' >/dev/null
}

ready() {
  [ -f "$marker" ] && [ "$(cat "$marker")" = "$pins" ] && [ -x "$venv/bin/python" ]
}

case "${1:-ensure}" in
  ensure) ready || build ;;
  python) shift; ready || build; exec "$venv/bin/python" "$@" ;;
  status)
    if ready; then echo "$venv/bin/python"; else
      check_sources
      unavailable "not built yet: scripts/dask-2024.1.sh ensure"
    fi ;;
  *) echo "usage: $0 ensure|python ARGS...|status" >&2; exit 2 ;;
esac
