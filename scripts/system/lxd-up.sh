#!/usr/bin/env bash
# Starts Debian's LXD without systemd (this project's machines and CI): dir pool, a bridge with an
# explicit subnet (`lxd init --auto` cannot find one here), default profile. Idempotent.
# Needs: apt-get install -y iptables nftables lxd   (firewall tools first: LXD picks its driver at start)
set -euo pipefail
state=${LXD_STATE_DIR:-/tmp/osa-lxd}
mkdir -p "$state"
if ! lxc info >/dev/null 2>&1; then
  nohup lxd --group root --logfile "$state/lxd.log" >/dev/null 2>&1 &
  echo $! >"$state/lxd.pid"
fi
lxd waitready --timeout 60
if ! lxc storage show default >/dev/null 2>&1; then
  lxd init --preseed <<'PRESEED'
config: {}
networks:
- name: osabr0
  type: bridge
  config:
    ipv4.address: 10.166.11.1/24
    ipv4.nat: "false"
    ipv4.firewall: "false"
    ipv6.address: none
storage_pools:
- name: default
  driver: dir
  config: {}
profiles:
- name: default
  config: {}
  devices:
    root:
      path: /
      pool: default
      type: disk
    eth0:
      name: eth0
      network: osabr0
      type: nic
PRESEED
fi
echo "lxd is up (log: $state/lxd.log)"
