#!/usr/bin/env bash
# The main job: start the bundled DPL server on its embedded image-file pool, then `pulumi up` the
# top-level program (Pulumi.yaml) against it and print what a host needs to attach.
#
#   bash scripts/main-job.sh         set up everything, start the server, pulumi up
#   bash scripts/main-job.sh down    pulumi destroy, then stop the server (nothing left mounted)
#
# State (server metadata, pool image, Pulumi file backend) lives in $DPL_STATE_DIR (default .state/).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
state=${DPL_STATE_DIR:-$repo/.state}
server_state=$state/server
ready=$state/server-ready.json
mkdir -p "$state"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

bash scripts/setup-system.sh
bash scripts/setup-node.sh
PATH="$(bash scripts/setup-pulumi.sh | tail -n 1):$PATH"
export PATH

export PULUMI_BACKEND_URL="file://$state/pulumi"
export PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE:-dpl-quickstart}
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
mkdir -p "$state/pulumi"

server_pid() {
  [ -f "$ready" ] || return 1
  local pid
  pid=$(node -p "require('$ready').pid")
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_server() {
  if pid=$(server_pid); then log "DPL server already running (pid $pid)"; return; fi
  rm -f "$ready"
  log "starting the DPL server (state in $server_state, log in $state/server.log)"
  setsid nohup server/bin/dpl-server serve --state-dir "$server_state" \
    --listen "${DPL_LISTEN:-127.0.0.1:8357}" --portal "${DPL_PORTAL:-127.0.0.1:3260}" \
    --embedded-pool "${DPL_EMBEDDED_POOL_SIZE:-8GiB}" --ready-file "$ready" \
    >"$state/server.log" 2>&1 < /dev/null &
  for _ in $(seq 1 300); do
    [ -f "$ready" ] && return
    kill -0 $! 2>/dev/null || { tail -n 30 "$state/server.log" >&2; echo "the DPL server failed to start" >&2; exit 1; }
    sleep 0.2
  done
  echo "the DPL server did not become ready within 60 s" >&2; exit 1
}

use_server() {
  DPL_ENDPOINT=$(node -p "require('$ready').url")
  DPL_PASSWORD=$(cat "$(node -p "require('$ready').passwordFile")")
  DPL_CA_FILE=$(node -p "require('$ready').caFile")
  DPL_POOL_ID=$(node -p "require('$ready').poolId")
  export DPL_ENDPOINT DPL_PASSWORD DPL_CA_FILE DPL_POOL_ID DPL_USERNAME=admin
}

stop_server() {
  if pid=$(server_pid); then
    log "stopping the DPL server (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    echo "the DPL server did not stop within 30 s" >&2; return 1
  fi
}

case "${1:-up}" in
  up)
    start_server
    use_server
    pulumi stack select --create dev >/dev/null
    pulumi config set dpl:poolId "$DPL_POOL_ID"
    log "pulumi up"
    pulumi up --yes --skip-preview
    log "what a host needs to attach"
    pulumi stack output --json
    log "the DPL server keeps running for your hosts; 'bash scripts/main-job.sh down' destroys and stops it"
    ;;
  down)
    if server_pid >/dev/null; then
      use_server
      pulumi stack select dev >/dev/null 2>&1 && pulumi destroy --yes --skip-preview || true
    fi
    stop_server
    ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
