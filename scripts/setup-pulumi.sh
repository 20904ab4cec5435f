#!/usr/bin/env bash
# Make a working `pulumi` engine available, with the Node.js language host and the
# dynamic-provider launcher beside it, and print the directory to put on PATH:
#
#   PATH="$(bash scripts/setup-pulumi.sh | tail -1):$PATH"
#
# The last line of stdout is that directory; every log line goes to stderr.
# Idempotent and cheap when nothing changed. Builds are cached OUTSIDE the clone,
# in $DPL_PULUMI_CACHE (default /var/cache/dpl-pulumi, or ~/.cache/dpl-pulumi when
# that is not writable), so fresh clones and CI jobs reuse them:
#
#   <cache>/<version>/bin/pulumi                          the CLI (go build, ~300 MiB)
#   <cache>/<version>/bin/pulumi-language-nodejs          -> ../langhost/<hash>/...
#   <cache>/<version>/bin/pulumi-resource-pulumi-nodejs   launcher script (copied)
#   <cache>/<version>/langhost/<hash>/                    our host, keyed by a hash of its source
#
# If a working `pulumi` is already on PATH it is used as is; only the pieces it
# lacks (language host, launcher) are provided, in <cache>/<version>/plugins-bin.
# Why the CLI is built from source and why the language host is our own: see
# tools/pulumi/README.md.
set -euo pipefail

log() { printf 'setup-pulumi: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/tools/pulumi"
langhost_src="$tools/cmd/pulumi-language-nodejs"
launcher_src="$tools/pulumi-resource-pulumi-nodejs"

# The version is single-sourced from the tools module, so the binary, its
# reported version and the cache key cannot disagree.
version=$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2; exit }' "$tools/go.mod")
[[ -n "$version" ]] || die "cannot read the pulumi/pkg/v3 version from $tools/go.mod"
ldflags="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version"

pick_cache() {
	local dir
	for dir in "${DPL_PULUMI_CACHE:-}" /var/cache/dpl-pulumi "${XDG_CACHE_HOME:-$HOME/.cache}/dpl-pulumi"; do
		[[ -n "$dir" ]] || continue
		if mkdir -p "$dir" 2>/dev/null && [[ -w "$dir" ]]; then
			printf '%s' "$dir"
			return
		fi
	done
	die "no writable cache directory (set DPL_PULUMI_CACHE)"
}
cache=$(pick_cache)
vdir="$cache/$version"
mkdir -p "$vdir"

# Serialize concurrent runs (parallel CI jobs, two terminals) on one cache.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$vdir/.lock"
	flock 9
fi

need_go() {
	command -v go >/dev/null 2>&1 || die "go is required to build $1 (https://go.dev/dl/)"
}

# go build into a temporary name, then rename: an interrupted build never
# leaves a truncated binary that later runs would take for a finished one.
go_build() { # <output> <package>
	local out=$1 pkg=$2 tmp="$1.tmp.$$"
	(cd "$tools" && go build -buildvcs=false -ldflags "$ldflags" -o "$tmp" "$pkg") || {
		rm -f "$tmp"
		die "go build $pkg failed"
	}
	mv -f "$tmp" "$out"
}

# Our language host, built once per distinct source (+ toolchain).
ensure_langhost() { # <bin dir>
	local bin=$1 hash dir
	need_go "pulumi-language-nodejs"
	hash=$({
		cat "$tools/go.mod" "$tools/go.sum" "$langhost_src"/*.go
		go version
		echo "$ldflags"
	} | sha256sum | cut -c1-16)
	dir="$vdir/langhost/$hash"
	if [[ ! -x "$dir/pulumi-language-nodejs" ]]; then
		log "building pulumi-language-nodejs ($hash)"
		mkdir -p "$dir"
		go_build "$dir/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs
		# Keep the three newest builds; older ones are only disk space.
		ls -1dt "$vdir"/langhost/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
	fi
	# Symlink swapped in atomically, so a running engine never sees it missing.
	# The link lives in the same directory as `pulumi`, which is where the engine
	# looks for bundled plugins, so it does not warn about using one from $PATH.
	ln -sfn "../langhost/$hash/pulumi-language-nodejs" "$bin/.pulumi-language-nodejs.$$"
	mv -Tf "$bin/.pulumi-language-nodejs.$$" "$bin/pulumi-language-nodejs"
}

ensure_launcher() { # <bin dir>
	local bin=$1
	if ! cmp -s "$launcher_src" "$bin/pulumi-resource-pulumi-nodejs"; then
		install -m 0755 "$launcher_src" "$bin/.pulumi-resource-pulumi-nodejs.$$"
		mv -f "$bin/.pulumi-resource-pulumi-nodejs.$$" "$bin/pulumi-resource-pulumi-nodejs"
	fi
}

# Is there a usable pulumi on PATH that is not our own cached build?
external=""
if found=$(command -v pulumi 2>/dev/null); then
	if [[ "$(readlink -f "$found")" != "$(readlink -f "$vdir/bin/pulumi" 2>/dev/null || true)" ]]; then
		if ver=$("$found" version 2>/dev/null); then
			external=$found
			log "using pulumi $ver already on PATH at $found"
		else
			log "ignoring $found: 'pulumi version' failed"
		fi
	fi
fi

if [[ -n "$external" ]]; then
	# Use whatever plugins the existing install brings (next to the real binary or
	# on PATH); provide only the missing ones, in a directory without a `pulumi`
	# so we never shadow the one the user chose.
	real_dir=$(dirname "$(readlink -f "$external")")
	have() { [[ -x "$real_dir/$1" ]] || command -v "$1" >/dev/null 2>&1; }
	bin="$vdir/plugins-bin"
	mkdir -p "$bin"
	if have pulumi-language-nodejs; then
		log "pulumi-language-nodejs: using the existing one"
	else
		ensure_langhost "$bin"
	fi
	if have pulumi-resource-pulumi-nodejs; then
		log "pulumi-resource-pulumi-nodejs: using the existing one"
	else
		ensure_launcher "$bin"
	fi
	log "ready: pulumi from $external, plugins from PATH plus $bin"
	printf '%s\n' "$bin"
	exit 0
fi

bin="$vdir/bin"
mkdir -p "$bin"
if [[ ! -x "$bin/pulumi" ]]; then
	need_go "the pulumi CLI"
	log "building the pulumi CLI $version into $bin (cold: ~10+ min and several GiB of Go cache)"
	start=$SECONDS
	go_build "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	log "built pulumi in $((SECONDS - start))s"
fi
ensure_langhost "$bin"
ensure_launcher "$bin"

got=$("$bin/pulumi" version 2>/dev/null) || die "$bin/pulumi does not run"
[[ "$got" == "$version" ]] || log "warning: $bin/pulumi reports $got, expected $version"
command -v node >/dev/null 2>&1 || log "warning: node is not on PATH; programs and dynamic providers need it"
log "ready: pulumi $got in $bin"
printf '%s\n' "$bin"
