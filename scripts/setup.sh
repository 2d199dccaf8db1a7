#!/usr/bin/env bash
# Sets up everything kimaki-tui needs on a Debian machine: system libraries, the Python venv
# and OpenCode. `scripts/setup.sh` for running, `scripts/setup.sh --dev` for the test suite.
# Idempotent and quick on a second run (stamp files under .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEV=0
[ "${1:-}" = "--dev" ] && DEV=1
OPENCODE_VERSION=1.18.33
# The oldest supported OpenCode line: --dev installs it too, the end-to-end subset runs against both.
OPENCODE_OLDEST_VERSION=1.2.27
mkdir -p .tools
log() { printf '[setup] %s\n' "$*" >&2; }

# 1. System packages (needs root; skipped with a hint otherwise).
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
debs=(libopus0 git)
[ "$DEV" = 1 ] && debs+=(tmux dbus gnome-keyring)
# Sandboxed threads (`--sandbox bwrap`; the test suite runs them) need bubblewrap.
{ [ "$DEV" = 1 ] || [ "${KIMAKI_SANDBOX:-}" = bwrap ]; } && debs+=(bubblewrap)
# A fresh Debian has no ensurepip (python3-venv) and no npm (to install OpenCode).
[ -x .venv/bin/python ] || "$PY" -c "import ensurepip" 2>/dev/null || debs+=(python3-venv)
if [ -z "${OPENCODE_PATH:-}" ] && ! command -v opencode >/dev/null && ! command -v npm >/dev/null; then
  debs+=(npm)
fi
missing=()
for p in "${debs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    log "missing system packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
  fi
fi

# 2. Python venv with the package (and the dev tools for --dev).
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extra=""; [ "$DEV" = 1 ] && extra="[dev]"
# The stamp lives in the venv: a venv made anew (or another checkout sharing .tools) installs again.
stamp=".venv/pip-$(sha1sum pyproject.toml | cut -c1-12)$DEV"
if [ ! -f "$stamp" ]; then
  log "installing Python packages"
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".$extra"
  touch "$stamp"
fi

# 3. OpenCode (npm package opencode-ai, pinned) unless OPENCODE_PATH or PATH already has one.
if [ -z "${OPENCODE_PATH:-}" ] && { [ "$DEV" = 1 ] || ! command -v opencode >/dev/null; }; then
  bin=.tools/opencode/node_modules/.bin/opencode
  if ! "$bin" --version 2>/dev/null | grep -qx "$OPENCODE_VERSION"; then
    command -v npm >/dev/null || { log "npm is required to install OpenCode (apt-get install npm)"; exit 1; }
    log "installing opencode-ai@$OPENCODE_VERSION"
    mkdir -p .tools/opencode
    (cd .tools/opencode && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund --loglevel=error "opencode-ai@$OPENCODE_VERSION" >/dev/null)
  fi
fi
# 4. (--dev) The oldest supported OpenCode under .tools/opencode-1.2/bin/opencode. On Linux x64 the
#    platform package alone (185 MB; the opencode-ai wrapper pulls a second, baseline binary).
if [ "$DEV" = 1 ] && [ -z "${OPENCODE_1_2_PATH:-}" ]; then
  old=.tools/opencode-1.2
  if ! "$old/bin/opencode" --version 2>/dev/null | grep -qx "$OPENCODE_OLDEST_VERSION"; then
    command -v npm >/dev/null || { log "npm is required to install OpenCode (apt-get install npm)"; exit 1; }
    if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
      pkg=opencode-linux-x64 binary=node_modules/opencode-linux-x64/bin/opencode
    else
      pkg=opencode-ai binary=node_modules/.bin/opencode
    fi
    log "installing $pkg@$OPENCODE_OLDEST_VERSION (the tests also run against the oldest supported OpenCode)"
    mkdir -p "$old/bin"
    (cd "$old" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund --loglevel=error "$pkg@$OPENCODE_OLDEST_VERSION" >/dev/null)
    ln -sfn "$ROOT/$old/$binary" "$old/bin/opencode"
  fi
fi
exit 0
