#!/usr/bin/env bash
# Installs the Debian packages the server and the tests run on (idempotent, quiet when present)
# and checks the kernel facilities the data path needs: btrfs and loop devices.
set -euo pipefail

packages=(tgt btrfs-progs btrfs-compsize libiscsi-bin qemu-utils qemu-block-extra duperemove fio gnuplot-nox)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-system: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || {
  echo "setup-system: this kernel has no btrfs; the DPL server needs it" >&2; exit 1; }
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || {
  echo "setup-system: no loop device support (/dev/loop-control missing)" >&2; exit 1; }
