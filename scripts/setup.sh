#!/usr/bin/env bash
# What this project needs beyond npm packages, installed with apt only where it is missing, saying
# what it installs. Idempotent: on a machine that has everything it installs nothing.
#
#   bash scripts/setup.sh            host tools: git, squashfs-tools (mksquashfs/unsquashfs: real
#                                    .snap files), shellcheck (the shell-script lint). The README's
#                                    two commands run this first.
#   bash scripts/setup.sh --system   also the system-test parts: a real all-in-one cloud (Debian's
#                                    keystone, placement, glance, neutron and nova, the openstack
#                                    client, uWSGI, MariaDB, RabbitMQ, memcached; installed, never
#                                    started), LXD, qemu-user-static with its binfmt handlers,
#                                    debootstrap and the test images (osa-amd64, osa-arm64,
#                                    osa-ppc64el). .ci/run uses it; it takes minutes the first time.
#   bash scripts/setup.sh --check    installs nothing; lists what is missing (exit 1 if anything is);
#                                    with --system too, the system-test packages as well (not the
#                                    images or binfmt handlers, which --system makes each time).
#
# Where it cannot install (not root and no sudo, or no apt-get), it says in one line what will be
# skipped and the command that would install it, and exits 0: the commands after it still run what
# they can, and tests that need a missing part skip with the reason printed. git is the exception:
# without it nothing runs, so its absence is an error. Under CI=true any missing host tool is an
# error, so CI never passes by skipping.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# Options in any order: --system adds the system-test parts, --check only reports.
system=''
check=''
for arg in "$@"; do
  case "$arg" in
    --system) system=1 ;;
    --check) check=1 ;;
    -h | --help)
      sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup: unknown option '$arg' (use --system, --check, both or nothing)" >&2
      exit 2
      ;;
  esac
done

say() { printf 'setup: %s\n' "$*"; }
join_by() {
  local sep=$1 out=$2
  shift 2
  for item in "$@"; do out+="$sep$item"; done
  printf '%s' "$out"
}
has() { command -v "$1" >/dev/null 2>&1; }
# A program can be missing from PATH for a non-root user (sbin), so packages are checked by dpkg.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Host tools: the command that must exist, the Debian package that has it, what needs it.
host_tools=(
  'git|git|everything (fixtures, the mirror, the constraints fetch)'
  'mksquashfs|squashfs-tools|real .snap files (the example'"'"'s builds, the publish and smoke tests)'
  'unsquashfs|squashfs-tools|reading .snap files'
  'shellcheck|shellcheck|the shell-script lint'
)
# System-test packages, firewall tools first: LXD picks its firewall driver when it starts. With
# their recommends: LXD's bridge needs dnsmasq-base.
system_packages=(iptables nftables lxd dnsmasq-base qemu-user-static binfmt-support debootstrap file)

# A real all-in-one cloud for the smoke test's steps: Debian's keystone, placement, glance, neutron
# and nova (the zed series), the openstack client, uWSGI, MariaDB, RabbitMQ and memcached,
# installed as programs for the tests (without recommends, with the packages' api-paste files),
# never started as services: a policy-rc.d that exits 101 keeps apt from starting them.
cloud_packages=(keystone python3-openstackclient uwsgi-core uwsgi-plugin-python3
  python3-placement placement-common python3-glance glance-common python3-neutron neutron-common
  python3-nova nova-common python3-pymysql mariadb-server rabbitmq-server memcached)

missing_packages=()
missing_why=()
for entry in "${host_tools[@]}"; do
  IFS='|' read -r cmd pkg why <<<"$entry"
  has "$cmd" && continue
  [[ " ${missing_packages[*]} " == *" $pkg "* ]] && continue
  missing_packages+=("$pkg")
  missing_why+=("$pkg ($cmd: $why)")
done
if [ -n "$system" ]; then
  for pkg in "${system_packages[@]}"; do
    installed "$pkg" || { missing_packages+=("$pkg"); missing_why+=("$pkg (system tests)"); }
  done
fi

if [ -n "$check" ]; then
  if [ -n "$system" ]; then
    # The cloud's packages are installed apart (without recommends), so they are only reported here.
    for pkg in "${cloud_packages[@]}"; do
      installed "$pkg" || missing_why+=("$pkg (the real cloud's tests)")
    done
  fi
  # Packages are not all: some tests also need root, or LXD's socket.
  if [ -n "$system" ] && [ "$(id -u)" -ne 0 ]; then
    say "note: as this user the real cloud's tests are skipped (they run as root), and the LXD tests unless it is in the lxd group"
  fi
  if [ "${#missing_why[@]}" -eq 0 ]; then say "nothing missing"; exit 0; fi
  say "missing: $(join_by '; ' "${missing_why[@]}")"
  exit 1
