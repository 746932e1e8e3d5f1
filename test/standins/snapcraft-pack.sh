#!/bin/sh
# STAND-IN for `snapcraft pack --destructive-mode` inside the build container (snapcraft cannot be
# installed here): packs a prime directory with mksquashfs, as snapcraft's pack does, using the
# container's own binaries, so the .snap is of the container's (possibly emulated) architecture.
# STANDIN_FAIL_PART=<part> fails that part's build step the way snapcraft reports it. With
# PIP_CACHE_DIR set, each part leaves a "wheel" there and reuses one it finds, as pip does.
set -eu
yaml=snapcraft.yaml
[ -f "$yaml" ] || yaml=snap/snapcraft.yaml
# Real files may end their lines in CRLF, which snapcraft's YAML parser reads as any other end of
# line: read a copy without the CRs, or the name would carry one into the file name.
plain=$(mktemp)
trap 'rm -f "$plain"' EXIT
tr -d '\r' <"$yaml" >"$plain"
yaml=$plain
name=$(sed -n 's/^name: *//p' "$yaml" | head -1)
version=$(sed -n "s/^version: *//p" "$yaml" | head -1 | tr -d "'\"")
arch=$(dpkg --print-architecture)
logdir=${XDG_STATE_HOME:-${HOME:-/root}/.local/state}/snapcraft/log
mkdir -p "$logdir"
log="$logdir/snapcraft-$(date +%Y%m%d-%H%M%S).log"
# shellcheck disable=SC2013 # part names are single words
for part in $(sed -n '/^parts:/,/^[a-z]/s/^  \([a-z0-9-]*\):$/\1/p' "$yaml"); do
  echo "Building $part" | tee -a "$log"
  if [ "${STANDIN_FAIL_PART:-}" = "$part" ]; then
    echo "error: command 'gcc' failed with exit status 1" | tee -a "$log"
    echo "Failed to run the build script for part '$part'." | tee -a "$log" >&2
    exit 1
  fi
  if [ -n "${PIP_CACHE_DIR:-}" ]; then
    if [ -f "$PIP_CACHE_DIR/wheels/$part.whl" ]; then
      echo "Using cached wheel for $part" | tee -a "$log"
    else
      mkdir -p "$PIP_CACHE_DIR/wheels"
      echo "$part" >"$PIP_CACHE_DIR/wheels/$part.whl"
      echo "Built wheel for $part" | tee -a "$log"
    fi
  fi
done
prime=$(mktemp -d)
trap 'rm -rf "$prime" "$plain"' EXIT
mkdir -p "$prime/meta" "$prime/bin"
cat >"$prime/meta/snap.yaml" <<META
name: $name
version: '$version'
summary: $name
description: $name
architectures:
  - $arch
grade: devel
confinement: strict
META
cp /bin/true /bin/ls "$prime/bin/"
# A project may ship prebuilt binaries; they go in as they are (the action checks their arch).
[ -d prebuilt ] && cp prebuilt/* "$prime/bin/"
mksquashfs "$prime" "${name}_${version}_${arch}.snap" -noappend -comp xz -all-root -quiet -no-progress
echo "Packed ${name}_${version}_${arch}.snap" | tee -a "$log"
