#!/usr/bin/env bash
# What the VS Code workbench run needs, installed once: Debian's chromium and ripgrep, the krb5
# headers one of VS Code's native modules builds against, and code-server from the npm registry,
# built offline into a cache folder keyed by its version. Progress goes to stderr; the last line
# on stdout is the code-server program, for `make workbench`.
#
# Offline means: node-gyp compiles against the headers of the installed Node (no header
# download), and @vscode/ripgrep, whose postinstall would download rg from GitHub, finds Debian's
# rg already in the download cache it checks first ($TMPDIR/vscode-ripgrep-cache-<version>/).
set -euo pipefail

CODE_SERVER_VERSION=4.100.3 # the last release whose engines.node is 20 (4.103 wants 22)
RIPGREP_PACKAGE_VERSION=1.15.11 # @vscode/ripgrep in that release's npm-shrinkwrap.json
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz # what its postinstall looks for
CACHE=${FUSION_WORKBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fusion-ls/workbench}
TARGET=$CACHE/code-server-$CODE_SERVER_VERSION
PROGRAM=$TARGET/node_modules/.bin/code-server

say() { echo "workbench: $*" >&2; }
fail() { say "$*"; exit 1; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
command -v chromium > /dev/null || missing+=(chromium)
command -v rg > /dev/null || missing+=(ripgrep)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/gssapi/gssapi.h ] || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "missing ${missing[*]}: run 'sudo apt-get install -y ${missing[*]}' and try again"
  say "installing ${missing[*]} with apt-get (once)"
  apt-get install -y -q "${missing[@]}" > /dev/null 2>&1 \
    || { apt-get update -q > /dev/null && apt-get install -y -q "${missing[@]}" > /dev/null; } \
    || fail "apt-get could not install ${missing[*]}"
fi

# --- code-server -----------------------------------------------------------------------------
if [ -x "$PROGRAM" ] && [ -f "$TARGET/.complete" ]; then
  say "code-server $CODE_SERVER_VERSION: cached in $TARGET"
  echo "$PROGRAM"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || fail "code-server $CODE_SERVER_VERSION needs Node 20; this is Node $(node -v)"
headers=$(dirname "$(dirname "$(command -v node)")")
[ -f "$headers/include/node/node_version.h" ] \
  || fail "no Node headers under $headers/include/node: node-gyp would download them, and this machine is offline"

say "installing code-server $CODE_SERVER_VERSION into $TARGET (once; builds native modules, a few minutes)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION" "$work/prefix"
tar -czf "$work/tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION/$RIPGREP_ASSET" -C "$(dirname "$(command -v rg)")" rg
# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which must not stop to ask.
TMPDIR=$work/tmp npm_config_nodedir=$headers npm_config_yes=true \
  npm install --prefix "$work/prefix" --no-audit --no-fund --loglevel=error --unsafe-perm \
  "code-server@$CODE_SERVER_VERSION" > "$work/npm.log" 2>&1 \
  || { tail -n 40 "$work/npm.log" >&2; fail "npm could not install code-server (the log's end is above)"; }
touch "$work/prefix/.complete"
mkdir -p "$CACHE"
rm -rf "$TARGET"
mv "$work/prefix" "$TARGET"
say "code-server $CODE_SERVER_VERSION installed"
echo "$PROGRAM"
