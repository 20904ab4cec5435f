#!/usr/bin/env bash
# The commands the GitOps pipelines of examples/gitops run, one per pipeline event:
#
#   gitops-check.sh preview   pull request: `pulumi preview --diff`; writes a Markdown report
#                             (the PR comment body) to $GITOPS_REPORT; fails when preview fails
#   gitops-check.sh up        merge to main: `pulumi up --yes`
#   gitops-check.sh drift     schedule: `pulumi refresh --preview-only` then `pulumi preview
#                             --expect-no-changes`; exits 3 naming every resource that drifted
#                             (changed behind Pulumi's back) or that the program would change
#
# Environment: PULUMI_STACK (required), GITOPS_PROJECT_DIR (the Pulumi project; default: the
# current directory), GITOPS_REPORT (default: gitops-report.md), GITOPS_POLICY_PACK (a policy
# pack directory, e.g. pulumi-dpl's policy/, enforced on preview and up) with GITOPS_POLICY_CONFIG
# (its JSON config file). Backend, passphrase and DPL credentials come from the usual PULUMI_* /
# DPL_* variables or the stack config.
set -euo pipefail

usage() { sed -n '2,15p' "$0" >&2; exit 2; }
[ $# -eq 1 ] || usage
: "${PULUMI_STACK:?set PULUMI_STACK to the stack to check}"
project=${GITOPS_PROJECT_DIR:-$PWD}
report=${GITOPS_REPORT:-gitops-report.md}
export PULUMI_SKIP_UPDATE_CHECK=true
pulumi_args=(--stack "$PULUMI_STACK" --cwd "$project" --non-interactive)
# Policies guard what gets planned and applied; the drift check only compares, so it runs none.
policy_args=()
if [ -n "${GITOPS_POLICY_PACK:-}" ]; then
  policy_args=(--policy-pack "$GITOPS_POLICY_PACK")
  if [ -n "${GITOPS_POLICY_CONFIG:-}" ]; then policy_args+=(--policy-pack-config "$GITOPS_POLICY_CONFIG"); fi
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# The resources a JSON preview would change, one "op name (kind)" per line. Pulumi's --json
# output is the contract here, not its text rendering.
changed_resources() {
  node -e '
    const fs = require("node:fs");
    const text = fs.readFileSync(process.argv[1], "utf8");
    const preview = JSON.parse(text.slice(text.indexOf("{")));
    for (const step of preview.steps ?? []) {
      if (step.op === "same" || step.op === "read" || step.op === "refresh") continue;
      const state = step.newState ?? step.oldState ?? {};
      const parts = String(step.urn).split("::");
      const kind = (state.inputs && state.inputs.dplKind) || parts[2] || "resource";
      console.log(`${step.op} ${parts[parts.length - 1]} (${kind})`);
    }
  ' "$1"
}

# The resources a refresh would change, from the --diff text of `refresh --preview-only`. The JSON
# of a refresh preview carries no refreshed outputs (its newState is the old one), so the text is
# the only place the engine says what the servers report; each changed resource prints a header
# "<sign> <type>: (<op>)" and then its "[urn=...]".
refreshed_resources() {
  node -e '
    const fs = require("node:fs");
    const lines = fs.readFileSync(process.argv[1], "utf8").replace(/\x1b\[[0-9;]*m/g, "").split("\n");
    let pending;
    for (const line of lines) {
      const header = /^\s*[-+~]+\s+(\S+): \(([\w-]+)\)/.exec(line);
      if (header) { pending = header[2] === "same" ? undefined : { type: header[1], op: header[2] }; continue; }
      const urn = /^\s*\[urn=(.+)\]\s*$/.exec(line);
      if (urn && pending) {
        const parts = urn[1].split("::");
        const kind = pending.type.split(":").pop().toLowerCase();
        console.log(`${pending.op} ${parts[parts.length - 1]} (${kind})`);
        pending = undefined;
      }
    }
  ' "$1"
}

# Runs a JSON preview into $1; its diagnostics go to stderr. Non-zero when pulumi itself failed.
json_preview() {
  local out=$1; shift
  pulumi "$@" "${pulumi_args[@]}" --json >"$out"
}

cmd_preview() {
  local status=0
  pulumi preview --diff "${pulumi_args[@]}" "${policy_args[@]}" 2>&1 | tee "$scratch/preview.txt" || status=$?
  {
    echo "### \`pulumi preview\` of stack \`$PULUMI_STACK\`"
    if [ "$status" -ne 0 ]; then echo; echo "**Preview failed (exit $status).**"; fi
    echo
    echo '```diff'
    # The CLI's colour codes and progress lines are noise in a PR comment.
    sed -e 's/\x1b\[[0-9;]*m//g' "$scratch/preview.txt" | grep -v '^@ ' || true
    echo '```'
  } >"$report"
  echo "gitops: report written to $report" >&2
  return "$status"
}

cmd_up() {
  pulumi up --yes --diff "${pulumi_args[@]}" "${policy_args[@]}"
}

cmd_drift() {
  # --expect-no-changes makes the engine itself fail on a change, so a step this script failed
  # to parse cannot slip through; the parsed text and JSON only name what changed.
  local refresh_status=0 preview_status=0
  pulumi refresh --preview-only --expect-no-changes --diff "${pulumi_args[@]}" >"$scratch/refresh.txt" 2>&1 || refresh_status=$?
  json_preview "$scratch/preview.json" preview --expect-no-changes || preview_status=$?
  local drifted planned
  drifted=$(refreshed_resources "$scratch/refresh.txt")
  planned=$(changed_resources "$scratch/preview.json")
  if [ -z "$drifted" ] && [ -z "$planned" ]; then
    if [ "$refresh_status" -ne 0 ]; then
      cat "$scratch/refresh.txt" >&2
      echo "gitops: pulumi refresh failed (exit $refresh_status)" >&2
      return "$refresh_status"
    fi
    if [ "$preview_status" -ne 0 ]; then
      echo "gitops: pulumi preview failed (exit $preview_status)" >&2
      return "$preview_status"
    fi
    echo "gitops: no drift: the DPL servers match the state and the program matches the state"
    return 0
  fi
  if [ -n "$drifted" ]; then
    echo "gitops: DRIFT: changed outside Pulumi (refresh would record):"
    sed 's/^/  /' <<<"$drifted"
  fi
  if [ -n "$planned" ]; then
    echo "gitops: DRIFT: the program differs from the state (up would apply):"
    sed 's/^/  /' <<<"$planned"
  fi
  return 3
}

case $1 in
  preview) cmd_preview ;;
  up) cmd_up ;;
  drift) cmd_drift ;;
  *) usage ;;
esac
