#!/usr/bin/env bash
# Installs every system tool the server, the tests and the benchmarks call (idempotent, quiet
# when present), checks that each one is on PATH afterwards, and checks the kernel facilities the
# data path needs: btrfs and loop devices. A tool that cannot be installed stops the run here,
# named, instead of surfacing later as an empty test output.
#
# Python tools (schemathesis) go into a venv outside the clone, under $DPL_TOOLS_DIR
# (default /var/cache/dpl-tools), with their commands linked into $DPL_TOOLS_DIR/bin; the tests
# look there, and scripts/test-all.sh puts it on PATH.
set -euo pipefail

log() { printf 'setup-system: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

packages=(
  tgt btrfs-progs btrfs-compsize libiscsi-bin qemu-utils qemu-block-extra duperemove fio gnuplot-nox
  util-linux mount e2fsprogs iproute2 openssl procps python3 python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || die "apt-get could not install: ${missing[*]}"
fi

# The single-node Ceph cluster of the rbd backend's tests (ceph-mon, -mgr, -osd, rbd, tgtd's rbd store).
bash "$(dirname "$0")/ceph-cluster.sh" install

# Every command a server engine, a test or a benchmark runs, by the package that brings it.
commands=(
  tgtd tgtadm                         # tgt
  btrfs mkfs.btrfs compsize duperemove
  iscsi-ls iscsi-readcapacity16       # libiscsi-bin
  qemu-img qemu-io fio gnuplot
  losetup findmnt wipefs blkid blockdev fallocate mount umount
  filefrag ss openssl ps
  ceph-mon ceph-mgr ceph-osd ceph rbd # ceph-cluster.sh install
)
absent=()
for c in "${commands[@]}"; do
  command -v "$c" >/dev/null 2>&1 || absent+=("$c")
done
((${#absent[@]} == 0)) || die "installed the packages, but these commands are still missing: ${absent[*]}"
# iscsi:// URLs in qemu-img need the libiscsi block driver from qemu-block-extra.
qemu-img --help 2>/dev/null | grep -qw iscsi || die "qemu-img has no iscsi block driver (qemu-block-extra)"
# rbd pools are exported through tgtd's rbd backing store, a module of tgt-rbd.
[ -e /usr/lib/tgt/backing-store/bs_rbd.so ] || die "tgtd has no rbd backing store (/usr/lib/tgt/backing-store/bs_rbd.so from tgt-rbd)"

# schemathesis, pinned, in its own venv (Debian's python3, so a pyenv shim cannot change it).
SCHEMATHESIS_VERSION=4.32.5
tools=${DPL_TOOLS_DIR:-/var/cache/dpl-tools}
venv="$tools/schemathesis-$SCHEMATHESIS_VERSION"
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  # Built in place (a venv's scripts name its path); its entry point is written last, so the
  # --version check above only passes for a finished install.
  rm -rf "$venv"
  mkdir -p "$tools"
  /usr/bin/python3 -m venv "$venv" || die "python3 -m venv failed (python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
    { rm -rf "$venv"; die "pip could not install schemathesis==$SCHEMATHESIS_VERSION"; }
fi
mkdir -p "$tools/bin"
ln -sfn "$venv/bin/schemathesis" "$tools/bin/schemathesis"
"$tools/bin/schemathesis" --version >/dev/null || die "schemathesis in $venv does not run"

grep -qw btrfs /proc/filesystems || modprobe btrfs 2>/dev/null || die "this kernel has no btrfs; the DPL server needs it"
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || die "no loop device support (/dev/loop-control missing)"
