#!/usr/bin/env bash
# Builds (once) the offline base image of the pod-image test: a Debian bookworm root with a headless
# JRE (debootstrap), packed as a docker-save tar that Jib takes as its base (tar://...). No registry is
# needed; for real images give Jib a JRE image from a registry instead (see the README).
#   scripts/image-base.sh [OUT_DIR]   default .cache/image-base; prints the tar's path
# Cached: a finished build leaves OUT_DIR/base.tar and is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="${1:-$here/.cache/image-base}"
tar_out="$out/base.tar"
if [ -f "$tar_out" ]; then
  echo "$tar_out"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
mirror() {
  local m
  m=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$m" ] || m=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}
work="$out.partial"
rm -rf "$work"
mkdir -p "$work"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$work/root" "$(mirror)" >&2
rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* "$work/root/proc/"* 2>/dev/null || true
# One layer: the whole root. Then the docker-save manifest and image config around it.
tar --numeric-owner -C "$work/root" -cf "$work/layer.tar" .
digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
cat > "$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:$digest"]},"history":[{"created_by":"debootstrap bookworm + openjdk-17-jre-headless"}]}
JSON
cat > "$work/manifest.json" <<JSON
[{"Config":"config.json","RepoTags":["cloudviper/jre-base:bookworm"],"Layers":["layer.tar"]}]
JSON
tar -C "$work" -cf "$work/base.tar" config.json manifest.json layer.tar
mkdir -p "$out"
mv "$work/base.tar" "$tar_out"
rm -rf "$work"
echo "$tar_out"
