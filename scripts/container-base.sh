#!/usr/bin/env bash
# Makes this machine able to build and run the relay's container image without a Docker engine
# or a registry (see relay/Dockerfile):
#   - installs podman, runc and debootstrap with apt when they are missing (needs root);
#   - writes containers.conf and storage.conf into a cache folder outside the checkout;
#   - builds the local base image localhost/debian-node:bookworm (Debian minbase + Debian's
#     nodejs, v18) with debootstrap, only when `podman image exists` says it is missing.
# Idempotent; a second run takes well under a second.
#
# Usage:
#   eval "$(scripts/container-base.sh)"      # exports CONTAINERS_CONF and CONTAINERS_STORAGE_CONF
#   # or, once it has run:  source "${PORTWAY_CACHE_DIR:-$HOME/.cache/portway}/container/env"
#   podman build --network host --build-arg BASE=localhost/debian-node:bookworm -t portway-relay relay/
#
# Stdout carries only the `export ...` lines; progress goes to stderr.
# Environment: PORTWAY_CACHE_DIR (default ~/.cache/portway), PORTWAY_BASE_IMAGE
# (default localhost/debian-node:bookworm).
set -euo pipefail

BASE_IMAGE="${PORTWAY_BASE_IMAGE:-localhost/debian-node:bookworm}"
SUITE=bookworm
CACHE="${PORTWAY_CACHE_DIR:-${HOME:-/root}/.cache/portway}/container"

log() { echo "container-base: [${SECONDS}s] $*" >&2; }
die() { echo "container-base: error: $*" >&2; exit 1; }

mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd -P)"

# One run at a time per cache folder (parallel test runs share it).
exec 9>"$CACHE/.lock"
flock -w 600 9 || die "another container-base.sh holds $CACHE/.lock for over 10 minutes"

# 1. Configuration: written only when its content changes, so podman sees identical settings on every call.
write_if_changed() { # file content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then
    printf '%s\n' "$2" >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
  fi
}
mkdir -p "$CACHE/networks" "$CACHE/storage" "$CACHE/run"
# The sandbox's hard nofile limit is 20000; crun refuses this cgroup layout; there is no systemd.
write_if_changed "$CACHE/containers.conf" "# Written by portway scripts/container-base.sh
[containers]
default_ulimits = [\"nofile=20000:20000\", \"nproc=4096:4096\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"

[network]
network_config_dir = \"$CACHE/networks\""
write_if_changed "$CACHE/storage.conf" "# Written by portway scripts/container-base.sh
[storage]
driver = \"overlay\"
graphroot = \"$CACHE/storage\"
runroot = \"$CACHE/run\""
write_if_changed "$CACHE/env" "export CONTAINERS_CONF=$CACHE/containers.conf
export CONTAINERS_STORAGE_CONF=$CACHE/storage.conf"
export CONTAINERS_CONF="$CACHE/containers.conf"
export CONTAINERS_STORAGE_CONF="$CACHE/storage.conf"

# 2. Packages. debootstrap first, so that on a fresh machine the base rootfs is fetched while
# podman and runc install.
apt_install() { # package...
  [ "$(id -u)" -eq 0 ] || die "$* not installed and not running as root; install them: apt-get install -y podman runc debootstrap"
  command -v apt-get >/dev/null 2>&1 || die "$* not installed and apt-get is not available (a Debian machine is expected)"
  log "installing $* (apt)"
  if [ -z "${apt_updated:-}" ]; then
    apt-get update -qq >>"$CACHE/apt.log" 2>&1 || { tail -n 20 "$CACHE/apt.log" >&2; die "apt-get update failed (log: $CACHE/apt.log)"; }
    apt_updated=1
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>"$CACHE/apt.log" 2>&1; then
    tail -n 20 "$CACHE/apt.log" >&2
    die "could not install $* with apt-get (log: $CACHE/apt.log)"
  fi
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after apt-get install (log: $CACHE/apt.log)"
  done
}
: >"$CACHE/apt.log"
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap

debian_mirror() {
  # The first deb822 stanza (Types: deb) whose Suites name $SUITE itself; then a one-line sources.list entry.
  local file mirror
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    mirror="$(awk -v suite="$SUITE" '
      function flush() { if (isdeb && hassuite && uri != "" && !found) { print uri; found = 1 } isdeb = 0; hassuite = 0; uri = "" }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1 }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) hassuite = 1 }
      END { flush() }' "$file")"
    if [ -n "$mirror" ]; then echo "$mirror"; return; fi
  done
  if [ -f /etc/apt/sources.list ]; then
    mirror="$(awk -v suite="$SUITE" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($(i + 1) == suite) { print $i; exit } break } }' /etc/apt/sources.list)"
    if [ -n "$mirror" ]; then echo "$mirror"; return; fi
  fi
  echo "http://deb.debian.org/debian"
}

base_present() { command -v podman >/dev/null 2>&1 && podman image exists "$BASE_IMAGE"; }

rootfs="$CACHE/rootfs.$$"
debootstrap_pid=""
cleanup() {
  # debootstrap runs in its own process group (setsid): stop it with its wget and dpkg children.
  if [ -n "$debootstrap_pid" ]; then kill -- "-$debootstrap_pid" 2>/dev/null || kill "$debootstrap_pid" 2>/dev/null || true; wait "$debootstrap_pid" 2>/dev/null || true; fi
  rm -rf "$rootfs"
}
trap cleanup EXIT
if ! base_present; then
  rm -rf "$CACHE"/rootfs.* # leftovers of an interrupted run
  mirror="$(debian_mirror)"
  mkdir -p "$CACHE/debs" # downloaded .debs, kept so a rebuild of the base skips the downloads
  log "debootstrap --variant=minbase --include=nodejs $SUITE from $mirror (for $BASE_IMAGE)"
  setsid --wait debootstrap --variant=minbase --include=nodejs --cache-dir="$CACHE/debs" "$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 &
  debootstrap_pid=$!
fi

missing=()
for tool in podman runc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# 3. The base image.
if [ -z "$debootstrap_pid" ]; then
  log "$BASE_IMAGE present"
elif base_present; then # podman had been removed, its storage kept the image
  log "$BASE_IMAGE present"
else
  wait "$debootstrap_pid" || { debootstrap_pid=""; tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  debootstrap_pid=""
  # Trim what a runtime image never reads: package lists, caches, docs, man pages, translations, logs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.cache
  node_version="$(chroot "$rootfs" node --version)" || die "node does not run in the debootstrapped rootfs"
  log "rootfs has node $node_version ($(du -sh "$rootfs" | cut -f1)); importing"
  tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    --message "debootstrap --variant=minbase --include=nodejs $SUITE (portway scripts/container-base.sh)" \
    - "$BASE_IMAGE" >/dev/null
  log "$BASE_IMAGE built"
fi
rm -rf "$rootfs"

cat "$CACHE/env"
