#!/usr/bin/env bash
# Where the data path's time goes, for one workload (4 KiB random read at QD32 by default):
# CPU per request of the initiator (qemu-img bench over libiscsi), of tgtd and of local fio on the
# same file; tgtd's system calls per request (strace -c) and its hottest functions (perf record).
# Run as root on a quiet machine; everything it makes lives in one scratch directory and goes.
#
#   bash bench/data-path/profile-tgtd.sh [requests]      (default 400000)
#
# It measures three LUNs in turn on one tgtd: rdwr with O_DIRECT (what the server ships for
# direct volumes), aio (always O_DIRECT) and null (no disk: the transport alone).
set -euo pipefail

REQUESTS=${1:-400000}
BS=4096
DEPTH=32
STRIDE=$((BS * 7919))
FILE_MIB=1024
work=$(mktemp -d /tmp/dpl-profile-XXXXXX)
loop=""
tgtd_pid=""
port=$((20000 + RANDOM % 10000))
control=$((10000 + RANDOM % 10000))
iqn=iqn.2026-12.dev.dpl.profile:lun

cleanup() {
  if [ -n "$tgtd_pid" ]; then
    tgtadm -C "$control" --lld iscsi --mode target --op delete --force --tid 1 >/dev/null 2>&1 || true
    tgtadm -C "$control" --mode system --op delete >/dev/null 2>&1 || true
    sleep 0.5
    kill -9 "$tgtd_pid" 2>/dev/null || true
  fi
  umount "$work/mnt" 2>/dev/null || true
  [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
tick=$(getconf CLK_TCK)

mkdir -p "$work/mnt"
truncate -s 3G "$work/btrfs.img"
loop=$(losetup --find --show --direct-io=on "$work/btrfs.img")
mkfs.btrfs -q -f "$loop" >/dev/null 2>&1
mount -o noatime "$loop" "$work/mnt"
fio --name=fill --filename="$work/mnt/data" --size=${FILE_MIB}M --rw=write --bs=1M --iodepth=8 \
  --ioengine=libaio --direct=1 --output-format=terse >/dev/null

echo "== local fio (libaio, O_DIRECT), 4 KiB random read QD$DEPTH, 10 s"
fio --name=local --filename="$work/mnt/data" --size=${FILE_MIB}M --rw=randread --bs=$BS --iodepth=$DEPTH \
  --ioengine=libaio --direct=1 --random_generator=lfsr --runtime=10 --time_based --output-format=json >"$work/fio.json"
python3 - "$work/fio.json" <<'EOF'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
iops = job["read"]["iops"]
cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100 * job["elapsed"]
print(f"  {iops:,.0f} IOPS; fio CPU {cpu / (iops * job['elapsed']) * 1e6:.1f} µs per request (usr {job['usr_cpu']:.0f}%, sys {job['sys_cpu']:.0f}%)")
EOF

MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 \
  tgtd -f -C "$control" --iscsi "portal=127.0.0.1:$port" >"$work/tgtd.log" 2>&1 &
tgtd_pid=$!
for _ in $(seq 50); do tgtadm -C "$control" --mode sys --op show >/dev/null 2>&1 && break; sleep 0.1; done
adm() { tgtadm -C "$control" --lld iscsi "$@"; }
adm --mode target --op new --tid 1 --targetname "$iqn"
for p in MaxRecvDataSegmentLength=262144 MaxXmitDataSegmentLength=262144 MaxBurstLength=1048576 \
  FirstBurstLength=1048576 InitialR2T=No ImmediateData=Yes; do
  adm --mode target --op update --tid 1 --name "${p%%=*}" --value "${p#*=}"
done
adm --mode target --op bind --tid 1 --initiator-address ALL
adm --mode logicalunit --op new --tid 1 --lun 1 --bstype rdwr --bsoflags direct --backing-store "$work/mnt/data"
adm --mode logicalunit --op new --tid 1 --lun 2 --bstype aio --backing-store "$work/mnt/data"
adm --mode logicalunit --op new --tid 1 --lun 3 --bstype null --backing-store "$work/null"

bench() {
  qemu-img bench -f raw -t none -s $BS -d $DEPTH -c "$1" --pattern=165 -S $STRIDE "iscsi://127.0.0.1:$port/$iqn/$2"
}

for lun in 1 2 3; do
  case $lun in 1) name="rdwr direct" ;; 2) name="aio" ;; 3) name="null (no disk)" ;; esac
  echo "== tgtd $name: 4 KiB random read QD$DEPTH, $REQUESTS requests"
  bench 20000 "$lun" >/dev/null
  before=$(cpu_ticks "$tgtd_pid")
  TIMEFORMAT="%U %S"
  { time bench "$REQUESTS" "$lun" >"$work/run"; } 2>"$work/time"
  after=$(cpu_ticks "$tgtd_pid")
  seconds=$(sed -n 's/.*Run completed in \([0-9.]*\) seconds.*/\1/p' "$work/run")
  read -r iu is <"$work/time"
  python3 - "$REQUESTS" "$seconds" "$before" "$after" "$tick" "$iu" "$is" <<'EOF'
import sys
n, s, before, after, tick, iu, isys = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
tgtd = (after - before) / tick
print(f"  {n / s:,.0f} IOPS; per request: tgtd {tgtd / n * 1e6:.1f} µs CPU, initiator {(iu + isys) / n * 1e6:.1f} µs CPU; "
      f"busy cores {(tgtd + iu + isys) / s:.2f} of 2")
EOF
  echo "  tgtd system calls over $((REQUESTS / 4)) requests (strace -c -f; strace slows it, counts are what matter):"
  timeout 300 strace -c -f -q -p "$tgtd_pid" -o "$work/strace" &
  strace_pid=$!
  sleep 1
  bench $((REQUESTS / 4)) "$lun" >/dev/null
  kill -INT "$strace_pid"; wait "$strace_pid" 2>/dev/null || true
  python3 - "$work/strace" $((REQUESTS / 4)) <<'EOF'
import sys
rows = []
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
        rows.append((int(parts[3]), parts[-1]))
n = int(sys.argv[2])
print("   ", ", ".join(f"{name} {calls / n:.2f}" for calls, name in sorted(rows, reverse=True)[:7]), "per request")
EOF
  echo "  tgtd's hottest functions (perf record -F 2000, share of tgtd's samples):"
  perf record -q -F 2000 -g -p "$tgtd_pid" -o "$work/perf.data" -- sleep 4 >/dev/null 2>&1 &
  perf_pid=$!
  bench $((REQUESTS / 2)) "$lun" >/dev/null
  wait "$perf_pid" || true
  perf report -i "$work/perf.data" --no-children --stdio --sort sym -g none -q 2>/dev/null | grep -E "^ +[0-9]" | head -8 | sed "s/^/    /" || true
done
