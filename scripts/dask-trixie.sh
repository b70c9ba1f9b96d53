#!/usr/bin/env bash
# Builds (once) a Debian trixie root with Dask/distributed 2024.12.1 under .cache/dask-trixie and
# mounts /proc, /dev and /dev/shm into it. Usage:
#   scripts/dask-trixie.sh ensure          build if missing, then mount
#   scripts/dask-trixie.sh python ARGS...  run trixie's python3 inside the root (ensure first)
#   scripts/dask-trixie.sh umount
# The root is cached: a finished build leaves .cache/dask-trixie/.cloudviper-ready and is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root="${DASK_TRIXIE_ROOT:-$here/.cache/dask-trixie}"
marker="$root/.cloudviper-ready"

mirror() {
  # The Debian mirror the machine's apt sources name (deb822 or one-line format).
  local m
  m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$m" ] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

mount_all() {
  for d in proc dev dev/shm; do mkdir -p "$root/$d"; done
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
  mountpoint -q "$root/dev/shm" || mount --bind /dev/shm "$root/dev/shm"
}

build() {
  command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
  rm -rf "$root.partial"
  mkdir -p "$(dirname "$root")"
  debootstrap --variant=minbase trixie "$root.partial" "$(mirror)"
  cp /etc/resolv.conf "$root.partial/etc/resolv.conf" 2>/dev/null || true
  root_p="$root.partial"
  for d in proc dev dev/shm; do mkdir -p "$root_p/$d"; done
  mount -t proc proc "$root_p/proc"; mount --bind /dev "$root_p/dev"; mount --bind /dev/shm "$root_p/dev/shm"
  trap 'umount "$root_p/dev/shm" "$root_p/dev" "$root_p/proc" 2>/dev/null || true' EXIT
  chroot "$root_p" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3-distributed python3-dask python3-numpy python3-pandas python3-lz4 python3-prometheus-client procps
  umount "$root_p/dev/shm" "$root_p/dev" "$root_p/proc"; trap - EXIT
  touch "$root_p/.cloudviper-ready"
  mv "$root_p" "$root"
}

case "${1:-ensure}" in
  ensure) [ -f "$marker" ] || build; mount_all ;;
  python) shift; [ -f "$marker" ] || build; mount_all; exec chroot "$root" /usr/bin/python3 "$@" ;;
  umount) for d in dev/shm dev proc; do umount "$root/$d" 2>/dev/null || true; done ;;
  *) echo "usage: $0 ensure|python ARGS...|umount" >&2; exit 2 ;;
esac
