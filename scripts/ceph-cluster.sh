#!/usr/bin/env bash
# A throwaway single-node Ceph cluster (one mon, one mgr, one BlueStore OSD on a sparse file) for
# the tests of the Ceph engine, run without systemd and kept entirely inside one directory.
#
#   scripts/ceph-cluster.sh install      install the Debian packages it needs (quick when present)
#   scripts/ceph-cluster.sh start DIR    build and start a cluster in DIR (new or empty), wait
#                                        until it serves I/O, print the KEY=VALUE lines a client
#                                        needs (also written to DIR/env)
#   scripts/ceph-cluster.sh stop DIR     stop its daemons and remove DIR (fine if already gone)
#   scripts/ceph-cluster.sh status DIR   `ceph -s`; non-zero when the cluster does not answer
#
# Every path a daemon writes (data, logs, admin sockets, crash dumps) is in DIR, so that two
# clusters can run side by side and `stop` leaves nothing behind. The mon listens on a free port
# on 127.0.0.1 only. The daemons run as the caller (root in CI): dropping to user ceph would
# need DIR to be owned by ceph, which a test's scratch directory is not.
#
# Environment: CEPH_START_TIMEOUT (seconds, default 120) bounds the wait for a serving cluster;
# CEPH_OSD_SIZE (default 8G) is the apparent size of the OSD's sparse block file;
# CEPH_STOP_TIMEOUT (seconds, default 15) is how long a daemon has after SIGTERM before SIGKILL.
set -euo pipefail

PACKAGES=(ceph-mon ceph-mgr ceph-osd ceph-common tgt-rbd uuid-runtime)
# The ceph CLI is a Debian python script; a pyenv shim on PATH must not pick the interpreter of
# the JSON checks below either.
PYTHON=/usr/bin/python3
CLIENT_ID=dpl
POOL=dpl
MON_ID=a
MGR_ID=x
OSD_ID=0

log() { printf 'ceph-cluster: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
    die "apt-get could not install: ${missing[*]}"
}

require_tools() {
  local c
  for c in ceph ceph-mon ceph-mgr ceph-osd ceph-authtool monmaptool uuidgen rbd "$PYTHON"; do
    command -v "$c" >/dev/null 2>&1 || die "$c is missing: run '$0 install' first"
  done
}

# The admin CLI for the cluster in $dir. The outer timeout guards against a mon that accepted
# the connection and then never answers; --connect-timeout against one that is not up.
ceph_admin() {
  timeout 60 ceph -c "$dir/ceph.conf" --connect-timeout 20 "$@"
}

# A port on 127.0.0.1 that nothing listens on now. Asking the kernel for an ephemeral port and
# releasing it leaves a small race, which a test machine can live with.
free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pid of a daemon that this cluster started and that is still alive, else nothing. The pid file
# alone is not trusted: after a reboot or a crash the number may belong to someone else, so the
# process must also name this cluster's ceph.conf on its command line.
live_pid() {
  local pidfile=$1 pid
  [ -s "$pidfile" ] || return 0
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$dir/ceph.conf"; then
    echo "$pid"
  fi
}

