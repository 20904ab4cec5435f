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
#   <cache>/<version>/bin/pulumi                          the CLI (go build, ~170 MiB)
#   <cache>/<version>/bin/pulumi-language-<lang>          -> ../langhost/<lang>/<hash>/...
#                                                         for lang in nodejs, go, python
#   <cache>/<version>/bin/pulumi-resource-pulumi-nodejs   launcher script (copied)
#   <cache>/<version>/langhost/<lang>/<hash>/             our hosts, keyed by a hash of their source
#   <cache>/<version>/python-venv/                        only with DPL_PULUMI_PYTHON=1: a venv
#                                                         with the `pulumi` pip package
#
# If a working `pulumi` is already on PATH it is used as is; only the pieces it
# lacks (language hosts, launcher) are provided, in <cache>/<version>/plugins-bin.
# Why the CLI is built from source and why the language host is our own: see
# tools/pulumi/README.md.
set -euo pipefail

log() { printf 'setup-pulumi: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/tools/pulumi"
launcher_src="$tools/pulumi-resource-pulumi-nodejs"
# Our language hosts, all built from this module (see tools/pulumi/README.md).
langs=(nodejs go python)

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

# One language host, built once per distinct source (+ toolchain). The hash
# covers the shared internal/ packages too, since every host links them.
ensure_langhost() { # <bin dir> <lang>
	local bin=$1 lang=$2 name="pulumi-language-$2" hash dir extra=""
	need_go "$name"
	# The Python host runs upstream's exec script, which the pulumi wheel does not
	# ship; it comes from the sdk/v3 Go module this module already requires.
	if [[ $lang == python ]]; then
		extra=$(cd "$tools" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)/python/cmd/pulumi-language-python-exec
		[[ -f "$extra" ]] || die "missing $extra (go mod download in $tools?)"
	fi
	hash=$({
		echo "$lang"
		cat "$tools/go.mod" "$tools/go.sum" "$tools/cmd/$name"/*.go
		find "$tools/internal" -name '*.go' -print0 | sort -z | xargs -0 cat
		[[ -z "$extra" ]] || cat "$extra"
		go version
		echo "$ldflags"
	} | sha256sum | cut -c1-16)
	dir="$vdir/langhost/$lang/$hash"
	if [[ ! -x "$dir/$name" ]]; then
		log "building $name ($hash)"
		mkdir -p "$dir"
		[[ -z "$extra" ]] || install -m 0755 "$extra" "$dir/pulumi-language-python-exec"
		local start=$SECONDS
		go_build "$dir/$name" "./cmd/$name"
		log "built $name in $((SECONDS - start))s"
		# Keep the three newest builds per host; older ones are only disk space.
		ls -1dt "$vdir/langhost/$lang"/*/ 2>/dev/null | tail -n +4 | xargs -r rm -rf
	fi
	# Symlink swapped in atomically, so a running engine never sees it missing.
	# The link lives in the same directory as `pulumi`, which is where the engine
	# looks for bundled plugins, so it does not warn about using one from $PATH.
	ln -sfn "../langhost/$lang/$hash/$name" "$bin/.$name.$$"
	mv -Tf "$bin/.$name.$$" "$bin/$name"
}

# Builds from before the per-language layout (langhost/<hash>/), once nothing
# links to them any more.
prune_old_langhosts() {
	local d
	for d in "$vdir"/langhost/*/; do
		[[ -x "$d/pulumi-language-nodejs" ]] || continue
		grep -qsF -- "${d%/}" < <(readlink -f "$vdir"/bin/pulumi-language-* "$vdir"/plugins-bin/pulumi-language-* 2>/dev/null) && continue
		rm -rf "$d"
	done
}

# Opt-in (DPL_PULUMI_PYTHON=1, it needs PyPI): a virtualenv with the `pulumi`
# pip package pinned in tools/pulumi/python-requirements.txt, for Python
# programs (Pulumi.yaml `runtime: {name: python, options: {virtualenv: ...}}`).
# Built in place (virtualenvs are not relocatable); the stamp is written last,
# so an interrupted install is redone on the next run.
ensure_python_venv() {
	local req="$tools/python-requirements.txt" venv="$vdir/python-venv" want
	command -v python3 >/dev/null 2>&1 || die "DPL_PULUMI_PYTHON=1 needs python3"
	want=$({ cat "$req"; python3 --version; } | sha256sum | cut -c1-16)
	if [[ "$(cat "$venv/.stamp" 2>/dev/null)" != "$want" ]]; then
		log "creating $venv ($(grep -v '^#' "$req" | tr '\n' ' '))"
		rm -rf "$venv"
		python3 -m venv "$venv" && "$venv/bin/pip" install -q -r "$req" || die "creating $venv failed"
		printf '%s\n' "$want" >"$venv/.stamp"
	fi
	log "python virtualenv: $venv"
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
	for lang in "${langs[@]}"; do
		if have "pulumi-language-$lang"; then
			log "pulumi-language-$lang: using the existing one"
		else
			ensure_langhost "$bin" "$lang"
		fi
	done
	prune_old_langhosts
	[[ "${DPL_PULUMI_PYTHON:-}" != 1 ]] || ensure_python_venv
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
for lang in "${langs[@]}"; do
	ensure_langhost "$bin" "$lang"
done
prune_old_langhosts
ensure_launcher "$bin"
[[ "${DPL_PULUMI_PYTHON:-}" != 1 ]] || ensure_python_venv

got=$("$bin/pulumi" version 2>/dev/null) || die "$bin/pulumi does not run"
[[ "$got" == "$version" ]] || log "warning: $bin/pulumi reports $got, expected $version"
command -v node >/dev/null 2>&1 || log "warning: node is not on PATH; programs and dynamic providers need it"
log "ready: pulumi $got in $bin"
printf '%s\n' "$bin"
