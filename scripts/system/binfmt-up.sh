#!/usr/bin/env bash
# Registers qemu-user-static binfmt handlers with the F (fix-binary) flag, without systemd; needed
# after every boot. Needs: apt-get install -y qemu-user-static binfmt-support
set -euo pipefail
[ -e /proc/sys/fs/binfmt_misc/status ] || mount -t binfmt_misc none /proc/sys/fs/binfmt_misc
update-binfmts --enable >/dev/null 2>&1 || true
for arch in aarch64 ppc64le; do
  grep -q '^flags: .*F' "/proc/sys/fs/binfmt_misc/qemu-$arch" || { echo "qemu-$arch is not registered with the F flag" >&2; exit 1; }
done
echo "binfmt: qemu-aarch64 and qemu-ppc64le registered (F)"
