#!/usr/bin/env bash
# Installs what the VS Code end-to-end tests need, offline-friendly and idempotent:
#   - Debian packages: chromium (driven by playwright-core), ripgrep (code-server's search binary),
#     libkrb5-dev (gssapi headers for a native addon code-server builds);
#   - code-server 4.100.3 from npm (VS Code 1.100.3 with a real Node extension host; the last release
#     that runs on Node 20), cached outside the checkout in ${PORTWAY_CACHE_DIR:-~/.cache/portway}/code-server,
#     so fresh clones (CI) on the same machine reuse it.
# Skips every step that is already done. Usage: scripts/install-code-server.sh
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
# ripgrep version pinned by @vscode/ripgrep inside code-server 4.100.3; its postinstall looks for this
# tarball in a cache folder before trying GitHub (unreachable here).
RIPGREP_CACHE_DIR_NAME=vscode-ripgrep-cache-1.15.11
RIPGREP_TARBALL=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${PORTWAY_CACHE_DIR:-$HOME/.cache/portway}/code-server"
ENTRY="$DEST/node_modules/code-server/out/node/entry.js"
STAMP="$DEST/.installed-$CODE_SERVER_VERSION"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-code-server: apt-get install ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ -f "$STAMP" ] && [ -f "$ENTRY" ]; then
  echo "install-code-server: code-server $CODE_SERVER_VERSION already installed in $DEST"
  exit 0
fi

echo "install-code-server: installing code-server $CODE_SERVER_VERSION into $DEST"
mkdir -p "$DEST"
tmp="${TMPDIR:-/tmp}"
mkdir -p "$tmp/$RIPGREP_CACHE_DIR_NAME"
if [ ! -f "$tmp/$RIPGREP_CACHE_DIR_NAME/$RIPGREP_TARBALL" ]; then
  tar czf "$tmp/$RIPGREP_CACHE_DIR_NAME/$RIPGREP_TARBALL" -C "$(dirname "$(command -v rg)")" rg
fi
# A package.json of its own, so npm installs here and not into the repository's workspaces.
if [ ! -f "$DEST/package.json" ]; then
  printf '{ "name": "portway-code-server-cache", "private": true }\n' > "$DEST/package.json"
fi
(
  cd "$DEST"
  # unsafe_perm: code-server's postinstall refuses to run as root otherwise;
  # yes: node-pty's install calls `npx node-gyp`; nodedir: build addons against the local headers.
  npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr \
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION"
)
[ -f "$ENTRY" ] || { echo "install-code-server: $ENTRY missing after install" >&2; exit 1; }
touch "$STAMP"
echo "install-code-server: done"
