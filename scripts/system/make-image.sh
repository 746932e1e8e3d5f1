#!/usr/bin/env bash
# Builds a small Debian LXD image for an architecture and imports it as osa-<arch>:
# debootstrap (foreign + emulated second stage for arm64/ppc64el), with squashfs-tools and file
# inside (the stand-in build packs with mksquashfs). A foreign rootfs is labelled x86_64 in its
# metadata: LXD refuses other architectures here, and binfmt's qemu runs its binaries.
# Usage: scripts/system/make-image.sh ARCH [CACHE_DIR]
set -euo pipefail
arch=$1
cache=${2:-/tmp/osa-images}
alias=osa-$arch
if lxc image info "$alias" >/dev/null 2>&1; then echo "image $alias exists"; exit 0; fi
mkdir -p "$cache"
tarball=$cache/$alias.tar.gz
if [ ! -f "$tarball" ]; then
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  mirror=${mirror:-http://deb.debian.org/debian}
  root=$(mktemp -d)
  host=$(dpkg --print-architecture)
  if [ "$arch" = "$host" ]; then
    debootstrap --variant=minbase --include=squashfs-tools,file bookworm "$root" "$mirror" >/dev/null
  else
    debootstrap --foreign --arch="$arch" --variant=minbase --include=squashfs-tools,file bookworm "$root" "$mirror" >/dev/null
    chroot "$root" /debootstrap/debootstrap --second-stage >/dev/null
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$root"
fi
meta=$(mktemp -d)
cat >"$meta/metadata.yaml" <<META
architecture: x86_64
creation_date: $(date +%s)
properties:
  description: Debian bookworm $arch (openstack-snap-actions test image)
  os: debian
  release: bookworm
  architecture: $arch
META
tar -C "$meta" -czf "$meta/meta.tar.gz" metadata.yaml
lxc image import "$meta/meta.tar.gz" "$tarball" --alias "$alias" >/dev/null
rm -rf "$meta"
echo "image $alias imported"
