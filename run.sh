#!/usr/bin/env bash
# SmartLens in one command.
#   ./run.sh          set up (.venv from requirements.txt), create the demo guide, start the lens
#   ./run.sh test     set up, then run the test suite
#   ./run.sh studio   set up, then start the curators' studio
# Extra arguments go to streamlit (lens/studio) or pytest (test).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

setup() {
  if [ ! -x .venv/bin/python ]; then
    echo "creating .venv ..."
    "$PY" -m venv .venv
  fi
  # reinstall only when requirements.txt changed since the last successful install
  local stamp=.venv/.requirements.sha256
  local want
  want=$(sha256sum requirements.txt | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing requirements (first time: a few minutes) ..."
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt
    echo "$want" > "$stamp"
  fi
}

cmd=${1:-lens}
[ $# -gt 0 ] && shift
setup
case "$cmd" in
  test)
    exec .venv/bin/python -m pytest "$@" ;;
  lens|studio)
    .venv/bin/python -m smartlens demo
    exec .venv/bin/python -m smartlens "$cmd" --guide demo "$@" ;;
  *)
    echo "usage: ./run.sh [lens|studio|test] [args...]" >&2; exit 2 ;;
esac
