#!/usr/bin/env bash
# Quick start: set everything up, then run kimaki with the given arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${OPENCODE_PATH:-}" ] && [ -x .tools/opencode/node_modules/.bin/opencode ]; then
  export OPENCODE_PATH="$PWD/.tools/opencode/node_modules/.bin/opencode"
fi
exec .venv/bin/kimaki "$@"