fi

# How to become root for apt, or why we cannot.
sudo_cmd=()
cannot=''
if ! has apt-get; then
  cannot='this machine has no apt-get'
elif [ "$(id -u)" -ne 0 ]; then
  if has sudo && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
    sudo_cmd=(sudo)
  else
    cannot='not root and sudo is not available without a password'
  fi
fi

apt_log=$(mktemp)
trap 'rm -f "$apt_log"' EXIT
# apt-get quietly; its own words (the last lines) only when it fails.
apt() {
  if ! "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq "$@" >"$apt_log" 2>&1; then
    tail -n 5 "$apt_log" | sed 's/^/setup: apt-get: /' >&2
    return 1
  fi
}
apt_install() {
  # Lists may be empty on a fresh machine (or stale): refresh once, then install just what is asked.
  if [ -z "${apt_updated:-}" ]; then
    apt update || return 1
    apt_updated=1
  fi
  apt install -y "$@"
}

failed=''
if [ "${#missing_packages[@]}" -gt 0 ]; then
  if [ -n "$cannot" ]; then
    failed="$cannot"
  else
    say "installing with apt-get: $(join_by '; ' "${missing_why[@]}")"
    # Firewall tools first (LXD), then the rest in one call.
    firewall=()
    rest=()
    for pkg in "${missing_packages[@]}"; do
      case "$pkg" in iptables | nftables) firewall+=("$pkg") ;; *) rest+=("$pkg") ;; esac
    done
    if [ "${#firewall[@]}" -gt 0 ] && ! apt_install "${firewall[@]}"; then failed='apt-get failed'; fi
    if [ -z "$failed" ] && ! apt_install "${rest[@]}"; then failed='apt-get failed'; fi
  fi
fi

still_missing=()
missing_pkgs=()
for entry in "${host_tools[@]}"; do
  IFS='|' read -r cmd pkg why <<<"$entry"
  has "$cmd" && continue
  still_missing+=("$cmd ($why)")
  [[ " ${missing_pkgs[*]} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
done
if [ "${#still_missing[@]}" -gt 0 ]; then
  # As root: this script again, or apt-get itself; elsewhere, the package manager.
  how="as root: bash scripts/setup.sh (or apt-get install ${missing_pkgs[*]})"
  has sudo && how="sudo bash scripts/setup.sh, or $how"
  has apt-get || how="install ${missing_pkgs[*]} with your package manager"
  if ! has git; then
    # Without git nothing runs: the example and most tests are git repositories and servers.
    echo "setup: error: git is not installed and could not be (${failed:-not installed}); the example and the tests need it. Install it: $how" >&2
    exit 1
  fi
  line="missing $(join_by '; ' "${still_missing[@]}"): ${failed:-not installed}; what needs them is skipped, each saying why. To enable it: $how"
  if [ "${CI:-}" = true ]; then
    echo "setup: error: $line" >&2
    exit 1
  fi
  say "$line"
elif [ "${#missing_packages[@]}" -eq 0 ]; then
  say "host tools present (git, squashfs-tools, shellcheck)"
fi

[ -n "$system" ] || exit 0

# System-test parts. Each failure is one line; the tests that need it skip with the reason.
if [ -n "$failed" ]; then
  say "system-test packages not installed ($failed): the LXD and emulation tests will be skipped"
  exit 0
fi
cloud_missing=()
for pkg in "${cloud_packages[@]}"; do
  installed "$pkg" || cloud_missing+=("$pkg")
done
if [ "${#cloud_missing[@]}" -gt 0 ]; then
  say "installing with apt-get: ${cloud_missing[*]} (the real cloud's tests; about two minutes)"
  guard=''
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo_cmd[@]}" chmod +x /usr/sbin/policy-rc.d
    guard=1
  fi
  apt_install --no-install-recommends "${cloud_missing[@]}" ||
    say "the cloud's packages could not be installed: the real Keystone and cloud tests will be skipped"
  if [ -n "$guard" ]; then "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d; fi
fi

images=${OSA_IMAGE_CACHE:-/var/cache/osa-images}
if "${sudo_cmd[@]}" bash scripts/system/binfmt-up.sh && "${sudo_cmd[@]}" bash scripts/system/lxd-up.sh; then
  for arch in amd64 arm64 ppc64el; do
    "${sudo_cmd[@]}" bash scripts/system/make-image.sh "$arch" "$images" ||
      say "image osa-$arch could not be built: the tests that need it will be skipped"
  done
else
  say "LXD or binfmt could not start: the LXD and emulation tests will be skipped"
fi
exit 0
