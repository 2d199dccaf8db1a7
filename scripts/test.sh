#!/usr/bin/env bash
# Quick start: set everything up, then run the whole suite: ruff, mypy, import contracts, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
export OPENCODE_PATH="$PWD/.tools/opencode/node_modules/.bin/opencode"
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check kimaki_tui tests bench
echo "== mypy"; mypy
echo "== import contracts"; lint-imports --no-cache
# Two workers (the machines have 2 cores); a file's tests stay on one worker (they share fixtures).
# A crashed worker ends the run and is named: pytest-xdist's replacement worker can wait forever
# under --dist loadfile (pytest-xdist issue 1378).
# The sandbox tests (an OpenCode server per sandbox) run afterwards on their own: next to a second
# worker their servers were sometimes too slow to start (see README, Troubleshooting).
if [ "$#" -gt 0 ]; then
  echo "== pytest"; pytest -q -n 2 --dist loadfile --max-worker-restart=0 "$@"
else
  echo "== pytest"; pytest -q -n 2 --dist loadfile --max-worker-restart=0 --ignore=tests/sandbox
  echo "== pytest (sandboxes)"; pytest -q tests/sandbox
fi