# A killed daemon stays a zombie until its parent reaps it: the caller of a failed start, or an
# init that reaps late. A zombie holds no port, file or memory, so it counts as gone.
gone() {
  [ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

any_daemon_alive() {
  local f
  for f in "$dir"/run/*.pid; do
    [ -e "$f" ] || continue
    [ -z "$(live_pid "$f")" ] || return 0
  done
  return 1
}

write_conf() {
  local fsid=$1 port=$2
  # Clients (ceph, rbd, tgtd's bs_rbd) find their key through the [client] keyring line, so
  # tgtd needs only conf= and id= in its --bsopts.
  cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = v2:127.0.0.1:$port
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $dir/run
# The daemons rewrite the pid files that launch() wrote, with their own pid: right even if
# setsid had to fork.
pid_file = $dir/run/\$name.pid
crash_dir = $dir/crash
# One OSD: every pool has a single copy, and the warnings that would say so are off, so that a
# healthy test cluster reports HEALTH_OK.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_autoscale_mode = off
# The data directory's file system is the machine's, whose free space is not ours to judge.
mon_data_avail_warn = 1
mon_data_avail_crit = 0
# Faster PG state reports, so the wait for active+clean ends seconds sooner.
mgr_stats_period = 1
osd_mon_report_interval = 1

[mon]
mon_data = $dir/mon.\$id
keyring = \$mon_data/keyring
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
mon_cluster_log_file = default=$dir/log/cluster.\$channel.log cluster=$dir/log/cluster.log
# Fewer Python modules to load in the mgr: the REST and NFS modules are of no use here.
mgr_initial_modules = iostat

[mgr]
mgr_data = $dir/mgr.\$id
keyring = \$mgr_data/keyring
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok

[osd]
osd_data = $dir/osd.\$id
keyring = \$osd_data/keyring
log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
osd_objectstore = bluestore
bluestore_block_create = true
bluestore_block_size = ${CEPH_OSD_SIZE:-8G}
# The machine is shared with the tests: stay near 1 GiB instead of the 4 GiB default.
osd_memory_target = 1073741824
bluestore_cache_autotune = true
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1

[client]
keyring = $dir/\$name.keyring
EOF
}

# The mon is created with every key but the OSD's in its initial auth database, so no auth
# command has to run before the mgr can log in.
make_keyrings() {
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n "mon." --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  # The DPL server's own key: rbd image work in pool dpl only. mon 'profile rbd' already lets it
  # read `ceph df` and `ceph -s`; the mgr cap covers rbd commands the mgr runs (trash purge,
  # task add).
  ceph-authtool --create-keyring "$dir/client.$CLIENT_ID.keyring" --gen-key -n "client.$CLIENT_ID" \
    --cap mon 'profile rbd' --cap osd "profile rbd pool=$POOL" --cap mgr "profile rbd pool=$POOL" >/dev/null
  mkdir -p "$dir/mgr.$MGR_ID"
  ceph-authtool --create-keyring "$dir/mgr.$MGR_ID/keyring" --gen-key -n "mgr.$MGR_ID" \
    --cap mon 'allow profile mgr' --cap osd 'allow *' --cap mds 'allow *' >/dev/null
  local k
  for k in "$dir/client.admin.keyring" "$dir/client.$CLIENT_ID.keyring" "$dir/mgr.$MGR_ID/keyring"; do
    ceph-authtool "$dir/mon.keyring" --import-keyring "$k" >/dev/null
  done
  chmod 600 "$dir"/*.keyring "$dir/mgr.$MGR_ID/keyring"
}

# Runs a daemon in the foreground of its own session (a signal to the caller's terminal or
# process group must not reach it), its output in DIR/log, its pid in DIR/run/<name>.pid.
launch() {
  local name=$1
  shift
  setsid "$@" -f -c "$dir/ceph.conf" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/run/$name.pid"
}

start_mon() {
  local fsid=$1 port=$2
  monmaptool --create --fsid "$fsid" --addv "$MON_ID" "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null
  ceph-mon --mkfs -i "$MON_ID" -c "$dir/ceph.conf" --monmap "$dir/monmap" --keyring "$dir/mon.keyring" \
    >>"$dir/log/mon.$MON_ID.out" 2>&1 || fail "ceph-mon --mkfs failed" "mon.$MON_ID"
  launch "mon.$MON_ID" ceph-mon -i "$MON_ID"
}

# The OSD gets id 0 and its key registered by `ceph osd new` before it first starts: an OSD whose
# key the mon does not know is refused with handle_auth_bad_method.
start_osd() {
  local uuid secret
  uuid=$(uuidgen)
  secret=$(ceph-authtool --gen-print-key)
  local id
  id=$(printf '{"cephx_secret": "%s"}' "$secret" | ceph_admin osd new "$uuid" -i -) ||
    fail "ceph osd new failed" "mon.$MON_ID"
  [ "$id" = "$OSD_ID" ] || fail "ceph osd new gave id '$id', expected $OSD_ID" "mon.$MON_ID"
  mkdir -p "$dir/osd.$OSD_ID"
  ceph-authtool --create-keyring "$dir/osd.$OSD_ID/keyring" -n "osd.$OSD_ID" --add-key "$secret" >/dev/null
  chmod 600 "$dir/osd.$OSD_ID/keyring"
  ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$uuid" -c "$dir/ceph.conf" \
    >>"$dir/log/osd.$OSD_ID.out" 2>&1 || fail "ceph-osd --mkfs failed" "osd.$OSD_ID"
  launch "osd.$OSD_ID" ceph-osd -i "$OSD_ID"
}

wait_for_mon() {
  local deadline=$1
  until ceph_admin mon stat >/dev/null 2>&1; do
    [ -n "$(live_pid "$dir/run/mon.$MON_ID.pid")" ] || fail "ceph-mon exited" "mon.$MON_ID"
    ((SECONDS < deadline)) || fail "the mon did not answer in time" "mon.$MON_ID"
    sleep 0.5
  done
}

# Ready means: the mgr is active (PG states come from it), the OSD is up and in, there is at
# least one PG and every PG is active+clean. Prints what is missing while not ready.
cluster_ready() {
  ceph_admin status --format json 2>/dev/null | "$PYTHON" -c '
import json, sys
try:
    s = json.load(sys.stdin)
except ValueError:
    print("no status"); sys.exit(1)
o, p = s.get("osdmap", {}), s.get("pgmap", {})
total = p.get("num_pgs", 0)
clean = sum(x["count"] for x in p.get("pgs_by_state", []) if x["state_name"] == "active+clean")
missing = []
if not s.get("mgrmap", {}).get("available"): missing.append("mgr not available")
if o.get("num_up_osds", 0) < 1 or o.get("num_in_osds", 0) < 1: missing.append("osd not up+in")
if total == 0 or clean != total: missing.append("pgs active+clean %d/%d" % (clean, total))
print(", ".join(missing))
sys.exit(1 if missing else 0)'
}

wait_until_ready() {
  local deadline=$1 why=""
  until why=$(cluster_ready); do
    local d
    for d in "mon.$MON_ID" "mgr.$MGR_ID" "osd.$OSD_ID"; do
      [ -n "$(live_pid "$dir/run/$d.pid")" ] || fail "$d exited" "$d"
    done
    ((SECONDS < deadline)) || fail "the cluster was not ready in time: $why" "osd.$OSD_ID" "mgr.$MGR_ID"
    sleep 1
  done
}

# A failed start leaves no daemon running (CI must not inherit one) but keeps DIR and its logs
# for a look; `stop DIR` removes it.
fail() {
  local msg=$1 d f
  shift
  log "error: $msg"
  for d in "$@"; do
    f=$dir/log/$d.log
    if [ -s "$f" ]; then
      log "--- last lines of $f"
      tail -n 25 "$f" >&2
    fi
    # A daemon's stderr holds what it said before its log was open (bad options, mkfs errors);
    # the mgr's Python modules pad it with blank lines and NOTIFY_TYPES complaints.
    f=$dir/log/$d.out
    if grep -qv -e '^$' -e 'NOTIFY_TYPES' "$f" 2>/dev/null; then
      log "--- last lines of $f"
      grep -v -e '^$' -e 'NOTIFY_TYPES' "$f" | tail -n 10 >&2
    fi
  done
  stop_daemons
  log "the logs are kept in $dir; '$0 stop $dir' removes it"
  exit 1
}

start_cluster() {
  require_tools
  if [ -d "$dir" ] && any_daemon_alive; then
    die "a cluster is already running in $dir"
  fi
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    die "$dir is not empty: start wants a new or empty directory"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  mkdir -p "$dir/run" "$dir/log" "$dir/crash"

  local begin=$SECONDS deadline=$((SECONDS + ${CEPH_START_TIMEOUT:-120}))
  local fsid port
  fsid=$(uuidgen)
  port=$(free_port)
  write_conf "$fsid" "$port"
  make_keyrings

  start_mon "$fsid" "$port"
  wait_for_mon "$deadline"
  launch "mgr.$MGR_ID" ceph-mgr -i "$MGR_ID"
  start_osd
  ceph_admin osd pool create "$POOL" 8 8 replicated >/dev/null 2>&1 ||
    fail "could not create pool $POOL" "mon.$MON_ID"
  # rbd pool init tags the pool for rbd (else POOL_APP_NOT_ENABLED) and needs a writable OSD,
  # so it also proves the data path.
  timeout 60 rbd -c "$dir/ceph.conf" pool init "$POOL" >>"$dir/log/client.out" 2>&1 ||
    fail "rbd pool init $POOL failed" "osd.$OSD_ID" "mon.$MON_ID"
  wait_until_ready "$deadline"

  local health
  health=$(ceph_admin health 2>/dev/null || true)
  [[ $health == HEALTH_OK* ]] || log "ready, but health is: $health"
  log "cluster ready in $dir after $((SECONDS - begin)) s"

  {
    echo "CEPH_CONF=$dir/ceph.conf"
    echo "CEPH_KEYRING=$dir/client.$CLIENT_ID.keyring"
    echo "CEPH_CLIENT=$CLIENT_ID"
    echo "RBD_POOL=$POOL"
  } | tee "$dir/env"
}

# SIGTERM, then SIGKILL to whatever still runs after the grace period (CEPH_STOP_TIMEOUT).
terminate() {
  local pids=("$@") pid
  ((${#pids[@]})) || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  local until=$((SECONDS + ${CEPH_STOP_TIMEOUT:-15})) alive=("${pids[@]}")
  while ((SECONDS < until)); do
    alive=()
    for pid in "${pids[@]}"; do
      gone "$pid" || alive+=("$pid")
    done
    ((${#alive[@]})) || return 0
    sleep 0.1
  done
  log "still running after SIGTERM, killing: ${alive[*]}"
  kill -KILL "${alive[@]}" 2>/dev/null || true
  until=$((SECONDS + 10))
  for pid in "${alive[@]}"; do
    until gone "$pid"; do
      ((SECONDS < until)) || die "pid $pid survives SIGKILL"
      sleep 0.1
    done
  done
}

live_pids_of() {
  local pattern f pid
  for pattern in "$@"; do
    for f in "$dir"/run/$pattern.pid; do
      [ -e "$f" ] || continue
      pid=$(live_pid "$f")
      [ -z "$pid" ] || echo "$pid"
    done
  done
}

# The OSD goes first: on SIGTERM it waits for the mon to acknowledge that it is going down (up to
# osd_mon_shutdown_timeout, 5 s) and so takes about 1 s with a mon, 6 s without one.
stop_daemons() {
  local pids
  mapfile -t pids < <(live_pids_of 'osd.*')
  terminate "${pids[@]}"
  mapfile -t pids < <(live_pids_of 'mgr.*' 'mon.*')
  terminate "${pids[@]}"
}

stop_cluster() {
  [ -e "$dir" ] || return 0
  dir=$(cd "$dir" && pwd -P)
  # Only a directory that this script made is removed: a typo must not rm -rf something else.
  [ -e "$dir/ceph.conf" ] || [ -d "$dir/run" ] || [ -z "$(ls -A "$dir")" ] ||
    die "$dir does not look like a cluster directory of this script; not removing it"
  stop_daemons
  rm -rf "$dir"
}

status_cluster() {
  [ -e "$dir/ceph.conf" ] || die "no cluster in $dir"
  any_daemon_alive || die "no daemon of $dir is running"
  ceph_admin -s
}

main() {
  local cmd=${1:-}
  case "$cmd" in
    install) install_packages ;;
    start | stop | status)
      { [ $# -eq 2 ] && [ -n "$2" ]; } || usage
      dir=$2
      case "$dir" in /*) ;; *) dir=$PWD/$dir ;; esac
      "${cmd}_cluster"
      ;;
    *) usage ;;
  esac
}

main "$@"
